"""CLAIMS.md (Markdown) and the claims forest figure from :func:`yarnlab.claims.registry.build`'s dict.

Numbers are formatted from the dict only; nothing is typed here.
"""

from __future__ import annotations

import math

from yarnlab.claims import grammar as G
from yarnlab.claims.regime import outcome
from yarnlab.claims.sections import interval
from yarnlab.io import atomic_path

FOREST_IDS = ("3", "4", "5", "Q2", "Q3", "Q5")
RUN = "snakemake --cores all paper_figs"
RUN_FULL = "snakemake --cores all paper_figs --configfile workflows/config/claims-full.yaml"
COLORS = {G.HOLDS: "tab:green", G.CONSISTENT: "tab:olive", G.FAILS: "tab:red", G.INCONCLUSIVE: "tab:gray",
          G.NOT_TRANSFERRED: "tab:orange"}


def _rows_table(rows: list[dict]) -> list[str]:
    out = ["| comparison | length | PPL ratio [95% simultaneous CI] | test | verdict |", "|---|---|---|---|---|"]
    for r in rows:
        what = r.get("what", "")
        if r.get("role"):
            what += f" ({r['role']})"
        out.append(f"| {what} | {r.get('length', '')} | {interval(r['ppl_ratio'])} | {r.get('test', '')} | "
                   f"{r.get('verdict', '')} |")
    return out


def _table(t: dict) -> list[str]:
    out = [t["title"] + ":", "", "| " + " | ".join(t["columns"]) + " |", "|" + "---|" * len(t["columns"])]
    return out + ["| " + " | ".join(str(c) for c in row) + " |" for row in t["rows"]] + [""]


def _second_reading(sec: dict | None) -> list[str]:
    """The same claim computed on the second perplexity reading: context, not voting."""
    if not sec:
        return []
    head = f"Second reading, for context (does not vote): {sec['text']}."
    if sec.get("missing"):
        return [head + f" Not available: {sec['missing']}.", ""]
    out = [head + f" On it the claim would read: {sec['verdict']}" + (f" ({sec['headline']})" if sec.get("headline")
                                                                     else "") + ".", ""]
    return out + (_rows_table(sec["measurements"]) + [""] if sec["measurements"] else [])


def _section(c: dict) -> list[str]:
    title = f"Claim {c['id']}" if not c["id"].startswith("Q") else f"Open question {c['id']}"
    out = [f"## {title}: {c['title']}", "", f"**Paper (published):** {c['paper']}", ""]
    if c["verdict"] == G.NOT_RUN:
        return out + [f"**Not run:** {c['criterion']}", ""]
    if c["verdict"] == G.NOT_TESTABLE:
        out += [
            f"**Verdict: {G.NOT_TESTABLE}.** Failed regime check(s): {'; '.join(c['not_testable_because'])}. "
            f"The rows below are shown for information (they would read: {c['verdict_if_testable']}).",
            "",
        ]
    else:
        out += [f"**Verdict: {c['verdict']}.**", ""]
    of = c.get("premises_of") or "base"
    whose = " this test depends on" if of == "base" else f" of {of}, the base this test is about"
    out += [f"Criterion: {c['criterion']}.", "", f"Premises (the regime checks{whose}):", ""]
    out += [f"- {p['check']}: {p['reason']}" for p in c["premises"]] + [""]
    if c.get("parts"):
        out += [f"- {k}: **{v}**" for k, v in c["parts"].items()] + [""]
    if c.get("diagnosis"):
        out += [f"Diagnosis: {c['diagnosis']}.", ""]
    rows = [r for r in c.get("measurements", []) if "ppl_ratio" in r]
    if c.get("reading"):
        out += [f"Reading (the rows that vote): {c['reading']['text']}.", ""]
    if rows:
        out += _rows_table(rows) + [""]
    out += _second_reading(c.get("second_reading"))
    for t in c.get("tables", []):
        out += _table(t)
    figs = ", ".join(f"[{f}]({f})" for f in c["figures"])
    cmd = RUN_FULL if c["id"] == "Q5" else RUN
    rules = ", ".join(f"`{r}`" for r in c["rules"])
    out += [
        f"**Figures:** {figs}",
        "",
        f"**Made by:** `{cmd}` (rules: {rules}, then `claims`)",
        "",
        "**Inputs:** " + ", ".join(f"`{p}`" for p in c["sources"]),
        "",
    ]
    return out


