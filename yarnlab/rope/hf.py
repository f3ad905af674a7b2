"""Hugging Face interop without importing transformers.

Reading: :func:`read_hf_config` takes a model's ``config.json`` dict and returns a
:class:`~yarnlab.rope.spec.RopeSpec` plus warnings about known pitfalls. It reads the rope dict
from ``rope_parameters`` (key ``rope_type``, transformers >= 5) or ``rope_scaling`` (key ``type`` or
``rope_type``, older configs), and the fields it depends on: ``rope_theta`` (GPT-NeoX:
``rotary_emb_base``), ``max_position_embeddings``, ``original_max_position_embeddings`` (in the
rope dict or at the top level), ``head_dim`` (else ``hidden_size // num_attention_heads``) and
``partial_rotary_factor`` (GPT-NeoX: ``rotary_pct``). A ``yarnlab_rope`` entry, written by yarnlab
for methods transformers lacks, takes precedence and is read as a spec.

Dispatch is on the explicit type name, never on which keys are present.

How L is resolved, per rope type (this is what transformers does, so reading is faithful):

- ``linear``, ``default``: L = ``original_max_position_embeddings`` if present, else
  ``max_position_embeddings``; it does not change the frequencies.
- ``dynamic``: transformers uses ``max_position_embeddings`` as L (it never reads the original), so
  yarnlab does too (method ``dynamic-ntk``, variant ``transformers``).
- ``yarn``, ``llama3``: L = ``original_max_position_embeddings``; when missing, transformers falls back
  to ``max_position_embeddings``, which is WRONG whenever that field already holds the extended
  length. yarnlab follows transformers and warns.
- ``yarn`` without ``factor``: s = max_position_embeddings / original_max_position_embeddings.
  When both are present and disagree, the factor wins (as in transformers) and yarnlab warns.

Writing: :func:`spec_to_hf` gives the config fields that make transformers compute the same
frequencies and attention factor; :func:`hf_supported` says whether that exists.
"""

from __future__ import annotations

import math
from typing import Any

from yarnlab.errors import UsageError
from yarnlab.rope.spec import RopeSpec

HF_TYPES = ("default", "linear", "dynamic", "yarn", "llama3")


def _geometry(config: dict[str, Any], rope: dict[str, Any]) -> tuple[int, int | None, float]:
    head_dim = config.get("head_dim")
    if head_dim is None:
        hidden, heads = config.get("hidden_size"), config.get("num_attention_heads")
        if not hidden or not heads:
            raise UsageError("config: needs head_dim, or hidden_size and num_attention_heads")
        head_dim = hidden // heads
    prf = rope.get("partial_rotary_factor", config.get("partial_rotary_factor", config.get("rotary_pct", 1.0)))
    rotary_dim = int(head_dim * prf)
    base = rope.get("rope_theta", config.get("rope_theta", config.get("rotary_emb_base", 10000.0)))
    return int(head_dim), (rotary_dim if rotary_dim != head_dim else None), float(base)


