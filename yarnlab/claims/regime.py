"""Regime checks: can this toy test the paper's claims at all?

Checks on the BASE model only, none of which tests a claim of the paper; their thresholds are the
claims settings' ``regime`` (the workflow config's ``regime:`` section, whose every value
``workflows/config/default.yaml`` holds), fixed before the run. A claim whose test depends on a failed
check is reported as "not testable on this toy", naming the check.

- ``convergence``: relative drop of the periodic held-out loss over the last 20% of pretraining,
  (loss at the last evaluation at or before 0.8 * steps - last loss) / last loss <= threshold. Not
  applicable (``passed`` None, "n/a") to a base pretrained elsewhere (``base_source`` other than
  ``pretrain``): there is no training curve to read, and no claim is gated on it.
- ``flat_positions``: the base's per-position loss at L carries no position artifact: mean NLL of
  the last L/16 positions minus that of the middle half [L/4, 3L/4), per document, interval upper
  end <= tolerance (nats/token). (A model that learned "the text ends at position L-1" scores
  several nats worse there.)
- ``context_use``: on positions [L/2, L), NLL with only the last L/8 tokens visible minus NLL with
  the full context, interval lower end > threshold: the model uses distant context.
- ``retrieval``: passkey ranked accuracy of the base pooled over lengths <= L, Wilson lower end
  > threshold: the base can retrieve within L, so keeping retrieval past L is a question.
- ``premise``: plain RoPE degrades past L: base PPL(2L) / PPL(L) on the same documents, interval
  lower end > threshold; judged on the primary perplexity reading (the same target tokens at L and 2L
  when the run sets ``ppl.same_targets``), the truncation reading, when scored too, shown beside it.
- ``induction``: the base copies in context (:mod:`yarnlab.evaluate.induction`): the induction gain
  (NLL of the first copy of a random-letter span minus that of its second copy) at every distance up
  to L - span, t-interval lower end > threshold at the *least* favourable distance.

An extra base (``base-<corpus>``, pretrained like the base on another corpus) is evaluated for
convergence, flat_positions and premise with the same thresholds (:func:`extra_base_regime`): the claims
about it (Q5) are gated on its own rows.
"""

from __future__ import annotations

import math
from collections import defaultdict

from yarnlab.claims import stats as S
from yarnlab.claims.results import MissingInputError, Results, second_reading

CHECKS = ("convergence", "flat_positions", "context_use", "retrieval", "premise", "induction")


def _row(check: str, what: str, value: str, threshold: str, ok: bool | None, detail: dict) -> dict:
    """One check; ``ok`` None: the check does not apply to this base."""
    return {"check": check, "what": what, "value": value, "threshold": threshold,
            "passed": None if ok is None else bool(ok), **detail}


def outcome(row: dict) -> str:
    """``pass``, ``fail`` or ``n/a`` (a check that does not apply) of a regime row."""
    return "n/a" if row["passed"] is None else "pass" if row["passed"] else "fail"


def convergence(res: Results, cfg: dict, base: str = "base") -> dict:
    thr = float(cfg["convergence_max_rel_drop"])
    source = res.settings.get("base_source", "pretrain")
    if source != "pretrain" and base == "base":
        return _row("convergence", "held-out loss change over the last 20% of pretraining",
                    f"n/a (base pretrained elsewhere, source {source}: no training curve here)",
                    f"<= {thr:.1%}", None, {})
    evals = [r for r in res.jsonl(f"metrics:{base}") if "heldout_loss" in r and not r.get("final")]
    if len(evals) < 2:
        return _row(
            "convergence",
            "held-out loss change over the last 20% of pretraining",
            "n/a (fewer than 2 periodic evaluations)",
            f"<= {thr:.1%}",
            False,
            {},
        )
    last = evals[-1]
    cut = 0.8 * last["step"]
    before = [r for r in evals if r["step"] <= cut] or evals[:1]
    ref = before[-1]
    drop = (ref["heldout_loss"] - last["heldout_loss"]) / last["heldout_loss"]
    return _row(
        "convergence",
        f"held-out loss drop from step {ref['step']} to {last['step']}, relative",
        f"{drop:.2%} ({ref['heldout_loss']:.4f} -> {last['heldout_loss']:.4f} nats)",
        f"<= {thr:.1%}",
        drop <= thr,
        {"estimate": drop},
    )


