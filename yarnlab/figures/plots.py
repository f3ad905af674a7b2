"""Experiment figures and tables of the YaRN story (arXiv 2309.00071), drawn from result files.

Each function takes ``inputs`` (paths) and ``out`` (a prefix) and returns the paths it wrote:
figures as ``out.png`` + ``out.pdf``, tables as ``out.csv`` (with a ``.provenance.json`` naming the
inputs) + ``out.md``. Perplexity summaries are ``PPL = exp(mean over documents of the per-document
mean NLL)`` with a percentile bootstrap over documents (``N_BOOT`` resamples, 95%).
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from yarnlab.figures.common import METHOD_STYLE, PAPER_NUMBERS, jsonl, plt_, rows_of, save, table
from yarnlab.figures.positions import positions
from yarnlab.figures.temperature import temperature_fit

N_BOOT = 1000


# aliases of the shared helpers (yarnlab/figures/common.py)
_plt, _save, _table, _rows, _jsonl = plt_, save, table, rows_of, jsonl


def boot_ppl(nll, n_boot: int = N_BOOT, seed: int = 0) -> tuple[float, float, float]:
    """exp(mean per-document NLL) and its 95% percentile bootstrap interval over documents."""
    nll = np.asarray(nll, dtype=float)
    rng = np.random.default_rng(seed)
    boots = nll[rng.integers(0, len(nll), (n_boot, len(nll)))].mean(axis=1)
    lo, hi = np.quantile(boots, [0.025, 0.975])
    return float(np.exp(nll.mean())), float(np.exp(lo)), float(np.exp(hi))


def _group(rows, keys):
    g = defaultdict(list)
    for r in rows:
        g[tuple(r[k] for k in keys)].append(r)
    return g


def _doc_nll(rows) -> np.ndarray:
    return np.array([r["nll"] for r in sorted(rows, key=lambda r: r["doc"])])


# ---------------------------------------------------------------- figures
def pretrain_curve(inputs, out, **_):
    """Training loss and held-out bits per byte of the tiny base model vs optimizer step."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for path in inputs:
        m = [r for r in _jsonl(path) if "loss" in r]
        ax.plot([r["step"] for r in m], [r["loss"] / math.log(2) for r in m], label="train (bits/byte)")
        h = [r for r in m if "heldout_bpb" in r]
        ax.plot([r["step"] for r in h], [r["heldout_bpb"] for r in h], "o-", label="held-out (bits/byte)")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss (bits per byte)")
    ax.set_title("Pretraining the tiny byte-level Llama at L = 256")
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, out)


def ppl_vs_context(inputs, out, original_ctx: str = "256", unit: str = "per byte"):
    """Fig. 1 / Tables 1-2 analog: perplexity vs evaluation length, one panel per scale s, with the
    unscaled base model in every panel; dotted vertical lines at L and sL."""
    rows = _rows(inputs)
    summary = []
    for (label, method, scale, ft, n), g in sorted(_group(rows, ["label", "method", "scale", "finetuned",
                                                                "length"]).items()):
        p, lo, hi = boot_ppl(_doc_nll(g))
        summary.append({"label": label, "method": method, "scale": scale, "finetuned": ft, "length": n, "ppl": p,
                        "ci_low": lo, "ci_high": hi, "n_docs": len(g)})
    written = _table(summary, out, inputs, "exp(mean per-document NLL), 95% bootstrap CI over documents")
    plt = _plt()
    L = int(original_ctx)
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
        ax.set_ylabel(f"perplexity ({unit})")
        ax.set_title(f"s = {s:g} (L = {L} -> {int(L * s)})")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3, which="both")
    return written + _save(fig, out)


def short_context(inputs, out, length: str = "256", **_):
    """Table 3 analog: perplexity at the original context L of every model vs the base model."""
    n = int(length)
    rows = [r for r in _rows(inputs) if r["length"] == n]
    base = {r["doc"]: r["nll"] for r in rows if r["method"] == "none"}
    summary = []
    for (label, method, scale, ft), g in sorted(_group(rows, ["label", "method", "scale", "finetuned"]).items()):
        p, lo, hi = boot_ppl(_doc_nll(g))
        diff = np.array([r["nll"] - base[r["doc"]] for r in g if r["doc"] in base])
        dp = boot_ppl(diff) if len(diff) else (float("nan"),) * 3
        summary.append({"label": label, "method": method, "scale": scale, "finetuned": ft, "length": n, "ppl": p,
                        "ci_low": lo, "ci_high": hi, "ratio_vs_base": dp[0], "ratio_ci_low": dp[1],
                        "ratio_ci_high": dp[2]})
    return _table(summary, out, inputs, f"perplexity at L = {n}; ratio = paired per-document PPL ratio vs base")