def read_hf_config(config: dict[str, Any]) -> tuple[RopeSpec, list[str]]:
    """(spec, warnings) for a Hugging Face ``config.json`` dict. See the module docstring."""
    if not isinstance(config, dict):
        raise UsageError(f"config: must be a JSON object (got {type(config).__name__})")
    if config.get("yarnlab_rope") is not None:
        return RopeSpec.from_dict(config["yarnlab_rope"]), []
    warnings: list[str] = []
    rope = config.get("rope_parameters") or config.get("rope_scaling") or {}
    if not isinstance(rope, dict):
        raise UsageError(f"rope_parameters: must be a mapping (got {rope!r})")
    rope_type = rope.get("rope_type", rope.get("type", "default"))
    if rope_type not in HF_TYPES:
        raise UsageError(f"rope_type: {rope_type!r} is not supported (supported: {', '.join(HF_TYPES)})")
    head_dim, rotary_dim, base = _geometry(config, rope)
    max_pos = config.get("max_position_embeddings")
    orig = rope.get("original_max_position_embeddings", config.get("original_max_position_embeddings"))
    factor = rope.get("factor")
    geom = dict(head_dim=head_dim, rotary_dim=rotary_dim, base=base)

    if rope_type == "default":
        L = orig or max_pos
        if L is None:
            raise UsageError("max_position_embeddings: required to know the trained context L")
        return RopeSpec("none", original_ctx=int(L), **geom), warnings
    if factor is None and rope_type != "yarn":
        raise UsageError(f"rope_parameters.factor: required for rope_type {rope_type!r}")
    if rope_type == "linear":
        L = orig or (int(round(max_pos / factor)) if max_pos else None)
        if L is None:
            raise UsageError("max_position_embeddings: required to know the trained context L")
        return RopeSpec("pi", original_ctx=int(L), factor=float(factor), **geom), warnings
    if rope_type == "dynamic":
        if max_pos is None:
            raise UsageError("max_position_embeddings: required for rope_type 'dynamic' (it is L)")
        if orig is not None and orig != max_pos:
            warnings.append(f"dynamic: transformers takes L = max_position_embeddings = {max_pos} and ignores "
                            f"original_max_position_embeddings = {orig}")
        return RopeSpec("dynamic-ntk", original_ctx=int(max_pos), factor=float(factor),
                        params={"variant": "transformers"}, **geom), warnings

    # yarn, llama3: L is original_max_position_embeddings
    if orig is None:
        if max_pos is None:
            raise UsageError("original_max_position_embeddings: required (or max_position_embeddings)")
        orig = max_pos
        warnings.append(
            f"{rope_type}: original_max_position_embeddings is missing, so L = max_position_embeddings = "
            f"{max_pos} (transformers' fallback); if that is the EXTENDED length, the true L is "
            f"{max_pos}/factor and every ramp boundary is off")
    if rope_type == "llama3":
        params = {k: float(rope[k]) for k in ("low_freq_factor", "high_freq_factor") if k in rope}
        return RopeSpec("llama3", original_ctx=int(orig), factor=float(factor), params=params, **geom), warnings

    if factor is None:
        if max_pos is None:
            raise UsageError("rope_parameters.factor: required when max_position_embeddings is missing")
        factor = max_pos / orig
        warnings.append(f"yarn: factor missing, s = max_position_embeddings / original = {factor:g}")
    elif max_pos is not None and orig != max_pos and abs(max_pos / orig - factor) > 1e-9:
        warnings.append(f"yarn: factor = {factor:g} but max_position_embeddings / original_max_position_embeddings"
                        f" = {max_pos / orig:g}; transformers uses the factor")
    params: dict[str, Any] = {"ramp": "index", "truncate": bool(rope.get("truncate", True))}
    # transformers reads `beta_fast or 32` and `beta_slow or 1`: zero/None mean the default
    params["beta"] = float(rope.get("beta_fast") or 32.0)
    params["alpha"] = float(rope.get("beta_slow") or 1.0)
    if rope.get("attention_factor") is not None:
        temperature, tparams = "fixed", {"m": float(rope["attention_factor"])}
    elif rope.get("mscale") and rope.get("mscale_all_dim"):
        temperature, tparams = "mscale-ratio", {"mscale": float(rope["mscale"]),
                                                "mscale_all_dim": float(rope["mscale_all_dim"])}
    else:
        temperature, tparams = "yarn", {}
    if float(factor) < 1:
        raise UsageError(f"rope_parameters.factor: must be >= 1 (got {factor!r})")
    return RopeSpec("yarn", original_ctx=int(orig), factor=float(factor), params=params,
                    temperature=temperature, temperature_params=tparams, **geom), warnings


def partial_factor(rotary_dim: int, head_dim: int) -> float:
    """The float f with int(head_dim * f) == rotary_dim, as transformers truncates (62/94 * 94 = 61.99...)."""
    f = rotary_dim / head_dim
    while int(head_dim * f) < rotary_dim:
        f = math.nextafter(f, math.inf)
    return f


