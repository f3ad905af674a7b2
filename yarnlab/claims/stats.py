"""Intervals for CLAIMS.md: documents nested in works, a symmetric bootstrap-t over works, and
simultaneous (max-t) intervals across the lengths or scales of one claim.

Units. An evaluation document is a piece of a held-out work, with the id ``<work>@<offset>``
(``yarnlab eval docs``, :mod:`yarnlab.evaluate.docs`). Pieces of one work are correlated, so the
resampling unit is the work: a document's value is first averaged within its work, giving one
value per work (y_1 .. y_n), and the estimate is their mean. The workflow cuts the same number of
equal-length pieces from every work, so this equals the plain mean over documents;
:func:`unit_means` checks it. Ids without ``@`` are their own unit.

Perplexity. A document's value is its mean NLL per token; the perplexity of a set is
exp(mean nll). A difference between two models on the SAME documents is paired: per document
nll_A - nll_B, then per work, and shown as the perplexity ratio exp(Delta).

Interval: symmetric bootstrap-t (studentized; Hall 1988). With ybar the mean and se = sd/sqrt(n),
each resample b of the n units gives t*_b = (ybar*_b - ybar) / se*_b; the interval is
ybar +/- c se with c the ``level`` quantile of |t*|. For a family of k estimates computed on the
same units (a claim over several lengths), c is the quantile of max_j |t*_bj| over the family
(max-t), so the k intervals hold simultaneously at ``level``. Coverage at the default's sample
sizes is checked by simulation in tests/test_claims_stats.py.

Seeds as a unit (:func:`hierarchical_bootstrap_t`). Results pooled over training seeds key each
document ``seed<k>|<work>@<offset>`` (:func:`seed_doc`); the unit of a value is then the work within its
seed, and the seeds are the top-level unit. With x[s, w] the mean of work w in seed s (S seeds, W works
each), the estimate is the grand mean xbar = mean_s mean_w x[s, w] (every seed and every work weighted
equally) and its standard error

    se^2 = var_s(xbar_s) / S                      (nested: each seed has its own works)
    se^2 = var_s(xbar_s) / S + var_w(xbar_w) / W  (crossed: the same works in every seed)

with xbar_s the seed means, xbar_w the work means over seeds and var the unbiased variance. A replicate
draws S seeds with replacement, then works within each drawn seed: W works with replacement per drawn
seed when nested, ONE draw of W works shared by every drawn seed when crossed (the workflow's case: every
seed is evaluated on the same held-out works, whose effect is common to all seeds; resampling them per seed
would treat one shared effect as S independent ones). Then t*_b = (xbar*_b - xbar) / se*_b as above, max
over a family, and xbar +/- c se. Coverage at 3 seeds x 8 works is checked by simulation in
tests/test_claims_stats.py (nested and crossed designs with a between-seed effect).

Passkey: Wilson score intervals per cell, and :func:`trials_for_power` sizes the cells.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from yarnlab.errors import UsageError

LEVEL = 0.95
METHOD = "symmetric bootstrap-t over works"
METHOD_SEEDS = "hierarchical symmetric bootstrap-t: seeds, then works within seeds"
SEED_SEP = "|"  # seed<k>|<work>@<offset>: a document of one seed's results in a pooled table


@dataclass(frozen=True)
class Estimate:
    """A point estimate with an interval (``value``, ``low``, ``high``) on the stated scale; ``n``
    resampling units; ``family``: how many intervals hold simultaneously with this one."""

    value: float
    low: float
    high: float
    n: int
    level: float = LEVEL
    family: int = 1
    n_inner: int = 0  # hierarchical intervals: works per seed (``n`` is then the number of seeds)

    def to_dict(self) -> dict:
        return asdict(self)

    def map(self, f) -> Estimate:
        """The estimate under a monotone increasing transform (e.g. exp: NLL -> perplexity)."""
        return Estimate(float(f(self.value)), float(f(self.low)), float(f(self.high)), self.n, self.level, self.family,
                        self.n_inner)


def seed_doc(seed, doc) -> str:
    """The id of document ``doc`` of training seed ``seed`` in results pooled over seeds."""
    return f"seed{seed}{SEED_SEP}{doc}"


def seed_of(doc) -> str | None:
    """The seed part (``seed<k>``) of a pooled document id, or None for a single run's id."""
    text = str(doc)
    return text.split(SEED_SEP, 1)[0] if SEED_SEP in text else None


