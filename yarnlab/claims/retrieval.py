"""Claim 9: passkey retrieval stays accurate across the extended window (Table 5's 80% rule); a measurement
and a section, as in :mod:`yarnlab.claims.perplexity`."""

from __future__ import annotations

from yarnlab.claims import grammar as G
from yarnlab.claims import stats as S
from yarnlab.claims.results import MissingInputError, Results
from yarnlab.claims.sections import table

THRESHOLD = 0.8


def measure_claim9(res: Results) -> dict:
    pk = res.settings["passkey"]
    chance = 1.0 / pk["candidates"]
    rows, vs = [], []
    for label in pk["models"]:
        t = res.table(f"passkey:{label}")
        var = res.settings["variants"]
        s = 1.0 if label == "base" else float(var[label]["scale"]) if label in var else float(label.rsplit("-s", 1)[1])
        for n in sorted({r["length"] for r in t}):
            g = [r for r in t if r["length"] == n]
            k = sum(int(r["ranked"]) for r in g)
            lo, hi = S.wilson(k, len(g))
            v = G.above(S.Estimate(k / len(g), lo, hi, len(g)), THRESHOLD)
            rows.append(
                {
                    "label": label,
                    "length": n,
                    "trials": len(g),
                    "ranked_acc": k / len(g),
                    "ci_low": lo,
                    "ci_high": hi,
                    "exact_acc": sum(int(r["exact"]) for r in g) / len(g),
                    "chance": chance,
                    "within_sL": n <= s * res.L,
                    "verdict": v,
                }
            )
            if label != "base" and n <= s * res.L:
                vs.append(v)
    if not vs:
        raise MissingInputError("claim 9: no extended model in passkey.models")
    trials = min(r["trials"] for r in rows)
    return {"rows": rows, "verdict": G.combine(vs), "chance": chance, "trials": trials,
            "least_trials": S.least_trials_to_hold(THRESHOLD), "power_trials": S.trials_for_power(0.95, THRESHOLD)}


def describe_claim9(m: dict, res: Results) -> dict:
    pk = res.settings["passkey"]
    rows, trials, least, power = m["rows"], m["trials"], m["least_trials"], m["power_trials"]
    reach = (
        f"with {trials} trials per cell a 'holds' needs at least {least} trials (n/n successes), so it is "
        "unreachable here"
        if trials < least
        else f"{trials} trials per cell; 'holds' needs >= {least}; {power} trials give 80% power at a true accuracy "
        "of 0.95"
    )
    ext = [r for r in rows if r["label"] != "base" and r["within_sL"]]
    r = max(ext, key=lambda r: (r["length"], r["label"]))
    t = table(
        "Ranked accuracy per model and length (95% Wilson intervals)",
        ["model", "length", "trials", "ranked acc [CI]", "exact acc", "<= sL", "verdict"],
        [
            [
                r["label"],
                r["length"],
                r["trials"],
                f"{r['ranked_acc']:.2f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}]",
                r["exact_acc"],
                "yes" if r["within_sL"] else "no",
                r["verdict"] if r["within_sL"] and r["label"] != "base" else "",
            ]
            for r in rows
        ],
    )
    return {
        "measurements": rows,
        "verdict": m["verdict"],
        "reachability": reach,
        "tables": [t],
        "criterion": f"ranked accuracy (true key the most likely of {pk['candidates']} candidates; chance "
        f"{m['chance']:.2f}) of each extended model at every length <= sL has its 95% Wilson interval "
        f"above {THRESHOLD} (Table 5's threshold); {reach}",
        "headline": f"{r['label']} at {r['length']}: ranked acc {r['ranked_acc']:.2f} [{r['ci_low']:.2f}, "
        f"{r['ci_high']:.2f}]",
        "figures": ["passkey.png"],
        "rules": ["passkey_table", "passkey_figure"],
        "sources": res.src(*[f"passkey:{m}" for m in pk["models"]]),
    }
