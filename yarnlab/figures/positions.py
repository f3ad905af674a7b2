"""The per-position loss figure: the base model at L and each method at sL without fine-tuning.

Reads ``yarnlab eval positions --bins K`` tables (rows ``method, factor, length, doc, bin, pos_lo,
pos_hi, tokens, nll``) and draws the token-weighted mean NLL of each bin over documents against
the bin's centre position. A position artifact (a model that learned where its training text
ends) shows as a spike in the last bins; at sL the interpolated positions reveal where the
extended model stops using its context.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from yarnlab.figures.common import METHOD_STYLE, options, plt_, read_table, save, table


def positions(inputs, out, **opts):
    o = options("positions", opts, {"original_ctx": None, "unit": "nats/token"})
    curves, summary = {}, []
    for path in inputs:
        rows = read_table(path)
        acc = defaultdict(lambda: [0.0, 0])
        for r in rows:
            a = acc[(r["pos_lo"], r["pos_hi"])]
            a[0] += r["nll"] * r["tokens"]
            a[1] += r["tokens"]
        r0 = rows[0]
        ft = "-ft-" in Path(path).name  # a fine-tuned model's table (workflow naming), else without fine-tuning
        key = (r0["method"], float(r0["factor"]), int(r0["length"]), ft)
        pts = sorted((lo, hi, s / n) for (lo, hi), (s, n) in acc.items() if n)
        curves[key] = pts
        summary += [
            {
                "method": key[0],
                "factor": key[1],
                "length": key[2],
                "pos_lo": lo,
                "pos_hi": hi,
                "mean_nll": v,
                "n_docs": len({r["doc"] for r in rows}),
                "source": Path(path).name,
            }
            for lo, hi, v in pts
        ]
    written = table(
        summary, out, inputs, "token-weighted mean NLL per position bin over documents (one window per document)"
    )
    L = int(o["original_ctx"]) if o["original_ctx"] else min(k[2] for k in curves)
    plt = plt_()
    fig, ax = plt.subplots(figsize=(11, 4.2))
    for (method, factor, length, ft), pts in sorted(curves.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][3])):
        color, name = METHOD_STYLE.get(method, ("gray", method))
        ls = "-" if factor == 1 or ft else ("--" if factor == 2 else ":")
        label = (f"base (no scaling) at {length}" if method == "none" else
                 f"{name}, s = {factor:g} at {length} tokens" + (", fine-tuned" if ft else ", no fine-tune"))
        ax.plot([(lo + hi) / 2 for lo, hi, _ in pts], [v for *_, v in pts], ls, color=color, lw=2.2 if ft else 1.3,
                label=label)
    ax.axvline(L, color="k", lw=0.8, ls=":")
    ax.text(L, ax.get_ylim()[1], " L", va="top", fontsize=8)
    ax.set_xlabel("position in the window (tokens)")
    ax.set_ylabel(f"mean NLL ({o['unit']})")
    ax.set_title("Per-position loss: base at L; each method at sL without fine-tuning (and YaRN fine-tuned)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3, which="both")
    return written + save(fig, out)
