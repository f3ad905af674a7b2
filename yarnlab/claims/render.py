"""CLAIMS.md (Markdown) and the claims forest figure from :func:`yarnlab.claims.generate.build`'s dict.

Numbers are formatted from the dict only; nothing is typed here.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

from yarnlab.claims.stats import FAILS, HOLDS, INCONCLUSIVE, PARTLY

FOREST_IDS = ("3", "4", "5", "Q2", "Q3", "Q5")
RUN = "snakemake --cores all paper_figs"
RUN_FULL = "snakemake --cores all paper_figs --configfile workflows/config/claims-full.yaml"
COLORS = {HOLDS: "tab:green", PARTLY: "tab:olive", FAILS: "tab:red", INCONCLUSIVE: "tab:gray"}


def n(x) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float) and not math.isfinite(x):
        return "n/a"
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)


def ci(d: dict, key: str = "value") -> str:
    return f"{n(d[key])} [{n(d['low'])}, {n(d['high'])}]"


def _rows_table(rows: list[dict]) -> list[str]:
    out = ["| comparison | length | PPL ratio [95% CI] | verdict |", "|---|---|---|---|"]
    for r in rows:
        what = r.get("what") or r.get("label", "")
        if r.get("role"):
            what += f" ({r['role']})"
        ratio = r.get("ppl_ratio") or r.get("ppl_ratio_vs_sL")
        out.append(
            f"| {what} | {r.get('length', '')} | {ci(ratio) if ratio else ''} | {r.get('verdict', '')} |"
        )
    return out


def headline(c: dict) -> str:
    cid, rows = c["id"], c.get("measurements", [])
    if c["verdict"] == "not run":
        return "not run"
    if cid == "6":
        f = c["fit"]
        return (
            f"a = {n(f['a'])} [{n(f['a_ci'][0])}, {n(f['a_ci'][1])}], b = {n(f['b'])} "
            f"[{n(f['b_ci'][0])}, {n(f['b_ci'][1])}]"
        )
    if cid == "9":
        ext = [r for r in rows if r["label"] != "base" and r["within_sL"]]
        r = max(ext, key=lambda r: r["length"])
        return f"{r['label']} at {r['length']}: ranked acc {n(r['ranked_acc'])} [{n(r['ci_low'])}, {n(r['ci_high'])}]"
    if cid == "Q1":
        return "; ".join(
            f"{r['ramp']}: best (alpha, beta) = ({n(r['best_alpha'])}, {n(r['best_beta'])}), "
            f"PPL(1,32)/PPL(best) {ci(r['default_over_best'])}"
            for r in rows
        )
    if cid == "Q2":
        return "breaks at: " + ", ".join(f"{k} {v if v else '-'}" for k, v in c["breaks_at"].items())
    if cid == "Q4":
        r = rows[-1]
        return (
            f"s = {n(r['s'])}: m* {n(r['m_opt'])} [{n(r['ci_low'])}, {n(r['ci_high'])}] vs invariant "
            + ", ".join(f"sigma {k}: {n(v)}" for k, v in r["m_invariant_by_sigma"].items())
        )
    prim = [r for r in rows if r.get("role") in (None, "primary") and "ppl_ratio" in r]
    if not prim:
        return ""
    r = max(prim, key=lambda r: r.get("length", 0))
    return f"{r.get('what', '')} at {r.get('length')}: {ci(r['ppl_ratio'])}"


def _section(c: dict, level: str) -> list[str]:
    title = f"Claim {c['id']}" if not c["id"].startswith("Q") else f"Open question {c['id']}"
    out = [f"## {title}: {c['title']}", "", f"**Paper (published):** {c['paper']}", ""]
    if c["verdict"] == "not run":
        return out + [f"**Not run:** {c['criterion']}", ""]
    out += [f"**Verdict: {c['verdict']}.** Criterion: {c['criterion']}.", ""]
    if c.get("parts"):
        out += [f"- {k}: **{v}**" for k, v in c["parts"].items()] + [""]
    cid = c["id"]
    if cid == "6":
        f = c["fit"]
        out += [
            f"Fit sqrt(1/t*) = a ln s + b over {f['n_docs']} documents: a = {n(f['a'])} "
            f"[{n(f['a_ci'][0])}, {n(f['a_ci'][1])}], b = {n(f['b'])} [{n(f['b_ci'][0])}, {n(f['b_ci'][1])}]; "
            f"(0.1, 1) inside both intervals: **{'yes' if f['paper_inside'] else 'no'}**."
            + (
                " Some optima lie on the edge of the m grid (bounds, not optima), so the fit is biased; "
                "widen `sweep.grid`."
                if f.get("edge")
                else ""
            ),
            "",
            "| s | m* [95% CI] | 0.1 ln s + 1 | paper inside CI | argmin at grid edge |",
            "|---|---|---|---|---|",
        ]
        out += [
            f"| {n(p['s'])} | {n(p['m_opt'])} [{n(p['ci_low'])}, {n(p['ci_high'])}] | {n(p['m_paper'])} | "
            f"{'yes' if p['paper_inside'] else 'no'} | {'yes' if p['edge_of_grid'] else 'no'} |"
            for p in c["per_s"]
        ]
        sp = c["spread"]
        out += [
            "",
            f"Spread at s = {n(sp['s'])} ({sp['n_docs']} documents): pooled argmin m = {n(sp['m_pooled_argmin'])}; "
            f"per-document argmin median {n(sp['doc_argmin_median'])} (IQR {n(sp['doc_argmin_q25'])}-"
            f"{n(sp['doc_argmin_q75'])}); {n(100 * sp['frac_docs_within_0.1'])}% of documents within 0.1 of the "
            f"pooled argmin; per-segment argmins span {n(sp['segment_argmin_range'])} "
            f"({', '.join(f'{k}: {n(v)}' for k, v in sp['segment_argmins'].items())}).",
            "",
            "Perplexity of each temperature rule (NTK-by-parts at length sL, no fine-tuning; 95% CI over documents):",
            "",
            "| s | rule | m | PPL [95% CI] |",
            "|---|---|---|---|",
        ]
        out += [
            f"| {n(r['s'])} | {r['rule']} | {n(r['m'])} | {n(r['ppl'])} [{n(r['ci_low'])}, {n(r['ci_high'])}] |"
            for r in c["temperature_rules"]
        ]
        out += [
            "",
            "Paired vs no temperature (same documents):",
            "",
            "| s | rule | PPL ratio vs none [95% CI] | better |",
            "|---|---|---|---|",
        ]
        out += [
            f"| {n(r['s'])} | {r['rule']} | {ci(r['ppl_ratio'])} | {r['verdict_better']} |"
            for r in c["rules_paired"]
        ]
    elif cid == "3":
        out += _rows_table(c["measurements"])
        if c.get("steps_to_target"):
            out += [
                "",
                "Steps to reach PI's last periodic held-out bits/byte (main runs; one held-out estimate per evaluation "
                "step, so no interval):",
                "",
                "| s | PI last bpb | PI first step at it | YaRN first step at it | ratio |",
                "|---|---|---|---|---|",
            ]
            out += [
                f"| {n(p['s'])} | {n(p['pi_last_heldout_bpb'])} | {n(p['pi_first_step_at_target'])} | "
                f"{n(p['yarn_first_step_at_target'])} | {n(p['steps_ratio'])} |"
                for p in c["steps_to_target"]
            ]
    elif cid == "9":
        out += [
            "| model | length | trials | ranked acc [95% Wilson CI] | exact acc | chance | <= sL | verdict |",
            "|---|---|---|---|---|---|---|---|",
        ]
        out += [
            f"| {r['label']} | {r['length']} | {r['trials']} | {n(r['ranked_acc'])} [{n(r['ci_low'])}, "
            f"{n(r['ci_high'])}] | {n(r['exact_acc'])} | {n(r['chance'])} | {'yes' if r['within_sL'] else 'no'} | "
            f"{r['verdict'] if r['within_sL'] and r['label'] != 'base' else ''} |"
            for r in c["measurements"]
        ]
    elif cid == "Q1":
        out += [
            "| ramp | best (alpha, beta) | PPL best [CI] | PPL (1, 32) [CI] | PPL(1,32)/PPL(best) paired [CI] "
            "| verdict |",
            "|---|---|---|---|---|---|",
        ]
        out += [
            f"| {r['ramp']} | ({n(r['best_alpha'])}, {n(r['best_beta'])}) | {ci(r['best_ppl'])} | "
            f"{ci(r['default_ppl'])} | {ci(r['default_over_best'])} | {r['verdict']} |"
            for r in c["measurements"]
        ]
    elif cid == "Q2":
        out += [
            "| model | s | length | x sL | PPL ratio vs sL [95% CI] | no worse than at sL |",
            "|---|---|---|---|---|---|",
        ]
        out += [
            f"| {r['label']} | {n(r['s'])} | {r['length']} | {n(r['x_sL'])} | {ci(r['ppl_ratio_vs_sL'])} | "
            f"{r['verdict']} |"
            for r in c["measurements"]
        ]
        out += [
            "",
            "Breaks at (shortest length significantly worse than sL; '-' = not within the lengths scored): "
            + ", ".join(f"{k}: {v if v else '-'}" for k, v in c["breaks_at"].items()),
        ]
    elif cid == "Q4":
        sig = sorted({k for r in c["measurements"] for k in r["m_invariant_by_sigma"]}, key=float)
        out += [
            f"Best-matching sigma (to Eq. 22): {n(c['best_matching_sigma'])}.",
            "",
            "| s | measured m* [95% CI] | " + " | ".join(f"invariant m, sigma {k}" for k in sig) + " |",
            "|---|---|" + "---|" * len(sig),
        ]
        out += [
            f"| {n(r['s'])} | {n(r['m_opt'])} [{n(r['ci_low'])}, {n(r['ci_high'])}] | "
            + " | ".join(
                n(r["m_invariant_by_sigma"].get(k)) + (" (in CI)" if r["inside_by_sigma"].get(k) else "")
                for k in sig
            )
            + " |"
            for r in c["measurements"]
        ]
    else:
        out += _rows_table(c["measurements"])
    figs = ", ".join(f"[{f}]({f})" for f in c["figures"])
    cmd = RUN_FULL if c["id"] == "Q5" else RUN
    rules = ", ".join(f"`{r}`" for r in c["rules"])
    out += [
        "",
        f"**Figures:** {figs}",
        "",
        f"**Made by:** `{cmd}` (rules: {rules}, then `claims`)",
        "",
        "**Inputs:** " + ", ".join(f"`{p}`" for p in c["sources"]),
        "",
    ]
    return out


def markdown(doc: dict) -> str:
    items = doc["claims"] + doc["open_questions"]
    out = [
        "# The YaRN paper's claims, tested at toy scale",
        "",
        "_Generated by `yarnlab claims` (workflow rule `claims`) from the workflow's result files; every number below "
        "is read from them. Do not edit by hand. Published numbers are from the paper ("
        + doc["published_source"]
        + ")._",
        "",
        f"Uncertainty: 95% percentile bootstrap over documents ({doc['n_boot']} resamples); differences between models "
        "are paired over the same documents and shown as perplexity ratios exp(mean NLL difference). Verdicts: "
        "**holds** (CI on the claimed side), **does not hold at this scale** (CI on the other side), **inconclusive** "
        "(CI straddles the boundary), **partly** (sub-comparisons disagree). Non-inferiority margin: "
        f"{doc['margin_nats']} nats/token (~{100 * (math.exp(doc['margin_nats']) - 1):.0f}% perplexity). "
        f"L = {doc['L']}, seed {doc['seed']}.",
        "",
        "## Summary",
        "",
        "| # | claim | verdict | headline measurement (95% CI) |",
        "|---|---|---|---|",
    ]
    out += [f"| {c['id']} | {c['title']} | **{c['verdict']}** | {headline(c)} |" for c in items]
    out += [
        "",
        "Figure for the variant comparisons (claims 3, 4, 5, Q2, Q3, Q5): [claims_forest.png](claims_forest.png)",
        "",
    ]
    for c in items:
        out += _section(c, "##")
    return "\n".join(out) + "\n"


def forest(doc: dict, out_prefix: str) -> list[str]:
    """One row per paired comparison of the variant claims: PPL ratio with its 95% CI, coloured by
    verdict; PNG + PDF."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = []
    for c in doc["claims"] + doc["open_questions"]:
        if c["id"] not in FOREST_IDS:
            continue
        for r in c.get("measurements", []):
            ratio = r.get("ppl_ratio") or r.get("ppl_ratio_vs_sL")
            if not ratio:
                continue
            what = r.get("what") or f"{r['label']}: PPL({r['length']}) / PPL(sL)"
            if "base PPL" in what:
                continue  # the no-scaling blow-up (claim 1 form) has its own figure and dwarfs the rest
            rows.append((f"[{c['id']}] {what} @ {r['length']}", ratio, r["verdict"]))
    fig, ax = plt.subplots(figsize=(9, 0.28 * max(4, len(rows)) + 1.2))
    for i, (_label, ratio, v) in enumerate(rows):
        y = len(rows) - 1 - i
        ax.errorbar(
            [ratio["value"]],
            [y],
            xerr=[[ratio["value"] - ratio["low"]], [ratio["high"] - ratio["value"]]],
            fmt="o",
            ms=4,
            capsize=2,
            color=COLORS.get(v, "k"),
        )
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_yticks(range(len(rows)), [r[0] for r in rows][::-1], fontsize=6)
    ax.set_xscale("log")
    ax.set_xlabel("perplexity ratio (paired over documents, 95% bootstrap CI)")
    ax.set_title("Paired comparisons of CLAIMS.md (colour: verdict of each comparison)")
    for v, col in COLORS.items():
        ax.plot([], [], "o", color=col, label=v)
    ax.legend(fontsize=6, loc="best")
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    out_p = Path(out_prefix)
    out_p.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for ext in ("png", "pdf"):
        fd, tmp = tempfile.mkstemp(dir=out_p.parent, prefix=f".{out_p.name}.", suffix=f".{ext}")
        os.close(fd)
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format=ext)
        os.chmod(tmp, 0o644)
        os.replace(tmp, f"{out_prefix}.{ext}")
        written.append(f"{out_prefix}.{ext}")
    plt.close(fig)
    return written
