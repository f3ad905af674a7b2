"""RoPE frequencies, wavelengths and the ratio r(d): the quantities every method is built from.

Symbols (paper notation, arXiv 2309.00071):

- ``rotary_dim`` is |D|, the number of rotated channels (= head dim unless the rotary is partial);
  pairs are d = 0 .. |D|/2 - 1.
- ``base`` is b; theta_d = b^(-2d/|D|)                         (Eq. 5)
- lambda_d = 2 pi / theta_d = 2 pi b^(2d/|D|)                   (Eq. 13)
- ``original_ctx`` is L, the ORIGINAL trained context; r(d) = L / lambda_d   (Eq. 17, with the
  original base b, as the reference code does; the printed formula's b' is a typo).

Everything here is float64 numpy and pure.
"""

from __future__ import annotations

import math

import numpy as np


def base_inv_freq(rotary_dim: int, base: float) -> np.ndarray:
    """theta_d = base^(-2d/|D|) for d = 0 .. |D|/2 - 1 (Eq. 5), float64, shape (|D|/2,)."""
    d = np.arange(rotary_dim // 2, dtype=np.float64)
    return np.power(float(base), -2.0 * d / rotary_dim)


def wavelengths(inv_freq: np.ndarray) -> np.ndarray:
    """lambda = 2 pi / theta: tokens per full turn of each pair (Eq. 13)."""
    return 2.0 * math.pi / np.asarray(inv_freq, dtype=np.float64)


def ratios(rotary_dim: int, base: float, original_ctx: float) -> np.ndarray:
    """r(d) = L / lambda_d (Eq. 17): how many full turns pair d makes within the original context."""
    return float(original_ctx) / wavelengths(base_inv_freq(rotary_dim, base))


def correction_dim(num_rotations: float, rotary_dim: int, base: float, original_ctx: float) -> float:
    """The (fractional) pair index d at which r(d) equals ``num_rotations``: inverse of Eq. 17.

    r(d) = L / (2 pi b^(2d/|D|)) = n  <=>  d(n) = |D| ln(L / (2 pi n)) / (2 ln b).
    The reference code calls this the correction dimension.
    """
    return rotary_dim * math.log(original_ctx / (num_rotations * 2.0 * math.pi)) / (2.0 * math.log(base))


def correction_range(
    beta: float, alpha: float, rotary_dim: int, base: float, original_ctx: float, truncate: bool = True
) -> tuple[float, float]:
    """Index bounds (low, high) of the reference code's ramp.

    low = d(beta) (fast pairs, many turns), high = d(alpha) (slow pairs). With ``truncate`` low is
    rounded down and high up. Both are then clamped to [0, |D| - 1] exactly as the reference code and
    transformers do (note the upper clamp is |D| - 1, not |D|/2 - 1: a quirk kept for parity).
    """
    def dim(n: float) -> float:
        # clamped into [-1, |D|] first (the result is clamped to [0, |D| - 1] anyway), so that
        # extreme alpha / beta round like any value beyond the ends: d = +inf for a tiny n, and -inf
        # for an n so large that L / (2 pi n) underflows to 0 (ln 0 raises)
        try:
            d = correction_dim(n, rotary_dim, base, original_ctx)
        except ValueError:
            d = -math.inf
        return min(max(d, -1.0), float(rotary_dim))

    low, high = dim(beta), dim(alpha)
    if truncate:
        low, high = math.floor(low), math.ceil(high)
    return max(low, 0), min(high, rotary_dim - 1)


def ramp_paper(r: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """gamma(r) of Eq. 18: 0 for r < alpha, 1 for r > beta, (r - alpha)/(beta - alpha) between.

    alpha == beta is an empty band: the step gamma = 1 for r >= beta, 0 below.
    """
    r = np.asarray(r, dtype=np.float64)
    if alpha == beta:
        return np.where(r >= beta, 1.0, 0.0)
    return np.clip((r - alpha) / (beta - alpha), 0.0, 1.0)


def ramp_index(n_pairs: int, low: float, high: float) -> np.ndarray:
    """gamma over the pair INDEX, as the reference code builds it.

    gamma_d = 1 - clip((d - low) / (high - low), 0, 1): 1 (untouched) for d <= low, 0 (pure PI) for
    d >= high, linear in d between. Linear in d is linear in ln r, not in r. When low == high the
    reference code widens the interval by 0.001 to avoid dividing by zero; so does this.
    """
    if low == high:
        high = high + 0.001
    d = np.arange(n_pairs, dtype=np.float64)
    return 1.0 - np.clip((d - low) / (high - low), 0.0, 1.0)


def blend(inv_freq: np.ndarray, factor: float, gamma: np.ndarray) -> np.ndarray:
    """h(theta_d) = (1 - gamma_d) theta_d / s + gamma_d theta_d (Eq. 20)."""
    return (1.0 - gamma) * inv_freq / factor + gamma * inv_freq


def effective_gamma(inv_freq: np.ndarray, scaled: np.ndarray, factor: float) -> np.ndarray:
    """The gamma that reproduces ``scaled`` through Eq. 20, for any method (1 when s = 1).

    Solving theta' = (1 - gamma) theta / s + gamma theta gives
    gamma = (theta'/theta - 1/s) / (1 - 1/s): 1 means untouched, 0 means exactly PI.
    """
    if factor == 1.0:
        return np.ones_like(np.asarray(inv_freq, dtype=np.float64))
    return (np.asarray(scaled) / np.asarray(inv_freq) - 1.0 / factor) / (1.0 - 1.0 / factor)
