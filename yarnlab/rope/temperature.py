"""Attention temperature rules: each gives the cos/sin multiplier m = sqrt(1/t).

Multiplying both cos and sin by m scales q and k by m, hence every logit by m^2: the same as a
softmax temperature t = 1/m^2 (Eq. 21, "length scaling"). Each rule is a pure function
``rule(s, *, original_ctx, seq_len, **params) -> m`` where ``s`` is the (effective) scale factor,
``original_ctx`` is L and ``seq_len`` the current length (used only by length-dependent rules).
``TEMPERATURE_RULES`` maps the rule's name to the function, its parameters, and, where a rope type
states the rule with keys of its own, its transformers form (:class:`~yarnlab.rope.hf_form.HFRule`).

Length-dependent rules (``log-n``, ``llama4-attn``, ``llama4-scaling``) read the current length;
the models that use the last two scale each query by its own position's value
(:func:`llama4_q_scale`, :func:`llama4_scaling_q_scale`); the registry form gives every query the
value of the last one (p = l - 1), as ``log-n`` gives every query ln l / ln L.

InfoScale-style rules are not included: they need per-model statistics, not only (s, L).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from yarnlab.rope.hf_form import HFRead, HFRule
from yarnlab.rope.params import HasParams, Param


def _g(s: float, coefficient: float) -> float:
    """g(s, c) = c ln s + 1 for s > 1, else 1 (the reference code's get_mscale)."""
    return coefficient * math.log(s) + 1.0 if s > 1.0 else 1.0


def temperature_none(s: float, *, original_ctx: int, seq_len: int | None = None) -> float:
    """m = 1: no temperature (PI, NTK-aware, llama3, plain RoPE)."""
    return 1.0


def temperature_yarn(
    s: float, *, original_ctx: int, seq_len: int | None = None, coefficient: float = 0.1
) -> float:
    """YaRN's rule sqrt(1/t) = 0.1 ln(s) + 1 (Eq. 22), m = 1 for s <= 1.

    ``coefficient`` replaces 0.1 (the fitted slope; the theory layer fits it). At s = 8 the
    default gives m ~= 1.208 (Eq. 25).
    """
    return _g(s, coefficient)


def temperature_fixed(s: float, *, original_ctx: int, seq_len: int | None = None, m: float = 1.0) -> float:
    """A given m, whatever s (transformers' ``attention_factor`` override; temperature sweeps)."""
    return float(m)


def temperature_mscale_ratio(
    s: float, *, original_ctx: int, seq_len: int | None = None, mscale: float = 1.0, mscale_all_dim: float = 1.0
) -> float:
    """DeepSeek-V2/V3's rule: m = g(s, mscale) / g(s, mscale_all_dim), g(s, c) = 0.1 c ln s + 1.

    Source: DeepSeek-V2's yarn code, as transformers implements it when both ``mscale`` and
    ``mscale_all_dim`` are set. With mscale == mscale_all_dim, m = 1.
    """
    return _g(s, 0.1 * mscale) / _g(s, 0.1 * mscale_all_dim)


def temperature_longrope(s: float, *, original_ctx: int, seq_len: int | None = None) -> float:
    """LongRoPE / Phi-3's rule: m = sqrt(1 + ln s / ln L) for s > 1, else 1.

    Source: LongRoPE (Ding et al. 2024), as transformers' longrope default attention factor.
    """
    if s <= 1.0:
        return 1.0
    return math.sqrt(1.0 + math.log(s) / math.log(original_ctx))


def temperature_log_n(s: float, *, original_ctx: int, seq_len: int | None = None) -> float:
    """Length-dependent log-n scaling: logits times max(1, ln n / ln L), so m = sqrt of that.

    Source: Chiang & Cholak 2022 ("Overcoming a theoretical limitation of self-attention") and
    Su's log-n attention scaling. ``n`` is the current length ``seq_len`` (L when not given), so the
    rule ignores s: at n <= L it is 1. A per-position form is :func:`log_n_position_scale`.
    """
    n = original_ctx if seq_len is None else seq_len
    return math.sqrt(max(1.0, math.log(n) / math.log(original_ctx)))


def log_n_position_scale(positions, original_ctx: int):
    """Per-query logit multiplier max(1, ln n / ln L) with n = position + 1 (numpy array in/out)."""
    import numpy as np

    n = np.asarray(positions, dtype=np.float64) + 1.0
    return np.maximum(1.0, np.log(n) / math.log(original_ctx))


def llama4_q_scale(positions, floor_scale: float = 8192.0, attn_scale: float = 0.1):
    """Llama 4's per-query multiplier 1 + attn_scale ln(1 + floor((p + 1) / floor_scale)), p the
    0-based position (numpy array in/out). The query alone is scaled, so the logits are too.

    Source: Llama 4's attention temperature tuning (``attn_temperature_tuning``, ``floor_scale``,
    ``attn_scale``), applied to the queries of its NoPE layers, as transformers' Llama4TextAttention
    computes it; Meta cites Nakanishi 2025 (arXiv 2501.19399, scalable softmax).
    """
    import numpy as np

    p = np.asarray(positions, dtype=np.float64)
    return 1.0 + attn_scale * np.log1p(np.floor((p + 1.0) / floor_scale))


def llama4_scaling_q_scale(positions, original_ctx: int, llama_4_scaling_beta: float = 0.1):
    """Ministral 3 / Mistral 4's per-query multiplier 1 + beta ln(1 + floor(p / L)), p the 0-based
    position and L the original context (numpy array in/out).

    Source: the ``llama_4_scaling_beta`` rope parameter, as transformers' Ministral3Attention and
    Mistral4Attention apply it to every layer's rotated queries.
    """
    import numpy as np

    p = np.asarray(positions, dtype=np.float64)
    return 1.0 + llama_4_scaling_beta * np.log1p(np.floor(p / original_ctx))


def temperature_llama4_attn(s: float, *, original_ctx: int, seq_len: int | None = None,
                            floor_scale: float = 8192.0, attn_scale: float = 0.1) -> float:
    """Llama 4's rule at one length n (``seq_len``, L when not given): the logit multiplier of the
    last query (p = n - 1) is :func:`llama4_q_scale`, so m = its square root. Ignores s."""
    n = original_ctx if seq_len is None else seq_len
    return math.sqrt(float(llama4_q_scale(n - 1, floor_scale, attn_scale)))


def temperature_llama4_scaling(s: float, *, original_ctx: int, seq_len: int | None = None,
                               llama_4_scaling_beta: float = 0.1) -> float:
    """Ministral 3's rule at one length n (L when not given): m = sqrt of
    :func:`llama4_scaling_q_scale` at the last query p = n - 1. Ignores s."""
    n = original_ctx if seq_len is None else seq_len
    return math.sqrt(float(llama4_scaling_q_scale(n - 1, original_ctx, llama_4_scaling_beta)))


@dataclass(frozen=True)
class TemperatureRule(HasParams):
    """A rule with its parameters (:class:`~yarnlab.rope.params.Param`: default, constraint, help; a
    parameter whose default is None is required), whether it reads the current length, and its
    transformers form (``hf``: the rope-dict keys that state it; None for a rule no rope type names,
    which transformers still computes where it is a static m and the type reads ``attention_factor``)."""

    name: str
    fn: Callable[..., float]
    parameters: tuple[Param, ...] = ()
    length_dependent: bool = False
    summary: str = ""
    hf: HFRule | None = None


def _read_attention_factor(src: HFRead) -> dict | None:
    # transformers takes attention_factor whenever it is not None (before mscale)
    return None if src.rope.get("attention_factor") is None else {"m": src.positive("attention_factor")}


def _read_mscale(src: HFRead) -> dict | None:
    # transformers uses the pair when both are truthy (`if mscale and mscale_all_dim`)
    keys = ("mscale", "mscale_all_dim")
    return {k: src.positive(k) for k in keys} if all(src.rope.get(k) for k in keys) else None


#: the rule whose transformers form carries any static m (``attention_factor``)
ANY_M = "fixed"


TEMPERATURE_RULES: dict[str, TemperatureRule] = {
    r.name: r
    for r in [
        TemperatureRule("none", temperature_none, summary="m = 1"),
        TemperatureRule("yarn", temperature_yarn,
                        (Param("coefficient", "nonnegative", 0.1, "slope c of the yarn rule m = c ln s + 1 "
                               "(Eq. 22; default 0.1)"),),
                        summary="m = 0.1 ln s + 1 (Eq. 22)"),
        TemperatureRule("fixed", temperature_fixed,
                        (Param("m", "positive", None, "attention factor m = sqrt(1/t) for the fixed rule"),),
                        summary="a given m",
                        hf=HFRule(("attention_factor",), _read_attention_factor,
                                  lambda p: {"attention_factor": float(p["m"])})),
        TemperatureRule("mscale-ratio", temperature_mscale_ratio,
                        (Param("mscale", "positive", None, "mscale-ratio numerator coefficient (DeepSeek)"),
                         Param("mscale_all_dim", "positive", None,
                               "mscale-ratio denominator coefficient (DeepSeek)")),
                        summary="DeepSeek: g(s, mscale) / g(s, mscale_all_dim)",
                        hf=HFRule(("mscale", "mscale_all_dim"), _read_mscale,
                                  lambda p: {"mscale": p["mscale"], "mscale_all_dim": p["mscale_all_dim"]})),
        TemperatureRule("longrope", temperature_longrope, summary="sqrt(1 + ln s / ln L) (LongRoPE, Phi-3)"),
        TemperatureRule("log-n", temperature_log_n, length_dependent=True,
                        summary="sqrt(max(1, ln l / ln L)), length-dependent"),
        TemperatureRule("llama4-attn", temperature_llama4_attn,
                        (Param("floor_scale", "positive", 8192.0, "llama4-attn: tokens per step of the floor "
                               "(Llama 4's floor_scale)"),
                         Param("attn_scale", "nonnegative", 0.1, "llama4-attn: slope of the log (Llama 4's "
                               "attn_scale)")),
                        length_dependent=True,
                        summary="sqrt(1 + attn_scale ln(1 + floor(l / floor_scale))) (Llama 4), length-dependent"),
        TemperatureRule("llama4-scaling", temperature_llama4_scaling,
                        (Param("llama_4_scaling_beta", "nonnegative", 0.1, "llama4-scaling: slope of the log "
                               "(Ministral 3's llama_4_scaling_beta)"),),
                        length_dependent=True,
                        summary="sqrt(1 + beta ln(1 + floor((l - 1) / L))) (Ministral 3), length-dependent"),
    ]
}


def attention_factor(
    rule: str, s: float, *, original_ctx: int, seq_len: int | None = None, **params: float
) -> float:
    """m = sqrt(1/t) from the named rule (see ``TEMPERATURE_RULES``)."""
    return TEMPERATURE_RULES[rule].fn(s, original_ctx=original_ctx, seq_len=seq_len, **params)