def flat_positions(res: Results, cfg: dict, base: str = "base") -> dict:
    L, tol = res.L, float(cfg["position_tolerance"])
    rows = res.table(f"positions:{base}")
    last, middle = defaultdict(list), defaultdict(list)
    for r in rows:
        if r["pos_lo"] >= L - L // 16:
            last[r["doc"]].append((r["nll"], r["tokens"]))
        elif L // 4 <= r["pos_lo"] and r["pos_hi"] <= 3 * L // 4:
            middle[r["doc"]].append((r["nll"], r["tokens"]))

    def wmean(xs):
        return sum(v * t for v, t in xs) / sum(t for _, t in xs)

    diff = {d: wmean(last[d]) - wmean(middle[d]) for d in last if d in middle}
    est = S.mean_ci(diff, res.n_boot)
    return _row(
        "flat_positions",
        f"{base} at L = {L}: NLL(last L/16) - NLL(middle half), nats/token",
        f"{est.value:.3f} [{est.low:.3f}, {est.high:.3f}]",
        f"upper end <= {tol}",
        est.high <= tol,
        {"estimate": est.to_dict()},
    )


def context_visible(frac: float, length: int) -> int:
    """Tokens left visible by the ``context_use`` check: ``round(frac * L)``, at least 1."""
    return max(1, int(round(float(frac) * int(length))))


def context_use_estimate(rows: list[dict], n_boot: int) -> S.Estimate:
    """Mean over pieces of NLL with only the last ``visible`` tokens - with full context, and its interval
    over works (rows of ``yarnlab eval context-use``)."""
    return S.mean_ci({r["doc"]: float(r["nll_truncated"]) - float(r["nll_full"]) for r in rows}, n_boot)


def context_use(res: Results, cfg: dict) -> dict:
    thr = float(cfg["context_use_min_gain"])
    rows = res.table("context_use")
    est = context_use_estimate(rows, res.n_boot)
    vis = rows[0]["visible"]
    return _row(
        "context_use",
        f"positions [L/2, L): NLL with the last {vis} tokens visible - with full context",
        f"{est.value:.3f} [{est.low:.3f}, {est.high:.3f}]",
        f"lower end > {thr}",
        est.low > thr,
        {"estimate": est.to_dict()},
    )


def retrieval(res: Results, cfg: dict) -> dict:
    thr = float(cfg["retrieval_min_accuracy"])
    key = "passkey:base"
    if not res.has(key):
        return _row(
            "retrieval",
            "passkey ranked accuracy of the base within L",
            "not run (base not in passkey.models)",
            f"Wilson lower end > {thr}",
            False,
            {},
        )
    g = [r for r in res.table(key) if r["length"] <= res.L]
    if not g:
        return _row(
            "retrieval",
            "passkey ranked accuracy of the base within L",
            "no length <= L in passkey.lengths",
            f"Wilson lower end > {thr}",
            False,
            {},
        )
    k = sum(int(r["ranked"]) for r in g)
    lo, hi = S.wilson(k, len(g))
    lens = sorted({r["length"] for r in g})
    return _row(
        "retrieval",
        f"base passkey ranked accuracy at lengths {lens}",
        f"{k}/{len(g)} = {k / len(g):.2f} [{lo:.2f}, {hi:.2f}]",
        f"Wilson lower end > {thr}",
        lo > thr,
        {"estimate": {"value": k / len(g), "low": lo, "high": hi, "n": len(g)}},
    )


