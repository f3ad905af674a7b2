"""Cosine similarity of a vector with itself rotated by a distance k: how interpolation crowds positions.

For a unit vector whose energy is spread over the pairs with weights w_d (sum w_d = 1), rotating by
k positions turns pair d by k * theta'_d (Eqs. 6-9), so

    sim(k) = sum_d w_d cos(k theta'_d)           (uniform energy: w_d = 2/|D|, sim = mean_d cos(k theta'_d))

sim(0) = 1. The running minimum min_{j <= k} sim(j) ("minimum cosine similarity within distance k")
and the running mean show how distinct positions stay: interpolation (PI) gives sim_PI(k) =
sim_RoPE(k/s), i.e. it squeezes s times as many positions into the same similarity range.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from yarnlab.errors import UsageError
from yarnlab.rope.methods import Geometry
from yarnlab.theory.wavelength import scaled_inv_freq


def normalise_weights(weights: Sequence[float] | np.ndarray | None, n_pairs: int) -> np.ndarray:
    """Per-pair energy weights summing to 1 (uniform when ``None``); must be >= 0, not all 0."""
    if weights is None:
        return np.full(n_pairs, 1.0 / n_pairs)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n_pairs,):
        raise UsageError(f"weights: must have one entry per pair ({n_pairs}) (got shape {w.shape})")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise UsageError("weights: must be finite, >= 0 and not all zero")
    return w / w.sum()


def cosine_similarity(inv_freq: np.ndarray, distances: Sequence[float] | np.ndarray,
                      weights: Sequence[float] | np.ndarray | None = None, chunk: int = 8192) -> np.ndarray:
    """sim(k) = sum_d w_d cos(k theta'_d) for each k in ``distances`` (float64, chunked over k)."""
    theta = np.asarray(inv_freq, dtype=np.float64)
    w = normalise_weights(weights, theta.size)
    k = np.asarray(distances, dtype=np.float64)
    out = np.empty(k.shape, dtype=np.float64)
    flat_k, flat_out = k.reshape(-1), out.reshape(-1)
    for i in range(0, flat_k.size, chunk):
        flat_out[i:i + chunk] = np.cos(np.outer(flat_k[i:i + chunk], theta)) @ w
    return out


def similarity_profile(inv_freq: np.ndarray, max_distance: int,
                       weights: Sequence[float] | np.ndarray | None = None) -> dict[str, np.ndarray]:
    """sim(k), its running minimum and running mean for every integer k = 0 .. max_distance."""
    if max_distance < 0:
        raise UsageError(f"max_distance: must be >= 0 (got {max_distance})")
    k = np.arange(max_distance + 1)
    sim = cosine_similarity(inv_freq, k, weights)
    return {"k": k, "sim": sim, "running_min": np.minimum.accumulate(sim),
            "running_mean": np.cumsum(sim) / (k + 1)}


def output_grid(max_distance: int, n_log: int = 200) -> np.ndarray:
    """Distances to tabulate: 0, all k <= 64, then ``n_log`` log-spaced integers and every power of 2
    up to max_distance (and max_distance itself)."""
    small = np.arange(min(64, max_distance) + 1)
    if max_distance <= 64:
        return small
    big = np.round(np.geomspace(65, max_distance, n_log)).astype(int)
    pow2 = 2 ** np.arange(7, int(np.log2(max_distance)) + 1)
    return np.unique(np.concatenate([small, big, pow2, [max_distance]]))


def similarity_table(geoms: dict[str, Geometry], scales: Sequence[float], methods: Sequence[str],
                     weights: dict[str, np.ndarray] | None = None, n_log: int = 200) -> list[dict]:
    """Rows (geometry, s, method, profile, k, sim, running_min, running_mean) for k up to L' = sL.

    The running statistics use every integer distance; rows are written on :func:`output_grid`.
    ``weights`` maps a profile name to per-pair energies (always includes ``uniform``).
    """
    profiles = {"uniform": None, **(weights or {})}
    rows = []
    for gname, g in geoms.items():
        for s in scales:
            k_max = int(round(s * g.original_ctx))
            grid = output_grid(k_max, n_log)
            for method in methods:
                th = scaled_inv_freq(g, method, s)
                for pname, w in profiles.items():
                    prof = similarity_profile(th, k_max, w)
                    for k in grid:
                        rows.append({"geometry": gname, "s": s, "method": method, "profile": pname, "k": int(k),
                                     "k_over_L": k / g.original_ctx, "sim": prof["sim"][k],
                                     "running_min": prof["running_min"][k], "running_mean": prof["running_mean"][k]})
    return rows
