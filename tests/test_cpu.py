"""Subnormal flushing reaches every intra-op thread when it is set before the threads start
(yarnlab.cpu), and the training command line sets it that way."""

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
x86 = pytest.mark.skipif(platform.machine().lower() not in {"x86_64", "amd64"},
                         reason="flush-to-zero is an x86 (SSE3) setting; torch ignores it elsewhere")


def _py(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@x86
def test_configure_before_any_parallel_work_flushes_on_every_thread():
    assert _py("from yarnlab import cpu; import torch\n"
               "assert cpu.configure(2)\nassert torch.get_num_threads() == 2\nprint(cpu.workers_flush())") == "True"


def test_without_flushing_the_probe_keeps_its_subnormals():
    # the probe can fail: with the flag off its subnormals survive the product
    assert _py("import torch; torch.set_num_threads(2)\nfrom yarnlab import cpu\nprint(cpu.workers_flush())") == "False"


@x86
def test_configure_after_the_threads_started_reaches_the_calling_thread_only():
    out = _py("import torch; torch.set_num_threads(2)\nfrom yarnlab import cpu\n"
              "x = torch.ones(1 << 20) * 2.0  # the worker threads start here, without the flag\n"
              "cpu.configure(2)\nprint(cpu.workers_flush(), torch.tensor([1e-39]).item() == 0.0)")
    assert out == "False True"  # the main thread flushes (the scalar reads as 0), a worker does not


@x86
def test_pretrain_command_trains_with_flushing_on_all_threads(tmp_path):
    corpus = _corpus(tmp_path)
    out = tmp_path / "o"
    subprocess.run([sys.executable, "-m", "yarnlab.train", "pretrain", "--preset", "micro", "--seq-len", "32",
                    "--batch-size", "2", "--steps", "2", "--threads", "2", "--corpus", str(corpus), "--out", str(out),
                    "--eval-batches", "1", "--final-eval-chunks", "2", "--no-progress", "--induction-eval", "off"],
                   check=True, env=ENV, capture_output=True, timeout=300)
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["subnormals_flushed_this_run"] is True


def _corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(4):
        (corpus / f"d{i}.txt").write_text(f"Text {i}. " + "All the world's a stage, and all the men " * 30)
    return corpus


@x86
def test_a_command_run_in_process_gives_the_caller_its_numerics_back(tmp_path):
    import numpy as np

    from yarnlab import cpu
    from yarnlab.train.__main__ import main

    assert main(["pretrain", "--preset", "micro", "--seq-len", "32", "--batch-size", "2", "--steps", "1",
                 "--corpus", str(_corpus(tmp_path)), "--out", str(tmp_path / "o"), "--eval-batches", "1",
                 "--final-eval-chunks", "2", "--no-progress", "--induction-eval", "off"]) == 0
    assert not cpu.calling_thread_flushes()
    assert np.float64(1e-310) * 1.0 != 0.0  # numpy's float64 on this thread keeps its subnormals