def premise(res: Results, cfg: dict, base: str = "base") -> dict:
    thr = float(cfg["premise_min_ratio"])
    L = res.L
    if 2 * L not in res.lengths(base):
        return _row(
            "premise",
            f"{base} PPL(2L) / PPL(L)",
            f"n/a (no {base} perplexity at 2L = {2 * L})",
            f"lower end > {thr}",
            False,
            {},
        )
    est = S.paired(res.nll(base, 2 * L), res.nll(base, L), res.n_boot)
    r = S.ratio(est)
    value, detail = f"{r.value:.3g} [{r.low:.3g}, {r.high:.3g}]", {"estimate": r.to_dict(), "reading": res.reading}
    other = second_reading(res.settings)
    if other:  # the second reading, on the same files: shown, never judged
        alt = res.with_reading(other)
        try:
            o = S.ratio(S.paired(alt.nll(base, 2 * L), alt.nll(base, L), res.n_boot))
            value += f"; {other} reading (not judged): {o.value:.3g} [{o.low:.3g}, {o.high:.3g}]"
            detail["second_reading"] = {"name": other, "estimate": o.to_dict()}
        except MissingInputError as exc:
            value += f"; {other} reading: missing ({exc})"
    return _row(
        "premise",
        f"{base} PPL({2 * L}) / PPL({L}), same documents, {res.reading} reading",
        value,
        f"lower end > {thr}",
        est.low > math.log(thr),
        detail,
    )


def induction(res: Results, cfg: dict) -> dict:
    thr = float(cfg["induction_min_gain"])
    rows = [r for r in res.table("induction") if r["measure"] == "induction_gain"]
    worst = min(rows, key=lambda r: r["lo"])
    dists = [int(r["distance"]) for r in rows]
    return _row(
        "induction",
        f"induction gain (first - second copy of {int(worst['span'])} random letters), nats, at distances {dists}: "
        "the least favourable",
        f"{worst['value']:.3f} [{worst['lo']:.3f}, {worst['hi']:.3f}] at distance {int(worst['distance'])}",
        f"lower end > {thr}",
        worst["lo"] > thr,
        {"estimate": {"value": worst["value"], "low": worst["lo"], "high": worst["hi"], "n": int(worst["n"]),
                      "distance": int(worst["distance"])},
         "per_distance": {int(r["distance"]): r["value"] for r in rows}},
    )


def regime_table(res: Results) -> list[dict]:
    """One row per check: check, what, value, threshold, passed."""
    cfg = res.settings["regime"]
    return [f(res, cfg) for f in (convergence, flat_positions, context_use, retrieval, premise, induction)]


# The checks an extra base (``base-<corpus>``, config ``extra_bases``) is evaluated for: those read from its
# own training curve, per-position profile and perplexity table. The claims on an extra base (Q5) need no
# other (registry EXTENDS); context use, retrieval and induction are evaluated on the main base only.
EXTRA_BASE_CHECKS = {"convergence": convergence, "flat_positions": flat_positions, "premise": premise}


def extra_base_regime(res: Results, base: str, checks: tuple[str, ...]) -> list[dict]:
    """The regime rows of extra base ``base`` for ``checks`` (each in EXTRA_BASE_CHECKS), thresholds as the
    main base's."""
    unknown = [c for c in checks if c not in EXTRA_BASE_CHECKS]
    if unknown:
        raise ValueError(f"premises: {unknown} are not evaluated on an extra base ({base}); "
                         f"allowed: {sorted(EXTRA_BASE_CHECKS)}")
    cfg = res.settings["regime"]
    return [EXTRA_BASE_CHECKS[c](res, cfg, base) for c in CHECKS if c in checks]


REGIME_ROLES = {"metrics:base", "positions:base", "context_use", "passkey:base", "ppl:base", "induction"}


def regime_only(results: str, settings: dict, n_boot: int | None = None) -> list[dict]:
    """The regime table from the base model's evaluations alone (no fine-tune needed)."""
    return regime_table(Results(results, settings, n_boot, only=REGIME_ROLES))


def failed(table: list[dict]) -> set[str]:
    """The checks that failed (not those that do not apply)."""
    return {r["check"] for r in table if r["passed"] is False}
