"""The registry of claims, like the method registry of :mod:`yarnlab.rope`: each claim names its
id, its entry in ``published.json`` (the paper's words and numbers), the regime checks its test
depends on, and the function computing its section from the run's results.

:func:`build` runs the regime checks first; a claim that depends on a failed check is computed
(its numbers stay visible) but its verdict is "not testable on this toy", naming the checks.

A claim read from perplexity tables (``ppl``) votes on one reading and shows the other beside it. A
claim that compares lengths (``ppl="lengths"``: a ratio PPL(n)/PPL(n') or a model's curve over n)
votes on the primary reading (:func:`~yarnlab.claims.results.primary_reading`: the same target tokens
at every length when the run sets ``ppl.same_targets``), since under truncation content alone moves
length ratios. A claim that compares models at one length (``ppl="models"``) is not moved by content
drift (both models read the same tokens), so when the run also scored the paper's truncation protocol
it votes on that reading, which scores every token of the first n (far more tokens than the same-target
block, so more power). Either way the claim is computed a second time on the other reading and that
section's rows and would-be verdict are attached as ``second_reading``: shown in CLAIMS.md beside the
voting rows, never voting.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from yarnlab.claims import grammar as G
from yarnlab.claims import noft, perplexity, retrieval, temperature
from yarnlab.claims import stats as S
from yarnlab.claims.regime import failed, regime_table
from yarnlab.claims.results import MissingInputError, Results, second_reading

PUBLISHED = Path(__file__).with_name("published.json")

@dataclass(frozen=True)
class Premise:
    """A regime check a claim's test depends on, and why that claim needs it."""

    check: str
    reason: str


# The premises, one per regime check, worded for the claims that share them. The rule: every claim
# reads a trained base (convergence) whose loss has no position artifact within L (flat_positions);
# a claim adds the premise its comparison itself rests on, and only that one.
CONVERGED = Premise("convergence", "differences between methods must not be a still-falling base's")
FLAT = Premise("flat_positions", "a loss that rises near L would be read as a method's failure past L")
DEGRADES = Premise("premise", "the claim is about fixing plain RoPE past L, so plain RoPE must fail there")
USES_CONTEXT = Premise("context_use", "perplexity can fall with a longer window only if the base reads "
                       "context far back")
RETRIEVES = Premise("retrieval", "retrieval past L can be asked only of a base that retrieves within L")
BASE = (CONVERGED, FLAT)
EXTENDS = BASE + (DEGRADES,)  # claims about extending a base past L, fine-tuned or not


@dataclass(frozen=True)
class Claim:
    id: str
    published: tuple[str, str]  # (section, key) in published.json
    premises: tuple[Premise, ...]  # regime checks the test depends on, each with its reason
    compute: Callable[[Results], dict]
    ppl: str | None = None  # perplexity tables: "lengths" (compares lengths) or "models" (one length); see above

    @property
    def needs(self) -> tuple[str, ...]:
        return tuple(p.check for p in self.premises)


# Claims 1, 4 and Q2 are one phenomenon (positional extrapolation past what was seen) and share BASE
# (claim 1 is the premise check's own question, so it cannot rest on it). Claims 2, 3 and 5 (fine-tuned)
# and 6, 7, Q1, Q4 (no fine-tuning; Eq. 22 was fitted on LLaMA without it) compare ways of extending
# the base past L: EXTENDS. None of them reads how far back the base looks; only claim 10 (perplexity
# keeps falling with context) rests on context use.
CLAIMS: tuple[Claim, ...] = (
    Claim("1", ("claims", "1"), BASE, perplexity.claim1, ppl="lengths"),
    Claim("2", ("claims", "2"), EXTENDS, perplexity.claim2, ppl="lengths"),
    Claim("3", ("claims", "3"), EXTENDS, perplexity.claim3, ppl="models"),
    Claim("4", ("claims", "4"), BASE, perplexity.claim4, ppl="lengths"),
    Claim("5", ("claims", "5"), EXTENDS, perplexity.claim5, ppl="models"),
    Claim("6", ("claims", "6"), EXTENDS, temperature.claim6),
    Claim("7", ("claims", "7"), EXTENDS, noft.claim7),
    Claim("8", ("claims", "8"), BASE, perplexity.claim8, ppl="models"),
    Claim("9", ("claims", "9"), (CONVERGED, RETRIEVES), retrieval.claim9),
    Claim("10", ("claims", "10"), BASE + (USES_CONTEXT,), perplexity.claim_sliding, ppl="lengths"),
    Claim("Q1", ("open_questions", "alpha_beta"), EXTENDS, noft.q_alpha_beta),
    Claim("Q2", ("open_questions", "extrapolation"), BASE, perplexity.q_extrapolation, ppl="lengths"),
    Claim("Q3", ("open_questions", "ramp"), BASE, perplexity.q_ramp, ppl="models"),
    Claim("Q4", ("open_questions", "temperature_theory"), EXTENDS, None),  # needs claim 6's band
    Claim("Q5", ("open_questions", "corpus"), EXTENDS, perplexity.q_corpus, ppl="lengths"),
)


