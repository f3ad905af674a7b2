"""Attention entropy versus temperature, and the entropy-invariant temperature.

YaRN divides attention logits by a temperature t (Eq. 21), applied as m = sqrt(1/t) on cos and sin
(Eq. 22, logits scale by m^2 = 1/t). One argument for a length-dependent t: with n keys the softmax
entropy grows like ln n, so attention spreads out as the context grows from L to sL; choose t so
that the entropy at length sL equals the entropy at length L ("entropy-invariant t").

Two sources of logits:

(a) a model of i.i.d. Gaussian logits z ~ N(0, sigma^2) over n keys. Large-n closed form (law of
    large numbers on Z = sum exp(z/t), valid while sigma^2/t^2 << ln n):
        H(n, t) ~= ln n - sigma^2 / (2 t^2),
    so H(sL, t) = H(L, 1) gives 1/t^2 = 1 + 2 ln s / sigma^2 and
        m* = sqrt(1/t*) = (1 + 2 ln s / sigma^2)^(1/4).
    A Monte-Carlo estimate (common random numbers, exact softmax) covers finite n and large sigma.
(b) logits from a real model: an array (..., n_queries, n_keys) with -inf on masked entries
    (causal attention); entropies are averaged over the rows.

Entropies are in nats. t > 0; m = t^(-1/2).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy.optimize import brentq

from yarnlab.errors import UsageError


def softmax_entropy(logits: np.ndarray, t: float = 1.0, axis: int = -1) -> np.ndarray:
    """Entropy (nats) of softmax(logits / t) along ``axis``; -inf entries are masked keys.

    H = ln Z - sum_i p_i x_i with x = logits/t shifted by its maximum (stable), Z = sum exp(x).
    Rows with no finite entry give nan.
    """
    if not t > 0:
        raise UsageError(f"t: must be > 0 (got {t})")
    x = np.asarray(logits, dtype=np.float64) / t
    finite = np.isfinite(x)
    if finite.all():  # fast path, no masked keys
        xs = x - x.max(axis=axis, keepdims=True)
        e = np.exp(xs)
        z = e.sum(axis=axis)
        return np.log(z) - np.einsum("...i,...i->...", e, xs) / z if axis in (-1, x.ndim - 1) else \
            np.log(z) - (e * xs).sum(axis=axis) / z
    with np.errstate(invalid="ignore"):
        xmax = np.max(np.where(finite, x, -np.inf), axis=axis, keepdims=True)
    xs = np.where(finite, x - np.where(np.isfinite(xmax), xmax, 0.0), -np.inf)
    e = np.exp(xs)
    z = e.sum(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        px = np.where(finite, e * np.where(finite, xs, 0.0), 0.0).sum(axis=axis, keepdims=True) / z
        h = np.log(z) - px
    return np.squeeze(h, axis=axis)


def mean_entropy(logits: np.ndarray, t: float = 1.0) -> float:
    """Mean over rows (all leading axes) of :func:`softmax_entropy`; fully masked rows are skipped."""
    h = softmax_entropy(logits, t)
    if not np.any(np.isfinite(h)):
        raise UsageError("logits: every row is fully masked (no finite entry)")
    return float(np.nanmean(h))


def gaussian_entropy_asymptotic(n: float | np.ndarray, sigma: float, t: float | np.ndarray = 1.0):
    """Large-n entropy of softmax over n i.i.d. N(0, sigma^2) logits divided by t: ln n - sigma^2/(2 t^2).

    Valid while sigma^2 / t^2 is small compared with ln n (otherwise the few largest logits dominate
    and the Monte-Carlo estimate should be used).
    """
    t = np.asarray(t, dtype=np.float64)
    return np.log(n) - sigma**2 / (2.0 * t**2)


def gaussian_invariant_m_asymptotic(s: float | np.ndarray, sigma: float) -> np.ndarray:
    """Entropy-invariant m* = sqrt(1/t*) = (1 + 2 ln s / sigma^2)^(1/4) in the large-n Gaussian model."""
    s = np.asarray(s, dtype=np.float64)
    return (1.0 + 2.0 * np.log(s) / sigma**2) ** 0.25


class GaussianLogits:
    """Fixed draws of i.i.d. N(0, sigma^2) logits for n keys (common random numbers across t).

    ``n_samples`` rows of n keys; by default as many rows as fit in about ``budget`` numbers
    (at least 4), since the entropy of a long row is nearly deterministic.
    """

    def __init__(self, n: int, sigma: float, n_samples: int | None = None, seed: int = 0,
                 budget: int = 1 << 20):
        if n < 2:
            raise UsageError(f"n: must be >= 2 keys (got {n})")
        if not sigma > 0:
            raise UsageError(f"sigma: must be > 0 (got {sigma})")
        self.n, self.sigma = int(n), float(sigma)
        rows = n_samples if n_samples is not None else max(4, budget // self.n)
        self.z = np.random.default_rng(seed).standard_normal((rows, self.n)) * self.sigma

    def entropy(self, t: float = 1.0) -> float:
        return mean_entropy(self.z, t)


def solve_temperature(entropy_of_t: Callable[[float], float], target: float,
                      t_lo: float = 1e-2, t_hi: float = 1e2, guess: float | None = None) -> float:
    """The t with entropy_of_t(t) == target; softmax entropy increases with t, so bracket and solve.

    With ``guess`` the bracket starts at [guess/1.5, guess*1.5] and widens (within [t_lo, t_hi]) until
    it holds the root. Raises :class:`UsageError` when the target lies outside [H(t_lo), H(t_hi)].
    """
    def f(log_t: float) -> float:
        return entropy_of_t(math.exp(log_t)) - target

    lo, hi = math.log(t_lo), math.log(t_hi)
    if guess is not None and t_lo < guess < t_hi:
        a, b, step = math.log(guess) - 0.4, math.log(guess) + 0.4, 0.4
        fa, fb = f(max(a, lo)), f(min(b, hi))
        while fa > 0 and a > lo:
            step *= 2
            a = max(a - step, lo)
            fa = f(a)
        while fb < 0 and b < hi:
            step *= 2
            b = min(b + step, hi)
            fb = f(b)
        lo, hi = max(a, lo), min(b, hi)
    else:
        fa, fb = f(lo), f(hi)
    if fa > 0 or fb < 0:
        raise UsageError(f"target entropy {target:.4g} outside the range reachable with t in [{t_lo}, {t_hi}]")
    # solve in log t: entropy is smoother there
    return math.exp(brentq(f, lo, hi, xtol=1e-7))


def gaussian_invariant_m_mc(s: float, n_short: int, sigma: float, seed: int = 0,
                            budget: int = 1 << 20) -> float:
    """Monte-Carlo entropy-invariant m* = sqrt(1/t*): H(s * n_short keys, t*) = H(n_short keys, t = 1)."""
    if not s >= 1:
        raise UsageError(f"s: must be >= 1 (got {s})")
    short = GaussianLogits(n_short, sigma, seed=seed, budget=budget)
    long = GaussianLogits(int(round(s * n_short)), sigma, seed=seed + 1, budget=budget)
    guess = float(gaussian_invariant_m_asymptotic(s, sigma)) ** -2
    t = solve_temperature(long.entropy, short.entropy(1.0), guess=guess)
    return 1.0 / math.sqrt(t)


def invariant_temperature_from_logits(logits_short: np.ndarray, logits_long: np.ndarray,
                                      t_short: float = 1.0) -> float:
    """Entropy-invariant t for real logits: mean H(logits_long / t) = mean H(logits_short / t_short).

    ``logits_short``: rows of attention logits at the original length (..., q, k), -inf for masked
    keys; ``logits_long``: the same at the extended length. Returns t (m = t^(-1/2)).
    """
    target = mean_entropy(logits_short, t_short)
    return solve_temperature(lambda t: mean_entropy(logits_long, t), target)


def entropy_curve(logits: np.ndarray, m_values: Sequence[float]) -> list[dict]:
    """Mean entropy of real logits at each m = sqrt(1/t) (logits scaled by m^2): rows {m, t, entropy}."""
    rows = []
    for m in m_values:
        if not m > 0:
            raise UsageError(f"m: must be > 0 (got {m})")
        t = 1.0 / m**2
        rows.append({"m": float(m), "t": t, "entropy": mean_entropy(logits, t)})
    return rows


# ---- tables for the analyses and figures --------------------------------------------------------

def best_matching_sigma(scales: Sequence[float], coefficient: float = 0.1) -> float:
    """The sigma whose asymptotic invariant m* = (1 + 2 ln s/sigma^2)^(1/4) is closest (least squares
    over ``scales``) to the YaRN rule coefficient * ln s + 1 (Eq. 22)."""
    from scipy.optimize import minimize_scalar

    s = np.asarray(scales, dtype=np.float64)
    target = coefficient * np.log(s) + 1.0

    def loss(log_sigma: float) -> float:
        return float(np.sum((gaussian_invariant_m_asymptotic(s, math.exp(log_sigma)) - target) ** 2))

    res = minimize_scalar(loss, bounds=(math.log(0.1), math.log(100.0)), method="bounded")
    return math.exp(res.x)


def invariant_temperature_table(n_short: int, scales: Sequence[float], sigmas: Sequence[float],
                                seed: int = 0) -> list[dict]:
    """Rows (n_short, s, sigma, m_invariant_mc, m_invariant_asymptotic, m_yarn_rule) for the
    Gaussian-logit model; m_yarn_rule = 0.1 ln s + 1 (Eq. 22) for comparison."""
    rows = []
    for sigma in sigmas:
        for s in scales:
            rows.append({"n_short": n_short, "s": s, "sigma": sigma,
                         "m_invariant_mc": gaussian_invariant_m_mc(s, n_short, sigma, seed=seed),
                         "m_invariant_asymptotic": float(gaussian_invariant_m_asymptotic(s, sigma)),
                         "m_yarn_rule": 0.1 * math.log(s) + 1.0})
    return rows


def temperature_rules_table(geom, scales: Sequence[float],
                            rules: Sequence[str] = ("yarn", "log-n", "longrope", "llama4-attn", "llama4-scaling",
                                                    "none")) -> list[dict]:
    """Rows (rule, s, m) from the core's temperature rules, each evaluated through a ``yarn`` spec on
    ``geom`` at length l = sL (so length-dependent rules such as log-n see n = sL).

    ``llama4-attn`` steps every ``floor_scale`` tokens; it is drawn with floor_scale = L, the ratio
    Llama 4 itself has (8192 = its L), so it is the models' rule carried to ``geom``. For Llama 4 and
    Ministral 3 the m^2 shown is the logit scale of the last query of an sL-token input."""
    from yarnlab.rope import RopeSpec

    rule_params = {"llama4-attn": {"floor_scale": float(geom.original_ctx)}}
    rows = []
    for rule in rules:
        for s in scales:
            spec = RopeSpec(method="yarn", head_dim=geom.rotary_dim, base=geom.base,
                            original_ctx=geom.original_ctx, factor=float(s), temperature=rule,
                            temperature_params=rule_params.get(rule, {}))
            m = spec.compute(seq_len=int(round(s * geom.original_ctx))).attention_factor
            rows.append({"rule": rule, "s": s, "L": geom.original_ctx, "m": m})
    return rows


def entropy_curve_table(n_short: int, scales: Sequence[float], sigma: float, m_values: Sequence[float],
                        seed: int = 0) -> list[dict]:
    """Rows (s, n, sigma, m, t, entropy_mc, entropy_asymptotic) of the Gaussian-logit model at n = n_short
    (s = 1) and n = s * n_short for each s, over the grid of m = sqrt(1/t)."""
    rows = []
    for s in [1.0, *[float(x) for x in scales]]:
        n = int(round(s * n_short))
        logits = GaussianLogits(n, sigma, seed=seed + (0 if s == 1.0 else 1))
        for m in m_values:
            t = 1.0 / m**2
            rows.append({"s": s, "n": n, "sigma": sigma, "m": float(m), "t": t, "entropy_mc": logits.entropy(t),
                         "entropy_asymptotic": float(gaussian_entropy_asymptotic(n, sigma, t))})
    return rows
