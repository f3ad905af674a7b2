"""Claims read from fine-tuning runs: 3 (YaRN needs fewer steps than PI) and 5 (a YaRN fine-tune transfers
to a larger s in fewer steps), each a paired non-inferiority test on the evaluation documents and a
steps-to-reach ratio on the held-out training windows (:mod:`yarnlab.claims.steps`). Each is a measurement and
a section, as in :mod:`yarnlab.claims.perplexity`.
"""

from __future__ import annotations

from yarnlab.claims import grammar as G
from yarnlab.claims import stats as S
from yarnlab.claims import steps as ST
from yarnlab.claims.results import MissingInputError, Results, voting
from yarnlab.claims.sections import NotRun, headline_row, named
from yarnlab.workflow.layout import finetune_name, fmt

# ---------------------------------------------------------------- claims 3 and 5: steps to reach
# Steps-to-reach thresholds (yarnlab.claims.steps): the paper's own step counts (Section 4.1).
PI_STEPS_RATIO = 2.5
PI_STEPS_REASON = "the paper's '2.5x fewer training steps than PI': 400 steps against PI's 1000 (Section 4.1)"
TRANSFER_STEPS_RATIO = 2.0
TRANSFER_STEPS_REASON = ("Section 4.1: s = 32 in 200 steps from the s = 16 checkpoint, which took 400 steps "
                         "from the base")


def _steps_rows(res: Results, pairs: list, threshold: float) -> tuple[list[dict], str]:
    """The steps rows of ``pairs``, or none and why (runs without per-window evaluation losses)."""
    if not pairs:
        return [], "steps to reach not computed: the reference or test run is not in this configuration"
    try:
        return ST.ratio_family(res, pairs, threshold), ""
    except MissingInputError as exc:
        return [], f"steps to reach not computed ({exc})"


def measure_claim3(res: Results) -> dict:
    """Two tested parts. (a) YaRN fine-tuned for fewer steps (the ``fewer_steps`` variant) is no worse than
    PI at the main steps: paired non-inferiority on the evaluation documents. (b) Steps to reach PI's last
    held-out loss + margin, PI's first passage over YaRN's (same held-out windows), at every fine-tuned s:
    above :data:`PI_STEPS_RATIO`, percentile intervals over windows (seeds, then windows, when pooled),
    Bonferroni over the scales; a ratio capped by the evaluation grid is inconclusive
    (:mod:`yarnlab.claims.steps`)."""
    name = res.settings["claims"].get("fewer_steps")
    if not name:
        raise NotRun("claims.fewer_steps is null in this configuration")
    v = res.settings["variants"][name]
    s, steps = float(v["scale"]), res.settings["finetune"]["steps"]
    pi = finetune_name("pi", s)
    rows = res.compare(
        [
            (name, pi, n, "noninferiority", f"YaRN {v.get('steps')} steps / PI {steps} steps, s = {fmt(s)}")
            for n in res.within(name, s)
            if n >= res.L
        ]
    )
    pairs = [(finetune_name("pi", sc), finetune_name("yarn", sc),
              {"what": f"PI / YaRN steps to PI's last loss + margin, s = {fmt(sc)}", "s": float(sc)})
             for sc in res.settings["finetune"]["scales"]
             if all(f"metrics:{finetune_name(m, sc)}" in res.paths for m in ("pi", "yarn"))]
    steps_rows, why = _steps_rows(res, pairs, PI_STEPS_RATIO)
    noninf = G.combine(voting(rows))
    steps_part = ST.part(steps_rows) if steps_rows else G.INCONCLUSIVE
    return {"name": name, "reference": pi, "rows": rows, "steps_rows": steps_rows, "steps_why": why,
            "runs": [x for a, b, _ in pairs for x in (a, b)], "tokens": res.json(f"summary:{name}").get("tokens"),
            "parts": {"noninferior": noninf, "steps": steps_part, "tokens": G.NOT_RUN},
            "verdict": G.combine([noninf, steps_part])}


def describe_claim3(m: dict, res: Results) -> dict:
    name, rows, steps_rows, why = m["name"], m["rows"], m["steps_rows"], m["steps_why"]
    v = res.settings["variants"][name]
    steps = res.settings["finetune"]["steps"]
    capped = [r for r in steps_rows if r["capped"]]
    head = "; ".join(f"s = {fmt(r['s'])}: {ST.fmt_steps(r)}" for r in steps_rows) or why
    return {
        "measurements": rows,
        "steps_to_target": steps_rows,
        "tables": [ST.steps_table(
            f"Steps to reach PI's last periodic held-out loss + {res.margin} nats (first evaluation at or below it; "
            f"{S.LEVEL:.0%} percentile intervals over held-out windows, Bonferroni over the scales)", steps_rows)]
        if steps_rows else [],
        "parts": named(m["parts"], {
            "noninferior": f"YaRN with {steps / v.get('steps', steps):.2g}x fewer steps no worse than PI",
            "steps": f"steps to reach PI's last loss: PI / YaRN above {PI_STEPS_RATIO:g} at every s",
            "tokens": "~10x fewer tokens (against Code Llama's recipe)"}),
        "verdict": m["verdict"],
        "criterion": f"tested: (a) YaRN fine-tuned for {v.get('steps')} steps ({m['tokens']} tokens) is no worse "
        f"than PI at {steps} steps (non-inferiority, margin {res.margin} nats/token, every length L..sL); (b) the "
        f"steps PI needs to reach its last held-out loss + {res.margin} nats over the steps YaRN needs to reach it, "
        f"{ST.threshold_text(PI_STEPS_RATIO, PI_STEPS_REASON)}; a ratio capped by the evaluation grid is "
        "inconclusive. Tokens per step are equal, so step ratios are token ratios against PI. Not tested: the "
        "paper's ~10x fewer tokens is against Code Llama's recipe, which is not run"
        + (f"; {why}" if why else ""),
        "headline": f"steps ratio {head}" + (" (capped: not resolved)" if capped else "")
        + f"; {headline_row(rows)}",
        "figures": ["training_efficiency.png", "claims_forest.png"],
        "rules": ["variant_model", "ppl_variant", "training_efficiency_figure"],
        "sources": res.src(f"variant:{name}", f"ppl:{m['reference']}", f"summary:{name}",
                           *[f"metrics:{x}" for x in m["runs"]]),
    }