def _regime_table(rows: list[dict]) -> list[str]:
    return ["| check | what | value | threshold | result |", "|---|---|---|---|---|"] + [
        f"| {r['check']} | {r['what']} | {r['value']} | {r['threshold']} | **{outcome(r)}** |" for r in rows]


def regime_lines(doc: dict) -> list[str]:
    from yarnlab.claims.preregistration import lines

    fixed = lines(doc.get("preregistration")) or ["Thresholds from the config (it names no pre-registration).", ""]
    out = [
        "## Regime checks (base model)",
        "",
        "None of these tests a claim of the paper; they ask whether this toy can test them. A claim that depends "
        "on a failed check is reported as **not testable on this toy**.",
        "",
        *fixed,
    ]
    out += _regime_table(doc["regime"])
    for base, rows in (doc.get("regime_extra") or {}).items():
        out += ["", f"Regime checks of `{base}` (pretrained like the base on another corpus, same thresholds): the "
                "claims about it are gated on these, not on the main base's. Only the checks those claims rest on "
                "are evaluated on it.", ""]
        out += _regime_table(rows)
    toy = doc.get("toy") or {}
    if toy:
        out += ["", "The toy (chosen by these checks alone, never by the claims' verdicts):", ""]
        out += [f"- {k}: {v}" for k, v in toy.items()] + [""]
    return out + [""]


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
    ]
    out += regime_lines(doc)
    if doc.get("no_finetune"):
        out += ["## Perplexity without fine-tuning", "", *_table(doc["no_finetune"])]
    out += [
        "## How to read a verdict",
        "",
        f"Intervals: {doc['level']:.0%}, {doc['interval_method']} ({doc['n_boot']} resamples); the intervals of "
        "one claim's rows hold simultaneously (max-t). Differences between models are paired over the same "
        "documents and shown as perplexity ratios exp(mean NLL difference). Non-inferiority and equivalence "
        f"margin: {doc['margin_nats']} nats/token (~{100 * (math.exp(doc['margin_nats']) - 1):.0f}% perplexity). "
        f"L = {doc['L']}, seed {doc['seed']}. Perplexity claims vote on one reading, {doc.get('reading_text', 'n/a')}"
        + (f"; each also shows the {doc['second_reading']} reading beside it, for context (it never votes)"
           if doc.get("second_reading") else "") + ". The grammar:",
        "",
        G.statement(),
        "",
        "## Summary",
        "",
        "| # | claim | verdict | headline measurement |",
        "|---|---|---|---|",
    ]
    out += [f"| {c['id']} | {c['title']} | **{c['verdict']}** | {c.get('headline', '')} |" for c in items]
    out += [
        "",
        "Figure for the variant comparisons (claims 3, 4, 5, Q2, Q3, Q5): [claims_forest.png](claims_forest.png)",
        "",
    ]
    for c in items:
        out += _section(c)
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
            ratio = r.get("ppl_ratio")
            if not ratio:
                continue
            what = r["what"]
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
    if not rows:  # a configuration without variant claims (e.g. no fine-tunes): say so, not a blank plot
        ax.text(0.5, 0.5, f"no paired comparison of claims {', '.join(FOREST_IDS)} was run in this configuration",
                transform=ax.transAxes, ha="center", va="center", fontsize=9)
    ax.set_yticks(range(len(rows)), [r[0] for r in rows][::-1], fontsize=6)
    ax.set_xscale("log")
    ax.set_xlabel("perplexity ratio (paired over documents; 95% simultaneous interval per claim)")
    ax.set_title("Paired comparisons of CLAIMS.md (colour: verdict of each comparison)")
    for v, col in COLORS.items():
        ax.plot([], [], "o", color=col, label=v)
    ax.legend(fontsize=6, loc="best")
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    written = []
    for ext in ("png", "pdf"):
        with atomic_path(f"{out_prefix}.{ext}", suffix=f".{ext}") as tmp:
            fig.savefig(tmp, dpi=110, bbox_inches="tight", format=ext)
        written.append(f"{out_prefix}.{ext}")
    plt.close(fig)
    return written
