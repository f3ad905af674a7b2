"""Claims pooled over training seeds (yarnlab.claims.pooled, issue 20 item 4): three synthetic runs of
one configuration that differ in their seed (and a between-seed effect), read as one."""

from __future__ import annotations

import numpy as np
import pytest
from test_claims_build import N_BOOT, _claim, make_tree

from yarnlab.claims import grammar as G
from yarnlab.claims import stats as S
from yarnlab.claims.pooled import NOT_POOLED, PooledResults, build_pooled
from yarnlab.claims.registry import build
from yarnlab.claims.results import Results
from yarnlab.errors import UsageError


def _runs(tmp_path, effects=(0.0, 0.0, 0.0), **kwargs):
    return [make_tree(tmp_path / f"seed{k}", seed=k, seed_effect=e, **(kwargs if k == 1 else {}))
            for k, e in enumerate(effects)]


def test_pooled_rows_are_hierarchical_over_the_seeds(tmp_path):
    """Every pooled perplexity row's interval resamples 3 seeds, then 8 works; its value is the mean of the
    seeds' values (equal works per seed); claims 3 and 5 pool their steps ratios over seeds and windows;
    claims 6, 9 and Q4 are left to the per-seed table."""
    runs = _runs(tmp_path)
    doc = build_pooled([(r, f, st) for r, f, st in runs], N_BOOT)
    assert doc["seeds"] == [0, 1, 2] and doc["interval_method"] == S.METHOD_SEEDS and not doc["regime_failed_in"]
    c2 = _claim(doc, "2")
    assert c2["verdict"] == G.HOLDS and c2["pooled"]
    single = [_claim(build(r, f, st, N_BOOT), "2") for r, f, st in runs]
    for j, row in enumerate(c2["measurements"]):
        assert (row["nll_diff"]["n"], row["nll_diff"]["n_inner"]) == (3, 8)
        assert row["nll_diff"]["value"] == pytest.approx(np.mean([s["measurements"][j]["nll_diff"]["value"]
                                                                  for s in single]))
    c3 = _claim(doc, "3")
    (steps_row,) = c3["steps_to_target"]
    assert steps_row["seeds"] == 3 and steps_row["steps_ratio"]["n"] == 3 and c3["verdict"] == G.HOLDS
    for cid in NOT_POOLED:
        c = _claim(doc, cid)
        assert c["verdict"] == "per seed only" and not c["pooled"] and c["criterion"] == NOT_POOLED[cid]


def test_a_between_seed_effect_widens_the_pooled_interval(tmp_path):
    """YaRN vs PI moves with the seed (-0.05 + 0.10, -0.05 - 0.06, -0.05 - 0.14 nats): each seed's own
    interval (works only) is narrow and decides, seed 0 against the others; pooled over seeds the interval
    spans the seeds' spread and claim 2's YaRN < PI part reads inconclusive."""
    runs = _runs(tmp_path, effects=(0.10, -0.06, -0.14))
    per_seed = [_claim(build(r, f, st, N_BOOT), "2")["parts"]["YaRN < PI at every length L/2..sL"]
                for r, f, st in runs]
    assert per_seed == [G.FAILS, G.HOLDS, G.HOLDS]
    c2 = _claim(build_pooled(runs, N_BOOT), "2")
    assert c2["parts"]["YaRN < PI at every length L/2..sL"] == G.INCONCLUSIVE
    row = c2["measurements"][0]
    assert row["nll_diff"]["low"] < 0 < row["nll_diff"]["high"]


def test_a_premise_failed_in_one_seed_gates_the_pooled_claim(tmp_path):
    """Seed 1's base has a position artifact: every pooled claim needing flat_positions is not testable,
    naming the check and the seed."""
    doc = build_pooled(_runs(tmp_path, position_artifact=3.0), N_BOOT)
    assert doc["regime_failed_in"] == {"flat_positions": [1]}
    c1 = _claim(doc, "1")
    assert c1["verdict"] == G.NOT_TESTABLE and c1["not_testable_because"] == [
        "flat_positions (failed in seed(s) 1)"]
    assert c1["verdict_if_testable"] == G.HOLDS


def test_pooling_refuses_fewer_than_three_seeds_and_runs_that_differ(tmp_path):
    runs = _runs(tmp_path)
    with pytest.raises(UsageError, match="pooling needs >= 3 seeds"):
        PooledResults([(st["seed"], Results(r, f, st, N_BOOT)) for r, f, st in runs[:2]])
    r, f, st = runs[2]
    with pytest.raises(UsageError, match=r"differ in \['claims'\]"):
        build_pooled(runs[:2] + [(r, f, {**st, "claims": {**st["claims"], "margin": 0.05}})], N_BOOT)
