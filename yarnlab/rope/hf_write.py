"""Specs written as Hugging Face config fields that transformers 5 interprets identically.

Derived from the registries: a method's :class:`~yarnlab.rope.hf_form.HFType` gives the rope type,
its keys and ``max_position_embeddings``; the temperature rule is written as the type's own rule
(nothing), the rule's :class:`~yarnlab.rope.hf_form.HFRule` keys (DeepSeek's ``mscale`` pair), or
``attention_factor`` = m for any other static m where the type reads it. A method without a form,
a parameter value its type lacks, a length-dependent rule, or m != 1 on a type without
``attention_factor`` has no transformers equivalent: :func:`hf_supported` says so and
:func:`spec_to_hf` raises, naming why. The reader (:mod:`yarnlab.rope.hf_read`) imports this module,
never the other way round.
"""

from __future__ import annotations

import math
from typing import Any

from yarnlab.errors import UsageError
from yarnlab.rope.hf_form import HFType
from yarnlab.rope.methods import METHODS
from yarnlab.rope.spec import RopeSpec
from yarnlab.rope.temperature import ANY_M, TEMPERATURE_RULES


def partial_factor(rotary_dim: int, head_dim: int) -> float:
    """The float f with int(head_dim * f) == rotary_dim, as transformers truncates (62/94 * 94 = 61.99...)."""
    f = rotary_dim / head_dim
    while int(head_dim * f) < rotary_dim:
        f = math.nextafter(f, math.inf)
    return f


def unsupported_reason(spec: RopeSpec) -> str | None:
    """Why transformers cannot compute ``spec`` (its frequencies or its attention factor), or None."""
    form = METHODS[spec.method].hf
    if form is None:
        return f"transformers has no {spec.method}"
    reason = form.unsupported(spec)
    if reason is not None:
        return reason
    if TEMPERATURE_RULES[spec.temperature_rule].length_dependent:
        return "transformers has no length-dependent attention factor in its rotary tables"
    if TEMPERATURE_RULES[ANY_M].hf.fits(form):
        return None  # any static m is expressible through attention_factor
    if spec.temperature_rule != "none" and spec.compute().attention_factor != 1.0:
        return f"transformers' {spec.method} rope type has no attention factor"
    return None


def hf_supported(spec: RopeSpec) -> bool:
    """Whether transformers can compute this spec's frequencies and attention factor."""
    return unsupported_reason(spec) is None


def _temperature_keys(spec: RopeSpec, form: HFType) -> dict[str, Any]:
    """The rope-dict keys that state the spec's rule (m is static and writable: see :func:`unsupported_reason`)."""
    name, params = spec.temperature_rule, spec.temperature_params
    rule = TEMPERATURE_RULES[name]
    if name == form.temperature and all(params.get(k, d) == d for k, d in rule.params.items()):
        return {}  # what transformers computes for this rope type by default
    if rule.hf is not None and rule.hf.fits(form):
        return rule.hf.write(params)
    any_m = TEMPERATURE_RULES[ANY_M].hf
    if any_m.fits(form):
        return any_m.write({"m": spec.compute().attention_factor})
    return {}  # m = 1, which every type applies


def spec_to_hf(spec: RopeSpec) -> dict[str, Any]:
    """Config fields (``rope_parameters``, ``max_position_embeddings``, ``head_dim``,
    ``partial_rotary_factor``) that transformers interprets exactly as ``spec``.

    Static ``ntk`` is written as plain RoPE with the NTK-aware base b' (Eq. 16), the form Code
    Llama ships. ``ntk-by-parts`` is transformers' yarn with ``attention_factor`` 1. Raises
    :class:`~yarnlab.errors.UsageError` where transformers has no equivalent (see :func:`hf_supported`).
    """
    reason = unsupported_reason(spec)
    if reason is not None:
        raise UsageError(f"method {spec.method!r} with these parameters has no transformers equivalent: {reason}")
    form = METHODS[spec.method].hf
    rope: dict[str, Any] = {"rope_theta": spec.base}
    out: dict[str, Any] = {"head_dim": spec.head_dim, "max_position_embeddings":
                           spec.extended_ctx if form.written_ctx == "extended" else spec.original_ctx}
    if spec.rotary_dim is not None:
        rope["partial_rotary_factor"] = partial_factor(spec.rotary_dim, spec.head_dim)
    rope.update(rope_type=form.rope_type, **form.write(spec))
    rope.update(_temperature_keys(spec, form))
    out["rope_parameters"] = rope
    return out
