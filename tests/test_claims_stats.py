"""Intervals of CLAIMS.md (yarnlab.claims.stats): coverage of the symmetric bootstrap-t at the sample
sizes the default uses (8-12 works), simultaneous max-t families, documents nested in works, paired
families, Wilson intervals and the passkey power calculation (issue 11, items 6-8)."""

from __future__ import annotations

import numpy as np
import pytest

from yarnlab.claims import stats as S
from yarnlab.errors import UsageError

N_DATASETS = 400
N_BOOT = 500
LOGNORMAL_SIGMA = 0.75  # skewed like per-work NLL means with a heavy upper tail; mean exp(sigma^2 / 2)


def _draw(rng, dist: str, n: int) -> np.ndarray:
    return rng.standard_normal(n) if dist == "normal" else rng.lognormal(0.0, LOGNORMAL_SIGMA, n)


def _true_mean(dist: str) -> float:
    return 0.0 if dist == "normal" else float(np.exp(LOGNORMAL_SIGMA**2 / 2))


def _coverage(dist: str, n: int, seed: int) -> tuple[float, float]:
    """(bootstrap-t coverage, plain percentile bootstrap coverage) of the mean over seeded datasets."""
    rng = np.random.default_rng(seed)
    mu = _true_mean(dist)
    bt = pct = 0
    for i in range(N_DATASETS):
        x = _draw(rng, dist, n)
        e = S.bootstrap_t(x, n_boot=N_BOOT, seed=i)[0]
        bt += e.low <= mu <= e.high
        means = x[np.random.default_rng(i).integers(0, n, (N_BOOT, n))].mean(axis=1)
        lo, hi = np.quantile(means, [0.025, 0.975])
        pct += lo <= mu <= hi
    return bt / N_DATASETS, pct / N_DATASETS


@pytest.mark.parametrize("n", [8, 12])
def test_bootstrap_t_covers_at_small_n(n):
    """Issue 11 item 7: percentile intervals undercover at n = 8-12; the studentized interval does not
    (normal >= 0.90, skewed >= 0.86) and beats the percentile bootstrap on skewed data."""
    cov_normal, _ = _coverage("normal", n, seed=100 + n)
    cov_skew, pct_skew = _coverage("lognormal", n, seed=200 + n)
    assert cov_normal >= 0.90, cov_normal
    assert cov_skew >= 0.86, cov_skew
    assert cov_skew > pct_skew, (cov_skew, pct_skew)


def test_max_t_family_holds_jointly():
    """k = 5 correlated columns (one claim over 5 lengths): all 5 intervals cover together >= 90%,
    and each is wider than the single interval of its column."""
    k, n = 5, 12
    rng = np.random.default_rng(5)
    cov = 0.6 * np.ones((k, k)) + 0.4 * np.eye(k)
    chol = np.linalg.cholesky(cov)
    joint = 0
    for i in range(N_DATASETS):
        x = rng.standard_normal((n, k)) @ chol.T
        ests = S.bootstrap_t(x, n_boot=N_BOOT, seed=i)
        joint += all(e.low <= 0.0 <= e.high for e in ests)
        if i < 5:
            assert all(e.family == k and e.n == n for e in ests)
            single = S.bootstrap_t(x[:, 0], n_boot=N_BOOT, seed=i)[0]
            assert ests[0].high - ests[0].low > single.high - single.low
    assert joint / N_DATASETS >= 0.90, joint / N_DATASETS


def test_bootstrap_t_edge_cases():
    const = S.bootstrap_t(np.ones((6, 1)), n_boot=200)[0]
    assert const.low == const.high == 1.0
    with pytest.raises(UsageError, match=">= 3 units"):
        S.bootstrap_t([1.0, 2.0])
    with pytest.raises(UsageError, match="finite"):
        S.bootstrap_t([1.0, 2.0, float("nan")])
    with pytest.raises(UsageError, match="level"):
        S.bootstrap_t([1.0, 2.0, 3.0], level=1.0)


