"""Claims on the base model without fine-tuning: dynamic scaling (claim 7) and the (alpha, beta)
ablation (Q1). Each is a measurement and a section, as in :mod:`yarnlab.claims.perplexity`."""

from __future__ import annotations

from yarnlab.claims import grammar as G
from yarnlab.claims.perplexity import BLOWUP_RATIO, BLOWUP_REASON, LOG2
from yarnlab.claims.results import MissingInputError, Results, by_key, voting
from yarnlab.claims.sections import NotRun, interval, named


def measure_claim7(res: Results) -> dict:
    by = by_key(res.table("dynamic"), "method", "length")
    methods = sorted({m for m, _ in by})
    need = {"none", "dynamic-pi", "dynamic-yarn"}
    if not need <= set(methods):
        raise MissingInputError(f"claim 7: dynamic table lacks {sorted(need - set(methods))} ({res.paths['dynamic']})")
    L = res.L
    lengths = sorted({n for m, n in by if m == "dynamic-yarn" and n > L})
    a = res.family(
        [
            (
                by[("dynamic-yarn", n)],
                by[("dynamic-pi", n)],
                {"what": "Dynamic-YaRN / Dynamic-PI", "length": n, "test": "superiority"},
            )
            for n in lengths
        ]
    )
    dyn = [m for m in methods if m.startswith("dynamic-") and ":" not in m]
    b = res.family(
        [
            (
                by[(m, n)],
                by[(m, L)],
                {"what": f"{m}: PPL({n}) / PPL({L})", "length": n, "test": "below", "threshold": LOG2},
            )
            for m in dyn
            for n in lengths
            if (m, L) in by
        ]
    )
    diag = []
    if "dynamic-yarn:none" in methods:  # what the temperature does at large s
        diag = res.family(
            [
                (
                    by[("dynamic-yarn", n)],
                    by[("dynamic-yarn:none", n)],
                    {
                        "what": "Dynamic-YaRN / Dynamic-YaRN without temperature (m = 1)",
                        "length": n,
                        "test": "superiority",
                        "role": "context",
                    },
                )
                for n in lengths
            ]
        )
        diag += res.family(
            [
                (
                    by[("dynamic-yarn:none", n)],
                    by[("dynamic-pi", n)],
                    {
                        "what": "Dynamic-YaRN without temperature / Dynamic-PI",
                        "length": n,
                        "test": "superiority",
                        "role": "context",
                    },
                )
                for n in lengths
            ]
        )
    parts = {"yarn_pi": G.combine(voting(a)), "no_blowup": G.combine(voting(b))}
    top = max(lengths)
    # the sweep's m*(s) at the longest length (one row per seed when pooled), for the diagnosis
    s = top / L
    fit = [r for r in res.table("temperature_fit") if abs(r["s"] - s) < 1e-9]
    return {"yarn_pi": a, "blowup": b, "without_temperature": diag, "parts": parts,
            "verdict": G.combine(list(parts.values())), "longest": top, "fit_at_longest": fit}


def describe_claim7(m: dict, res: Results) -> dict:
    a, top = m["yarn_pi"], m["longest"]
    return {
        "measurements": a + m["blowup"] + m["without_temperature"],
        "parts": named(m["parts"], {
            "yarn_pi": "Dynamic-YaRN < Dynamic-PI past L",
            "no_blowup": f"dynamic scaling prevents the blow-up (PPL(n)/PPL(L) < {BLOWUP_RATIO:g} for every dynamic "
                         "method)"}),
        "verdict": m["verdict"],
        "diagnosis": _diagnosis(res.L, a, m["without_temperature"], top, m["fit_at_longest"]),
        "criterion": "base model, no fine-tuning, one window of N tokens per document (s = N/L for dynamic methods); "
        "superiority of Dynamic-YaRN over Dynamic-PI at each N > L, and the blow-up criterion of claim 1 "
        f"(perplexity at least doubles; {BLOWUP_REASON}) applied to every dynamic method: 'prevents' holds only if "
        f"PPL(N)/PPL(L) stays below {BLOWUP_RATIO:g}. Context rows: the same method without its temperature",
        "headline": next(f"{r['what']} at {r['length']}: {interval(r['ppl_ratio'])}" for r in a if r["length"] == top),
        "figures": ["dynamic_scaling.png"],
        "rules": ["dynamic_table", "dynamic_scaling_figure"],
        "sources": res.src("dynamic", "temperature_fit"),
    }