def temperature_study(inputs, out, **_):
    """Figs. 2-4 analog from one sweep: (a) mean +/- 1 std of per-document perplexity vs m;
    (b) per position segment, % change of perplexity vs m = 1 (Eq. 26); (c) per segment, how many
    documents have their minimum at each m."""
    rows = _rows(inputs)
    s = rows[0]["s"]
    ms = np.array(sorted({r["m"] for r in rows}))
    docs = sorted({r["doc"] for r in rows})
    segs = sorted({r["segment"] for r in rows if r["segment"] >= 0})
    nll = np.full((len(ms), len(docs), len(segs) + 1), np.nan)
    mi = {m: i for i, m in enumerate(ms)}
    di = {d: i for i, d in enumerate(docs)}
    for r in rows:
        nll[mi[r["m"]], di[r["doc"]], r["segment"] + 1] = r["nll"]
    ppl = np.exp(nll[:, :, 0])
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    ax = axes[0]
    mean, std = ppl.mean(1), ppl.std(1, ddof=1)
    ax.plot(ms, mean, "o-", ms=3, label="mean over documents")
    ax.fill_between(ms, mean - std, mean + std, alpha=0.2, label="+/- 1 std")
    ax.axvline(0.1 * math.log(s) + 1, color="k", ls="--", lw=1, label="0.1 ln s + 1 (Eq. 22)")
    ax.set_xlabel("attention factor m = sqrt(1/t)")
    ax.set_ylabel("perplexity (per byte)")
    ax.set_title(f"(a) NTK-by-parts s = {s:g}, no fine-tuning, {len(docs)} docs")
    ax.legend(fontsize=7)
    seg_ppl = np.exp(nll[:, :, 1:].mean(1))  # (M, G)
    ref = int(np.argmin(np.abs(ms - 1.0)))
    cmap = plt.get_cmap("viridis")
    for g in range(len(segs)):
        axes[1].plot(ms, 100 * (seg_ppl[:, g] / seg_ppl[ref, g] - 1), color=cmap(g / max(1, len(segs) - 1)),
                     label=f"tokens {g * 256}-{(g + 1) * 256 - 1}" if g in (0, len(segs) - 1) else None)
    axes[1].axhline(0, color="gray", lw=0.8)
    axes[1].set_xlabel("attention factor m = sqrt(1/t)")
    axes[1].set_ylabel("perplexity change vs m = 1 (%)")
    axes[1].set_title("(b) per position segment (Eq. 26)")
    axes[1].legend(fontsize=7)
    best = np.argmin(nll[:, :, 1:], axis=0)  # (D, G)
    counts = np.array([[(best[:, g] == k).sum() for g in range(len(segs))] for k in range(len(ms))])
    im = axes[2].imshow(counts, aspect="auto", origin="lower", cmap="magma",
                        extent=(-0.5, len(segs) - 0.5, ms[0], ms[-1]))
    fig.colorbar(im, ax=axes[2], label="documents with minimum here")
    axes[2].set_xlabel("position segment (256 tokens each)")
    axes[2].set_ylabel("argmin m")
    axes[2].set_title("(c) per-segment argmin counts")
    return _save(fig, out)