def test_unit_means_groups_pieces_by_work():
    values = {"w1@0": 1.0, "w1@64": 3.0, "w0@0": 10.0, "w0@64": 20.0, "solo": 5.0, "solo2": 7.0}
    # ids without '@' are their own unit; one piece each would be unequal to two, so test them apart
    works, means = S.unit_means({k: v for k, v in values.items() if "@" in k})
    assert works == ["w0", "w1"] and means.tolist() == [15.0, 2.0]
    works, means = S.unit_means({"solo": 5.0, "solo2": 7.0})
    assert works == ["solo", "solo2"] and means.tolist() == [5.0, 7.0]
    assert S.work_of("w3@128") == "w3" and S.work_of(4) == "4"
    # equal pieces per work: the work mean equals the plain document mean
    e = S.mean_ci({f"w{w}@{o}": float(w + o) for w in range(4) for o in (0, 1, 2)}, n_boot=200)
    assert e.n == 4 and e.value == pytest.approx(np.mean([w + o for w in range(4) for o in (0, 1, 2)]))


def test_unit_means_refuses_unequal_pieces():
    with pytest.raises(UsageError, match="unequal"):
        S.unit_means({"a@0": 1.0, "a@1": 2.0, "b@0": 3.0})


def test_paired_family_on_a_known_shift():
    """8 works x 4 pieces, a shared per-work effect that pairing cancels; two comparisons: A better
    than B by 0.05 nats, C equal to B; simultaneous intervals over the same 8 works."""
    rng = np.random.default_rng(3)
    docs = [f"w{w}@{o * 256}" for w in range(8) for o in range(4)]
    work_eff = {f"w{w}": rng.normal(0, 0.5) for w in range(8)}
    b = {d: 2.0 + work_eff[S.work_of(d)] + 0.02 * rng.normal() for d in docs}
    a = {d: b[d] - 0.05 + 0.005 * rng.normal() for d in docs}
    c = {d: b[d] + 0.005 * rng.normal() for d in docs}
    ab, cb = S.paired_family([(a, b), (c, b)], n_boot=500)
    assert ab.n == cb.n == 8 and ab.family == cb.family == 2
    assert ab.low < -0.05 < ab.high and ab.high < 0
    assert cb.low < 0 < cb.high
    r = S.ratio(ab)
    assert r.value == pytest.approx(np.exp(ab.value)) and r.high < 1
    single = S.paired(a, b, n_boot=500)
    assert single.value == pytest.approx(ab.value) and single.family == 1
    # comparisons must cover the same works
    with pytest.raises(UsageError, match="different works"):
        S.paired_family([(a, b), ({d: v for d, v in c.items() if not d.startswith("w7")}, b)], n_boot=200)
    with pytest.raises(UsageError, match="at least one"):
        S.paired_family([])


def test_wilson_and_passkey_power():
    lo, hi = S.wilson(10, 10)
    assert 0.71 < lo < 0.73 < 0.8 and hi == pytest.approx(1.0)  # 10/10 cannot show > 80% (issue 11 item 8)
    lo, hi = S.wilson(0, 10)
    assert lo == 0.0 and 0.27 < hi < 0.29
    lo, hi = S.wilson(5, 10)
    assert lo < 0.5 < hi and lo + hi == pytest.approx(1.0)
    assert S.least_trials_to_hold(0.8) == 16
    assert S.wilson(16, 16)[0] > 0.8 >= S.wilson(15, 15)[0]
    assert S.trials_for_power(0.95, 0.8) == 40
    assert S.trials_for_power(0.5, 0.8, max_n=50) is None  # a true 50% never clears 80%
    with pytest.raises(UsageError):
        S.wilson(0, 0)


def test_estimate_map_and_ppl_ci():
    e = S.Estimate(0.0, -0.1, 0.2, 8)
    m = e.map(np.exp)
    assert (m.value, m.n) == (1.0, 8) and m.low == pytest.approx(np.exp(-0.1))
    p = S.ppl_ci({f"w{w}@0": 1.0 + 0.1 * w for w in range(5)}, n_boot=200)
    assert p.value == pytest.approx(np.exp(1.2)) and p.low < p.value < p.high