def spec_from_hf_config(config: dict[str, Any]) -> RopeSpec:
    """The spec a Hugging Face config describes (warnings dropped; see :func:`read_hf_config`)."""
    return read_hf_config(config)[0]


def _unsupported_reason(spec: RopeSpec) -> str | None:
    p, rule = spec.params, spec.temperature_rule
    if spec.method in ("ntk-by-parts", "yarn", "dynamic-yarn") and p["ramp"] != "index":
        return "transformers' yarn uses the index ramp only"
    if spec.method in ("dynamic-yarn", "dynamic-pi"):
        return f"transformers has no {spec.method}"
    if spec.method == "dynamic-ntk" and p["variant"] != "transformers":
        return "transformers' dynamic rope is the 'transformers' variant only"
    if rule == "log-n":
        return "transformers has no length-dependent attention factor"
    if spec.method in ("yarn", "ntk-by-parts"):
        return None  # any static m is expressible through attention_factor
    if rule != "none" and spec.compute().attention_factor != 1.0:
        return f"transformers' {spec.method} rope type has no attention factor"
    return None


def hf_supported(spec: RopeSpec) -> bool:
    """Whether transformers can compute this spec's frequencies and attention factor."""
    return _unsupported_reason(spec) is None


def spec_to_hf(spec: RopeSpec) -> dict[str, Any]:
    """Config fields (``rope_parameters``, ``max_position_embeddings``, ``head_dim``,
    ``partial_rotary_factor``) that transformers interprets exactly as ``spec``.

    Static ``ntk`` is written as plain RoPE with the NTK-aware base b' (Eq. 16), the form Code
    Llama ships. ``ntk-by-parts`` is transformers' yarn with ``attention_factor`` 1. Raises
    :class:`~yarnlab.errors.UsageError` where transformers has no equivalent (see :func:`hf_supported`).
    """
    reason = _unsupported_reason(spec)
    if reason is not None:
        raise UsageError(f"method {spec.method!r} with these parameters has no transformers equivalent: {reason}")
    rope: dict[str, Any] = {"rope_theta": spec.base}
    out: dict[str, Any] = {"head_dim": spec.head_dim, "max_position_embeddings": spec.extended_ctx}
    if spec.rotary_dim is not None:
        rope["partial_rotary_factor"] = partial_factor(spec.rotary_dim, spec.head_dim)
    m = spec.method
    if m == "none":
        rope["rope_type"] = "default"
        out["max_position_embeddings"] = spec.original_ctx
    elif m == "pi":
        rope.update(rope_type="linear", factor=spec.factor)
    elif m == "ntk":
        from yarnlab.rope.methods import ntk_base

        rope.update(rope_type="default", rope_theta=ntk_base(spec.base, spec.factor, spec.dim))
    elif m == "dynamic-ntk":
        rope.update(rope_type="dynamic", factor=spec.factor)
        out["max_position_embeddings"] = spec.original_ctx  # transformers' L for dynamic
    elif m == "llama3":
        rope.update(rope_type="llama3", factor=spec.factor, original_max_position_embeddings=spec.original_ctx,
                    low_freq_factor=spec.params["low_freq_factor"],
                    high_freq_factor=spec.params["high_freq_factor"])
    else:  # yarn, ntk-by-parts
        rope.update(rope_type="yarn", factor=spec.factor, original_max_position_embeddings=spec.original_ctx,
                    beta_fast=spec.params["beta"], beta_slow=spec.params["alpha"],
                    truncate=spec.params["truncate"])
        rule = spec.temperature_rule
        if m == "ntk-by-parts" and rule == "none":
            rope["attention_factor"] = 1.0
        elif rule == "mscale-ratio":
            rope.update(mscale=spec.temperature_params["mscale"],
                        mscale_all_dim=spec.temperature_params["mscale_all_dim"])
        elif not (rule == "yarn" and spec.temperature_params.get("coefficient", 0.1) == 0.1):
            rope["attention_factor"] = spec.compute().attention_factor
    out["rope_parameters"] = rope
    return out
