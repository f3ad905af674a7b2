"""Wavelength versus context, per pair and per method, and the geometries the analyses cover.

For pair d (Eq. 5, 13, 17): theta_d = b^(-2d/|D|), lambda_d = 2 pi / theta_d, r(d) = L / lambda_d.
A pair completes a full turn within the original context iff lambda_d <= L (r >= 1), within the
extended context L' = sL iff lambda_d <= sL. A method replaces theta_d by theta'_d = h(theta_d)
(Eq. 12); its per-pair interpolation factor is theta_d / theta'_d (1 = untouched, s = PI) and its
effective wavelength is 2 pi / theta'_d. Frequencies come from the core (``yarnlab.rope``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from yarnlab.errors import UsageError
from yarnlab.rope import RopeSpec, base_inv_freq, correction_dim, ratios, wavelengths
from yarnlab.rope.frequencies import correction_range, effective_gamma
from yarnlab.rope.methods import Geometry

# head dim |D|, base b, original context L
GEOMETRIES: dict[str, Geometry] = {
    "llama2": Geometry(128, 10000.0, 4096),
    "llama3": Geometry(128, 500000.0, 8192),
    "mistral": Geometry(128, 10000.0, 8192),
}
TINY_DEFAULT = Geometry(32, 300.0, 256)  # yarnlab.model.tiny: HEAD_DIM, ROPE_BASE, TRAIN_CTX

# static methods whose frequencies the analyses compare (dynamic ones equal these at l = sL)
ANALYSIS_METHODS = ("none", "pi", "ntk", "yarn", "llama3")


def make_geometries(names: Iterable[str], tiny: Geometry = TINY_DEFAULT) -> dict[str, Geometry]:
    """Named geometries; ``tiny`` is the tiny model's (|D|, b, L)."""
    out = {}
    for name in names:
        if name == "tiny":
            out[name] = tiny
        elif name in GEOMETRIES:
            out[name] = GEOMETRIES[name]
        else:
            raise UsageError(f"geometry: must be one of {', '.join([*GEOMETRIES, 'tiny'])} (got {name!r})")
    return out


def spec_for(geom: Geometry, method: str, s: float, params: dict | None = None) -> RopeSpec:
    """The core spec for ``method`` at scale s on this geometry (method defaults unless ``params``)."""
    return RopeSpec(method=method, head_dim=geom.rotary_dim, base=geom.base, original_ctx=geom.original_ctx,
                    factor=float(s), params=dict(params or {}))


def scaled_inv_freq(geom: Geometry, method: str, s: float, params: dict | None = None) -> np.ndarray:
    """theta'_d of ``method`` at scale s, evaluated at l = sL (so dynamic methods equal their static form)."""
    spec = spec_for(geom, method, s, params)
    return spec.compute(seq_len=max(1, int(round(s * geom.original_ctx)))).inv_freq


def count_long_pairs_formula(geom: Geometry, length: float) -> int:
    """Pairs with lambda_d > ``length``, from the inverse of Eq. 17: d > d(n=1) at L = ``length``.

    lambda_d > X  <=>  X / lambda_d < 1  <=>  d > |D| ln(X/(2 pi)) / (2 ln b).
    """
    d_star = correction_dim(1.0, geom.rotary_dim, geom.base, length)
    n_pairs = geom.rotary_dim // 2
    first = max(0, math.floor(d_star) + 1)
    return max(0, n_pairs - first)


def wavelength_table(geoms: dict[str, Geometry], scales: Sequence[float],
                     methods: Sequence[str] = ANALYSIS_METHODS,
                     method_params: dict[str, dict] | None = None) -> list[dict]:
    """One row per (geometry, s, method, pair d). ``method_params`` gives a method's parameters
    (needed for ``longrope``: a model's searched factor lists, which fit one geometry).

    Columns: geometry, D, base, L, s, method, d, theta, wavelength, r, turn_within_L (lambda <= L),
    turn_within_Lext (lambda <= sL), theta_scaled, wavelength_scaled, scaled_turn_within_Lext
    (lambda' <= sL), interp_factor (theta/theta'), gamma_eff (Eq. 20 inverted; 1 untouched, 0 PI).
    """
    rows = []
    for gname, g in geoms.items():
        theta = base_inv_freq(g.rotary_dim, g.base)
        lam = wavelengths(theta)
        r = ratios(g.rotary_dim, g.base, g.original_ctx)
        for s in scales:
            l_ext = s * g.original_ctx
            for method in methods:
                th2 = scaled_inv_freq(g, method, s, (method_params or {}).get(method))
                lam2 = wavelengths(th2)
                gam = effective_gamma(theta, th2, s)
                for d in range(len(theta)):
                    rows.append({
                        "geometry": gname, "D": g.rotary_dim, "base": g.base, "L": g.original_ctx, "s": s,
                        "method": method, "d": d, "theta": theta[d], "wavelength": lam[d], "r": r[d],
                        "turn_within_L": int(lam[d] <= g.original_ctx), "turn_within_Lext": int(lam[d] <= l_ext),
                        "theta_scaled": th2[d], "wavelength_scaled": lam2[d],
                        "scaled_turn_within_Lext": int(lam2[d] <= l_ext),
                        "interp_factor": theta[d] / th2[d], "gamma_eff": gam[d],
                    })
    return rows


def wavelength_summary(geoms: dict[str, Geometry], scales: Sequence[float], alpha: float = 1.0,
                       beta: float = 32.0) -> list[dict]:
    """Per (geometry, s): pair counts and the NTK-by-parts ramp band.

    Columns: n_pairs; pairs_lambda_gt_L (measured from the core's wavelengths) and
    pairs_lambda_gt_L_formula (:func:`count_long_pairs_formula`); pairs_lambda_gt_Lext and its
    formula; d_beta, d_alpha (continuous pair index where r = beta, r = alpha); band_low_index,
    band_high_index (the reference code's floor/ceil, clamped); paper_band_first, paper_band_last
    (first and last integer pair with alpha < r(d) < beta; -1 if none).
    """
    rows = []
    for gname, g in geoms.items():
        lam = wavelengths(base_inv_freq(g.rotary_dim, g.base))
        r = ratios(g.rotary_dim, g.base, g.original_ctx)
        inside = np.flatnonzero((r > alpha) & (r < beta))
        low, high = correction_range(beta, alpha, g.rotary_dim, g.base, g.original_ctx, True)
        for s in scales:
            l_ext = s * g.original_ctx
            rows.append({
                "geometry": gname, "D": g.rotary_dim, "base": g.base, "L": g.original_ctx, "s": s,
                "alpha": alpha, "beta": beta, "n_pairs": g.rotary_dim // 2,
                "pairs_lambda_gt_L": int(np.sum(lam > g.original_ctx)),
                "pairs_lambda_gt_L_formula": count_long_pairs_formula(g, g.original_ctx),
                "pairs_lambda_gt_Lext": int(np.sum(lam > l_ext)),
                "pairs_lambda_gt_Lext_formula": count_long_pairs_formula(g, l_ext),
                "d_beta": correction_dim(beta, g.rotary_dim, g.base, g.original_ctx),
                "d_alpha": correction_dim(alpha, g.rotary_dim, g.base, g.original_ctx),
                "band_low_index": low, "band_high_index": high,
                "paper_band_first": int(inside[0]) if inside.size else -1,
                "paper_band_last": int(inside[-1]) if inside.size else -1,
            })
    return rows
