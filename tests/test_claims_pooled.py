"""Claims pooled over training seeds (yarnlab.claims.pooled, issue 20 item 4): three synthetic runs of
one configuration that differ in their seed (and a between-seed effect), read as one."""

from __future__ import annotations

import numpy as np
import pytest
from claims_tree import N_BOOT, claim_of, make_tree

from yarnlab.claims import grammar as G
from yarnlab.claims import stats as S
from yarnlab.claims.pooled import NOT_POOLED, PooledResults, build_pooled
from yarnlab.claims.registry import build
from yarnlab.claims.results import Results
from yarnlab.errors import UsageError


def _runs(tmp_path, effects=(0.0, 0.0, 0.0), corpus=False, **kwargs):
    """Three seeds' trees; ``kwargs`` (defects) apply to seed 1 alone."""
    return [make_tree(tmp_path / f"seed{k}", seed=k, seed_effect=e, corpus=corpus, **(kwargs if k == 1 else {}))
            for k, e in enumerate(effects)]


def test_pooled_rows_are_hierarchical_over_the_seeds(tmp_path):
    """Every pooled perplexity row's interval resamples 3 seeds, then 8 works; its value is the mean of the
    seeds' values (equal works per seed); claims 3 and 5 pool their steps ratios over seeds and windows;
    claims 6, 9 and Q4 are left to the per-seed table."""
    runs = _runs(tmp_path)
    doc = build_pooled(runs, N_BOOT)
    assert doc["seeds"] == [0, 1, 2] and doc["interval_method"] == S.METHOD_SEEDS and not doc["regime_failed_in"]
    c2 = claim_of(doc, "2")
    assert c2["verdict"] == G.HOLDS and c2["pooled"]
    single = [claim_of(build(r, st, N_BOOT), "2") for r, st in runs]
    for j, row in enumerate(c2["measurements"]):
        assert (row["nll_diff"]["n"], row["nll_diff"]["n_inner"]) == (3, 8)
        assert row["nll_diff"]["value"] == pytest.approx(np.mean([s["measurements"][j]["nll_diff"]["value"]
                                                                  for s in single]))
    c3 = claim_of(doc, "3")
    (steps_row,) = c3["steps_to_target"]
    assert steps_row["seeds"] == 3 and steps_row["steps_ratio"]["n"] == 3 and c3["verdict"] == G.HOLDS
    for cid in NOT_POOLED:
        c = claim_of(doc, cid)
        assert c["verdict"] == "per seed only" and not c["pooled"] and c["criterion"] == NOT_POOLED[cid]


def test_a_between_seed_effect_widens_the_pooled_interval(tmp_path):
    """YaRN vs PI moves with the seed (-0.05 + 0.10, -0.05 - 0.06, -0.05 - 0.14 nats): each seed's own
    interval (works only) is narrow and decides, seed 0 against the others; pooled over seeds the interval
    spans the seeds' spread and claim 2's YaRN < PI part reads inconclusive."""
    runs = _runs(tmp_path, effects=(0.10, -0.06, -0.14))
    per_seed = [claim_of(build(r, st, N_BOOT), "2")["parts"]["YaRN < PI at every length L/2..sL"]
                for r, st in runs]
    assert per_seed == [G.FAILS, G.HOLDS, G.HOLDS]
    c2 = claim_of(build_pooled(runs, N_BOOT), "2")
    assert c2["parts"]["YaRN < PI at every length L/2..sL"] == G.INCONCLUSIVE
    row = c2["measurements"][0]
    assert row["nll_diff"]["low"] < 0 < row["nll_diff"]["high"]


def test_a_premise_failed_in_one_seed_gates_the_pooled_claim(tmp_path):
    """Seed 1's base has a position artifact: every pooled claim needing flat_positions is not testable,
    naming the check and the seed."""
    doc = build_pooled(_runs(tmp_path, position_artifact=3.0), N_BOOT)
    assert doc["regime_failed_in"] == {"flat_positions": [1]}
    c1 = claim_of(doc, "1")
    assert c1["verdict"] == G.NOT_TESTABLE and c1["not_testable_because"] == [
        "flat_positions (failed in seed(s) 1)"]
    assert c1["verdict_if_testable"] == G.HOLDS


def test_pooled_q5_reads_the_code_base_checks_of_every_seed(tmp_path):
    """Seed 1's code base has a position artifact: pooled Q5 is not testable, naming base-code's check and
    the seed; the prose claims are not gated by it."""
    doc = build_pooled(_runs(tmp_path, corpus=True, extra_position_artifact=3.0), N_BOOT)
    assert doc["regime_failed_in"] == {} and doc["regime_failed_in_extra"] == {"base-code": {"flat_positions": [1]}}
    q5 = claim_of(doc, "Q5")
    assert q5["verdict"] == G.NOT_TESTABLE and q5["premises_of"] == "base-code"
    assert q5["not_testable_because"] == ["flat_positions (failed in seed(s) 1)"]
    assert claim_of(doc, "1")["verdict"] != G.NOT_TESTABLE


