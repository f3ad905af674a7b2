"""The verdict grammar of CLAIMS.md: what each verdict means, in one place.

Every row of a claim is one test of one estimate with its interval (yarnlab.claims.stats;
the intervals of one claim's rows hold simultaneously). Differences are A - B in nats/token, shown
as the perplexity ratio exp(A - B). The tests:

- **superiority** (the paper says A is better than B): *holds* if the interval lies below 0,
  *does not hold* if it lies above 0, else *inconclusive*.
- **non-inferiority** (A no worse than B up to a margin delta): *holds* if the upper end is
  <= delta, *does not hold* if the lower end is > delta, else *inconclusive*.
- **equivalence** (A and B equal within +/- delta): *holds* if the interval lies inside
  [-delta, delta], *does not hold* if it lies wholly outside, else *inconclusive*.
- **threshold** (a quantity exceeds, or stays below, a bound): *holds* if the whole interval is on
  the claimed side, *does not hold* if it is wholly on the other side, else *inconclusive*.
- **point value** (the paper gives a value, e.g. Eq. 22's 0.1 ln s + 1): *consistent with* if the
  value lies inside the interval (the data do not reject it; this is not evidence that it holds),
  *does not hold* if outside. A value the paper *fitted* on its own models (Eq. 22's a = 0.1, b = 1,
  fitted on LLaMA) that lies outside reads *does not transfer to this toy*: the data reject that
  constant for this model, which is not a test of it on the model it was fitted on.

Thresholds are applied to intervals, never to point estimates. A claim's verdict combines its
rows: *does not hold* as soon as one row it needs does not hold; *holds* if all hold; *consistent
with* if every row holds or is consistent; else *inconclusive*. Rows marked supporting or context
are shown but do not vote. A claim whose test depends on a failed regime check is *not testable on
this toy* (the check is named), whatever its rows say; a claim whose models were not run is *not run*.
"""

from __future__ import annotations

from collections.abc import Sequence

from yarnlab.errors import UsageError

HOLDS = "holds"
FAILS = "does not hold"
INCONCLUSIVE = "inconclusive"
CONSISTENT = "consistent with"
NOT_TESTABLE = "not testable on this toy"
NOT_RUN = "not run"
NOT_TRANSFERRED = "does not transfer to this toy"
ROW_VERDICTS = (HOLDS, FAILS, INCONCLUSIVE, CONSISTENT)
VERDICTS = ROW_VERDICTS + (NOT_TRANSFERRED, NOT_TESTABLE, NOT_RUN)


def superiority(est) -> str:
    """The claim: A < B (``est`` = mean of A - B with an interval)."""
    if est.high < 0:
        return HOLDS
    if est.low > 0:
        return FAILS
    return INCONCLUSIVE


def inferiority(est) -> str:
    """The claim: A > B."""
    if est.low > 0:
        return HOLDS
    if est.high < 0:
        return FAILS
    return INCONCLUSIVE


def noninferiority(est, margin: float) -> str:
    """The claim: A <= B + margin."""
    if est.high <= margin:
        return HOLDS
    if est.low > margin:
        return FAILS
    return INCONCLUSIVE


def equivalence(est, margin: float) -> str:
    """The claim: |A - B| <= margin."""
    if -margin <= est.low and est.high <= margin:
        return HOLDS
    if est.low > margin or est.high < -margin:
        return FAILS
    return INCONCLUSIVE


def above(est, threshold: float) -> str:
    """The claim: the quantity exceeds ``threshold``."""
    if est.low > threshold:
        return HOLDS
    if est.high <= threshold:
        return FAILS
    return INCONCLUSIVE


def below(est, threshold: float) -> str:
    """The claim: the quantity stays below ``threshold``."""
    if est.high < threshold:
        return HOLDS
    if est.low >= threshold:
        return FAILS
    return INCONCLUSIVE


def point_value(est, value: float) -> str:
    """The claim: the quantity equals ``value``."""
    return CONSISTENT if est.low <= value <= est.high else FAILS


def fitted_value(part: str, others: Sequence[str]) -> str:
    """A claim's verdict when ``part`` is the point-value test of a constant the paper fitted on its
    own models and ``others`` its remaining parts: *does not transfer to this toy* when only the
    fitted constant is rejected, else :func:`combine` of all of them."""
    verdict = combine([part, *others])
    return NOT_TRANSFERRED if part == FAILS and FAILS not in others else verdict


def combine(verdicts: Sequence[str]) -> str:
    """One verdict for the rows a claim needs (module docstring)."""
    vs = list(verdicts)
    if not vs:
        raise UsageError("verdicts: empty")
    bad = [v for v in vs if v not in ROW_VERDICTS]
    if bad:
        raise UsageError(f"verdicts: unknown {bad}; allowed {ROW_VERDICTS}")
    if FAILS in vs:
        return FAILS
    if all(v == HOLDS for v in vs):
        return HOLDS
    if all(v in (HOLDS, CONSISTENT) for v in vs):
        return CONSISTENT
    return INCONCLUSIVE


def statement() -> str:
    """The grammar as printed once at the top of CLAIMS.md (this module's docstring)."""
    return __doc__.split("\n\n", 1)[1].strip()