# ---------------------------------------------------------------- claim 5
def measure_claim5(res: Results) -> dict:
    """Two tested parts. (a) The transfer (continuing a smaller-s YaRN fine-tune at s) is no worse than the
    fine-tune from the base at s (or than its starting checkpoint when there is none): paired
    non-inferiority. (b) Steps the fine-tune from the base needs to reach its last held-out loss + margin
    over the steps the transfer needs: above :data:`TRANSFER_STEPS_RATIO` (:mod:`yarnlab.claims.steps`;
    capped ratios inconclusive). Supporting: the transfer beats the same steps from the base."""
    cl = res.settings["claims"]
    name = cl.get("transfer")
    if not name:
        raise NotRun("claims.transfer is null in this configuration")
    var = res.settings["variants"]
    v = var[name]
    s = float(v["scale"])
    full = finetune_name("yarn", s)
    if f"ppl:{full}" in res.paths:
        ref, ref_s, what = full, s, f"{full} ({res.settings['finetune']['steps']} steps from base)"
    else:  # no such model in this config: compare with the starting checkpoint
        ref = v["init"]
        ref_s = float(var.get(ref, {}).get("scale", ref.rsplit("-s", 1)[-1]))
        what = f"{ref} (the starting checkpoint)"
    rows = res.compare(
        [
            (name, ref, n, "noninferiority", f"{name} ({v.get('steps')} steps from {v['init']}) / {what}")
            for n in res.within(name, min(s, ref_s))
            if n >= res.L
        ]
    )
    fs = cl.get("fewer_steps")
    if fs and var[fs].get("steps") == v.get("steps") and float(var[fs]["scale"]) == s:
        rows += res.compare(
            [
                (name, fs, n, "superiority", f"transfer / from base, both {v.get('steps')} steps")
                for n in res.within(name, s)
                if n >= res.L
            ],
            role="supporting",
        )
    pairs = [(full, name, {"what": f"{full} from base / {name}: steps to {full}'s last loss + margin", "s": s})
             ] if f"metrics:{full}" in res.paths else []
    steps_rows, why = _steps_rows(res, pairs, TRANSFER_STEPS_RATIO)
    noninf = G.combine(voting(rows))
    steps_part = ST.part(steps_rows) if steps_rows else G.INCONCLUSIVE
    return {"name": name, "from_base": full, "reference": ref, "reference_text": what, "rows": rows,
            "steps_rows": steps_rows, "steps_why": why, "parts": {"noninferior": noninf, "steps": steps_part},
            "verdict": G.combine([noninf, steps_part])}


def describe_claim5(m: dict, res: Results) -> dict:
    name, full, what, steps_rows, why = m["name"], m["from_base"], m["reference_text"], m["steps_rows"], m["steps_why"]
    v = res.settings["variants"][name]
    s = float(v["scale"])
    return {
        "measurements": m["rows"],
        "steps_to_target": steps_rows,
        "tables": [ST.steps_table(
            f"Steps to reach {full}'s last periodic held-out loss + {res.margin} nats ({S.LEVEL:.0%} percentile "
            "interval over held-out windows)", steps_rows)] if steps_rows else [],
        "parts": named(m["parts"], {
            "noninferior": f"transfer no worse than {what}",
            "steps": f"steps to reach the from-base fine-tune's last loss: ratio above {TRANSFER_STEPS_RATIO:g}"}),
        "verdict": m["verdict"],
        "criterion": f"(a) continuing {v['init']} at s = {fmt(s)} for {v.get('steps')} steps is no worse than {what} "
        f"(non-inferiority, margin {res.margin} nats/token, lengths L..sL); (b) the steps {full} needs from the base "
        f"to reach its last held-out loss + {res.margin} nats over the steps the transfer needs, "
        f"{ST.threshold_text(TRANSFER_STEPS_RATIO, TRANSFER_STEPS_REASON)}; a ratio capped by the evaluation grid "
        "is inconclusive; supporting: better than the same steps from base" + (f"; {why}" if why else ""),
        "headline": (f"steps ratio {ST.fmt_steps(steps_rows[0])}; " if steps_rows else "") + headline_row(m["rows"]),
        "figures": ["claims_forest.png"],
        "rules": ["variant_model", "ppl_variant"],
        "sources": res.src(f"variant:{name}", *res.ppl_keys(m["reference"]), f"metrics:{name}", f"metrics:{full}"),
    }