def test_pooling_refuses_fewer_than_three_seeds_and_runs_that_differ(tmp_path):
    runs = _runs(tmp_path)
    with pytest.raises(UsageError, match="pooling needs >= 3 seeds"):
        PooledResults([(st["seed"], Results(r, st, N_BOOT)) for r, st in runs[:2]])
    r, st = runs[2]
    with pytest.raises(UsageError, match=r"differ in \['claims'\]"):
        build_pooled(runs[:2] + [(r, {**st, "claims": {**st["claims"], "margin": 0.05}})], N_BOOT)


def test_runs_made_before_and_after_an_amendment_pool_under_the_newest_history(tmp_path):
    """A pre-registration amended between the seeds' runs (a later commit, a new amendment's text, same
    thresholds) does not stop pooling; the pooled record is the newest; a changed threshold or registration
    still does."""
    runs = _runs(tmp_path)
    reg = {"path": "p.yaml", "registered": "2026-12-02", "registered_commit": "abc",
           "commits": ["c1 amendment 1"], "amendments": ["Amendment 1"]}
    newer = {**reg, "commits": ["c1 amendment 1", "c2 amendment 2"], "amendments": ["Amendment 1", "Amendment 2"]}
    runs = [(r, {**st, "preregistration": newer if k == 1 else reg}) for k, (r, st) in enumerate(runs)]
    pooled = PooledResults([(st["seed"], Results(r, st, N_BOOT)) for r, st in runs])
    assert pooled.settings["preregistration"] == newer
    r, st = runs[2]
    with pytest.raises(UsageError, match=r"differ in \['preregistration'\]"):
        build_pooled(runs[:2] + [(r, {**st, "preregistration": {**reg, "registered_commit": "def"}})], N_BOOT)
    with pytest.raises(UsageError, match=r"differ in \['regime'\]"):
        build_pooled(runs[:2] + [(r, {**st, "regime": {**st["regime"], "context_use_min_gain": 0.04}})], N_BOOT)


def test_sensitivity_table_only_pools_finished_runs(tmp_path, monkeypatch):
    """workflows/scripts/sensitivity.py --table-only on finished runs laid out as the script lays them
    (<results>/sensitivity/<toy>-seed<k> with claims_settings.json and paper_figs/claims.json): the
    Markdown leads with the pooled verdicts, the per-seed table follows; a toy with one seed is not pooled."""
    import importlib.util
    import json
    import sys
    from pathlib import Path

    from yarnlab.io import read_table

    root = tmp_path / "results"
    (root / "sensitivity").mkdir(parents=True)
    for toy, seeds in (("wide", (0, 1, 2)), ("one", (0,))):
        for k in seeds:
            res, st = make_tree(tmp_path / f"{toy}{k}", seed=k)
            (root / "sensitivity" / f"{toy}-seed{k}").symlink_to(res, target_is_directory=True)
            Path(res, "claims_settings.json").write_text(json.dumps(st))
            (Path(res) / "paper_figs").mkdir()
            Path(res, "paper_figs", "claims.json").write_text(json.dumps(build(res, st, N_BOOT)))
    config = {"results": str(root), "sensitivity": {"toys": {"wide": None, "one": {"base": {"rope_base": 1e4}}},
                                                     "seeds": [0, 1, 2]}}
    # "one" has a single finished seed: restrict its runs to seed 0 through a config the script reads
    cfg_path = tmp_path / "config.json"
    cfg_path.write_text(json.dumps(config))
    spec = importlib.util.spec_from_file_location("sensitivity", Path(__file__).parents[1] / "workflows/scripts/"
                                                  "sensitivity.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    real_runs = mod.runs
    monkeypatch.setattr(mod, "runs", lambda c: [r for r in real_runs(c) if r[0] == "wide" or r[1] == 0])
    out = tmp_path / "figs" / "geometry"
    monkeypatch.setattr(sys, "argv", ["sensitivity.py", "--config", str(cfg_path), "--out", str(out), "--table-only"])
    mod.main()
    md = Path(f"{out}.md").read_text()
    assert md.index("## Verdicts pooled over the seeds") < md.index("## Verdicts per geometry and seed")
    assert "`one`: not pooled: 1 seed(s), a hierarchical interval needs >= 3" in md
    pooled = {(r["toy"], str(r["id"])): r for r in read_table(f"{out}_pooled.csv")}
    assert pooled[("wide", "2")]["verdict"] == G.HOLDS and pooled[("wide", "2")]["seeds"] == "0 1 2"
    assert pooled[("wide", "6")]["verdict"] == "per seed only" and pooled[("one", "-")]["verdict"] == "not pooled"
    doc = json.loads(Path(f"{out}_pooled.json").read_text())
    assert doc["pooled"]["wide"]["seeds"] == [0, 1, 2] and isinstance(doc["pooled"]["one"], str)
    assert "| 2 | " in md and "holds 3/3" in md  # the per-seed count beside the pooled verdict