def _voting_results(claim: Claim, res: Results, second: str | None) -> tuple[Results, str | None]:
    """(the Results a claim votes on, the reading shown beside it): a comparison of models at one length
    votes on the truncation reading when the run scored it (every token of the first n), the same targets
    beside; every other perplexity claim votes on the primary reading."""
    if claim.ppl == "models" and second is not None:
        return res.with_reading(second), res.reading
    return res, second


def _readings(sec: dict, claim: Claim, res: Results, second: str | None) -> dict:
    """Name the reading a perplexity claim voted on and attach the second reading (rows, would-be
    verdict, headline), computed on the same files; it never votes and no gate touches it."""
    if not claim.ppl or sec["verdict"] == G.NOT_RUN:
        return sec
    sec["reading"] = {"name": res.reading, "text": res.reading_text()}
    if second is None:
        return sec
    alt = res.with_reading(second)
    try:
        other = claim.compute(alt)
    except MissingInputError as exc:
        sec["second_reading"] = {"name": second, "text": alt.reading_text(), "missing": str(exc)}
        return sec
    sec["second_reading"] = {"name": second, "text": alt.reading_text(), "verdict": other["verdict"],
                             "headline": other.get("headline", ""),
                             "measurements": [r for r in other.get("measurements", []) if "ppl_ratio" in r]}
    return sec


def _gate(section: dict, premises: tuple[Premise, ...], bad: set[str], regime: list[dict]) -> dict:
    needs = [p.check for p in premises]
    hit = [c for c in needs if c in bad]
    if hit and section["verdict"] != G.NOT_RUN:
        what = {r["check"]: r["what"] for r in regime}
        section["verdict_if_testable"] = section["verdict"]
        section["verdict"] = G.NOT_TESTABLE
        section["not_testable_because"] = [f"{c} ({what[c]})" for c in hit]
    section["needs"] = needs
    section["premises"] = [{"check": p.check, "reason": p.reason} for p in premises]
    return section


def build(results: str, settings: dict, n_boot: int | None = None) -> dict:
    """All sections as one JSON-able dict. A missing result file raises MissingInputError (``Results``
    checks every input first); a claim whose tables this configuration does not make (no fine-tunes, no
    length >= 4L, ...) reads "not run" with the reason."""
    res = Results(results, settings, n_boot)
    second = second_reading(settings)
    pub = json.loads(PUBLISHED.read_text())
    regime = regime_table(res)
    bad = failed(regime)
    sections, c6 = [], None
    for claim in CLAIMS:
        used, beside = _voting_results(claim, res, second)
        try:
            if claim.id == "Q4" and "per_s" not in c6:
                raise MissingInputError("claim 6, whose band it reads, was not run")
            if claim.id == "Q4":
                sec = temperature.q_temperature_theory(res, c6)
            else:
                try:
                    sec = claim.compute(used)
                except MissingInputError:
                    if used is res:
                        raise
                    used, beside = res, second  # tables without the truncation rows: vote on the primary
                    sec = claim.compute(used)
        except MissingInputError as exc:  # a table this configuration does not make (every file exists)
            sec = perplexity.not_run(f"not run in this configuration: {exc}")
        if claim.id == "6":
            c6 = sec
        sec = _readings(sec, claim, used, beside)
        sec = {"id": claim.id, **pub[claim.published[0]][claim.published[1]], **sec}
        sections.append(_gate(sec, claim.premises, bad, regime))
    return {
        "published_source": pub["source"],
        "n_boot": res.n_boot,
        "margin_nats": res.margin,
        "L": res.L,
        "seed": settings["seed"],
        "reading": res.reading,
        "reading_text": res.reading_text(),
        "second_reading": second,
        "interval_method": S.METHOD,
        "level": S.LEVEL,
        "regime": regime,
        "regime_thresholds": settings["regime"],
        "no_finetune": perplexity.no_finetune_table(res),
        "preregistration": settings.get("preregistration"),
        "toy": settings.get("toy", {}),
        "claims": [s for s in sections if not s["id"].startswith("Q")],
        "open_questions": [s for s in sections if s["id"].startswith("Q")],
        "inputs": sorted(set(res.paths.values())),
    }
