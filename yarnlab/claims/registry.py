"""The registry of claims, like the method registry of :mod:`yarnlab.rope`: each claim names its
id, its entry in ``published.json`` (the paper's words and numbers), the regime checks its test
depends on, and the function computing its section from the run's results.

:func:`build` runs the regime checks first; a claim that depends on a failed check is computed
(its numbers stay visible) but its verdict is "not testable on this toy", naming the checks.
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
from yarnlab.claims.results import Results

PUBLISHED = Path(__file__).with_name("published.json")

# the checks every perplexity claim needs, and those that extension claims add
BASE = ("convergence", "flat_positions")
EXTENSION = BASE + ("context_use", "premise")


@dataclass(frozen=True)
class Claim:
    id: str
    published: tuple[str, str]  # (section, key) in published.json
    needs: tuple[str, ...]  # regime checks the test depends on
    compute: Callable[[Results], dict]


CLAIMS: tuple[Claim, ...] = (
    Claim("1", ("claims", "1"), BASE, perplexity.claim1),
    Claim("2", ("claims", "2"), EXTENSION, perplexity.claim2),
    Claim("3", ("claims", "3"), EXTENSION, perplexity.claim3),
    Claim("4", ("claims", "4"), EXTENSION, perplexity.claim4),
    Claim("5", ("claims", "5"), EXTENSION, perplexity.claim5),
    Claim("6", ("claims", "6"), EXTENSION, temperature.claim6),
    Claim("7", ("claims", "7"), BASE + ("premise",), noft.claim7),
    Claim("8", ("claims", "8"), BASE, perplexity.claim8),
    Claim("9", ("claims", "9"), ("convergence", "retrieval"), retrieval.claim9),
    Claim("10", ("claims", "10"), EXTENSION, perplexity.claim_sliding),
    Claim("Q1", ("open_questions", "alpha_beta"), BASE + ("premise",), noft.q_alpha_beta),
    Claim("Q2", ("open_questions", "extrapolation"), EXTENSION, perplexity.q_extrapolation),
    Claim("Q3", ("open_questions", "ramp"), BASE, perplexity.q_ramp),
    Claim("Q4", ("open_questions", "temperature_theory"), EXTENSION, None),  # needs claim 6's band
    Claim("Q5", ("open_questions", "corpus"), EXTENSION, perplexity.q_corpus),
)


def _gate(section: dict, needs: tuple[str, ...], bad: set[str], regime: list[dict]) -> dict:
    hit = [c for c in needs if c in bad]
    if hit and section["verdict"] != G.NOT_RUN:
        what = {r["check"]: r["what"] for r in regime}
        section["verdict_if_testable"] = section["verdict"]
        section["verdict"] = G.NOT_TESTABLE
        section["not_testable_because"] = [f"{c} ({what[c]})" for c in hit]
    section["needs"] = list(needs)
    return section


def build(results: str, paper_figs: str, settings: dict, n_boot: int | None = None) -> dict:
    """All sections as one JSON-able dict (raises MissingInputError on a missing input)."""
    res = Results(results, paper_figs, settings, n_boot)
    pub = json.loads(PUBLISHED.read_text())
    regime = regime_table(res)
    bad = failed(regime)
    sections, c6 = [], None
    for claim in CLAIMS:
        if claim.id == "Q4":
            sec = temperature.q_temperature_theory(res, c6)
        else:
            sec = claim.compute(res)
        if claim.id == "6":
            c6 = sec
        sec = {"id": claim.id, **pub[claim.published[0]][claim.published[1]], **sec}
        sections.append(_gate(sec, claim.needs, bad, regime))
    return {
        "published_source": pub["source"],
        "n_boot": res.n_boot,
        "margin_nats": res.margin,
        "L": res.L,
        "seed": settings["seed"],
        "interval_method": S.METHOD,
        "level": S.LEVEL,
        "regime": regime,
        "regime_thresholds": settings["regime"],
        "toy": settings.get("toy", {}),
        "claims": [s for s in sections if not s["id"].startswith("Q")],
        "open_questions": [s for s in sections if s["id"].startswith("Q")],
        "inputs": sorted(set(res.paths.values())),
    }