def dynamic_scaling(inputs, out, **_):
    """Fig. 5 analog: perplexity vs context of the base model without fine-tuning, per method."""
    rows = _rows(inputs)
    summary = []
    for (method, n), g in sorted(_group(rows, ["method", "length"]).items()):
        p, lo, hi = boot_ppl(_doc_nll(g))
        summary.append({"method": method, "length": n, "ppl": p, "ci_low": lo, "ci_high": hi, "n_docs": len(g)})
    written = _table(summary, out, inputs, "base model, no fine-tuning; one window of N tokens per document")
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for method in dict.fromkeys(r["method"] for r in summary):
        pts = [r for r in summary if r["method"] == method]
        color, name = METHOD_STYLE.get(method, ("gray", method))
        x = [r["length"] for r in pts]
        ax.plot(x, [r["ppl"] for r in pts], "o-", ms=3, color=color, label=name)
        ax.fill_between(x, [r["ci_low"] for r in pts], [r["ci_high"] for r in pts], color=color, alpha=0.15)
    ax.axvline(256, color="gray", ls=":", lw=1)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("context length (tokens)")
    ax.set_ylabel("perplexity (per byte)")
    ax.set_title("Dynamic scaling without fine-tuning (L = 256)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return written + _save(fig, out)


def passkey(inputs, out, threshold: str = "0.8", **_):
    """Table 5 analog: accuracy per model and length (exact greedy match and candidate ranking),
    the longest length with ranked accuracy >= threshold and the mean accuracy up to it."""
    rows = _rows(inputs)
    thr = float(threshold)
    table = []
    for (label, n), g in sorted(_group(rows, ["label", "length"]).items()):
        table.append({"label": label, "length": n, "trials": len(g),
                      "exact_acc": float(np.mean([r["exact"] for r in g])),
                      "ranked_acc": float(np.mean([r["ranked"] for r in g]))})
    written = _table(table, out, inputs, "passkey accuracy per length (ranked: true key most likely of the candidates)")
    paper = []
    for label in dict.fromkeys(r["label"] for r in table):
        pts = [r for r in table if r["label"] == label]
        ok = [r for r in pts if r["ranked_acc"] >= thr]
        top = max((r["length"] for r in ok), default=0)
        upto = [r["ranked_acc"] for r in pts if r["length"] <= top]
        paper.append({"label": label, "max_length_acc_ge_thr": top,
                      "mean_ranked_acc_up_to_it": float(np.mean(upto)) if upto else float("nan")})
    written += _table(paper, f"{out}_summary", inputs, f"paper Table 5 form, threshold {thr:g} on ranked accuracy")
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for label in dict.fromkeys(r["label"] for r in table):
        pts = [r for r in table if r["label"] == label]
        ax.plot([r["length"] for r in pts], [r["ranked_acc"] for r in pts], "o-", ms=3, label=f"{label} ranked")
        ax.plot([r["length"] for r in pts], [r["exact_acc"] for r in pts], "x:", ms=4, label=f"{label} exact")
    ax.set_xscale("log", base=2)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("prompt length (tokens)")
    ax.set_ylabel("passkey accuracy (fraction of trials)")
    ax.set_title("Passkey retrieval")
    ax.legend(fontsize=6)
    ax.grid(alpha=0.3)
    return written + _save(fig, out)


def alpha_beta_ablation(inputs, out, **_):
    """NTK-by-parts ramp ablation: perplexity at sL over (alpha, beta), per ramp form."""
    rows = _rows(inputs)
    summary = []
    for (ramp, alpha, beta), g in sorted(_group(rows, ["ramp", "alpha", "beta"]).items()):
        p, lo, hi = boot_ppl(_doc_nll(g))
        summary.append({"ramp": ramp, "alpha": alpha, "beta": beta, "s": g[0]["s"], "ppl": p, "ci_low": lo,
                        "ci_high": hi})
    written = _table(summary, out, inputs, "YaRN without fine-tuning at length sL")
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
        ax.set_title(f"{ramp} ramp, s = {summary[0]['s']:g}")
        fig.colorbar(im, ax=ax, label="perplexity (per byte)")
    return written + _save(fig, out)


def training_efficiency(inputs, out, **_):
    """Held-out bits per byte at the fine-tuning length vs fine-tuning step, per method and s.
    ``inputs``: ``metrics.jsonl`` files under ``.../{method}-s{scale}-seed{seed}/``."""
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
    ax.set_ylabel("held-out bits per byte at sL")
    ax.set_title("Training efficiency: PI vs YaRN (vs NTK-aware)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return _table(table, out, inputs, "held-out evaluation during fine-tuning") + _save(fig, out)


def paper_reference(inputs, out, **_):
    """The paper's published Llama-2 numbers (PAPER.md Tables 1, 2, 4, 5), typed from the paper
    and labelled as such; the figure draws Tables 1-2 (lower bounds shown as open markers)."""
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


FIGURES = {f.__name__: f for f in (pretrain_curve, ppl_vs_context, short_context, temperature_study,
                                   temperature_fit, positions, dynamic_scaling, passkey, alpha_beta_ablation,
                                   training_efficiency, paper_reference)}
