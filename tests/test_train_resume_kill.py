"""Kill a real training process with SIGKILL mid-run, resume it, and get bit-identical weights."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

ARGS = ["--preset", "micro", "--seq-len", "64", "--batch-size", "4", "--steps", "150", "--seed", "2",
        "--checkpoint-every", "15", "--eval-every", "50", "--eval-batches", "1", "--final-eval-chunks", "8",
        "--log-every", "5", "--no-progress"]


def _run(corpus, out, *extra):
    return [sys.executable, "-m", "yarnlab.train", "pretrain", "--corpus", str(corpus), "--out", str(out),
            *ARGS, *extra]


@pytest.mark.slow
def test_sigkill_then_resume_gives_identical_weights(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(6):
        (corpus / f"d{i}.txt").write_text(f"Text {i}. " + "All the world's a stage, and all the men " * (30 + 9 * i))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}

    full = tmp_path / "full"
    subprocess.run(_run(corpus, full), check=True, env=env, capture_output=True, timeout=600)

    cut = tmp_path / "cut"
    proc = subprocess.Popen(_run(corpus, cut), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckdir = cut / "checkpoints"
    deadline = time.monotonic() + 300
    while not (ckdir.is_dir() and any(p.name == "step-0000030.pt" for p in ckdir.iterdir())):
        assert proc.poll() is None, "training finished or failed before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=60) == -signal.SIGKILL
    assert not (cut / "model.safetensors").exists()
    steps_done = max(json.loads(x)["step"] for x in (cut / "metrics.jsonl").read_text().splitlines())
    assert steps_done < 150

    subprocess.run(_run(corpus, cut, "--resume"), check=True, env=env, capture_output=True, timeout=600)
    a, b = load_file(full / "model.safetensors"), load_file(cut / "model.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    # the metrics file has each step once, in order, as if never interrupted
    rows = [json.loads(x) for x in (cut / "metrics.jsonl").read_text().splitlines()]
    steps = [r["step"] for r in rows if not r.get("final")]
    assert steps == sorted(set(steps)) and steps[-1] == 150
    ref = [json.loads(x) for x in (full / "metrics.jsonl").read_text().splitlines()]
    assert [r["loss"] for r in rows if not r.get("final")] == [r["loss"] for r in ref if not r.get("final")]
