"""benchmarks/estimate_runtime.py on synthetic benchmark files; benchmarks/matmul_gflops.py runs."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def _tsv(path, wall, cpu):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{wall}\t0:00:00\t1\t1\t1\t1\t0\t0\t50\t{cpu}\n")


def test_estimate_sums_rules_and_scales_by_gflops(tmp_path, capsys):
    est = _load("estimate_runtime")
    _tsv(tmp_path / "benchmarks/base_model/seed-0.tsv", 600, 1150)
    _tsv(tmp_path / "benchmarks/finetuned_model/method-pi_scale-2_seed-0.tsv", 100, 98)
    _tsv(tmp_path / "benchmarks/finetuned_model/method-yarn_scale-2_seed-0.tsv", 120, 118)
    _tsv(tmp_path / "benchmarks/theory_tables/all.tsv", 10, "NA")
    rules = est.read_benchmarks(tmp_path)
    assert rules["finetuned_model"] == {"jobs": 2, "wall_s": 220.0, "cpu_s": 216.0}
    assert rules["theory_tables"]["cpu_s"] == 10.0  # no CPU time recorded: wall seconds
    out = est.estimate(rules, gflops_here=44.0, gflops=33.0, cores=2)
    assert out["t_here_s"] == pytest.approx(600 + (98 + 118 + 10) / 2)
    assert out["t_predicted_s"] == pytest.approx(out["t_here_s"] * 44 / 33)
    measured = est.estimate(rules, 44.0, 22.0, 2, wall=900.0)
    assert measured["t_predicted_s"] == pytest.approx(1800.0)
    assert est.main(["--results", str(tmp_path), "--gflops-here", "44", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rules"]["base_model"]["jobs"] == 1
    with pytest.raises(SystemExit, match="does not exist"):
        est.read_benchmarks(tmp_path / "nowhere")
    with pytest.raises(SystemExit, match="--gflops"):
        est.estimate(rules, 0, 33)


def test_matmul_gflops_reports_a_positive_rate_and_the_cpu(capsys):
    mm = _load("matmul_gflops")
    assert mm.main(["--n", "64", "--reps", "3"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["gflops_median"] > 0 and r["gflops_best"] >= r["gflops_median"] and r["cpu"]
