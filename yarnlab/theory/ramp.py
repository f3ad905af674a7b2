"""The paper's ramp (linear in r, Eq. 18) versus the reference code's ramp (linear in the pair index).

Both blend PI and plain RoPE per pair through Eq. 20, theta'_d = (1 - gamma_d) theta_d/s + gamma_d theta_d,
and agree outside the band alpha < r(d) < beta. Inside it the paper's gamma = (r - alpha)/(beta - alpha)
while the code's gamma = 1 - (d - d_low)/(d_high - d_low) with d_low = floor(d(beta)),
d_high = ceil(d(alpha)) (:func:`yarnlab.rope.frequencies.correction_range`). Since
d = |D| ln(L/(2 pi r)) / (2 ln b), linear in d is linear in ln r, so the two differ in between.
gamma does not depend on s; the scaled frequencies do. Both forms come from the core.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from yarnlab.rope import base_inv_freq, ratios
from yarnlab.rope.methods import Geometry, ntk_by_parts_gamma
from yarnlab.theory.wavelength import scaled_inv_freq


def ramp_comparison(geoms: dict[str, Geometry], scales: Sequence[float], alpha: float = 1.0, beta: float = 32.0,
                    truncate: bool = True) -> list[dict]:
    """One row per (geometry, s, pair d): r, gamma_paper, gamma_index, gamma_diff (index - paper),
    theta, theta_paper, theta_index, theta_rel_diff ((theta_index - theta_paper) / theta_paper)."""
    rows = []
    for gname, g in geoms.items():
        theta = base_inv_freq(g.rotary_dim, g.base)
        r = ratios(g.rotary_dim, g.base, g.original_ctx)
        gp = ntk_by_parts_gamma(g, alpha, beta, "paper")
        gi = ntk_by_parts_gamma(g, alpha, beta, "index", truncate)
        for s in scales:
            common = {"alpha": alpha, "beta": beta}
            tp = scaled_inv_freq(g, "ntk-by-parts", s, {**common, "ramp": "paper"})
            ti = scaled_inv_freq(g, "ntk-by-parts", s, {**common, "ramp": "index", "truncate": truncate})
            for d in range(len(theta)):
                rows.append({
                    "geometry": gname, "D": g.rotary_dim, "base": g.base, "L": g.original_ctx, "s": s,
                    "alpha": alpha, "beta": beta, "d": d, "r": r[d],
                    "gamma_paper": gp[d], "gamma_index": gi[d], "gamma_diff": gi[d] - gp[d],
                    "theta": theta[d], "theta_paper": tp[d], "theta_index": ti[d],
                    "theta_rel_diff": (ti[d] - tp[d]) / tp[d],
                })
    return rows


def ramp_difference_summary(rows: list[dict]) -> list[dict]:
    """Per (geometry, s): the maximum |gamma_diff| with its pair and signed value, and the maximum
    |theta_rel_diff| with its pair, from :func:`ramp_comparison` rows."""
    out = []
    keys = sorted({(r["geometry"], r["s"]) for r in rows}, key=lambda k: (k[0], k[1]))
    for gname, s in keys:
        sub = [r for r in rows if r["geometry"] == gname and r["s"] == s]
        gd = np.array([r["gamma_diff"] for r in sub])
        td = np.array([r["theta_rel_diff"] for r in sub])
        ig, it = int(np.argmax(np.abs(gd))), int(np.argmax(np.abs(td)))
        out.append({"geometry": gname, "s": s, "max_abs_gamma_diff": float(abs(gd[ig])),
                    "gamma_diff_at_max": float(gd[ig]), "d_gamma_max": sub[ig]["d"],
                    "max_abs_theta_rel_diff": float(abs(td[it])), "d_theta_max": sub[it]["d"]})
    return out
