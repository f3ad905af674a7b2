"""Hypothesis strategies for RoPE geometries, scale factors, method parameters and specs.

Needs hypothesis (the ``[dev]`` extra: ``pip install 'yarnlab[dev]'``). Method parameters and
temperature rules are drawn from the registries (:data:`~yarnlab.rope.methods.METHODS`,
:data:`~yarnlab.rope.temperature.TEMPERATURE_RULES`) by each parameter's kind, so a newly
registered method or rule is drawn without changes here; a kind this module does not know raises.
Every strategy is a function returning a strategy; its docstring says what it draws.
"""

from __future__ import annotations

import math

try:
    from hypothesis import assume
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("yarnlab.testing.strategies needs hypothesis: pip install 'yarnlab[dev]'") from exc

from yarnlab.rope.methods import METHODS, Geometry
from yarnlab.rope.params import Param
from yarnlab.rope.spec import RopeSpec
from yarnlab.rope.temperature import TEMPERATURE_RULES

RAMP_MIN_RATIO = 1.25
"""Drawn ramps have beta >= 1.25 alpha: narrower ramps make transformers' float32 blend
ill-conditioned, which parity tests would then blame on yarnlab. Validation alone only needs
alpha <= beta (equal bounds are an empty band; see :func:`invalid_params` for reversed ones)."""

# partial rotary factors whose product with a head dim is not exact in binary floating point
INEXACT_PARTIAL = (0.45, 0.3, 0.35, 0.7, 0.55, 0.65, 62 / 94, 0.1)


def head_dims() -> st.SearchStrategy[int]:
    """Even head dims |D| in 4..256."""
    return st.integers(2, 128).map(lambda k: 2 * k)


def bases() -> st.SearchStrategy[float]:
    """RoPE bases b in [2, 1e7]: the common ones (1e4, 5e5, 1e6, 1e7) often, any float otherwise."""
    return st.one_of(st.sampled_from([10000.0, 500000.0, 1e6, 1e7]), st.floats(2.0, 1e7))


def contexts() -> st.SearchStrategy[int]:
    """Original contexts L in 16..131072, the common ones (256 .. 131072) often."""
    return st.one_of(st.sampled_from([256, 2048, 4096, 8192, 131072]), st.integers(16, 131072))


def factors() -> st.SearchStrategy[float]:
    """Scale factors s in [1, 128], with s = 1 and the usual powers of two drawn often."""
    return st.one_of(st.just(1.0), st.sampled_from([2.0, 4.0, 8.0, 16.0, 32.0, 128.0]), st.floats(1.0, 128.0))


