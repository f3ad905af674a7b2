"""Summary tables the figures draw: one function per product, each computing its statistics once.

A figure is made in two steps: ``yarnlab summarize KIND`` (this module) computes the statistics once
into a table (CSV + provenance and a Markdown twin); ``python -m yarnlab.figures`` reads the CSV and
only draws. Every function takes the per-document (or per-trial) result rows of ``yarnlab eval`` and
returns tidy rows with a value and its interval. The intervals are the claims' own
(:mod:`yarnlab.claims.stats`, one source): perplexity is ``exp(mean per-document NLL)`` with the
symmetric bootstrap-t interval over held-out works (document ids ``<work>@<offset>``); paired
comparisons use :func:`yarnlab.claims.stats.paired`; passkey accuracy carries a Wilson interval.
"""

from __future__ import annotations

from collections import defaultdict

from yarnlab.claims import stats
from yarnlab.errors import UsageError
from yarnlab.io import write_table_with_markdown

N_BOOT = 2000


def _group(rows, keys) -> dict:
    g = defaultdict(list)
    for r in rows:
        g[tuple(r[k] for k in keys)].append(r)
    return dict(sorted(g.items(), key=lambda kv: tuple(str(x) if isinstance(x, str) else x for x in kv[0])))


def _nll(rows) -> dict:
    """``{doc: nll}``; a document evaluated more than once (one model label over several seeds)
    counts once, with the mean of its NLLs."""
    by = defaultdict(list)
    for r in rows:
        by[r["doc"]].append(float(r["nll"]))
    return {d: sum(v) / len(v) for d, v in by.items()}


def _ppl(rows, n_boot: int) -> dict:
    e = stats.ppl_ci(_nll(rows), n_boot)
    return {"ppl": e.value, "ci_low": e.low, "ci_high": e.high, "n_docs": len({r["doc"] for r in rows}),
            "n_works": e.n}


def one_reading(rows, reading: str | None = None) -> tuple[list[dict], str | None]:
    """``(rows, reading)``: the perplexity rows of one reading (``yarnlab eval ppl``'s ``reading`` column:
    same-targets, truncation, sliding). Rows without the column count as ``reading``; with ``reading``
    None the rows must hold a single reading (several: an error naming them)."""
    found = sorted({str(r["reading"]) for r in rows if r.get("reading") not in (None, "")})
    if reading is None:
        if len(found) > 1:
            raise UsageError(f"reading: the tables hold the readings {found}; choose one (--set reading=NAME)")
        return list(rows), (found[0] if found else None)
    out = [r for r in rows if r.get("reading") in (None, "", reading)]
    if not out:
        raise UsageError(f"reading: no rows of the {reading!r} reading (the tables hold {found})")
    return out, reading


def ppl_by_model_length(rows, n_boot: int = N_BOOT, reading: str | None = None) -> list[dict]:
    """Perplexity per model (label, method, scale, finetuned) and evaluation length, in one reading
    (:func:`one_reading`; the output names it when the tables do)."""
    rows, reading = one_reading(rows, reading)
    keys = ["label", "method", "scale", "finetuned", "length"]
    named = {"reading": reading} if reading else {}
    return [{**dict(zip(keys, k)), **named, **_ppl(g, n_boot)} for k, g in _group(rows, keys).items()]


def short_context(rows, length: int, n_boot: int = N_BOOT, reading: str | None = None) -> list[dict]:
    """Perplexity at the original context ``length`` of every model and its paired per-document
    perplexity ratio to the base model (method ``none``, fine-tuned/plain RoPE) on the same documents,
    in one reading (:func:`one_reading`)."""
    rows, _ = one_reading(rows, reading)
    rows = [r for r in rows if int(r["length"]) == int(length)]
    if not rows:
        raise UsageError(f"length: no rows at length {length}")
    base = _nll(r for r in rows if r["method"] == "none")
    if not base:
        raise UsageError("inputs: no base model (method none) rows at the original context")
    keys = ["label", "method", "scale", "finetuned"]
    out = []
    for k, g in _group(rows, keys).items():
        ratio = stats.ratio(stats.paired(_nll(g), base, n_boot))
        out.append(
            {
                **dict(zip(keys, k)),
                "length": int(length),
                **_ppl(g, n_boot),
                "ratio_vs_base": ratio.value,
                "ratio_ci_low": ratio.low,
                "ratio_ci_high": ratio.high,
            }
        )
    return out


def dynamic(rows, n_boot: int = N_BOOT) -> list[dict]:
    """Perplexity of the base model without fine-tuning per method and context length (in the
    order the methods appear)."""
    order = list(dict.fromkeys(r["method"] for r in rows))
    g = _group(rows, ["method", "length"])
    return [{"method": m, "length": n, **_ppl(g[(m, n)], n_boot)} for m in order for n in sorted({k[1] for k in g})
            if (m, n) in g]


def passkey(rows, level: float = stats.LEVEL) -> list[dict]:
    """Accuracy per model and prompt length: exact greedy match and candidate ranking, each with a
    Wilson interval."""
    out = []
    for (label, n), g in _group(rows, ["label", "length"]).items():
        row = {"label": label, "length": n, "trials": len(g)}
        for kind in ("exact", "ranked"):
            k = sum(int(r[kind]) for r in g)
            lo, hi = stats.wilson(k, len(g), level)
            row |= {f"{kind}_acc": k / len(g), f"{kind}_low": lo, f"{kind}_high": hi}
        out.append(row)
    return out