def _diagnosis(L: int, a: list[dict], diag: list[dict], n: int, fit: list[dict]) -> str:
    """One sentence at the longest length: method vs temperature, from the rows and the sweep's m*."""
    s = n / L
    pick = {r["what"]: r for r in a + diag if r["length"] == n}
    parts = [f"at {n} tokens (s = {s:g})"]
    for what in (
        "Dynamic-YaRN / Dynamic-PI",
        "Dynamic-YaRN / Dynamic-YaRN without temperature (m = 1)",
        "Dynamic-YaRN without temperature / Dynamic-PI",
    ):
        if what in pick:
            parts.append(f"{what} = {interval(pick[what]['ppl_ratio'])}")
    if len(fit) == 1:
        f = fit[0]
        parts.append(
            f"the sweep's m*({s:g}) = {f['m_opt']:.3g} [{f['band_low']:.3g}, {f['band_high']:.3g}] against "
            f"the rule's {f['m_paper']:.3g}"
        )
    elif fit:  # results pooled over seeds: one sweep per seed
        parts.append(f"the sweeps' m*({s:g}) per seed: " + ", ".join(
            f"seed {f['seed']} {f['m_opt']:.3g} [{f['band_low']:.3g}, {f['band_high']:.3g}]" for f in fit)
            + f" against the rule's {fit[0]['m_paper']:.3g}")
    return "; ".join(parts)


def _merged_cells(by: dict, ramp: str) -> dict[tuple, list[tuple[float, float]]]:
    """{representative key: every (alpha, beta) of ``ramp`` with the same per-document NLL}: cells
    whose ramps coincide on this geometry (e.g. beta 32 and 64 when no pair has r > 32) are one cell.
    The representative is the smallest (alpha, beta), or (1, 32) for the group holding it."""
    groups: dict[tuple, list[tuple]] = {}
    for k in sorted(k for k in by if k[0] == ramp):
        sig = tuple(sorted((str(d), round(float(v), 12)) for d, v in by[k].items()))
        groups.setdefault(sig, []).append(k)
    out = {}
    for keys in groups.values():
        rep = (ramp, 1.0, 32.0) if (ramp, 1.0, 32.0) in keys else keys[0]
        out[rep] = [(k[1], k[2]) for k in keys]
    return out


def _cell_name(cells: list[tuple[float, float]]) -> str:
    return " = ".join(f"({a:g}, {b:g})" for a, b in cells)


def measure_alpha_beta(res: Results) -> dict:
    by = by_key(res.table("ablation"), "ramp", "alpha", "beta")
    rows = []
    for ramp in sorted({k[0] for k in by}):
        default = (ramp, 1.0, 32.0)
        if default not in by:
            raise MissingInputError(
                f"ablation: no (alpha, beta) = (1, 32) cell for ramp {ramp} ({res.paths['ablation']})"
            )
        merged = _merged_cells(by, ramp)
        cells = [k for k in merged if k != default]
        rows += res.family(
            [
                (
                    by[default],
                    by[k],
                    {
                        "what": f"{ramp} ramp: {_cell_name(merged[default])} / {_cell_name(merged[k])}",
                        "ramp": ramp,
                        "alpha": k[1],
                        "beta": k[2],
                        "same_as": [list(c) for c in merged[k]],
                        "test": "noninferiority",
                        "threshold": 0.0,
                    },
                )
                for k in cells
            ]
        )
    if not rows:
        raise NotRun("the ablation grid holds only (alpha, beta) = (1, 32): there is no other cell to compare")
    # (1, 32) is the best cell unless another is significantly better: no test can confirm optimality,
    # so the verdict is at most "consistent with"
    v = [G.FAILS if r["verdict"] == G.FAILS else G.CONSISTENT for r in rows]
    return {"rows": rows, "better": [r for r in rows if r["verdict"] == G.FAILS],
            "largest": min(rows, key=lambda r: -r["ppl_ratio"]["value"]), "verdict": G.combine(v)}


def describe_alpha_beta(m: dict, res: Results) -> dict:
    rows, best = m["rows"], m["largest"]
    return {
        "measurements": rows,
        "verdict": m["verdict"],
        "criterion": "descriptive question: where the best (alpha, beta) lies for this model and head size. The "
        "paper sets (1, 32) for the Llama family and says other models are tuned case by case, so a better "
        "cell here does not contradict it; the verdict answers whether (1, 32) is also best here. Every "
        "other cell against (1, 32) on the same documents with simultaneous intervals, cells with identical "
        "per-document perplexity (coinciding ramps) merged into one: 'does not hold' if some cell is "
        "significantly better, else 'consistent with' (optimality cannot be shown)",
        "headline": (
            f"{len(m['better'])} of {len(rows)} cells significantly better than (1, 32)"
            + f"; largest: {best['what']} = {interval(best['ppl_ratio'])}"
        ),
        "figures": ["alpha_beta_ablation.png"],
        "rules": ["ablation_table", "alpha_beta_ablation_figure"],
        "sources": res.src("ablation"),
    }