def work_of(doc) -> str:
    """The work (resampling unit) of a document id ``<work>@<offset>``; other ids are their own."""
    text = str(doc)
    return text.split("@", 1)[0] if "@" in text else text


def unit_means(values: dict) -> tuple[list[str], np.ndarray]:
    """(works, mean value per work) of ``{doc: value}``, works sorted."""
    by = defaultdict(list)
    for doc, v in values.items():
        by[work_of(doc)].append(float(v))
    works = sorted(by)
    sizes = {len(by[w]) for w in works}
    if len(sizes) > 1:  # unequal pieces per work: the estimate weights works equally, say so loudly
        raise UsageError(
            f"documents: works hold unequal numbers of pieces {sorted(sizes)}; the work-level "
            "mean would differ from the document mean (cut equal pieces per work)"
        )
    return works, np.array([np.mean(by[w]) for w in works])


def bootstrap_t(matrix, n_boot: int = 2000, seed: int = 0, level: float = LEVEL) -> list[Estimate]:
    """Simultaneous symmetric bootstrap-t intervals of the column means of ``matrix`` (n units x k).

    One interval per column; all k hold jointly at ``level`` (max-t). Needs n >= 3 finite rows."""
    x = np.asarray(matrix, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    n, k = x.shape
    if n < 3 or not np.all(np.isfinite(x)):
        raise UsageError(f"values: need >= 3 units with finite values (got {n}, finite={bool(np.all(np.isfinite(x)))})")
    if not 0 < level < 1:
        raise UsageError(f"level: must be in (0, 1) (got {level})")
    mean = x.mean(axis=0)
    se = x.std(axis=0, ddof=1) / math.sqrt(n)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, (n_boot, n))
    xb = x[idx]  # (B, n, k)
    mb = xb.mean(axis=1)
    sb = xb.std(axis=1, ddof=1) / math.sqrt(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.abs(mb - mean) / sb
    t = np.where(se > 0, t, 0.0)  # a constant column has a zero-width interval
    t = np.where(np.isnan(t), 0.0, t)  # 0/0: a resample equal to the sample
    tmax = t.max(axis=1)
    tmax = tmax[np.isfinite(tmax)]  # resamples of one repeated unit (se* = 0)
    c = float(np.quantile(tmax, level)) if len(tmax) else float("inf")
    return [
        Estimate(float(mean[j]), float(mean[j] - c * se[j]), float(mean[j] + c * se[j]), n, level, k) for j in range(k)
    ]


def seed_grid(values: dict) -> tuple[list[str], list[str], np.ndarray, bool]:
    """``(seeds, works, x, crossed)`` of seed-keyed ``{doc: value}``: x[s, w] the mean of work w of seed s
    (pieces averaged within their work), ``crossed`` when every seed holds the same works (columns then
    align by work), else nested (each seed its own works, in sorted order). Seeds must hold equal numbers
    of works and either all or none of them in common."""
    if not values or any(seed_of(d) is None for d in values):
        raise UsageError("values: pooled results key every document by its seed (seed<k>|<work>@<offset>)")
    by: dict[str, dict[str, float]] = defaultdict(dict)
    for unit, m in zip(*unit_means(values)):
        sd, _, work = unit.partition(SEED_SEP)
        by[sd][work] = float(m)
    seeds = sorted(by, key=lambda x: (len(x), x))
    sets = [set(by[sd]) for sd in seeds]
    if all(x == sets[0] for x in sets):
        works = sorted(sets[0])
        return seeds, works, np.array([[by[sd][w] for w in works] for sd in seeds]), True
    if any(sets[i] & sets[j] for i in range(len(sets)) for j in range(i)):
        raise UsageError("values: the seeds share some works but not all (a design neither crossed nor nested)")
    sizes = {len(x) for x in sets}
    if len(sizes) != 1:
        raise UsageError(f"values: the seeds hold unequal numbers of works {sorted(sizes)}")
    return seeds, [f"#{i}" for i in range(sizes.pop())], np.array([[by[sd][w] for w in sorted(by[sd])]
                                                                    for sd in seeds]), False


def hierarchical_bootstrap_t(x, crossed: bool, n_boot: int = 2000, seed: int = 0,
                             level: float = LEVEL) -> list[Estimate]:
    """Simultaneous hierarchical bootstrap-t intervals of the grand means of ``x`` (S seeds x W works x k
    columns; module docstring): seeds resampled, then works within seeds (one shared draw when
    ``crossed``). Needs S >= 3 seeds, W >= 2 works, finite values."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        x = x[:, :, None]
    if x.ndim != 3:
        raise UsageError(f"values: need a seeds x works (x columns) array (got shape {x.shape})")
    n_s, n_w, k = x.shape
    if n_s < 3 or n_w < 2 or not np.all(np.isfinite(x)):
        raise UsageError(f"values: need >= 3 seeds and >= 2 works per seed with finite values (got {n_s} seeds, "
                         f"{n_w} works, finite={bool(np.all(np.isfinite(x)))})")
    if not 0 < level < 1:
        raise UsageError(f"level: must be in (0, 1) (got {level})")

    def studentized(xx):  # xx (..., S, W, k) -> grand mean (..., k), se (..., k)
        seed_means = xx.mean(axis=-2)
        var = seed_means.var(axis=-2, ddof=1) / n_s
        if crossed:
            var = var + xx.mean(axis=-3).var(axis=-2, ddof=1) / n_w
        return seed_means.mean(axis=-2), np.sqrt(var)

    grand, se = studentized(x)
    rng = np.random.default_rng(seed)
    si = rng.integers(0, n_s, (n_boot, n_s))
    wi = rng.integers(0, n_w, (n_boot, 1, n_w) if crossed else (n_boot, n_s, n_w))
    mb, sb = studentized(x[si[:, :, None], wi])  # (B, S, W, k) -> (B, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.abs(mb - grand) / sb
    t = np.where(se > 0, t, 0.0)  # a constant column has a zero-width interval
    t = np.where(np.isnan(t), 0.0, t)  # 0/0: a resample equal to the sample
    t_max = t.max(axis=1)
    t_max = t_max[np.isfinite(t_max)]  # resamples without any spread (se* = 0)
    c = float(np.quantile(t_max, level)) if len(t_max) else float("inf")
    return [Estimate(float(grand[j]), float(grand[j] - c * se[j]), float(grand[j] + c * se[j]), n_s, level, k, n_w)
            for j in range(k)]


def mean_ci(values: dict | Sequence[float], n_boot: int = 2000, seed: int = 0, level: float = LEVEL) -> Estimate:
    """Mean and interval of ``{doc: value}`` (documents nested in works; seed-keyed documents: works nested in
    seeds, :func:`hierarchical_bootstrap_t`) or of plain unit values."""
    if isinstance(values, dict) and values and any(seed_of(d) is not None for d in values):
        _, _, x, crossed = seed_grid(values)
        return hierarchical_bootstrap_t(x, crossed, n_boot, seed, level)[0]
    arr = unit_means(values)[1] if isinstance(values, dict) else np.asarray(values, dtype=np.float64)
    return bootstrap_t(arr, n_boot, seed, level)[0]


def paired_family(
    pairs: Sequence[tuple[dict, dict]], n_boot: int = 2000, seed: int = 0, level: float = LEVEL
) -> list[Estimate]:
    """Paired mean differences A - B of per-document NLL for each (A, B) in ``pairs`` (``{doc: nll}``
    each), as simultaneous intervals over the works all pairs share."""
    if not pairs:
        raise UsageError("pairs: need at least one comparison")
    if any(seed_of(d) is not None for a, _ in pairs for d in a):
        return _paired_seeds(pairs, n_boot, seed, level)
    cols, works = [], None
    for a, b in pairs:
        docs = sorted(set(a) & set(b), key=str)
        w, m = unit_means({d: a[d] - b[d] for d in docs})
        if works is not None and w != works:
            raise UsageError(f"pairs: comparisons cover different works ({works} vs {w})")
        works = w
        cols.append(m)
    if works is None or len(works) < 3:
        raise UsageError(f"paired: the tables share {0 if works is None else len(works)} works (need >= 3)")
    return bootstrap_t(np.stack(cols, axis=1), n_boot, seed, level)


def _paired_seeds(pairs: Sequence[tuple[dict, dict]], n_boot: int, seed: int, level: float) -> list[Estimate]:
    """:func:`paired_family` of seed-keyed documents: per pair the (seed, work) grid of paired differences,
    all pairs on the same seeds and works, then :func:`hierarchical_bootstrap_t`."""
    grids, layout = [], None
    for a, b in pairs:
        docs = sorted(set(a) & set(b), key=str)
        seeds, works, x, crossed = seed_grid({doc: a[doc] - b[doc] for doc in docs})
        if layout is not None and (seeds, works, crossed) != layout:
            raise UsageError(f"pairs: comparisons cover different seeds or works ({layout[:2]} vs {(seeds, works)})")
        layout = (seeds, works, crossed)
        grids.append(x)
    return hierarchical_bootstrap_t(np.stack(grids, axis=2), layout[2], n_boot, seed, level)


def paired(a: dict, b: dict, n_boot: int = 2000, seed: int = 0, level: float = LEVEL) -> Estimate:
    """One paired comparison (see :func:`paired_family`)."""
    return paired_family([(a, b)], n_boot, seed, level)[0]


def ratio(e: Estimate) -> Estimate:
    """A paired NLL difference as a perplexity ratio exp(Delta) with its interval."""
    return e.map(math.exp)


def ppl_ci(nll: dict | Sequence[float], n_boot: int = 2000, seed: int = 0) -> Estimate:
    """PPL = exp(mean per-document NLL) with the exp of the interval of the mean."""
    return mean_ci(nll, n_boot, seed).map(math.exp)


def wilson(k: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval of a proportion k/n."""
    if n <= 0:
        raise UsageError(f"n: need >= 1 trial (got {n})")
    z = _z(level)
    p = k / n
    den = 1 + z * z / n
    c = (p + z * z / (2 * n)) / den
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, c - h), min(1.0, c + h)


def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2))


def trials_for_power(
    p_true: float, threshold: float, level: float = LEVEL, power: float = 0.8, max_n: int = 1000
) -> int | None:
    """The least number of trials n such that, when the true accuracy is ``p_true``, the Wilson
    lower end exceeds ``threshold`` with probability >= ``power`` (exact binomial). None if no
    n <= max_n does."""
    from scipy.stats import binom

    for n in range(1, max_n + 1):
        ks = [k for k in range(n + 1) if wilson(k, n, level)[0] > threshold]
        if ks and float(binom.sf(ks[0] - 1, n, p_true)) >= power:
            return n
    return None


def least_trials_to_hold(threshold: float, level: float = LEVEL) -> int:
    """The least n for which n/n successes gives a Wilson lower end above ``threshold`` (below it no
    result can show accuracy above the threshold)."""
    n = 1
    while wilson(n, n, level)[0] <= threshold:
        n += 1
    return n
