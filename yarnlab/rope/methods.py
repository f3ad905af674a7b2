"""Every RoPE scaling method as one pure function, and the registry that names them.

Shared signature::

    method(geom: Geometry, factor: float, seq_len: int | None, **params) -> (inv_freq, s_eff)

``inv_freq`` is the scaled theta'_d (float64, shape (|D|/2,)); ``s_eff`` is the scale the
temperature rule sees (the factor for static methods, max(1, l/L) for dynamic ones). The attention
factor m = sqrt(1/t) is computed from ``s_eff`` by a rule of :mod:`yarnlab.rope.temperature`; the
spec (:mod:`yarnlab.rope.spec`) joins the two. ``METHODS`` maps each name to a :class:`Method`
holding the function, its parameters with defaults (:class:`~yarnlab.rope.params.Param`), its
default temperature rule, how its scale follows the input length, and its transformers form
(:class:`~yarnlab.rope.hf_form.HFType`: rope type, keys, conversion both ways). Every surface that
lists methods (the CLI options, the spec's validation, the Hugging Face reader and writer, the rope
doctor, the workflow's config check) reads this registry, so a method is one function and one entry.

Every method keeps RoPE's relative-position property: it only changes theta_d per pair
(h(theta) in Eq. 12), and q_m . k_n still depends on m - n (Eqs. 6-9).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from yarnlab.rope.frequencies import base_inv_freq, blend, correction_range, ramp_index, ramp_paper, ratios
from yarnlab.rope.hf_form import HFRead, HFType
from yarnlab.rope.params import HasParams, Param, is_finite_number


@dataclass(frozen=True)
class Geometry:
    """|D| (rotated channels), b (base) and L (original trained context)."""

    rotary_dim: int
    base: float
    original_ctx: int


def dynamic_scale(seq_len: int | None, original_ctx: int) -> float:
    """Section 3.3: s = max(1, l'/L) with l' the current length (L when unknown)."""
    if seq_len is None:
        return 1.0
    return max(1.0, seq_len / original_ctx)


def rope_none(geom: Geometry, factor: float, seq_len: int | None = None):
    """Plain RoPE: theta_d = b^(-2d/|D|) (Eq. 5)."""
    return base_inv_freq(geom.rotary_dim, geom.base), 1.0


def rope_pi(geom: Geometry, factor: float, seq_len: int | None = None):
    """Position Interpolation: g(m) = m/s, equivalently h(theta_d) = theta_d / s for every d."""
    return base_inv_freq(geom.rotary_dim, geom.base) / factor, factor


def rope_dynamic_pi(geom: Geometry, factor: float, seq_len: int | None = None):
    """Dynamic PI (Section 3.3, the paper's Fig. 5): theta_d / s with s = max(1, l/L) per pass."""
    s = dynamic_scale(seq_len, geom.original_ctx)
    return base_inv_freq(geom.rotary_dim, geom.base) / s, s


def ntk_base(base: float, factor: float, rotary_dim: int) -> float:
    """b' = b s^(|D|/(|D|-2)) (Eq. 16): the last pair is scaled like PI, the first is untouched."""
    return base * factor ** (rotary_dim / (rotary_dim - 2))


def rope_ntk(geom: Geometry, factor: float, seq_len: int | None = None):
    """NTK-aware interpolation (Def. 1): theta'_d = b'^(-2d/|D|) with b' from Eq. 16."""
    return base_inv_freq(geom.rotary_dim, ntk_base(geom.base, factor, geom.rotary_dim)), factor


def rope_dynamic_ntk(geom: Geometry, factor: float, seq_len: int | None = None, variant: str = "paper"):
    """Dynamic NTK (Section 3.3), in two named forms.

    - ``paper``: NTK-aware (Eq. 16) with s = max(1, l/L). At l = sL it equals static ``ntk``;
      ``factor`` only states the intended extension.
    - ``transformers``: b' = b (factor * l/L - (factor - 1))^(|D|/(|D|-2)) with l = max(l, L), as
      transformers' ``dynamic`` rope type and the reference code's dynamic NTK compute it (there L is
      ``max_position_embeddings``). It is NTK-aware with the effective scale
      s_eff = factor * l/L - factor + 1, which grows ``factor`` times faster than l/L.
    """
    length = geom.original_ctx if seq_len is None else max(seq_len, geom.original_ctx)
    if variant == "paper":
        s = length / geom.original_ctx
    else:
        s = factor * length / geom.original_ctx - (factor - 1.0)
    return base_inv_freq(geom.rotary_dim, ntk_base(geom.base, s, geom.rotary_dim)), s


def ntk_by_parts_gamma(
    geom: Geometry, alpha: float, beta: float, ramp: str = "index", truncate: bool = True
) -> np.ndarray:
    """gamma_d per pair: 1 keeps theta_d, 0 interpolates like PI.

    - ``paper``: gamma(r(d)) of Eq. 18, linear in r(d) = L/lambda_d (Eq. 17).
    - ``index``: the reference code's ramp, linear in the pair index between d(beta) (rounded
      down) and d(alpha) (rounded up, see :func:`~yarnlab.rope.frequencies.correction_range`);
      ``truncate=False`` skips the rounding as transformers' ``truncate`` option does.
    """
    n_pairs = geom.rotary_dim // 2
    if ramp == "paper":
        return ramp_paper(ratios(geom.rotary_dim, geom.base, geom.original_ctx), alpha, beta)
    low, high = correction_range(beta, alpha, geom.rotary_dim, geom.base, geom.original_ctx, truncate)
    return ramp_index(n_pairs, low, high)


def rope_ntk_by_parts(
    geom: Geometry,
    factor: float,
    seq_len: int | None = None,
    alpha: float = 1.0,
    beta: float = 32.0,
    ramp: str = "index",
    truncate: bool = True,
):
    """NTK-by-parts (Def. 2): h(theta_d) = (1 - gamma_d) theta_d/s + gamma_d theta_d (Eq. 20).

    Pairs with r > beta are left alone, pairs with r < alpha are interpolated like PI; alpha = 1,
    beta = 32 for the Llama family. ``ramp`` picks the paper's ramp or the reference code's.
    """
    theta = base_inv_freq(geom.rotary_dim, geom.base)
    gamma = ntk_by_parts_gamma(geom, alpha, beta, ramp, truncate)
    return blend(theta, factor, gamma), factor


def rope_yarn(geom: Geometry, factor: float, seq_len: int | None = None, **params):
    """YaRN (Def. 3): NTK-by-parts frequencies; its default temperature rule is ``yarn`` (Eq. 22)."""
    return rope_ntk_by_parts(geom, factor, seq_len, **params)


def rope_dynamic_yarn(geom: Geometry, factor: float, seq_len: int | None = None, grow_only: bool = False,
                      **params):
    """Dynamic-YaRN: YaRN with s = max(1, l/L) recomputed per forward pass (Section 3.3).

    ``grow_only`` (the reference code's semantics: recompute only when l exceeds the longest length
    seen) is state, not a function of l; it is honoured by :class:`~yarnlab.rope.spec.DynamicLength`.
    """
    s = dynamic_scale(seq_len, geom.original_ctx)
    inv_freq, _ = rope_ntk_by_parts(geom, s, seq_len, **params)
    return inv_freq, s


def rope_llama3(geom: Geometry, factor: float, seq_len: int | None = None,
                low_freq_factor: float = 1.0, high_freq_factor: float = 4.0):
    """Llama 3.1's scaling: PI for lambda > L/low_freq_factor, untouched for lambda < L/high_freq_factor,
    and between them (1 - g) theta/s + g theta with g = (L/lambda - low)/(high - low).

    g is linear in r = L/lambda, so this is NTK-by-parts with the paper ramp, alpha = low_freq_factor
    and beta = high_freq_factor (Eqs. 17-20). low == high (Llama 4 Scout) leaves no band between:
    PI for r < low, untouched for r >= high (transformers' 0/0 at r == low exactly is a point of
    measure zero; the step puts it with the untouched pairs).
    """
    theta = base_inv_freq(geom.rotary_dim, geom.base)
    gamma = ramp_paper(ratios(geom.rotary_dim, geom.base, geom.original_ctx), low_freq_factor, high_freq_factor)
    return blend(theta, factor, gamma), factor


def rope_longrope(geom: Geometry, factor: float, seq_len: int | None = None,
                  short_factor: tuple[float, ...] = (), long_factor: tuple[float, ...] = ()):
    """LongRoPE (Ding et al. 2024, arXiv 2402.13753): theta'_d = theta_d / lambda_d per pair.

    The rescale factors lambda_d come from a search, not a formula: ``short_factor`` applies while
    the length l <= L, ``long_factor`` once l > L (Phi-3's switch; l unknown means l <= L). Like
    every method here it only changes theta_d (h(theta) of Eq. 12), so the relative-position
    property holds. s_eff is the nominal ``factor`` (L'/L), which the default ``longrope``
    temperature rule reads: m = sqrt(1 + ln s / ln L).
    """
    ext = long_factor if seq_len is not None and seq_len > geom.original_ctx else short_factor
    return base_inv_freq(geom.rotary_dim, geom.base) / np.asarray(ext, dtype=np.float64), factor


def rope_proportional(geom: Geometry, factor: float, seq_len: int | None = None,
                      partial_rotary_factor: float = 1.0):
    """Proportional RoPE (Gemma 4's full-attention layers): theta_d = b^(-2d/|D|) with |D| the WHOLE
    head for the first n = int(f |D| / 2) pairs, theta_d = 0 for the other |D|/2 - n pairs, all
    divided by s (PI, Eq. 12 with g(m) = m/s).

    Unlike partial rotary (``rotary_dim``: the first f |D| channels rotate with frequencies spread
    over them), the exponent runs over the whole head, so the rotating pairs keep the frequencies they
    have in full RoPE and the slowest ones are dropped: pairs d >= n never turn (a NoPE part inside a
    RoPE head). f = 1 is PI. Source: transformers' ``proportional`` rope type
    (``_compute_proportional_rope_parameters``); ``partial_rotary_factor`` is f.
    """
    theta = base_inv_freq(geom.rotary_dim, geom.base)
    theta[int(partial_rotary_factor * geom.rotary_dim // 2):] = 0.0
    return theta / factor, factor


# ---- transformers' forms (:class:`~yarnlab.rope.hf_form.HFType`): rope type, keys, both conversions ----
# (transformers 5's modeling_rope_utils is the reference; tests/test_rope_parity.py compares both ways)

def _factor_and_original(spec) -> dict:
    return {"factor": spec.factor, "original_max_position_embeddings": spec.original_ctx}


def _write_yarn(spec) -> dict:
    return {**_factor_and_original(spec), "beta_fast": spec.params["beta"], "beta_slow": spec.params["alpha"],
            "truncate": spec.params["truncate"]}


def _read_yarn(src: HFRead) -> dict:
    truncate = src.boolean("truncate", True)
    # transformers reads `beta_fast or 32` and `beta_slow or 1`: zero/None mean the default
    return {"truncate": truncate, "beta": src.positive("beta_fast", src.rope.get("beta_fast") or 32.0),
            "alpha": src.positive("beta_slow", src.rope.get("beta_slow") or 1.0), "ramp": "index"}


def _index_ramp_only(spec) -> str | None:
    return None if spec.params["ramp"] == "index" else "transformers' yarn uses the index ramp only"


def _read_proportional(src: HFRead) -> dict:
    if src.fraction == 1.0:
        src.notes.append("proportional with partial_rotary_factor 1 is linear (PI); transformers warns the same")
    return {"partial_rotary_factor": src.fraction}


_LLAMA3_KEYS = ("low_freq_factor", "high_freq_factor")
_LONGROPE_KEYS = ("short_factor", "long_factor")
_YARN_HF = HFType("yarn", ("factor",), ("original_max_position_embeddings", "attention_factor", "beta_fast",
                                        "beta_slow", "mscale", "mscale_all_dim", "truncate"),
                  length="original", write=_write_yarn, read=_read_yarn, unsupported=_index_ramp_only,
                  temperature="yarn", null_factor=True)


# ---- the registry: each method with its parameters (:class:`~yarnlab.rope.params.Param`) ---------

@dataclass(frozen=True)
class Method(HasParams):
    """A registered method: its function, parameters (:class:`Param`), default temperature rule,
    whether it depends on the current length, cross-parameter constraints (``relations``:
    functions of the full parameter dict returning a problem string or None), how its scale follows
    the input length, and its transformers form (``hf``; None where transformers has no equivalent,
    and :func:`~yarnlab.rope.hf_write.spec_to_hf` refuses it)."""

    name: str
    fn: Callable
    parameters: tuple[Param, ...] = ()
    default_temperature: str = "none"
    dynamic: bool = False
    summary: str = ""
    relations: tuple[Callable[[dict], str | None], ...] = ()
    #: how the scale follows the input length l, for methods whose s grows with it (``{L}``: the
    #: original context); empty for static methods and for longrope, whose factors switch once at L
    length_rule: str = ""
    hf: HFType | None = None


RAMPS = ("paper", "index")
GROWS = "grows with the input: s = max(1, l/{L})"
DYNAMIC_NTK_VARIANTS = ("paper", "transformers")


def _ordered(lo_key: str, hi_key: str, what: str) -> Callable[[dict], str | None]:
    """lo <= hi: equal bounds are an empty ramp band (a step from PI to untouched), which
    transformers computes and released configs use (Kimi-K2's yarn, Llama 4 Scout's llama3);
    reversed bounds are refused."""
    def check(params: dict) -> str | None:
        lo, hi = params.get(lo_key), params.get(hi_key)
        if is_finite_number(lo) and is_finite_number(hi) and not 0 < lo <= hi:
            return (f"params.{lo_key}, params.{hi_key}: must satisfy {what} "
                    f"(got {lo_key}={lo!r}, {hi_key}={hi!r})")
        return None
    return check


_RAMP = (
    Param("alpha", "positive", 1.0, "ramp lower bound in rotations r (Eq. 18; pairs with r < alpha are PI)"),
    Param("beta", "positive", 32.0, "ramp upper bound in rotations r (pairs with r > beta are untouched)"),
    Param("ramp", "choice", "index", "ramp form: paper (linear in r, Eq. 18) or index (the reference code's)",
          RAMPS),
    Param("truncate", "bool", True, "index ramp: floor/ceil its bounds (transformers' truncate)"),
)
_RAMP_ORDER = (_ordered("alpha", "beta", "0 < alpha <= beta"),)

METHODS: dict[str, Method] = {
    m.name: m
    for m in [
        Method("none", rope_none, summary="plain RoPE", hf=HFType("default", written_ctx="original")),
        Method("pi", rope_pi, summary="Position Interpolation: theta/s",
               hf=HFType("linear", ("factor",), write=lambda spec: {"factor": spec.factor})),
        Method("dynamic-pi", rope_dynamic_pi, dynamic=True, summary="PI with s = max(1, l/L)",
               length_rule=GROWS),
        Method("ntk", rope_ntk, summary="NTK-aware base change (Eq. 16)",
               # written as plain RoPE with the NTK-aware base b' (Eq. 16), the form Code Llama ships
               hf=HFType("default", reads=False,
                         write=lambda spec: {"rope_theta": ntk_base(spec.base, spec.factor, spec.dim)})),
        Method("dynamic-ntk", rope_dynamic_ntk,
               (Param("variant", "choice", "paper", "dynamic-ntk form: paper (s = l/L) or transformers' "
                      "(s = factor l/L - factor + 1)", DYNAMIC_NTK_VARIANTS),),
               dynamic=True, summary="NTK-aware with s = max(1, l/L), or transformers' form", length_rule=GROWS,
               hf=HFType("dynamic", ("factor",), length="declared", written_ctx="original",
                         write=lambda spec: {"factor": spec.factor}, read=lambda src: {"variant": "transformers"},
                         unsupported=lambda spec: None if spec.params["variant"] == "transformers" else
                         "transformers' dynamic rope is the 'transformers' variant only")),
        Method("ntk-by-parts", rope_ntk_by_parts, _RAMP, summary="ramp between PI and RoPE (Eq. 17-20)",
               # transformers' yarn with m = 1: attention_factor 1 is written for its default rule none
               relations=_RAMP_ORDER, hf=dataclasses.replace(_YARN_HF, reads=False)),
        Method("yarn", rope_yarn, _RAMP, default_temperature="yarn",
               summary="NTK-by-parts + temperature (Def. 3)", relations=_RAMP_ORDER, hf=_YARN_HF),
        Method("dynamic-yarn", rope_dynamic_yarn,
               (*_RAMP, Param("grow_only", "bool", False, "recompute only when the length grows (reference code)")),
               default_temperature="yarn", dynamic=True, summary="YaRN with s = max(1, l/L)", length_rule=GROWS,
               relations=_RAMP_ORDER),
        Method("llama3", rope_llama3,
               (Param("low_freq_factor", "positive", 1.0, "llama3: PI for wavelengths > L/low_freq_factor"),
                Param("high_freq_factor", "positive", 4.0, "llama3: untouched for wavelengths < L/high_freq_factor")),
               summary="Llama 3.1 low/high frequency factors",
               relations=(_ordered("low_freq_factor", "high_freq_factor", "0 < low <= high"),),
               hf=HFType("llama3", ("factor", *_LLAMA3_KEYS), ("original_max_position_embeddings",),
                         length="original", read=lambda src: {k: src.positive(k) for k in _LLAMA3_KEYS},
                         write=lambda spec: {**_factor_and_original(spec),
                                             **{k: spec.params[k] for k in _LLAMA3_KEYS}})),
        Method("longrope", rope_longrope,
               (Param("short_factor", "factors", None, "longrope: per-pair rescale factors for l <= L"),
                Param("long_factor", "factors", None, "longrope: per-pair rescale factors for l > L")),
               default_temperature="longrope", dynamic=True,
               summary="LongRoPE / Phi-3: searched per-pair factors, short set up to L, long set beyond",
               hf=HFType("longrope", _LONGROPE_KEYS, ("original_max_position_embeddings", "attention_factor", "factor"),
                         length="original", temperature="longrope", null_factor=True,
                         read=lambda src: {k: src.factors(k) for k in _LONGROPE_KEYS},
                         write=lambda spec: {**_factor_and_original(spec),
                                             **{k: list(spec.params[k]) for k in _LONGROPE_KEYS}})),
        Method("proportional", rope_proportional,
               # required: without f it is plain PI (transformers warns the same), and the workflow, which
               # builds specs from (method, s) alone, has no f to give
               (Param("partial_rotary_factor", "fraction", None, "proportional: share f of the head's pairs "
                      "that rotate (frequencies over the whole head; the rest have theta = 0)"),),
               summary="Gemma 4: PI with frequencies over the whole head, the slowest pairs at theta = 0",
               hf=HFType("proportional", (), ("factor",), whole_head=True, read=_read_proportional,
                         write=lambda spec: {"factor": spec.factor,
                                             "partial_rotary_factor": spec.params["partial_rotary_factor"]})),
    ]
}


def all_params() -> dict[str, Param]:
    """Every parameter name across methods -> its :class:`Param` (shared names agree)."""
    out: dict[str, Param] = {}
    for method in METHODS.values():
        for p in method.parameters:
            if out.setdefault(p.name, p) != p:
                raise AssertionError(f"parameter {p.name!r} is defined differently by two methods")
    return out