def test_bootstrap_t_interval_is_mean_plus_minus_c_times_the_unbiased_se():
    """An independent recomputation: se = sd(ddof=1)/sqrt(n) and c the level quantile of max |t*| over
    the same resamples (seeded), for a family of two columns."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(7, 2)) + np.array([0.0, 5.0])
    n_boot, seed = 500, 11
    got = S.bootstrap_t(x, n_boot=n_boot, seed=seed)
    n = len(x)
    se = x.std(axis=0, ddof=1) / np.sqrt(n)
    idx = np.random.default_rng(seed).integers(0, n, (n_boot, n))
    xb = x[idx]
    t = np.abs(xb.mean(axis=1) - x.mean(axis=0)) / (xb.std(axis=1, ddof=1) / np.sqrt(n))
    tmax = t.max(axis=1)
    c = np.quantile(tmax[np.isfinite(tmax)], 0.95)
    for j, e in enumerate(got):
        assert e.value == pytest.approx(x[:, j].mean())
        assert e.high - e.value == pytest.approx(c * se[j], rel=1e-12)
        assert e.value - e.low == pytest.approx(c * se[j], rel=1e-12)


# ---- seeds as a unit (issue 20 item 4): hierarchical bootstrap-t, seeds then works within seeds
N_SEED_SETS = 2000
# Tolerance around the nominal 0.95: 3 Monte-Carlo standard errors of a coverage estimated from 2000
# data sets (3 sqrt(0.95 x 0.05 / 2000) = 0.015) plus 0.015 for the bootstrap-t's own small-sample error
# at 3 seeds (its coverage ranged 0.94-0.97 over the variance mixes below in runs of 2000-4000 data sets).
SEED_TOL = 3 * float(np.sqrt(0.95 * 0.05 / N_SEED_SETS)) + 0.015


def _seeded(rng, design: str, sd_seed: float, sd_work: float, sd_noise: float, seeds: int = 3, works: int = 8):
    """One data set of per-(seed, work) values with true mean 0: a between-seed effect (sd ``sd_seed``),
    a work effect (nested: drawn anew in each seed; crossed: one per work, shared by every seed, as when
    every seed is evaluated on the same held-out works) and independent noise."""
    a = rng.normal(0, sd_seed, (seeds, 1))
    b = rng.normal(0, sd_work, (seeds, works)) if design == "nested" else rng.normal(0, sd_work, (1, works))
    return a + b + rng.normal(0, sd_noise, (seeds, works))


def _seed_coverage(design: str, sds: tuple, resample: str | None = None, seed: int = 0, works_only: bool = False):
    rng = np.random.default_rng(seed)
    hit = 0
    for i in range(N_SEED_SETS):
        x = _seeded(rng, design, *sds)
        if works_only:  # every (seed, work) as an independent unit: seeds ignored
            e = S.bootstrap_t(x.ravel(), n_boot=N_BOOT, seed=i)[0]
        else:
            e = S.hierarchical_bootstrap_t(x, (resample or design) == "crossed", n_boot=N_BOOT, seed=i)[0]
        hit += e.low <= 0.0 <= e.high
    return hit / N_SEED_SETS


@pytest.mark.parametrize("design, sds", [
    ("nested", (1.0, 0.3, 0.3)),   # the seed effect dominates (claim 6's slope moved 0.04 -> 0.09 with the seed)
    ("nested", (0.5, 0.5, 0.3)),
    ("crossed", (1.0, 0.3, 0.3)),
    ("crossed", (0.1, 1.0, 0.3)),  # the shared work effect dominates
])
def test_hierarchical_interval_covers_at_three_seeds(design, sds):
    """3 seeds x 8 works (claims-full's sensitivity seeds, the default's held-out works): a between-seed
    effect, works within seeds (nested) or the same works in every seed (crossed), noise; sds = (seed, work,
    noise) standard deviations. The 95% hierarchical interval covers the true mean within SEED_TOL."""
    cov = _seed_coverage(design, sds)
    assert abs(cov - 0.95) <= SEED_TOL, (design, sds, cov, SEED_TOL)


def test_ignoring_seeds_or_the_shared_works_undercovers():
    """Why the hierarchy: with a between-seed effect, an interval over works alone (seeds ignored) covers
    about half the time; with works shared by every seed, resampling them anew within each seed treats one
    shared effect as 3 independent ones and covers about 60%."""
    assert _seed_coverage("nested", (1.0, 0.3, 0.3), works_only=True) < 0.8
    assert _seed_coverage("crossed", (0.1, 1.0, 0.3), resample="nested") < 0.8


def test_hierarchical_family_holds_jointly():
    """Three correlated columns (a claim over three lengths) on crossed data: joint coverage near 0.95."""
    rng = np.random.default_rng(8)
    n = 1000
    joint = 0
    for i in range(n):
        base = _seeded(rng, "crossed", 0.5, 0.5, 0.3)
        x = np.stack([base + 0.5 * _seeded(rng, "crossed", 0.3, 0.3, 0.3) for _ in range(3)], axis=2)
        ests = S.hierarchical_bootstrap_t(x, True, n_boot=N_BOOT, seed=i)
        joint += all(e.low <= 0.0 <= e.high for e in ests)
    assert all(e.family == 3 and e.n == 3 and e.n_inner == 8 for e in ests)
    tol = 3 * np.sqrt(0.95 * 0.05 / n) + 0.015
    assert abs(joint / n - 0.95) <= tol, joint / n


def test_hierarchical_interval_recomputed_independently():
    """se^2 = var(seed means)/S + var(work means)/W (crossed) or var(seed means)/S (nested), c the level
    quantile of max |t*| over replicates that draw seeds, then works (shared or per seed), same RNG."""
    rng = np.random.default_rng(4)
    n_boot, seed = 400, 9
    for crossed in (True, False):
        x = rng.normal(size=(4, 5, 2)) + np.array([0.0, 3.0])
        got = S.hierarchical_bootstrap_t(x, crossed, n_boot=n_boot, seed=seed)

        def stat(xx, crossed=crossed):
            ms = xx.mean(axis=-2)
            v = ms.var(axis=-2, ddof=1) / 4 + (xx.mean(axis=-3).var(axis=-2, ddof=1) / 5 if crossed else 0)
            return ms.mean(axis=-2), np.sqrt(v)

        m, se = stat(x)
        r = np.random.default_rng(seed)
        si = r.integers(0, 4, (n_boot, 4))
        wi = r.integers(0, 5, (n_boot, 1, 5) if crossed else (n_boot, 4, 5))
        xb = np.stack([x[si[b]][np.arange(4)[:, None], wi[b]] for b in range(n_boot)])
        mb, sb = stat(xb)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.abs(mb - m) / sb
        tmax = np.where(np.isnan(t), 0.0, t).max(axis=1)  # 0/0: a replicate equal to the sample
        c = np.quantile(tmax[np.isfinite(tmax)], 0.95)
        for j, e in enumerate(got):
            assert e.value == pytest.approx(x[:, :, j].mean())
            assert (e.high - e.value, e.value - e.low) == pytest.approx((c * se[j], c * se[j]), rel=1e-12)
            assert (e.n, e.n_inner, e.family) == (4, 5, 2)


def test_seed_keyed_documents_take_the_hierarchical_route():
    """Pooled documents seed<k>|<work>@<offset>: the same works in every seed is crossed, disjoint works
    nested; pieces are averaged within (seed, work); the paired family and mean_ci use the hierarchy."""
    rng = np.random.default_rng(2)
    docs = [S.seed_doc(k, f"w{w}@{o}") for k in range(3) for w in range(4) for o in (0, 64)]
    a = {d: 1.0 + 0.3 * (S.seed_of(d) == "seed1") + 0.01 * rng.normal() for d in docs}
    b = {d: 1.0 + 0.01 * rng.normal() for d in docs}
    seeds, works, x, crossed = S.seed_grid({d: a[d] - b[d] for d in docs})
    assert seeds == ["seed0", "seed1", "seed2"] and works == ["w0", "w1", "w2", "w3"] and crossed
    assert x.shape == (3, 4) and x[1].mean() == pytest.approx(0.3, abs=0.02)
    (e,) = S.paired_family([(a, b)], n_boot=300)
    assert (e.n, e.n_inner) == (3, 4) and e.value == pytest.approx(np.mean(x))
    assert e.low < 0.1 < e.high  # the between-seed effect widens it: one seed of three moved by 0.3
    m = S.mean_ci(a, n_boot=300)
    assert (m.n, m.n_inner) == (3, 4)
    nested = {S.seed_doc(k, f"w{k}{w}@0"): float(w) for k in range(3) for w in range(4)}
    assert S.seed_grid(nested)[3] is False
    with pytest.raises(UsageError, match="share some works but not all"):
        S.seed_grid({**nested, S.seed_doc(1, "w00@0"): 1.0, S.seed_doc(2, "w00@0"): 1.0,
                     S.seed_doc(0, "w10@0"): 1.0})
    with pytest.raises(UsageError, match="unequal numbers of works"):
        S.seed_grid({d: v for d, v in nested.items() if d != S.seed_doc(2, "w23@0")})
    with pytest.raises(UsageError, match=">= 3 seeds"):
        S.hierarchical_bootstrap_t(np.zeros((2, 4)), True)
    with pytest.raises(UsageError, match="key every document by its seed"):
        S.seed_grid({"w0@0": 1.0, S.seed_doc(0, "w0@0"): 1.0})
