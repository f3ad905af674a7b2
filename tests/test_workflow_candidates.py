"""The candidate screen (workflows/scripts/candidates.py): configs from the pre-registration, the
stopping rule, and a table that keeps every candidate that ran."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PREREG = ROOT / "workflows/preregistration/base_recipe.yaml"


def _script(name: str = "candidates"):
    spec = importlib.util.spec_from_file_location(name, ROOT / f"workflows/scripts/{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_each_candidate_is_the_base_config_with_its_overrides_and_the_registered_thresholds(monkeypatch):
    c = _script()
    monkeypatch.chdir(ROOT)
    doc = c.load(str(PREREG))
    assert doc["stop"] == "first_pass" and len(doc["candidates"]) >= 2
    base = yaml.safe_load((ROOT / doc["base_config"]).read_text())
    for cand in doc["candidates"]:
        cfg = c.candidate_config(doc, cand, "res")
        assert cfg["results"] == f"res/candidates/{cand['name']}"
        for k, v in doc["thresholds"].items():
            assert cfg["regime"][k] == v
        for k, v in cand["overrides"]["base"].items():
            assert cfg["base"][k] == v
        untouched = set(base["base"]) - set(cand["overrides"]["base"])
        assert all(cfg["base"][k] == base["base"][k] for k in untouched)
        # its regime table describes the candidate, not the base config's toy; the text is not part of the
        # fingerprint that decides whether a run is current, the settings are
        assert cand["name"] in cfg["toy"]["choice"] and cfg["toy"]["model"].startswith(base["toy"]["model"])
        over = cand["overrides"]["base"]
        own = ([f"preset {over['preset']}"] if "preset" in over else []) + (
            [f"b = {over['rope_base']:g}"] if "rope_base" in over else [])
        assert cfg["toy"]["model"].endswith(f"(this candidate: {', '.join(own)})" if own else base["toy"]["model"])
        assert c.fingerprint(cfg) == c.fingerprint({**cfg, "toy": {"choice": "other words"}})
        assert c.fingerprint(cfg) != c.fingerprint({**cfg, "base": {**cfg["base"], "steps": 1}})


def test_a_malformed_preregistration_is_refused_naming_the_fields(tmp_path):
    c = _script()
    bad = tmp_path / "p.yaml"
    bad.write_text(yaml.safe_dump({"stop": "sometimes", "candidates": [{"name": "a"}, {"name": "a"}]}))
    with pytest.raises(SystemExit, match="base_config: required.*stop: must be first_pass or all.*unique name"):
        c.load(str(bad))


def _fake_run(root: Path, name: str, passed: list[bool]) -> None:
    res = root / "candidates" / name
    (res / "regime").mkdir(parents=True)
    lines = ["check,what,value,threshold,passed"] + [f"c{i},w,{i},t,{p}" for i, p in enumerate(passed)]
    (res / "regime" / "regime_checks.csv").write_text("\n".join(lines) + "\n")
    (res / "models" / "base-seed0").mkdir(parents=True)
    (res / "models" / "base-seed0" / "train_summary.json").write_text(
        json.dumps({"tokens": 1000, "tokens_per_s_this_run": 10.0, "heldout_bpb": 2.0}))


def test_first_pass_stops_after_the_first_passing_candidate_and_the_table_keeps_failures(tmp_path, monkeypatch):
    c = _script()
    monkeypatch.chdir(ROOT)
    doc = c.load(str(PREREG))
    doc["_path"] = str(PREREG)
    doc["candidates"] = doc["candidates"][:3]
    names = [x["name"] for x in doc["candidates"]]
    _fake_run(tmp_path, names[0], [True, False])
    _fake_run(tmp_path, names[1], [True, True])
    for cand in doc["candidates"][:2]:  # finished runs: their config file equals the one the screen writes
        cfg = c.candidate_config(doc, cand, str(tmp_path))
        Path(cfg["results"], "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    monkeypatch.setattr(c.subprocess, "call", lambda *a, **k: pytest.fail("a finished candidate was rerun"))
    prefix = str(tmp_path / "table" / "out")
    statuses = c.run(doc, str(tmp_path), 1, prefix)
    assert [s for _, s in statuses] == ["finished", "finished", "skipped"]
    # a note added to a record by hand survives the record being written again
    rec_path = tmp_path / "table" / "records" / f"{names[0]}.json"
    rec_path.write_text(json.dumps({**json.loads(rec_path.read_text()), "note": "shared cores"}))
    c.run(doc, str(tmp_path), 1, prefix)
    assert json.loads(rec_path.read_text())["note"] == "shared cores"
    c.table(doc, statuses, prefix)
    md = (tmp_path / "table" / "out.md").read_text()
    assert "| all checks | fail | pass |" in md
    assert "**fail**: 1" in md
    assert f"`{names[2]}` (not run: an earlier candidate passed every check" in md
    # the records stand in for the run directories: without them nothing is rerun and the table is the same
    import shutil

    shutil.rmtree(tmp_path / "candidates")
    again = c.run(doc, str(tmp_path), 1, prefix)
    assert [s for _, s in again] == ["recorded", "recorded", "skipped"]
    c.table(doc, again, prefix)
    assert "| all checks | fail | pass |" in (tmp_path / "table" / "out.md").read_text()


def test_a_resumed_pretraining_is_timed_over_every_process(tmp_path):
    c = _script()
    _fake_run(tmp_path, "run", [True])
    res = tmp_path / "candidates" / "run"
    bench = res / "benchmarks" / "base_model"
    bench.mkdir(parents=True)
    (bench / "seed-0.tsv").write_text("s\th:m:s\n100.0\t0:01:40\n")
    summary = res / "models" / "base-seed0" / "train_summary.json"
    assert c._pretraining(str(res)) == {"tokens": 1000, "tokens_per_s": 10.0, "wall_s": 100.0, "heldout_bpb": 2.0}
    summ = {"tokens": 1000, "steps": 10, "tokens_per_s_this_run": 10.0, "heldout_bpb": 2.0, "resumed_from_step": 4,
            "elapsed_s_this_run": 90.0, "elapsed_s_total": 150.0, "train_seconds_total": 125.0}
    summary.write_text(json.dumps(summ))
    got = c._pretraining(str(res))
    assert got["wall_s"] == 160.0 and got["tokens_per_s"] == 8.0 and got["resumed_from_step"] == 4
    summary.write_text(json.dumps({**summ, "elapsed_s_total": None, "train_seconds_total": None}))
    got = c._pretraining(str(res))
    assert got["wall_s"] == 100.0 and got["wall_covers"].startswith("the last process only (steps 4-10)")


def test_a_record_of_another_config_does_not_stand_in_for_a_run(tmp_path, monkeypatch):
    c = _script()
    monkeypatch.chdir(ROOT)
    doc = c.load(str(PREREG))
    doc["candidates"] = doc["candidates"][:1]
    prefix = str(tmp_path / "table" / "out")
    rec = tmp_path / "table" / "records"
    rec.mkdir(parents=True)
    name = doc["candidates"][0]["name"]
    (rec / f"{name}.json").write_text(json.dumps({"name": name, "config_sha256": "0" * 64, "regime": []}))
    calls = []

    def fake_call(cmd, **_):
        calls.append(cmd)
        _fake_run(tmp_path, name, [False])
        return 0

    monkeypatch.setattr(c.subprocess, "call", fake_call)
    statuses = c.run(doc, str(tmp_path), 1, prefix)
    assert [s for _, s in statuses] == ["ran"] and len(calls) == 1
    assert json.loads((rec / f"{name}.json").read_text())["regime"][0]["passed"] == "False"


def test_only_runs_the_named_candidate_and_reads_the_others_from_records_made_under_another_config(
        tmp_path, monkeypatch):
    c = _script()
    monkeypatch.chdir(ROOT)
    doc = c.load(str(PREREG))
    doc["stop"] = "all"
    doc["candidates"] = doc["candidates"][:3]
    names = [x["name"] for x in doc["candidates"]]
    prefix = str(tmp_path / "table" / "out")
    rec = tmp_path / "table" / "records"
    rec.mkdir(parents=True)
    old = {"name": names[0], "config_sha256": "0" * 64, "regime": [{"check": "c0", "passed": "False"}]}
    (rec / f"{names[0]}.json").write_text(json.dumps(old))
    calls = []

    def fake_call(cmd, **_):
        calls.append(cmd)
        _fake_run(tmp_path, names[1], [True])
        return 0

    monkeypatch.setattr(c.subprocess, "call", fake_call)
    statuses = c.run(doc, str(tmp_path), 1, prefix, only={names[1]})
    assert [s for _, s in statuses] == ["recorded", "ran", "pending"] and len(calls) == 1
    assert json.loads((rec / f"{names[0]}.json").read_text()) == old  # the earlier record is kept as it was


def test_a_config_written_for_a_run_elsewhere_makes_that_run_finished_here(tmp_path, monkeypatch):
    """--write-config writes the file a run here would write; a run made from it elsewhere (the GPU runbook)
    and unpacked into the results root is read as finished, not run again."""
    c = _script()
    monkeypatch.chdir(ROOT)
    doc = c.load(str(PREREG))
    doc["_path"] = str(PREREG)
    name = doc["candidates"][-1]["name"]
    [path] = c.write_configs(doc, str(tmp_path), {name})
    assert path == tmp_path / "candidates" / name / "config.yaml"
    assert yaml.safe_load(path.read_text()) == c.candidate_config(doc, doc["candidates"][-1], str(tmp_path))
    assert list((tmp_path / "candidates").iterdir()) == [path.parent]  # the named candidate's alone
    monkeypatch.setattr(c.subprocess, "call", lambda *a, **k: pytest.fail("a run made elsewhere was rerun"))
    _fake_run(tmp_path, name, [True, False])  # what the unpacked products hold
    statuses = c.run(doc, str(tmp_path), 1, str(tmp_path / "table" / "out"), only={name})
    assert dict((cand["name"], s) for cand, s in statuses)[name] == "finished"


def test_write_config_needs_only(tmp_path):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, str(ROOT / "workflows/scripts/candidates.py"), "--prereg", str(PREREG),
                        "--results", str(tmp_path), "--out", str(tmp_path / "t"), "--write-config"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2 and "--write-config: needs --only" in r.stderr
    assert not (tmp_path / "candidates").exists()


def _settings(run: Path, length: int, frac: float) -> Path:
    run.mkdir(parents=True)
    (run / "claims_settings.json").write_text(json.dumps({"original_ctx": length,
                                                          "regime": {"context_visible_frac": frac}}))
    return run


def test_context_use_cross_reads_the_check_settings_of_the_runs_and_refuses_runs_that_differ(tmp_path):
    cross = _script("context_use_cross")
    runs = {"a": _settings(tmp_path / "a", 256, 0.125), "b": _settings(tmp_path / "b", 256, 0.125)}
    assert cross.check_settings(runs, None, None) == (256, 32)
    assert cross.check_settings(runs, 512, None) == (512, 32)
    runs["b"] = _settings(tmp_path / "c", 512, 0.125)
    with pytest.raises(SystemExit, match="differ"):
        cross.check_settings(runs, None, None)
    with pytest.raises(SystemExit, match="claims_settings.json"):
        cross.check_settings({"d": tmp_path / "missing"}, None, None)
