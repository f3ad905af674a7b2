"""The temperature-fit figure, drawn from tables only: m*(s) with its simultaneous band and the
descriptive line (``yarnlab claims temperature-fit``), the paper's 0.1 ln s + 1 (Eq. 22), the
entropy-invariance prediction from the measured logit spread (``yarnlab eval logit-spread``) and
the perplexity of each named temperature rule. Inputs are told apart by their columns."""

from __future__ import annotations

import numpy as np

from yarnlab.errors import UsageError
from yarnlab.figures.common import options, plt_, read_table, save


def temperature_fit(inputs, out, **opts):
    options("temperature_fit", opts, {})
    fit, rules, pred = [], [], []
    for path in inputs:
        rows = read_table(path)
        cols = set(rows[0]) if rows else set()
        if "band_low" in cols:
            fit = rows
        elif "rule" in cols:
            rules = rows
        elif "m_median" in cols:
            pred = rows
    if not fit:
        raise UsageError("inputs: need the temperature-fit table (yarnlab claims temperature-fit)")
    s = np.array([r["s"] for r in fit])
    m = np.array([r["m_opt"] for r in fit])
    plt = plt_()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.9))
    ax = axes[0]
    lvl = fit[0]["level"]
    ax.errorbar(
        s,
        m,
        yerr=[m - [r["band_low"] for r in fit], [r["band_high"] for r in fit] - m],
        fmt="o",
        capsize=3,
        label=f"measured m* ({lvl:.0%} simultaneous band)",
    )
    sx = np.geomspace(s.min(), s.max(), 50)
    a, b = fit[0]["fit_a"], fit[0]["fit_b"]
    ax.plot(sx, a * np.log(sx) + b, "-", label=f"descriptive line {a:.3f} ln s + {b:.3f}")
    ax.plot(sx, 0.1 * np.log(sx) + 1, "k--", label="paper 0.1 ln s + 1 (Eq. 22)")
    if pred:
        ps = [r["s"] for r in pred]
        ax.plot(
            ps, [r["m_median"] for r in pred], "d-", color="tab:purple", label="entropy invariance, measured spread"
        )
        ax.fill_between(
            ps,
            [r["m_q25"] for r in pred],
            [r["m_q75"] for r in pred],
            color="tab:purple",
            alpha=0.15,
            label="heads' interquartile range",
        )
    edges = [r for r in fit if r["edge_of_grid"]]
    if edges:
        ax.plot([r["s"] for r in edges], [r["m_opt"] for r in edges], "rx", ms=9, label="optimum at the grid edge")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("scale s")
    ax.set_ylabel("m = sqrt(1/t)")
    ax.set_title("Perplexity-minimising attention factor vs s")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    ax = axes[1]
    for rule in sorted({r["rule"] for r in rules}):
        pts = sorted((r for r in rules if r["rule"] == rule), key=lambda r: r["s"])
        x = [r["s"] for r in pts]
        ax.errorbar(
            x,
            [r["ppl"] for r in pts],
            yerr=[[r["ppl"] - r["ci_low"] for r in pts], [r["ci_high"] - r["ppl"] for r in pts]],
            marker="o",
            ms=3,
            capsize=2,
            label=f"rule {rule}",
        )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("scale s")
    ax.set_ylabel("perplexity at sL")
    ax.set_title("NTK-by-parts, no fine-tuning: each temperature rule")
    if rules:
        ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    return save(fig, out)
