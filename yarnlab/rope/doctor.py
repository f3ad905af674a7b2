"""The rope doctor behind ``yarnlab inspect``: a report per RoPE setting, as JSON and as text.

Each entry of ``report["rope"]`` is :func:`~yarnlab.rope.hf_read.entry_dict` (method, head_dim,
rotary_dim, base b, original_ctx L, factor s, max_position_embeddings, attention_factor m,
logit_scale = m^2 times the model's own factor, layout, transformers_native, ...) plus pair
counts over the |D|/2 pairs: untouched (gamma = 1), interpolated like PI (gamma = 0), and pairs
whose wavelength lambda_d = 2 pi / theta_d (Eq. 13) exceeds L, and pairs with theta'_d = 0
(proportional RoPE's slowest pairs, which never turn).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from yarnlab.rope.frequencies import base_inv_freq, effective_gamma, ratios, wavelengths
from yarnlab.rope.hf_read import entry_dict, read_hf_rope
from yarnlab.rope.methods import METHODS


def pair_stats(spec) -> dict[str, Any]:
    """Pair counts and wavelength / r(d) ranges of a spec at its extended length s L."""
    at = spec.extended_ctx if spec.is_dynamic else None
    res = spec.compute(at)
    theta = base_inv_freq(spec.dim, spec.base)
    gamma = effective_gamma(theta, res.inv_freq, res.scale)
    lam, r = wavelengths(theta), ratios(spec.dim, spec.base, spec.original_ctx)
    untouched = int(np.sum(np.isclose(gamma, 1.0)))
    interpolated = int(np.sum(np.isclose(gamma, 0.0))) if res.scale > 1 else 0
    return {"pairs": int(theta.size), "untouched": untouched, "interpolated": interpolated,
            "still_pairs": int(np.sum(res.inv_freq == 0)),
            "long_pairs": int(np.sum(lam > spec.original_ctx)),
            "wavelength_range": [float(lam.min()), float(lam.max())], "r_range": [float(r.min()), float(r.max())],
            "effective_ctx": (rule.format(L=spec.original_ctx) if (rule := METHODS[spec.method].length_rule)
                              else spec.extended_ctx)}


def inspect_config(config: dict) -> dict[str, Any]:
    """The rope doctor's findings for a Hugging Face config dict: ``{"model_type", "architecture",
    "rope": [entries], "warnings": [...], "defaults_from"}`` (JSON-able; used by ``yarnlab inspect``
    and ``yarnlab model show``)."""
    found = read_hf_rope(config)
    warnings = list(found.warnings)
    entries = []
    for e in found.entries:
        entries.append({**entry_dict(e), **pair_stats(e.spec)})
        if e.spec.method == "ntk" and e.rope_type != "dynamic":  # not Hunyuan's NTK-alpha: alpha is no length ratio
            warnings.append("ntk: some pairs extrapolate, so the nominal s under-states the real extension")
        if e.spec.method == "longrope":
            warnings.append("longrope: frequencies switch from the short to the long factors once the input "
                            f"exceeds L = {e.spec.original_ctx} tokens (m is constant)")
    if len(entries) > 1:
        warnings.append(f"{len(entries)} RoPE settings by layer type: extend each one (a single spec "
                        f"applied to every layer would change the layers it does not describe)")
    arch = config.get("architectures")
    return {"model_type": found.model_type, "architecture": arch[0] if isinstance(arch, list) and arch else None,
            **found.layers.summary(), "rope": entries,
            "attention_scales": [sc.summary(_max_positions(found)) for sc in found.scales],
            "warnings": list(dict.fromkeys(warnings)),
            "defaults_from": found.defaults_from}


def _max_positions(found) -> int:
    return max(e.max_position_embeddings for e in found.entries)


def report_lines(report: dict[str, Any]) -> list[str]:
    """The human form of :func:`inspect_config`: the same fields, one block per entry."""
    lines = [f"model type: {report['model_type']}  ({report['architecture'] or 'no architectures field'})"]
    lines += _layer_lines(report)
    n = len(report["rope"])
    for i, e in enumerate(report["rope"]):
        layers = f" [{', '.join(e['layer_types'])}]" if e["layer_types"] else ""
        on = "" if e["layers"] is None or e["layers"] == list(range(report["num_layers"])) else \
            f" on {len(e['layers'])} of {report['num_layers']} layers"
        head = f"RoPE setting {i + 1} of {n}{layers}{on}: " if n > 1 or on else ""
        lines.append(f"{head}rope type {e['rope_type']} -> method: {e['method']}  params: "
                     f"{_short(e['params']) or '{}'}  temperature rule: {e['temperature_rule']}")
        lines.append(f"  geometry: head dim {e['head_dim']}, rotary dim {e['rotary_dim']}, base b = {e['base']:g}, "
                     f"layout {e['layout']}")
        lines.append(f"  L (original context): {e['original_ctx']}   s: {e['factor']:g}   s L = {e['scaled_ctx']}   "
                     f"max_position_embeddings: {e['max_position_embeddings']} ({e['max_position_source']})")
        lines.append(f"  effective context: {e['effective_ctx']}")
        lines.append(f"  attention factor m = sqrt(1/t): {e['attention_factor']:.6g}   logit scale: "
                     f"{e['logit_scale']:.6g} (m^2 = {e['attention_factor'] ** 2:.6g} x model factor "
                     f"{e['softmax_factor']:.6g})")
        lines.append(f"  pairs: {e['pairs']}; untouched (gamma = 1): {e['untouched']}; interpolated like PI "
                     f"(gamma = 0): {e['interpolated']}; in between: {e['pairs'] - e['untouched'] - e['interpolated']}")
        lines.append(f"  pairs with wavelength > L (never complete a turn in the trained context): {e['long_pairs']}")
        if e["still_pairs"]:
            lines.append(f"  pairs with theta' = 0 (never turn: no positional signal, nothing to extend): "
                         f"{e['still_pairs']} of {e['pairs']}")
        lines.append(f"  wavelengths: {e['wavelength_range'][0]:.4g} .. {e['wavelength_range'][1]:.4g} tokens; "
                     f"r(d): {e['r_range'][0]:.4g} .. {e['r_range'][1]:.4g}")
        lines.append(f"  transformers computes this natively: {'yes' if e['transformers_native'] else 'no'}")
        lines += [f"  note: {note}" for note in e["notes"]]
    for sc in report["attention_scales"]:
        where = "every layer" if sc["layers"] is None else f"{len(sc['layers'])} layers"
        lines.append(f"length-dependent logit scale ({sc['rule']}, from {sc['source']}): {sc['formula']}, p the "
                     f"query position; on {sc['applies_to']} ({where})")
        lines.append("  " + "; ".join(f"at {name} = {v['length']}: q x {v['q_scale']:.6g}, logit scale "
                                      f"{v['logit_scale']:.6g}" for name, v in sc["at"].items()))
        lines += [f"  note: {note}" for note in sc["notes"]]
    lines += [f"WARNING: {w}" for w in report["warnings"]]
    return lines


def _layer_lines(report: dict[str, Any]) -> list[str]:
    """The layer map: count, layer types with their counts, the NoPE layers and their source."""
    n, types, nope = report["num_layers"], report["layer_types"], report["nope_layers"]
    if n is None:
        return ["layers: not given (num_hidden_layers absent); every layer is taken to rotate"]
    kinds = "" if types is None else "; types: " + ", ".join(
        f"{t} x{types.count(t)}" for t in dict.fromkeys(types))
    line = f"layers: {n}{kinds}"
    if not nope:
        return [line + "; every layer rotates"]
    return [line, f"NoPE layers (no positional encoding, nothing to extend): {len(nope)} of {n}: "
                  f"{', '.join(map(str, nope))} (from {report['nope_source']})"]


def _short(params: dict) -> dict:
    return {k: (f"[{len(v)} values]" if isinstance(v, list) else v) for k, v in params.items()}
