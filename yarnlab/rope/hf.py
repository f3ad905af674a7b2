"""Hugging Face interop: reading configs (see :mod:`yarnlab.rope.hf_read`) and writing specs back.

Reading: :func:`read_hf_config` gives the :class:`~yarnlab.rope.spec.RopeSpec` of a model with ONE
RoPE setting plus warnings about known pitfalls; :func:`~yarnlab.rope.hf_read.read_hf_rope` gives
every setting (per-layer RoPE such as Gemma 3's). A ``yarnlab_rope`` entry, written by yarnlab for
methods transformers lacks, takes precedence and is read as a spec.

How L is resolved, per rope type (what transformers does, so reading is faithful):

- ``linear``, ``default``: L = ``original_max_position_embeddings`` if present, else
  ``max_position_embeddings`` (divided by the factor for ``linear``); it does not change the frequencies.
- ``dynamic``: transformers uses ``max_position_embeddings`` as L (it never reads the original), so
  yarnlab does too (method ``dynamic-ntk``, variant ``transformers``).
- ``yarn``, ``llama3``, ``longrope``: L = ``original_max_position_embeddings`` (the top-level field
  first, as transformers 5 does); when missing, transformers falls back to
  ``max_position_embeddings``, which is WRONG whenever that field already holds the extended
  length. yarnlab follows transformers and warns.
- ``yarn`` with ``factor`` null and ``longrope`` without ``factor``: s = max_position_embeddings / L.

Writing: :func:`spec_to_hf` gives the config fields that make transformers compute the same
frequencies and attention factor; :func:`hf_supported` says whether that exists.
"""

from __future__ import annotations

import math
from typing import Any

from yarnlab.errors import UsageError
from yarnlab.rope.hf_read import HF_TYPES, read_hf_rope
from yarnlab.rope.spec import RopeSpec
from yarnlab.rope.temperature import TEMPERATURE_RULES

__all__ = ["HF_TYPES", "hf_supported", "partial_factor", "read_hf_config", "spec_from_hf_config", "spec_to_hf"]


def read_hf_config(config: dict[str, Any]) -> tuple[RopeSpec, list[str]]:
    """(spec, warnings) for a Hugging Face ``config.json`` dict with one RoPE setting.

    A config with several (per-layer RoPE) is refused here, naming them: one spec cannot describe
    it; use :func:`~yarnlab.rope.hf_read.read_hf_rope`.
    """
    found = read_hf_rope(config)
    if len(found.entries) > 1:
        kinds = "; ".join(f"{'/'.join(e.layer_types)}: {e.spec.method}, b = {e.spec.base:g}" for e in found.entries)
        raise UsageError(f"rope_parameters: {len(found.entries)} RoPE settings by layer type ({kinds}); one spec "
                         f"cannot describe them (read them with yarnlab.rope.hf_read.read_hf_rope)")
    return found.entries[0].spec, found.warnings


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
    if TEMPERATURE_RULES[rule].length_dependent:
        return "transformers has no length-dependent attention factor in its rotary tables"
    if spec.method in ("yarn", "ntk-by-parts", "longrope"):
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
    elif m == "longrope":
        rope.update(rope_type="longrope", factor=spec.factor, original_max_position_embeddings=spec.original_ctx,
                    short_factor=list(spec.params["short_factor"]), long_factor=list(spec.params["long_factor"]))
        if spec.temperature_rule != "longrope":
            rope["attention_factor"] = spec.compute().attention_factor
    elif m == "proportional":
        rope.update(rope_type="proportional", factor=spec.factor,
                    partial_rotary_factor=spec.params["partial_rotary_factor"])
        out["max_position_embeddings"] = spec.extended_ctx
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
