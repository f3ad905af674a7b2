"""Invariant checks for RoPE scaling methods and temperature rules (numpy only).

Every check takes a *method function* with the registry's signature (any entry of
:data:`yarnlab.rope.methods.METHODS` ``.fn``, or your own)::

    fn(geom: Geometry, factor: float, seq_len: int | None = None, **params) -> (inv_freq, s_eff)

and returns None when the invariant holds, or raises :class:`InvariantError` (an
``AssertionError``, so pytest reports it) naming the invariant and the first offending pair.
Symbols: theta_d = b^(-2d/|D|) (Eq. 5), lambda_d = 2 pi / theta_d (Eq. 13), r(d) = L / lambda_d
(Eq. 17), s the scale factor, L the original context. Tolerances are relative (``rtol``).

Use them inside hypothesis tests with :mod:`yarnlab.testing.strategies`, or on fixed inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np

from yarnlab.rope.frequencies import base_inv_freq, ratios
from yarnlab.rope.methods import Geometry
from yarnlab.rope.tables import cos_sin, rotate

MethodFn = Callable[..., tuple[np.ndarray, float]]


class InvariantError(AssertionError):
    """An invariant failed; the message names it and shows the offending values."""


def _call(fn: MethodFn, geom: Geometry, factor: float, seq_len: int | None, params: dict | None):
    inv_freq, s_eff = fn(geom, factor, seq_len, **(params or {}))
    inv_freq = np.asarray(inv_freq, dtype=np.float64)
    n_pairs = geom.rotary_dim // 2
    if inv_freq.shape != (n_pairs,):
        raise InvariantError(f"shape: inv_freq must have shape ({n_pairs},) = (|D|/2,), got {inv_freq.shape}")
    if not np.all(np.isfinite(inv_freq)) or not np.all(inv_freq > 0):
        bad = int(np.flatnonzero(~(np.isfinite(inv_freq) & (inv_freq > 0)))[0])
        raise InvariantError(f"finite: theta'_{bad} = {inv_freq[bad]!r} is not a finite number > 0 ({geom})")
    return inv_freq, float(s_eff)


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def check_unit_scale_identity(fn: MethodFn, geom: Geometry, params: dict | None = None,
                              seq_lens: Iterable[int | None] = (None,), rtol: float = 1e-12) -> None:
    """s = 1 is plain RoPE: theta'_d = theta_d for every pair and s_eff = 1, at each ``seq_len``
    (for a dynamic method, lengths <= L)."""
    theta = base_inv_freq(geom.rotary_dim, geom.base)
    for seq_len in seq_lens:
        inv, s_eff = _call(fn, geom, 1.0, seq_len, params)
        off = np.abs(inv - theta) > rtol * theta
        if off.any():
            d = _first(off)
            raise InvariantError(f"identity at s = 1: theta'_{d} = {float(inv[d])!r} != "
                                 f"theta_{d} = {float(theta[d])!r} (seq_len={seq_len}, {geom})")
        if s_eff != 1.0:
            raise InvariantError(f"identity at s = 1: s_eff = {s_eff!r}, expected 1 (seq_len={seq_len}, {geom})")


def check_bounds(fn: MethodFn, geom: Geometry, factor: float, params: dict | None = None,
                 seq_len: int | None = None, rtol: float = 1e-12) -> None:
    """theta_d / s <= theta'_d <= theta_d for every pair, with s the returned s_eff (= ``factor``
    for a static method): a method only slows rotations down, and never beyond PI."""
    theta = base_inv_freq(geom.rotary_dim, geom.base)
    inv, s_eff = _call(fn, geom, factor, seq_len, params)
    above = inv > theta * (1 + rtol)
    below = inv < theta / s_eff * (1 - rtol)
    if above.any():
        d = _first(above)
        raise InvariantError(f"bounds: theta'_{d} = {float(inv[d])!r} > theta_{d} = {float(theta[d])!r} "
                             f"(s = {factor}, seq_len={seq_len}, {geom})")
    if below.any():
        d = _first(below)
        raise InvariantError(f"bounds: theta'_{d} = {float(inv[d])!r} < theta_{d}/s = "
                             f"{float(theta[d] / s_eff)!r} (s_eff = {s_eff}, seq_len={seq_len}, {geom})")


def check_monotone_wavelengths(fn: MethodFn, geom: Geometry, factor: float, params: dict | None = None,
                               seq_len: int | None = None) -> None:
    """lambda'_d = 2 pi / theta'_d strictly increases with d: pair order (fast to slow) is kept."""
    inv, _ = _call(fn, geom, factor, seq_len, params)
    lam = 2 * math.pi / inv
    bad = np.diff(lam) <= 0
    if bad.any():
        d = _first(bad)
        raise InvariantError(f"monotone wavelengths: lambda'_{d + 1} = {float(lam[d + 1])!r} <= "
                             f"lambda'_{d} = {float(lam[d])!r} (s = {factor}, {geom})")


def check_ramp_ends(fn: MethodFn, geom: Geometry, factor: float, alpha: float, beta: float,
                    params: dict | None = None, rtol: float = 1e-14) -> None:
    """The ramp's ends (Eqs. 18-20): pairs with r(d) > beta keep theta_d, pairs with r(d) < alpha
    are interpolated like PI (theta_d / s). ``alpha``/``beta`` in rotations r, as the method reads them."""
    theta = base_inv_freq(geom.rotary_dim, geom.base)
    r = ratios(geom.rotary_dim, geom.base, geom.original_ctx)
    inv, _ = _call(fn, geom, factor, None, params)
    for where, target, name in ((r > beta, theta, "r > beta keeps theta"),
                                (r < alpha, theta / factor, "r < alpha is PI")):
        off = where & (np.abs(inv - target) > rtol * target)
        if off.any():
            d = _first(off)
            raise InvariantError(f"ramp ends ({name}): theta'_{d} = {float(inv[d])!r}, expected {float(target[d])!r} "
                                 f"(r = {r[d]:.6g}, alpha = {alpha}, beta = {beta}, s = {factor}, {geom})")


def check_dynamic_equals_static(dynamic_fn: MethodFn, static_fn: MethodFn, geom: Geometry, k: float,
                                dynamic_params: dict | None = None, static_params: dict | None = None,
                                factor: float = 8.0, rtol: float = 1e-12) -> None:
    """A dynamic method is plain RoPE for l <= L and, at l = kL, equals its static form at s = k
    (Section 3.3); ``factor`` is the dynamic method's nominal maximum (ignored by most)."""
    check_unit_scale_identity(dynamic_fn, geom, dynamic_params,
                              seq_lens=(1, max(1, geom.original_ctx // 2), geom.original_ctx), rtol=rtol)
    length = int(round(k * geom.original_ctx))
    dyn, s_dyn = _call(dynamic_fn, geom, factor, length, dynamic_params)
    s_static = length / geom.original_ctx
    stat, _ = _call(static_fn, geom, s_static, None, static_params)
    off = np.abs(dyn - stat) > rtol * stat
    if off.any():
        d = _first(off)
        raise InvariantError(f"dynamic = static at l = sL: theta'_{d} = {float(dyn[d])!r} (dynamic, s_eff = {s_dyn}) "
                             f"!= {float(stat[d])!r} (static, s = {s_static}) ({geom})")


def check_relative_position(inv_freq: np.ndarray, attention_factor: float = 1.0, m: int = 0, n: int = 0,
                            shift: int = 1, seed: int = 0, layout: str = "half", rtol: float = 1e-9) -> None:
    """q_m . k_n depends on m - n only (Eqs. 6-9): rotating a random q, k to (m, n) and to
    (m + shift, n + shift) gives the same dot product, for the tables built from ``inv_freq``
    (any per-pair theta'_d keeps this) and ``attention_factor`` m, in the pair ``layout``."""
    inv_freq = np.asarray(inv_freq, dtype=np.float64)
    dim = 2 * inv_freq.shape[0]
    q, k = np.random.default_rng(seed).normal(size=(2, dim))
    c, s = cos_sin(inv_freq, np.array([m, n, m + shift, n + shift]), attention_factor, layout=layout,
                   dtype=np.float64)
    qr = rotate(np.stack([q, q]), c[[0, 2]], s[[0, 2]], layout)
    kr = rotate(np.stack([k, k]), c[[1, 3]], s[[1, 3]], layout)
    d1, d2 = float(qr[0] @ kr[0]), float(qr[1] @ kr[1])
    scale = float(np.linalg.norm(q) * np.linalg.norm(k)) * attention_factor**2
    if abs(d1 - d2) > rtol * scale:
        raise InvariantError(f"relative position: q_{m}.k_{n} = {d1!r} != q_{m + shift}.k_{n + shift} = {d2!r} "
                             f"(layout {layout})")


def check_attention_factor(rule: Callable[..., float], original_ctx: int, s_lo: float, s_hi: float,
                           params: dict | None = None, strict: bool = True) -> None:
    """A temperature rule ``rule(s, *, original_ctx, seq_len=None, **params) -> m`` gives m = 1 at
    s = 1 and grows with s: m(s_hi) > m(s_lo) for s_hi > s_lo (>= when not ``strict``)."""
    params = params or {}
    at_one = rule(1.0, original_ctx=original_ctx, **params)
    if at_one != 1.0:
        raise InvariantError(f"attention factor at s = 1: m = {at_one!r}, expected 1 (params {params})")
    lo, hi = sorted((s_lo, s_hi))
    m_lo, m_hi = rule(lo, original_ctx=original_ctx, **params), rule(hi, original_ctx=original_ctx, **params)
    if (m_hi <= m_lo) if strict else (m_hi < m_lo):
        raise InvariantError(f"attention factor increasing: m({hi}) = {m_hi!r} vs m({lo}) = {m_lo!r} "
                             f"(L = {original_ctx}, params {params})")


def check_grow_only(tracker: Callable[[int], int], lengths: Iterable[int], grow_only: bool) -> None:
    """A length tracker (e.g. :class:`~yarnlab.rope.spec.DynamicLength`) called on ``lengths`` in
    order returns the running maximum when ``grow_only`` (the reference Dynamic-YaRN recomputes only
    when the length grows), else each length unchanged. The tracker's state carries across calls."""
    longest = 0
    for i, length in enumerate(lengths):
        longest = max(longest, length)
        expected = longest if grow_only else length
        got = tracker(length)
        if got != expected:
            raise InvariantError(f"grow_only={grow_only}: call {i} with length {length} gave {got}, "
                                 f"expected {expected}")


def check_method(fn: MethodFn, geom: Geometry, factor: float, params: dict | None = None, *,
                 seq_len: int | None = None, monotone: bool = True, seed: int = 0) -> None:
    """The invariants every scaling method keeps, in one call: identity at s = 1 (at ``seq_len``
    and at L), bounds theta/s_eff <= theta' <= theta and (with ``monotone``) increasing wavelengths
    at (``factor``, ``seq_len``), and the relative-position property of the resulting tables."""
    lengths = (None,) if seq_len is None else (None, geom.original_ctx)
    unit_params = _unit_params(params)
    check_unit_scale_identity(fn, geom, unit_params, seq_lens=lengths)
    check_bounds(fn, geom, factor, params, seq_len)
    if monotone:
        check_monotone_wavelengths(fn, geom, factor, params, seq_len)
    inv, _ = _call(fn, geom, factor, seq_len, params)
    check_relative_position(inv, 1.0, m=7, n=3, shift=geom.original_ctx, seed=seed)


def _unit_params(params: dict | None) -> dict:
    """Per-pair factor lists (LongRoPE-style) set to 1 for the s = 1 identity; other params kept."""
    out = {}
    for key, value in (params or {}).items():
        seq = value.tolist() if isinstance(value, np.ndarray) else value
        out[key] = [1.0] * len(seq) if isinstance(seq, list | tuple) else value
    return out
