"""The registry of claims, like the method registry of :mod:`yarnlab.rope`: each claim names its
id, its entry in ``published.json`` (the paper's words and numbers), the regime checks its test
depends on, the claims whose measurement it reads, and its two steps: ``measure`` (the run's results ->
rows, intervals, verdicts and numbers) and ``describe`` (that measurement -> the section CLAIMS.md and
claims.json show: criterion, headline, tables, figures, rules, sources).

:func:`build` runs the regime checks first, then the claims in registry order (a claim after the claims
it reads); a claim that depends on a failed check is computed (its numbers stay visible) but its
verdict is "not testable on this toy", naming the checks. A claim about another base (Q5: the base
pretrained on a second corpus, ``base-<corpus>``) is gated on that base's own checks
(:func:`~yarnlab.claims.regime.extra_base_regime`), shown in CLAIMS.md under the main base's. A claim
that reads another's measurement is "not run" when that claim was not run.

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

from yarnlab.claims import finetuning, noft, perplexity, retrieval, temperature
from yarnlab.claims import grammar as G
from yarnlab.claims import stats as S
from yarnlab.claims.regime import extra_base_regime, failed, regime_table
from yarnlab.claims.results import MissingInputError, Results, second_reading
from yarnlab.claims.sections import NotRun, not_run
from yarnlab.workflow.layout import extra_base_name

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
class Reads:
    """Another claim whose measurement a claim reads, and what of it (named when that claim was not run)."""

    claim: str
    what: str


@dataclass(frozen=True)
class Claim:
    id: str
    published: tuple[str, str]  # (section, key) in published.json
    premises: tuple[Premise, ...]  # regime checks the test depends on, each with its reason
    measure: Callable[..., dict]  # (Results, *the measurements of `reads`) -> rows, verdicts, numbers
    describe: Callable[[dict, Results], dict]  # (measurement, Results) -> the section's words, tables, files
    ppl: str | None = None  # perplexity tables: "lengths" (compares lengths) or "models" (one length); see above
    reads: tuple[Reads, ...] = ()  # claims whose measurement `measure` takes, listed before this one
    # the base whose regime checks gate the claim: "base", or a function of the claims settings naming an
    # extra base (``base-<corpus>``; None where the configuration has none, and the claim is not run)
    base: Callable[[dict], str | None] | None = None

    def base_of(self, settings: dict) -> str | None:
        return "base" if self.base is None else self.base(settings)

    @property
    def needs(self) -> tuple[str, ...]:
        return tuple(p.check for p in self.premises)

    def section(self, res: Results, measured: dict[str, dict | None] | None = None) -> tuple[dict, dict | None]:
        """(the claim's section, its measurement) on ``res``; a claim its configuration leaves out gives the
        "not run" section and no measurement. ``measured``: the measurements of the claims computed before
        (None for one not run), from which ``reads`` takes its own. A missing table raises MissingInputError."""
        earlier = []
        for r in self.reads:
            m = (measured or {}).get(r.claim)
            if m is None:
                raise MissingInputError(f"claim {r.claim}, whose {r.what} it reads, was not run")
            earlier.append(m)
        try:
            m = self.measure(res, *earlier)
        except NotRun as exc:
            return not_run(exc.why), None
        return self.describe(m, res), m


def corpus_base(settings: dict) -> str | None:
    """The base of the second-corpus claim (``claims.corpus.corpus``), None where the run has none."""
    cc = settings["claims"].get("corpus")
    return extra_base_name(cc["corpus"]) if cc else None


# Claims 1, 4 and Q2 are one phenomenon (positional extrapolation past what was seen) and share BASE
# (claim 1 is the premise check's own question, so it cannot rest on it). Claims 2, 3 and 5 (fine-tuned)
# and 6, 7, Q1, Q4 (no fine-tuning; Eq. 22 was fitted on LLaMA without it) compare ways of extending
# the base past L: EXTENDS. None of them reads how far back the base looks; only claim 10 (perplexity
# keeps falling with context) rests on context use. Q5 repeats claims 1 and 2 on the code base, so it
# rests on that base's own checks (EXTENDS, evaluated on base-<corpus>), not the prose base's.
CLAIMS: tuple[Claim, ...] = (
    Claim("1", ("claims", "1"), BASE, perplexity.measure_claim1, perplexity.describe_claim1, ppl="lengths"),
    Claim("2", ("claims", "2"), EXTENDS, perplexity.measure_claim2, perplexity.describe_claim2, ppl="lengths"),
    Claim("3", ("claims", "3"), EXTENDS, finetuning.measure_claim3, finetuning.describe_claim3, ppl="models"),
    Claim("4", ("claims", "4"), BASE, perplexity.measure_claim4, perplexity.describe_claim4, ppl="lengths"),
    Claim("5", ("claims", "5"), EXTENDS, finetuning.measure_claim5, finetuning.describe_claim5, ppl="models"),
    Claim("6", ("claims", "6"), EXTENDS, temperature.measure_claim6, temperature.describe_claim6),
    Claim("7", ("claims", "7"), EXTENDS, noft.measure_claim7, noft.describe_claim7),
    Claim("8", ("claims", "8"), BASE, perplexity.measure_claim8, perplexity.describe_claim8, ppl="models"),
    Claim("9", ("claims", "9"), (CONVERGED, RETRIEVES), retrieval.measure_claim9, retrieval.describe_claim9),
    Claim("10", ("claims", "10"), BASE + (USES_CONTEXT,), perplexity.measure_sliding, perplexity.describe_sliding,
          ppl="lengths"),
    Claim("Q1", ("open_questions", "alpha_beta"), EXTENDS, noft.measure_alpha_beta, noft.describe_alpha_beta),
    Claim("Q2", ("open_questions", "extrapolation"), BASE, perplexity.measure_extrapolation,
          perplexity.describe_extrapolation, ppl="lengths"),
    Claim("Q3", ("open_questions", "ramp"), BASE, perplexity.measure_ramp, perplexity.describe_ramp, ppl="models"),
    Claim("Q4", ("open_questions", "temperature_theory"), EXTENDS, temperature.measure_temperature_theory,
          temperature.describe_temperature_theory, reads=(Reads("6", "band"),)),
    Claim("Q5", ("open_questions", "corpus"), EXTENDS, perplexity.measure_corpus, perplexity.describe_corpus,
          ppl="lengths", base=corpus_base),
)


def _voting_results(claim: Claim, res: Results, second: str | None) -> tuple[Results, str | None]:
    """(the Results a claim votes on, the reading shown beside it): a comparison of models at one length
    votes on the truncation reading when the run scored it (every token of the first n), the same targets
    beside; every other perplexity claim votes on the primary reading."""
    if claim.ppl == "models" and second is not None:
        return res.with_reading(second), res.reading
    return res, second


def _readings(sec: dict, claim: Claim, res: Results, second: str | None, measured: dict) -> dict:
    """Name the reading a perplexity claim voted on and attach the second reading (rows, would-be
    verdict, headline), computed on the same files; it never votes and no gate touches it."""
    if not claim.ppl or sec["verdict"] == G.NOT_RUN:
        return sec
    sec["reading"] = {"name": res.reading, "text": res.reading_text()}
    if second is None:
        return sec
    alt = res.with_reading(second)
    try:
        other, _ = claim.section(alt, measured)
    except MissingInputError as exc:
        sec["second_reading"] = {"name": second, "text": alt.reading_text(), "missing": str(exc)}
        return sec
    sec["second_reading"] = {"name": second, "text": alt.reading_text(), "verdict": other["verdict"],
                             "headline": other.get("headline", ""),
                             "measurements": [r for r in other.get("measurements", []) if "ppl_ratio" in r]}
    return sec


def _gate(section: dict, premises: tuple[Premise, ...], regime: list[dict], base: str | None = "base") -> dict:
    """Gate a section on ``regime``, the rows of the base the claim is about (``base``)."""
    needs = [p.check for p in premises]
    bad = failed(regime)
    hit = [c for c in needs if c in bad]
    if hit and section["verdict"] != G.NOT_RUN:
        what = {r["check"]: r["what"] for r in regime}
        section["verdict_if_testable"] = section["verdict"]
        section["verdict"] = G.NOT_TESTABLE
        section["not_testable_because"] = [f"{c} ({what[c]})" for c in hit]
    section["needs"] = needs
    section["premises"] = [{"check": p.check, "reason": p.reason} for p in premises]
    section["premises_of"] = base
    return section


def regimes(res: Results, settings: dict) -> dict[str, list[dict]]:
    """{base: its regime rows}: the main base (every check) and every extra base a claim is about, each for
    the union of the premises of the claims on it."""
    needs: dict[str, set[str]] = {}
    for claim in CLAIMS:
        b = claim.base_of(settings)
        if b is not None and b != "base":
            needs.setdefault(b, set()).update(claim.needs)
    return {"base": regime_table(res), **{b: extra_base_regime(res, b, tuple(sorted(c))) for b, c in needs.items()}}


def build(results: str, settings: dict, n_boot: int | None = None) -> dict:
    """All sections as one JSON-able dict. A missing result file raises MissingInputError (``Results``
    checks every input first); a claim whose tables this configuration does not make (no fine-tunes, no
    length >= 4L, ...) reads "not run" with the reason."""
    res = Results(results, settings, n_boot)
    second = second_reading(settings)
    pub = json.loads(PUBLISHED.read_text())
    by_base = regimes(res, settings)
    sections, measured = [], {}
    for claim in CLAIMS:
        used, beside = _voting_results(claim, res, second)
        m = None
        try:
            try:
                sec, m = claim.section(used, measured)
            except MissingInputError:
                if used is res:
                    raise
                used, beside = res, second  # tables without the truncation rows: vote on the primary
                sec, m = claim.section(used, measured)
        except MissingInputError as exc:  # a table this configuration does not make (every file exists)
            sec = not_run(f"not run in this configuration: {exc}")
        measured[claim.id] = m
        sec = _readings(sec, claim, used, beside, measured)
        sec = {"id": claim.id, **pub[claim.published[0]][claim.published[1]], **sec}
        base = claim.base_of(settings)  # None: about an extra base this configuration lacks (not run)
        sections.append(_gate(sec, claim.premises, by_base.get(base, []), base))
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
        "regime": by_base["base"],
        "regime_extra": {b: rows for b, rows in by_base.items() if b != "base"},
        "regime_thresholds": settings["regime"],
        "no_finetune": perplexity.no_finetune_table(res),
        "preregistration": settings.get("preregistration"),
        "toy": settings.get("toy", {}),
        "claims": [s for s in sections if not s["id"].startswith("Q")],
        "open_questions": [s for s in sections if s["id"].startswith("Q")],
        "inputs": sorted(set(res.paths.values())),
    }
