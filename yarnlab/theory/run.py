"""``yarnlab theory``: run every theory analysis, write the tables (CSV + provenance) and the figures.

Outputs in ``out``:
- ``derivations.csv``: each sympy derivation and whether it holds;
- ``wavelengths.csv``, ``wavelength_summary.csv``: per-pair wavelengths per geometry, s and method;
- ``ramp.csv``, ``ramp_summary.csv``: paper vs index ramp;
- ``similarity.csv``: cosine similarity of rotated positions;
- ``entropy_curve.csv``, ``entropy_invariant.csv``, ``temperature_rules.csv``: attention entropy;
- ``fit_points.csv``, ``fit_band.csv``, ``fit_report.json``: a temperature-rule fit, to ``--optima`` when
  given (a CSV with columns s, m_opt), else to the entropy-invariant m*(s) of the Gaussian model;
- ``summary.json``: the headline numbers; ``figures/*.png|pdf``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from yarnlab.errors import UsageError
from yarnlab.io import provenance, read_table, write_json, write_table
from yarnlab.rope.methods import Geometry
from yarnlab.theory import entropy, figures, fit, ramp, similarity, symbolic, wavelength

ENTROPY_SCALES = (2, 4, 8, 16, 32, 64)


def run_theory(out: str | Path, geometries: list[str], tiny: Geometry, scales: list[float], alpha: float = 1.0,
               beta: float = 32.0, sigmas: list[float] = (1.0, 2.0, 3.0), entropy_geometry: str = "llama2",
               entropy_s: float = 16.0, similarity_geometries: list[str] | None = None,
               similarity_scales: list[float] | None = None, optima: str | Path | None = None,
               fit_sigma: float | None = None, n_boot: int = 1000, seed: int = 0, make_figures: bool = True,
               entropy_scales: list[float] = ENTROPY_SCALES) -> dict[str, Any]:
    """Run the analyses; returns the summary written to ``summary.json``."""
    t0 = time.perf_counter()
    out = Path(out)
    if optima and not Path(optima).is_file():
        raise UsageError(f"optima: file not found: {optima}")
    geoms = wavelength.make_geometries(geometries, tiny)
    if entropy_geometry not in geoms:
        raise UsageError(f"entropy_geometry: must be one of the chosen geometries {list(geoms)} "
                         f"(got {entropy_geometry!r})")
    sim_geoms = {k: geoms[k] for k in (similarity_geometries or [entropy_geometry]) if k in geoms}
    sim_scales = list(similarity_scales or [s for s in scales if s in (4, 16)] or scales[:2])
    params = {"geometries": {k: vars(v) for k, v in geoms.items()}, "scales": list(scales), "alpha": alpha,
              "beta": beta, "sigmas": list(sigmas), "entropy_geometry": entropy_geometry, "entropy_s": entropy_s,
              "similarity_geometries": list(sim_geoms), "similarity_scales": sim_scales,
              "optima": str(optima) if optima else None, "fit_sigma": fit_sigma, "n_boot": n_boot, "seed": seed,
              "entropy_scales": list(entropy_scales)}
    rec = provenance(params)
    tables: dict[str, list[dict]] = {}

    tables["derivations"] = [{"name": d.name, "claim": d.claim, "expr": str(d.expr), "holds": int(d.holds)}
                             for d in symbolic.all_derivations()]
    tables["wavelengths"] = wavelength.wavelength_table(geoms, scales)
    tables["wavelength_summary"] = wavelength.wavelength_summary(geoms, scales, alpha, beta)
    tables["ramp"] = ramp.ramp_comparison(geoms, scales, alpha, beta)
    tables["ramp_summary"] = ramp.ramp_difference_summary(tables["ramp"])
    tables["similarity"] = similarity.similarity_table(sim_geoms, sim_scales, wavelength.ANALYSIS_METHODS)

    eg = geoms[entropy_geometry]
    ent_scales = sorted({*[float(x) for x in entropy_scales], float(entropy_s)})
    tables["temperature_rules"] = entropy.temperature_rules_table(eg, ent_scales)
    sig_best = entropy.best_matching_sigma(ENTROPY_SCALES)  # always matched over s = 2..64
    all_sigmas = sorted({*[float(x) for x in sigmas], round(sig_best, 4)})
    tables["entropy_invariant"] = entropy.invariant_temperature_table(eg.original_ctx, ent_scales, all_sigmas, seed)
    curve_sigma = fit_sigma if fit_sigma is not None else round(sig_best, 4)
    tables["entropy_curve"] = entropy.entropy_curve_table(eg.original_ctx, [entropy_s], curve_sigma,
                                                          np.linspace(0.8, 1.6, 41), seed)

    # temperature-rule fit: measured optima when given, else the entropy-invariant model's m*(s)
    if optima:
        pts = read_table(optima)
        if not pts or not {"s", "m_opt"} <= set(pts[0]):
            raise UsageError(f"optima: {optima} must be a CSV with columns s and m_opt")
        fit_source = f"optima file {Path(optima).name}"
    else:
        sg = curve_sigma
        pts = [{"s": r["s"], "m_opt": r["m_invariant_mc"]} for r in tables["entropy_invariant"]
               if r["sigma"] == sg]
        fit_source = f"entropy-invariant m* (Gaussian logits, sigma={sg:g}, n=L={eg.original_ctx})"
    s_arr = [float(p["s"]) for p in pts]
    m_arr = [float(p["m_opt"]) for p in pts]
    reports = fit.compare_forms(s_arr, m_arr, n_boot=n_boot, seed=seed)
    log_report = next(r for r in reports if r.form == "log")
    tables["fit_points"] = [{"s": a, "m_opt": b} for a, b in zip(s_arr, m_arr)]
    tables["fit_band"] = fit.band_table(log_report, min(s_arr), max(s_arr))

    for name, rows in tables.items():
        write_table(out / f"{name}.csv", rows, params, rec)
    write_json(out / "fit_report.json", {**rec, "source": fit_source, "reports": [r.to_dict() for r in reports]})

    l2 = [r for r in tables["wavelength_summary"] if r["geometry"] == "llama2"]
    inv = tables["entropy_invariant"]
    summary = {
        "derivations_all_hold": all(r["holds"] for r in tables["derivations"]),
        "wavelength_summary": tables["wavelength_summary"],
        "ramp_summary": tables["ramp_summary"],
        "llama2": ({"ramp_band_continuous": [l2[0]["d_beta"], l2[0]["d_alpha"]],
                    "ramp_band_index": [l2[0]["band_low_index"], l2[0]["band_high_index"]],
                    "ramp_band_paper_pairs": [l2[0]["paper_band_first"], l2[0]["paper_band_last"]],
                    "pairs_lambda_gt_L": l2[0]["pairs_lambda_gt_L"],
                    "pairs_lambda_gt_L_formula": l2[0]["pairs_lambda_gt_L_formula"]} if l2 else None),
        "entropy": {"geometry": entropy_geometry, "best_matching_sigma": sig_best,
                    "invariant_vs_yarn": [{"sigma": r["sigma"], "s": r["s"], "m_invariant_mc": r["m_invariant_mc"],
                                           "m_yarn_rule": r["m_yarn_rule"],
                                           "diff": r["m_invariant_mc"] - r["m_yarn_rule"]} for r in inv]},
        "fit": {"source": fit_source, "log_form": log_report.to_dict(), "best_form_by_aic": reports[0].form},
    }

    if make_figures:
        fdir = out / "figures"
        figs = []
        figs += figures.plot_wavelengths(tables["wavelengths"], fdir / "wavelengths")
        s_show = 16.0 if 16 in scales else scales[-1]
        for g in geoms:
            figs += figures.plot_interpolation_factor(tables["wavelengths"], fdir / f"interp_factor_{g}", g, s_show)
            figs += figures.plot_ramp_comparison(tables["ramp"], fdir / f"ramp_{g}", g, s_show)
        for g in sim_geoms:
            for s in sim_scales:
                figs += figures.plot_similarity(tables["similarity"], fdir / f"similarity_{g}_s{s:g}", g, s)
        figs += figures.plot_entropy(tables["entropy_curve"], tables["entropy_invariant"], tables["temperature_rules"],
                                     fdir / "entropy", entropy_s)
        a, b = log_report.params["a"], log_report.params["b"]
        figs += figures.plot_fit(tables["fit_points"], tables["fit_band"], fdir / "temperature_fit",
                                 f"Fit m = a ln s + b to {fit_source}: a={a:.3f}, b={b:.3f}")
        summary["figures"] = [str(p.relative_to(out)) for p in figs]
    summary["elapsed_s"] = round(time.perf_counter() - t0, 2)
    write_json(out / "summary.json", {**rec, **summary})
    return summary

