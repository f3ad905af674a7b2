"""Bootstrap intervals over documents and the verdict rules of CLAIMS.md.

Perplexity of a set of documents is PPL = exp(mean_i nll_i), nll_i a document's mean NLL per
token (the paper's protocol, Section 4.3, averaged over documents). A difference between two
models scored on the SAME documents is the paired mean Delta = mean_i (nll_A,i - nll_B,i), shown as
the perplexity ratio exp(Delta); its interval resamples documents (pairs) with replacement, a
95% percentile bootstrap.

Verdicts (one per comparison, then aggregated per claim):
- ``better`` (the claim says A < B): holds if the interval's upper end < 0, does not hold if its
  lower end > 0, inconclusive if it straddles 0.
- ``noninferior`` (the claim says A is no worse than B, up to ``margin`` nats/token): holds if the
  upper end <= margin, does not hold if the lower end > margin, else inconclusive.
- ``above`` (the claim says a quantity exceeds ``threshold``): holds if the lower end > threshold,
  does not hold if the upper end < threshold, else inconclusive.
Aggregation: all the same -> that verdict; any mixture containing ``holds`` -> ``partly``;
otherwise (inconclusive mixed with does not hold) -> inconclusive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from yarnlab.errors import UsageError

HOLDS = "holds"
PARTLY = "partly"
FAILS = "does not hold at this scale"
INCONCLUSIVE = "inconclusive"
VERDICTS = (HOLDS, PARTLY, FAILS, INCONCLUSIVE)


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a 95% interval (``value``, ``low``, ``high``) on the stated scale."""

    value: float
    low: float
    high: float
    n: int

    def to_dict(self) -> dict:
        return asdict(self)


def _resample_means(x: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(x), (n_boot, len(x)))
    return x[idx].mean(axis=1)


def mean_ci(x: Sequence[float], n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> Estimate:
    """Mean of ``x`` and its percentile-bootstrap interval (resampling the entries)."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1 or len(a) < 2 or not np.all(np.isfinite(a)):
        raise UsageError(f"x: need >= 2 finite values (got {a.shape}, finite={bool(np.all(np.isfinite(a)))})")
    q = (1 - level) / 2
    lo, hi = np.quantile(_resample_means(a, n_boot, seed), [q, 1 - q])
    return Estimate(float(a.mean()), float(lo), float(hi), len(a))


def ppl_ci(nll: Sequence[float], n_boot: int = 2000, seed: int = 0) -> Estimate:
    """PPL = exp(mean per-document NLL) with the exp of the bootstrap interval of the mean."""
    e = mean_ci(nll, n_boot, seed)
    return Estimate(float(np.exp(e.value)), float(np.exp(e.low)), float(np.exp(e.high)), e.n)


def paired(a: dict, b: dict, n_boot: int = 2000, seed: int = 0) -> Estimate:
    """Paired mean difference of per-document NLL, A - B, over the documents both score.

    ``a``, ``b``: {doc: nll}. Raises if they share fewer than 2 documents."""
    docs = sorted(set(a) & set(b))
    if len(docs) < 2:
        raise UsageError(f"paired: the two tables share {len(docs)} documents (need >= 2)")
    return mean_ci([a[d] - b[d] for d in docs], n_boot, seed)


def ratio(e: Estimate) -> Estimate:
    """A paired NLL difference as a perplexity ratio exp(Delta) with its interval."""
    return Estimate(float(np.exp(e.value)), float(np.exp(e.low)), float(np.exp(e.high)), e.n)


def verdict_better(e: Estimate) -> str:
    if e.high < 0:
        return HOLDS
    if e.low > 0:
        return FAILS
    return INCONCLUSIVE


def verdict_noninferior(e: Estimate, margin: float) -> str:
    if e.high <= margin:
        return HOLDS
    if e.low > margin:
        return FAILS
    return INCONCLUSIVE


def verdict_above(e: Estimate, threshold: float) -> str:
    if e.low > threshold:
        return HOLDS
    if e.high < threshold:
        return FAILS
    return INCONCLUSIVE


def aggregate(verdicts: Sequence[str]) -> str:
    """One verdict for several comparisons (see the module docstring)."""
    vs = list(verdicts)
    if not vs:
        raise UsageError("verdicts: empty")
    bad = [v for v in vs if v not in VERDICTS]
    if bad:
        raise UsageError(f"verdicts: unknown {bad}; allowed {VERDICTS}")
    if len(set(vs)) == 1:
        return vs[0]
    if HOLDS in vs or PARTLY in vs:
        return PARTLY
    return INCONCLUSIVE


def proportion_ci(successes: Sequence[int], n_boot: int = 2000, seed: int = 0) -> Estimate:
    """Fraction of successes (0/1 trials) with a percentile-bootstrap interval over trials."""
    return mean_ci(np.asarray(successes, dtype=np.float64), n_boot, seed)
