"""The verdict grammar (yarnlab.claims.grammar): every test on intervals on each side of its bound and
straddling it, the row combination rule and the statement printed at the top of CLAIMS.md (issue 11,
"a written, tested verdict grammar in one place")."""

from __future__ import annotations

import pytest

from yarnlab.claims import grammar as G
from yarnlab.claims.stats import Estimate
from yarnlab.errors import UsageError


def iv(low: float, high: float) -> Estimate:
    return Estimate((low + high) / 2, low, high, 8)


BELOW, ABOVE, STRADDLE = iv(-0.3, -0.1), iv(0.1, 0.3), iv(-0.1, 0.1)


@pytest.mark.parametrize("est, expected", [(BELOW, G.HOLDS), (ABOVE, G.FAILS), (STRADDLE, G.INCONCLUSIVE)])
def test_superiority(est, expected):
    assert G.superiority(est) == expected


@pytest.mark.parametrize("est, expected", [(ABOVE, G.HOLDS), (BELOW, G.FAILS), (STRADDLE, G.INCONCLUSIVE)])
def test_inferiority(est, expected):
    assert G.inferiority(est) == expected


@pytest.mark.parametrize(
    "est, expected",
    [
        (iv(-0.1, 0.05), G.HOLDS),  # upper end below the margin, even if the interval straddles 0
        (iv(-0.1, 0.1), G.HOLDS),  # upper end exactly at the margin
        (iv(0.12, 0.3), G.FAILS),  # lower end past the margin
        (iv(0.05, 0.2), G.INCONCLUSIVE),  # straddles the margin
    ],
)
def test_noninferiority(est, expected):
    assert G.noninferiority(est, 0.1) == expected


@pytest.mark.parametrize(
    "est, expected",
    [
        (iv(-0.05, 0.05), G.HOLDS),
        (iv(-0.1, 0.1), G.HOLDS),  # the bounds are inclusive
        (iv(0.15, 0.3), G.FAILS),
        (iv(-0.3, -0.15), G.FAILS),
        (iv(0.05, 0.15), G.INCONCLUSIVE),
        (iv(-0.15, -0.05), G.INCONCLUSIVE),
        (iv(-0.2, 0.2), G.INCONCLUSIVE),  # wider than the margin on both sides
    ],
)
def test_equivalence(est, expected):
    assert G.equivalence(est, 0.1) == expected


@pytest.mark.parametrize("est, expected", [(iv(2.1, 3), G.HOLDS), (iv(1, 2), G.FAILS), (iv(1.5, 2.5), G.INCONCLUSIVE)])
def test_above(est, expected):
    assert G.above(est, 2.0) == expected


@pytest.mark.parametrize("est, expected", [(iv(1, 1.9), G.HOLDS), (iv(2, 3), G.FAILS), (iv(1.5, 2.5), G.INCONCLUSIVE)])
def test_below(est, expected):
    assert G.below(est, 2.0) == expected


def test_thresholds_use_the_interval_not_the_point():
    # the point estimate is on the claimed side but the interval is not: never "holds"
    e = Estimate(2.5, 1.5, 3.5, 8)
    assert G.above(e, 2.0) == G.INCONCLUSIVE
    assert G.below(Estimate(1.5, 0.5, 2.5, 8), 2.0) == G.INCONCLUSIVE


@pytest.mark.parametrize(
    "est, expected",
    [(iv(0.9, 1.2), G.CONSISTENT), (iv(1.0, 1.2), G.CONSISTENT), (iv(1.1, 1.3), G.FAILS), (iv(0.7, 0.9), G.FAILS)],
)
def test_point_value_is_never_a_hold(est, expected):
    assert G.point_value(est, 1.0) == expected
    assert G.point_value(est, 1.0) != G.HOLDS


@pytest.mark.parametrize(
    "rows, expected",
    [
        ([G.HOLDS, G.HOLDS], G.HOLDS),
        ([G.HOLDS], G.HOLDS),
        ([G.HOLDS, G.CONSISTENT], G.CONSISTENT),
        ([G.CONSISTENT, G.CONSISTENT], G.CONSISTENT),
        ([G.HOLDS, G.INCONCLUSIVE], G.INCONCLUSIVE),
        ([G.CONSISTENT, G.INCONCLUSIVE], G.INCONCLUSIVE),
        # "does not hold" as soon as one needed row fails (issue 11 item 9)
        ([G.HOLDS] * 9 + [G.FAILS], G.FAILS),
        ([G.FAILS] * 9 + [G.INCONCLUSIVE], G.FAILS),
        ([G.INCONCLUSIVE, G.FAILS, G.CONSISTENT], G.FAILS),
    ],
)
def test_combine(rows, expected):
    assert G.combine(rows) == expected


def test_combine_refuses_empty_and_unknown_rows():
    with pytest.raises(UsageError, match="empty"):
        G.combine([])
    for bad in ("maybe", "partly", G.NOT_TESTABLE, G.NOT_RUN):
        with pytest.raises(UsageError, match="unknown"):
            G.combine([G.HOLDS, bad])


def test_fitted_value_reads_not_transferred_only_when_the_constant_alone_fails():
    assert G.fitted_value(G.FAILS, [G.HOLDS, G.INCONCLUSIVE]) == G.NOT_TRANSFERRED
    assert G.fitted_value(G.FAILS, [G.FAILS]) == G.FAILS  # another part fails: the claim does not hold
    assert G.fitted_value(G.CONSISTENT, [G.HOLDS]) == G.CONSISTENT
    assert G.fitted_value(G.INCONCLUSIVE, [G.HOLDS]) == G.INCONCLUSIVE
    with pytest.raises(UsageError, match="unknown"):
        G.fitted_value(G.FAILS, ["maybe"])


def test_statement_names_every_test_and_verdict():
    text = " ".join(G.statement().split())  # line breaks of the docstring do not matter
    assert text and not text.startswith("The verdict grammar")  # the body, not the module title
    for word in ("superiority", "non-inferiority", "equivalence", "threshold", "point value"):
        assert word in text
    for v in G.VERDICTS:
        assert v in text, v
    assert set(G.ROW_VERDICTS) <= set(G.VERDICTS) and G.NOT_TESTABLE not in G.ROW_VERDICTS
