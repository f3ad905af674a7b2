"""Experiment figures and tables of the YaRN story (arXiv 2309.00071), drawn from tables.

Each function takes ``inputs`` (paths) and ``out`` (a prefix), draws ``out.png`` + ``out.pdf`` and
returns the paths it wrote. The figures compute no statistics: perplexities and their intervals
come from the summary tables of ``yarnlab summarize`` (:mod:`yarnlab.figures.summaries`),
the temperature fit from ``yarnlab claims temperature-fit``. Labels take L (``original_ctx``) and
the unit (``unit``: per byte for a byte-level model, per token for a BPE model) from the options
the workflow passes; unknown options raise.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from yarnlab.errors import UsageError
from yarnlab.figures.common import METHOD_STYLE, PAPER_NUMBERS, jsonl, options, plt_, rows_of, save, table
from yarnlab.figures.positions import positions
from yarnlab.figures.temperature import temperature_fit

# aliases of the shared helpers (yarnlab/figures/common.py)
_plt, _save, _table, _rows, _jsonl = plt_, save, table, rows_of, jsonl
LABELS = {"original_ctx": None, "unit": "per token"}  # the options every figure that labels L or a unit takes


def _summary(inputs, cols: set, producer: str) -> list[dict]:
    rows = _rows(inputs)
    missing = sorted(cols - set(rows[0]))
    if missing:
        raise UsageError(f"inputs: not a summary table (missing columns {missing}); write it with {producer}")
    return rows


def _ctx(o) -> int | None:
    return int(o["original_ctx"]) if o["original_ctx"] else None


# ---------------------------------------------------------------- figures
def pretrain_curve(inputs, out, **opts):
    """Training loss and held-out bits (per byte or per token) of the base model vs optimizer step."""
    o = options("pretrain_curve", opts, LABELS)
    unit, L = o["unit"], _ctx(o)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for path in inputs:
        m = [r for r in _jsonl(path) if "loss" in r]
        ax.plot([r["step"] for r in m], [r["loss"] / math.log(2) for r in m], label=f"train (bits {unit})")
        h = [r for r in m if "heldout_bpb" in r]
        ax.plot([r["step"] for r in h], [r["heldout_bpb"] for r in h], "o-", label=f"held-out (bits {unit})")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel(f"loss (bits {unit})")
    ax.set_title("Pretraining the base model" + (f" at L = {L}" if L else ""))
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, out)


def induction_curve(inputs, out, **opts):
    """Induction gain (per copy distance), in-context-learning score and held-out loss of the base
    model vs training tokens, from the evaluation lines of its ``metrics.jsonl`` (pretraining with
    induction diagnostics, ``yarnlab eval induction``): the phase change in which the model
    starts to copy shows as a jump of the gain and a drop of the ICL score at the same tokens."""
    o = options("induction_curve", opts, LABELS)
    unit = o["unit"]
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(13.5, 3.6))
    for i, path in enumerate(inputs):
        rows = [r for r in _jsonl(path) if "induction_gain" in r and not r.get("final")]
        if not rows:
            raise UsageError(f"inputs: {path} has no induction diagnostics (pretrain with --induction-eval on)")
        tok = np.array([r["tokens"] for r in rows]) / 1e6
        tag = f" (run {i + 1})" if len(inputs) > 1 else ""
        dists = sorted({int(k.rsplit("_d", 1)[1]) for r in rows for k in r if k.startswith("induction_gain_d")})
        for j, d in enumerate(dists):
            axes[0].plot(tok, [r.get(f"induction_gain_d{d}", np.nan) for r in rows], "o-", ms=3,
                         color=plt.cm.viridis(j / max(1, len(dists) - 1)), label=f"distance {d}{tag}")
        icl = np.array([r.get("icl", np.nan) for r in rows])
        axes[1].plot(tok, icl, "o-", ms=3, color="tab:red", label=f"ICL score{tag}")
        if "icl_lo" in rows[0]:
            axes[1].fill_between(tok, [r["icl_lo"] for r in rows], [r["icl_hi"] for r in rows], color="tab:red",
                                 alpha=0.15, label="95% t interval over windows")
        axes[2].plot(tok, [r["heldout_bpb"] for r in rows], "o-", ms=3, color="black", label=f"held-out{tag}")
    axes[0].axhline(0, color="gray", lw=0.8)
    axes[0].set_ylabel("induction gain (nats): first - second copy")
    axes[0].set_title("Copying a random-letter span")
    axes[1].axhline(0, color="gray", lw=0.8)
    axes[1].set_ylabel("loss at [3L/4, L) - at [L/16, L/8) (nats)")
    axes[1].set_title("In-context learning on held-out text")
    axes[2].set_ylabel(f"held-out loss (bits {unit})")
    axes[2].set_title("Held-out loss")
    for ax in axes:
        ax.set_xlabel("training tokens (millions)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return _save(fig, out)


def ppl_vs_context(inputs, out, **opts):
    """Fig. 1 / Tables 1-2 analog from ``yarnlab summarize ppl``: perplexity vs evaluation
    length, one panel per scale s, with the unscaled base model and the sliding-window baseline in
    every panel; dotted vertical lines at L and sL."""
    o = options("ppl_vs_context", opts, LABELS)
    summary = _summary(inputs, {"label", "method", "scale", "finetuned", "length", "ppl", "ci_low", "ci_high"},
                       "yarnlab summarize ppl")
    plt = _plt()
    L = _ctx(o) or min(r["length"] for r in summary)
    flat = ("none", "sliding")  # no extension: drawn in every panel
    scales = sorted({r["scale"] for r in summary if r["method"] not in flat})
    fig, axes = plt.subplots(1, max(1, len(scales)), figsize=(5.2 * max(1, len(scales)), 3.8), squeeze=False)
    for ax, s in zip(axes[0], scales):
        for label in sorted({r["label"] for r in summary if r["scale"] == s or r["method"] in flat}):
            pts = sorted((r for r in summary if r["label"] == label), key=lambda r: r["length"])
            color, name = METHOD_STYLE.get(pts[0]["method"], ("gray", pts[0]["method"]))
            ls = "-" if pts[0]["finetuned"] or pts[0]["method"] in flat else "--"
            x = [r["length"] for r in pts]
            ax.plot(x, [r["ppl"] for r in pts], ls, marker="o", ms=3, color=color,
                    label=name + ("" if ls == "-" else " (no fine-tune)"))
            ax.fill_between(x, [r["ci_low"] for r in pts], [r["ci_high"] for r in pts], color=color, alpha=0.15)
        for v in {L, int(L * s)}:
            ax.axvline(v, color="gray", ls=":", lw=1)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("evaluation context (tokens)")
        ax.set_ylabel(f"perplexity ({o['unit']})")
        ax.set_title(f"s = {s:g} (L = {L} -> {int(L * s)})")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3, which="both")
    readings = sorted({str(r["reading"]) for r in summary if r.get("reading")})
    if readings:  # which tokens were scored (yarnlab eval ppl: same-targets or truncation)
        fig.suptitle(f"{', '.join(readings)} reading", fontsize=9)
    return _save(fig, out)


def temperature_study(inputs, out, **opts):
    """Figs. 2-4 analog from ``yarnlab summarize temperature_study``: (a) mean +/- 1 std of
    per-document perplexity vs m; (b) per position segment, % change of perplexity vs m = 1
    (Eq. 26); (c) per segment, how many documents have their minimum at each m. Descriptive only
    (no intervals); the segment width is ``segment`` (default: L, as ``yarnlab eval sweep`` cuts them)."""
    o = options("temperature_study", opts, {**LABELS, "segment": None})
    width = int(o["segment"] or o["original_ctx"] or 0)
    rows = _summary(inputs, {"s", "statistic", "segment", "m", "value"}, "yarnlab summarize temperature_study")
    s = rows[0]["s"]

    def curve(stat, seg=-1):
        pts = sorted((r["m"], r["value"]) for r in rows if r["statistic"] == stat and r["segment"] == seg)
        return np.array([p[0] for p in pts]), np.array([p[1] for p in pts], dtype=float)

    ms, mean = curve("ppl_mean")
    _, std = curve("ppl_std")
    segs = sorted({r["segment"] for r in rows if r["statistic"] == "pct_change"})
    n_docs = int(sum(r["value"] for r in rows if r["statistic"] == "argmin_count" and r["segment"] == segs[0]))
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    ax = axes[0]
    ax.plot(ms, mean, "o-", ms=3, label="mean over documents")
    ax.fill_between(ms, mean - std, mean + std, alpha=0.2, label="+/- 1 std")
    ax.axvline(0.1 * math.log(s) + 1, color="k", ls="--", lw=1, label="0.1 ln s + 1 (Eq. 22)")
    ax.set_xlabel("attention factor m = sqrt(1/t)")
    ax.set_ylabel(f"perplexity ({o['unit']})")
    ax.set_title(f"(a) NTK-by-parts s = {s:g}, no fine-tuning, {n_docs} docs")
    ax.legend(fontsize=7)
    cmap = plt.get_cmap("viridis")
    for g in segs:
        name = f"tokens {g * width}-{(g + 1) * width - 1}" if width else f"segment {g}"
        axes[1].plot(*curve("pct_change", g), color=cmap(g / max(1, len(segs) - 1)),
                     label=name if g in (segs[0], segs[-1]) else None)
    axes[1].axhline(0, color="gray", lw=0.8)
    axes[1].set_xlabel("attention factor m = sqrt(1/t)")
    axes[1].set_ylabel("perplexity change vs m = 1 (%)")
    axes[1].set_title("(b) per position segment (Eq. 26)")
    axes[1].legend(fontsize=7)
    counts = np.array([curve("argmin_count", g)[1] for g in segs]).T  # (M, G)
    im = axes[2].imshow(counts, aspect="auto", origin="lower", cmap="magma",
                        extent=(-0.5, len(segs) - 0.5, ms[0], ms[-1]))
    fig.colorbar(im, ax=axes[2], label="documents with minimum here")
    axes[2].set_xlabel("position segment" + (f" ({width} tokens each)" if width else ""))
    axes[2].set_ylabel("argmin m")
    axes[2].set_title("(c) per-segment argmin counts")
    return _save(fig, out)


def dynamic_scaling(inputs, out, **opts):
    """Fig. 5 analog from ``yarnlab summarize dynamic``: perplexity vs context of the base
    model without fine-tuning, per method."""
    o = options("dynamic_scaling", opts, LABELS)
    summary = _summary(inputs, {"method", "length", "ppl", "ci_low", "ci_high"}, "yarnlab summarize dynamic")
    L = _ctx(o)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for method in dict.fromkeys(r["method"] for r in summary):
        pts = [r for r in summary if r["method"] == method]
        color, name = METHOD_STYLE.get(method, ("gray", method))
        x = [r["length"] for r in pts]
        ax.plot(x, [r["ppl"] for r in pts], "o-", ms=3, color=color, label=name)
        ax.fill_between(x, [r["ci_low"] for r in pts], [r["ci_high"] for r in pts], color=color, alpha=0.15)
    if L:
        ax.axvline(L, color="gray", ls=":", lw=1)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("context length (tokens)")
    ax.set_ylabel(f"perplexity ({o['unit']})")
    ax.set_title("Dynamic scaling without fine-tuning" + (f" (L = {L})" if L else ""))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return _save(fig, out)


def passkey(inputs, out, **opts):
    """Table 5 analog from ``yarnlab summarize passkey``: accuracy per model and length,
    candidate ranking with its Wilson interval and exact greedy match."""
    o = options("passkey", opts, {"original_ctx": None})
    table = _summary(inputs, {"label", "length", "ranked_acc", "ranked_low", "ranked_high", "exact_acc"},
                     "yarnlab summarize passkey")
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for label in dict.fromkeys(r["label"] for r in table):
        pts = [r for r in table if r["label"] == label]
        x = [r["length"] for r in pts]
        (line,) = ax.plot(x, [r["ranked_acc"] for r in pts], "o-", ms=3, label=f"{label} ranked")
        ax.fill_between(x, [r["ranked_low"] for r in pts], [r["ranked_high"] for r in pts], color=line.get_color(),
                        alpha=0.12)
        ax.plot(x, [r["exact_acc"] for r in pts], "x:", ms=4, color=line.get_color(), label=f"{label} exact")
    if _ctx(o):
        ax.axvline(_ctx(o), color="gray", ls=":", lw=1)
    ax.set_xscale("log", base=2)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("prompt length (tokens)")
    ax.set_ylabel("passkey accuracy (fraction of trials)")
    ax.set_title("Passkey retrieval (bands: Wilson intervals of ranked accuracy)")
    ax.legend(fontsize=6)
    ax.grid(alpha=0.3)
    return _save(fig, out)


def alpha_beta_ablation(inputs, out, **opts):
    """NTK-by-parts ramp ablation from ``yarnlab summarize ablation``: perplexity at sL over
    (alpha, beta), per ramp form."""
    o = options("alpha_beta_ablation", opts, LABELS)
    summary = _summary(inputs, {"ramp", "alpha", "beta", "s", "ppl"}, "yarnlab summarize ablation")
    plt = _plt()
    ramps = list(dict.fromkeys(r["ramp"] for r in summary))
    fig, axes = plt.subplots(1, len(ramps), figsize=(5 * len(ramps), 3.8), squeeze=False)
    vmin, vmax = min(r["ppl"] for r in summary), max(r["ppl"] for r in summary)
    for ax, ramp in zip(axes[0], ramps):
        al = sorted({r["alpha"] for r in summary})
        be = sorted({r["beta"] for r in summary})
        grid = np.full((len(al), len(be)), np.nan)
        for r in summary:
            if r["ramp"] == ramp:
                grid[al.index(r["alpha"]), be.index(r["beta"])] = r["ppl"]
        im = ax.imshow(grid, origin="lower", cmap="viridis_r", vmin=vmin, vmax=vmax, aspect="auto")
        for i in range(len(al)):
            for j in range(len(be)):
                if np.isfinite(grid[i, j]):
                    ax.text(j, i, f"{grid[i, j]:.3f}", ha="center", va="center", fontsize=7, color="w")
        ax.set_xticks(range(len(be)), [f"{b:g}" for b in be])
        ax.set_yticks(range(len(al)), [f"{a:g}" for a in al])
        ax.set_xlabel("beta (ramp upper ratio r)")
        ax.set_ylabel("alpha (ramp lower ratio r)")
        s = summary[0]["s"]
        ax.set_title(f"{ramp} ramp, s = {s:g}" + (f" (at sL = {int(s * _ctx(o))})" if _ctx(o) else ""))
        fig.colorbar(im, ax=ax, label=f"perplexity ({o['unit']})")
    return _save(fig, out)


def training_efficiency(inputs, out, **opts):
    """Held-out bits (per byte or per token) at the fine-tuning length vs fine-tuning step, per method and s.
    ``inputs``: ``metrics.jsonl`` files under ``.../{method}-s{scale}-seed{seed}/``."""
    o = options("training_efficiency", opts, LABELS)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    table = []
    for path in inputs:
        label = Path(path).parent.name
        method = label.split("-s")[0]
        h = [r for r in _jsonl(path) if "heldout_bpb" in r]
        color, name = METHOD_STYLE.get(method, ("gray", method))
        scale = label.split("-s")[1].split("-")[0]
        ls = {"2": "-", "4": "--"}.get(scale, ":")
        steps = [r["step"] if not r.get("final") else max(x["step"] for x in h) for r in h]
        ax.plot(steps, [r["heldout_bpb"] for r in h], ls, marker="o", ms=3, color=color, label=f"{name} s={scale}")
        table += [{"label": label, "method": method, "scale": float(scale), "step": st, "heldout_bpb": r["heldout_bpb"]}
                  for st, r in zip(steps, h)]
    ax.set_xlabel("fine-tuning step")
    ax.set_ylabel(f"held-out bits {o['unit']} at sL")
    ax.set_title("Training efficiency: PI vs YaRN (vs NTK-aware)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return _table(table, out, inputs, "held-out evaluation during fine-tuning") + _save(fig, out)


def paper_reference(inputs, out, **opts):
    """The paper's published Llama-2 numbers (PAPER.md Tables 1, 2, 4, 5), typed from the paper
    and labelled as such; the figure draws Tables 1-2 (lower bounds shown as open markers)."""
    options("paper_reference", opts, {})
    rows = _rows(inputs or [str(PAPER_NUMBERS)])
    for r in rows:
        r["source"] = "published (arXiv 2309.00071)"
    written = _table(rows, out, inputs, "published numbers of the YaRN paper, not measured by yarnlab")
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, t in zip(axes, (1, 2)):
        sub = [r for r in rows if r["table"] == t]
        for model in dict.fromkeys(r["model"] for r in sub):
            pts = [r for r in sub if r["model"] == model]
            line, = ax.plot([r["context"] for r in pts if r["bound"] != ">"],
                            [r["value"] for r in pts if r["bound"] != ">"], "o-", ms=3, label=model)
            lb = [r for r in pts if r["bound"] == ">"]
            ax.plot([r["context"] for r in lb], [r["value"] for r in lb], "^", mfc="none", color=line.get_color())
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("evaluation context (tokens)")
        ax.set_ylabel("Proof-pile perplexity")
        ax.set_title(f"Published Table {t} (Llama 2; open triangles: lower bounds)")
        ax.legend(fontsize=6)
        ax.grid(alpha=0.3, which="both")
    return written + _save(fig, out)


FIGURES = {f.__name__: f for f in (pretrain_curve, induction_curve, ppl_vs_context, temperature_study,
                                   temperature_fit, positions, dynamic_scaling, passkey, alpha_beta_ablation,
                                   training_efficiency, paper_reference)}