def passkey_table5(summary: list[dict], threshold: float) -> list[dict]:
    """The paper's Table 5 form of :func:`passkey`'s rows: per model the longest length with ranked
    accuracy >= ``threshold`` and the mean ranked accuracy up to it."""
    out = []
    for label in dict.fromkeys(r["label"] for r in summary):
        pts = [r for r in summary if r["label"] == label]
        top = max((r["length"] for r in pts if r["ranked_acc"] >= threshold), default=0)
        upto = [r["ranked_acc"] for r in pts if r["length"] <= top]
        out.append({"label": label, "max_length_acc_ge_thr": top,
                    "mean_ranked_acc_up_to_it": sum(upto) / len(upto) if upto else float("nan")})
    return out


def ablation(rows, n_boot: int = N_BOOT) -> list[dict]:
    """Perplexity at sL of YaRN without fine-tuning per ramp form and (alpha, beta)."""
    out = []
    for (ramp, alpha, beta), g in _group(rows, ["ramp", "alpha", "beta"]).items():
        out.append({"ramp": ramp, "alpha": alpha, "beta": beta, "s": g[0]["s"], **_ppl(g, n_boot)})
    return out


def temperature_study(rows) -> list[dict]:
    """The temperature sweep's descriptive statistics (paper Figs. 2-4), long format ``s, statistic,
    segment, m, value``: ``ppl_mean`` and ``ppl_std`` over documents of per-document perplexity
    (segment -1: whole documents; Fig. 2), ``pct_change`` of each segment's perplexity vs m = 1
    (Eq. 26, Fig. 3) and ``argmin_count``, the documents whose segment NLL is lowest at m (Fig. 4).
    Computed by :mod:`yarnlab.evaluate.sweep` (fig2_table, fig3_table, fig4_table)."""
    from yarnlab.evaluate.sweep import SweepResult, fig2_table, fig3_table, fig4_table

    scales = {r["s"] for r in rows}
    if len(scales) != 1:
        raise UsageError(f"inputs: one sweep (one s) per summary (got s = {sorted(scales)})")
    s = scales.pop()
    res = SweepResult.from_rows(rows)
    out = [{"s": s, "statistic": stat, "segment": -1, "m": r["m"], "value": r[stat]}
           for r in fig2_table(res) for stat in ("ppl_mean", "ppl_std")]
    out += [{"s": s, "statistic": "pct_change", "segment": r["segment"], "m": r["m"], "value": r["pct_change"]}
            for r in fig3_table(res)]
    out += [{"s": s, "statistic": "argmin_count", "segment": r["segment"], "m": r["m"], "value": r["count"]}
            for r in fig4_table(res)]
    return out


CI = f"{round(100 * stats.LEVEL)}% {stats.METHOD}"
# kind -> (allowed options with defaults, note)
KINDS = {
    "ppl": ({"n_boot": N_BOOT, "reading": None}, f"exp(mean per-document NLL), {CI}"),
    "short_context": (
        {"length": None, "n_boot": N_BOOT, "reading": None},
        f"perplexity at L; ratio = paired per-document perplexity ratio vs the base model; {CI}",
    ),
    "dynamic": ({"n_boot": N_BOOT}, f"base model, no fine-tuning; one window of N tokens per document; {CI}"),
    "passkey": ({"threshold": 0.8}, f"accuracy per length (ranked: true key most likely of the candidates), "
                                    f"{round(100 * stats.LEVEL)}% Wilson intervals"),
    "ablation": ({"n_boot": N_BOOT}, f"YaRN without fine-tuning at length sL; {CI}"),
    "temperature_study": ({}, "NTK-by-parts without fine-tuning at length sL over the m grid; descriptive "
                              "(mean/std over documents, % change vs m = 1, argmin counts), no intervals"),
}


def summarize(kind: str, rows: list[dict], out_csv: str, inputs: list[str], opts: dict) -> list[str]:
    """Compute summary ``kind`` of ``rows`` and write it (passkey also writes ``<stem>_summary``)."""
    if kind not in KINDS:
        raise UsageError(f"kind: must be one of {sorted(KINDS)} (got {kind!r})")
    allowed, note = KINDS[kind]
    bad = sorted(set(opts) - set(allowed))
    if bad:
        raise UsageError(f"--set: unknown option(s) {bad} for summary {kind}; allowed: {sorted(allowed)}")
    o = {**allowed, **opts}
    if not rows:
        raise UsageError(f"inputs: no rows in {inputs}")
    params = {"inputs": [str(p) for p in inputs], "kind": kind, **{k: v for k, v in o.items() if v is not None}}
    n_boot = int(o.get("n_boot") or N_BOOT)
    if kind == "ppl":
        return write_table_with_markdown(ppl_by_model_length(rows, n_boot, o["reading"]), out_csv, params,
                                         note + (f"; {o['reading']} reading" if o["reading"] else ""))
    if kind == "short_context":
        if o["length"] is None:
            raise UsageError("--set length=L: required for summary short_context")
        n = int(o["length"])
        return write_table_with_markdown(short_context(rows, n, n_boot, o["reading"]), out_csv, params,
                                         note.replace("at L", f"at L = {n}")
                                         + (f"; {o['reading']} reading" if o["reading"] else ""))
    if kind == "dynamic":
        return write_table_with_markdown(dynamic(rows, n_boot), out_csv, params, note)
    if kind == "ablation":
        return write_table_with_markdown(ablation(rows, n_boot), out_csv, params, note)
    if kind == "temperature_study":
        return write_table_with_markdown(temperature_study(rows), out_csv, params, note)
    thr = float(o["threshold"])
    table = passkey(rows)
    stem = str(out_csv).rsplit(".", 1)[0]
    return write_table_with_markdown(table, out_csv, params, note) + write_table_with_markdown(
        passkey_table5(table, thr), f"{stem}_summary.csv", params,
        f"paper Table 5 form, threshold {thr:g} on ranked accuracy",
    )