@st.composite
def geometries(draw, partial: bool = True) -> dict:
    """RopeSpec geometry fields: ``head_dim``, ``rotary_dim`` (even, 4 <= rotary_dim <= head_dim,
    or None for all channels; only when ``partial``), ``base``, ``original_ctx``."""
    head_dim = draw(head_dims())
    rotary_dim = None
    if partial and draw(st.booleans()):
        rotary_dim = 2 * draw(st.integers(2, head_dim // 2))
    return {"head_dim": head_dim, "rotary_dim": rotary_dim, "base": draw(bases()), "original_ctx": draw(contexts())}


def method_geometries(partial: bool = True) -> st.SearchStrategy[Geometry]:
    """:class:`~yarnlab.rope.methods.Geometry` values (|D|, b, L), the first argument of a method
    function; |D| as in :func:`geometries`."""
    return geometries(partial).map(lambda g: Geometry(g["rotary_dim"] or g["head_dim"], g["base"],
                                                      g["original_ctx"]))


@st.composite
def ramp_bounds(draw, min_ratio: float = RAMP_MIN_RATIO) -> tuple[float, float]:
    """(alpha, beta) in rotations: 0.01 <= alpha <= 64 and beta >= ``min_ratio`` * alpha."""
    alpha = draw(st.floats(0.01, 64.0))
    beta = draw(st.floats(alpha * min_ratio, max(4096.0, alpha * min_ratio)))
    return alpha, beta


def _param_value(p: Param, n_pairs: int, factor: float) -> st.SearchStrategy:
    """A valid value of one registry parameter, by its kind."""
    if p.kind == "positive":
        return st.floats(0.01, 64.0)
    if p.kind == "nonnegative":
        return st.floats(0.0, 4.0)
    if p.kind == "fraction":
        return st.one_of(st.sampled_from([0.25, 0.5, 1.0]), st.floats(0.01, 1.0))
    if p.kind == "bool":
        return st.booleans()
    if p.kind == "choice":
        return st.sampled_from(p.choices)
    if p.kind == "factors":
        # per-pair factors within [1, s]: s = 1 is then plain RoPE and theta/s <= theta' <= theta hold
        return st.lists(st.floats(1.0, factor), min_size=n_pairs, max_size=n_pairs)
    raise LookupError(f"yarnlab.testing.strategies: no strategy for parameter kind {p.kind!r} "
                              f"({p.name}); add one to _param_value")


def ordered_pairs(method: str) -> list[tuple[str, str]]:
    """(lo, hi) parameter pairs of ``method`` that its relations require to satisfy 0 < lo <= hi,
    found by probing the relations (so a new method's ordered pair is found too)."""
    m = METHODS[method]
    numeric = [p.name for p in m.parameters if p.kind in ("positive", "nonnegative")]
    base = {p.name: p.default for p in m.parameters}
    pairs = []
    for lo in numeric:
        for hi in numeric:
            if lo == hi:
                continue
            ok = all(r({**base, lo: 1.0, hi: 2.0}) is None for r in m.relations)
            reversed_bad = any(r({**base, lo: 2.0, hi: 1.0}) is not None for r in m.relations)
            if ok and reversed_bad:
                pairs.append((lo, hi))
    return pairs


@st.composite
def method_params(draw, method: str, n_pairs: int = 64, factor: float = 8.0) -> dict:
    """A valid ``params`` dict for ``method``: each registry parameter drawn by kind (left out, so
    defaulted, half of the time when it has a default); ordered pairs (alpha < beta,
    low_freq_factor < high_freq_factor) drawn by :func:`ramp_bounds`. ``n_pairs`` = |D|/2 sizes
    per-pair lists; ``factor`` bounds per-pair factors."""
    m = METHODS[method]
    pairs = ordered_pairs(method)
    in_pair = {name for pair in pairs for name in pair}
    params = {}
    for p in m.parameters:
        if p.name not in in_pair and (p.required or draw(st.booleans())):
            params[p.name] = draw(_param_value(p, n_pairs, factor))
    for lo, hi in pairs:
        if draw(st.booleans()):
            params[lo], params[hi] = draw(ramp_bounds())
    full = {**m.params, **params}
    assume(all(r(full) is None for r in m.relations))
    return params


@st.composite
def temperature_rules(draw, exclude: tuple[str, ...] = ()) -> tuple[str, dict]:
    """(rule name, temperature_params) over every registered temperature rule except ``exclude``;
    required parameters always drawn, optional ones half of the time (kinds as for methods, m of
    the ``fixed`` rule and the mscale coefficients in [0.01, 64])."""
    name = draw(st.sampled_from([r for r in TEMPERATURE_RULES if r not in exclude]))
    params = {}
    for p in TEMPERATURE_RULES[name].parameters:
        if p.required or draw(st.booleans()):
            params[p.name] = draw(_param_value(p, 1, 1.0))
    return name, params


@st.composite
def specs(draw, methods=tuple(METHODS), factor=None, rules: bool = False, exclude_rules: tuple[str, ...] = ()):
    """Valid :class:`~yarnlab.rope.spec.RopeSpec` values: a method of ``methods``, a geometry
    (:func:`geometries`), s from :func:`factors` (or ``factor``) and parameters from
    :func:`method_params`. With ``rules`` a temperature rule is drawn too (the method's default a
    third of the time), from :func:`temperature_rules` minus ``exclude_rules``."""
    method = draw(st.sampled_from(list(methods)))
    geom = draw(geometries())
    s = draw(factors()) if factor is None else factor
    n_pairs = (geom["rotary_dim"] or geom["head_dim"]) // 2
    rule, tparams = None, {}
    if rules and draw(st.integers(0, 2)):
        rule, tparams = draw(temperature_rules(exclude_rules))
    return RopeSpec(method=method, factor=s, params=draw(method_params(method, n_pairs, s)), temperature=rule,
                    temperature_params=tparams, **geom)


BAD_VALUES = {
    "method": st.sampled_from(["", "YARN", "linear", "dynamic", None, 3]),
    "head_dim": st.one_of(st.integers(-10, 3), st.integers(2, 200).map(lambda k: 2 * k + 1), st.just(64.0)),
    "base": st.one_of(st.just(1.0), st.floats(-1e3, 1.0), st.just(float("nan")), st.just(float("inf")),
                      st.just("1e4")),
    "original_ctx": st.one_of(st.integers(-100, 0), st.just(4096.0), st.just(None)),
    "factor": st.one_of(st.floats(-10, 0.999), st.just(float("nan")), st.just(float("inf"))),
}
"""Per spec field, values that break its constraint (used by :func:`invalid_spec_fields`); each
boundary value just outside the allowed range (base = 1) is drawn explicitly."""


@st.composite
def invalid_spec_fields(draw) -> tuple[dict, list[str]]:
    """(fields, bad_keys): a field dict for ``RopeSpec(**fields)`` with the listed fields made
    invalid (values from :data:`BAD_VALUES`); the error must name each of them."""
    geom = draw(geometries(partial=False))
    fields = {"method": "yarn", "factor": 4.0, **geom}
    bad = draw(st.lists(st.sampled_from(sorted(BAD_VALUES)), min_size=1, max_size=5, unique=True))
    for key in bad:
        fields[key] = draw(BAD_VALUES[key])
    return fields, bad


def _bad_value(p: Param, n_pairs: int) -> st.SearchStrategy:
    if p.kind in ("positive", "nonnegative"):
        low = [-1.0, float("nan"), float("inf"), "1", True] + ([0.0] if p.kind == "positive" else [-1e-9])
        return st.sampled_from(low)
    if p.kind == "fraction":
        return st.sampled_from([0.0, -0.5, 1.5, float("nan"), "0.5", True])
    if p.kind == "bool":
        return st.sampled_from([0, 1, "true", None])
    if p.kind == "choice":
        return st.sampled_from(["", "bogus", None, 1])
    if p.kind == "factors":
        return st.sampled_from([[], [0.0] * n_pairs, [1.0] * (n_pairs + 1), [float("nan")] * n_pairs, "1,2"])
    raise LookupError(f"no invalid values for parameter kind {p.kind!r} ({p.name})")


@st.composite
def invalid_params(draw) -> tuple[str, int, dict, str]:
    """(method, head_dim, params, fragment): ``params`` for ``RopeSpec(method, head_dim=...)`` with one
    planted violation, either one parameter outside its kind's constraint or an ordered pair
    reversed (alpha > beta; equal bounds are valid, an empty band); ``fragment`` is the text the error must contain
    (``params.<name>`` or ``params.<lo>, params.<hi>``)."""
    candidates = [m for m, info in METHODS.items() if info.parameters]
    method = draw(st.sampled_from(candidates))
    head_dim = 2 * draw(st.integers(2, 64))
    n_pairs = head_dim // 2
    m = METHODS[method]
    params = {p.name: draw(_param_value(p, n_pairs, 4.0)) for p in m.parameters if p.required}
    pairs = ordered_pairs(method)
    if pairs and draw(st.booleans()):
        lo, hi = draw(st.sampled_from(pairs))
        a = draw(st.floats(0.01, 64.0))
        b = draw(st.floats(0.0, a, exclude_max=True).filter(lambda x: x > 0))
        params.update({lo: a, hi: b})
        return method, head_dim, params, f"params.{lo}, params.{hi}"
    p = draw(st.sampled_from(m.parameters))
    params[p.name] = draw(_bad_value(p, n_pairs))
    return method, head_dim, params, f"params.{p.name}"


@st.composite
def partial_rotary(draw) -> tuple[int, float]:
    """(head_dim, partial_rotary_factor) whose product truncates to an even rotary dim >= 4, the
    factor often one whose product is not exact in floating point (0.45 x 64 = 28.8 -> 28;
    62/94 x 94 = 61.99.. -> 61), so truncation and rounding disagree."""
    head_dim = draw(head_dims())
    prf = draw(st.one_of(st.sampled_from(INEXACT_PARTIAL), st.floats(0.02, 1.0)))
    rotary = int(head_dim * prf)
    assume(rotary >= 4 and rotary % 2 == 0)
    return head_dim, prf


@st.composite
def degenerate_ramp_geometries(draw) -> dict:
    """Geometry fields with L < 2 pi, where d(alpha = 1) is in (-1, 0]: both correction dims of the
    index ramp clamp to 0, so low == high (the ramp's widening by 0.001 then keeps it finite)."""
    head_dim = draw(head_dims())
    base = draw(bases())
    ctx = draw(st.integers(1, 6))
    d_alpha = head_dim * math.log(ctx / (2 * math.pi)) / (2 * math.log(base))
    assume(-1 < d_alpha <= 0)
    return {"head_dim": head_dim, "rotary_dim": None, "base": base, "original_ctx": ctx}


def length_sequences(max_len: int = 1 << 20) -> st.SearchStrategy[list[int]]:
    """Sequences of 1..12 forward-pass lengths in 1..``max_len`` (for grow-only length state)."""
    return st.lists(st.integers(1, max_len), min_size=1, max_size=12)
