"""Kill the smoke workflow with SIGKILL (snakemake and every job) twice mid-run, resume it with
``--rerun-incomplete``, and get the products of an uninterrupted run of the same tree; no
half-written output is ever left in between.

Both runs use a private copy of the tree (Snakefile, workflows/, yarnlab/ first on PYTHONPATH), so
edits to the checkout while the test runs change neither. Compared: every CSV and Markdown file
under paper_figs (CLAIMS.md, tables) and results/eval, and claims.json, with provenance and timing
fields left out (they differ between any two runs).
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.snakemake

ROOT = Path(__file__).resolve().parents[1]
CONFIG = "workflows/config/smoke.yaml"
RESULTS = Path("results/smoke")
FIGS = Path("results/smoke/paper_figs")
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--cores", "2", "paper_figs", "--configfile", CONFIG]
# fields that differ between any two runs: wall times, throughput, dates, versions of the checkout
VOLATILE = re.compile(r"(_s$|seconds|elapsed|per_s|utc|created|date|git|revision|dirty|provenance|version|"
                      r"^host|^python$|^torch$|^numpy$|^transformers$)", re.I)
# lines of Markdown products that carry such fields
VOLATILE_LINE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d|git revision|git_revision|generated|created|tokens/s|"
                           r"seconds|wall", re.I)


def _copy_tree(src: Path, dst: Path) -> Path:
    dst.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copy2(src / "Snakefile", dst / "Snakefile")
    for d in ("workflows", "yarnlab"):
        shutil.copytree(src / d, dst / d, ignore=ignore)
    return dst


def _env(tree: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SNAKEMAKE", "HYPOTHESIS"))}
    env["PYTHONPATH"] = str(tree)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return env


def _run(tree: Path, *extra: str, timeout: float = 1800) -> None:
    r = subprocess.run(SNAKEMAKE + list(extra), cwd=tree, env=_env(tree), capture_output=True, text=True,
                       timeout=timeout)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-5000:]


def _processes_in(tree: Path) -> list[str]:
    import psutil

    found = []
    for p in psutil.process_iter(["pid", "cwd", "cmdline"]):
        try:
            if p.info["cwd"] and Path(p.info["cwd"]).is_relative_to(tree):
                found.append(f"{p.info['pid']}: {' '.join(p.info['cmdline'] or [])}")
        except (psutil.Error, OSError, ValueError):
            continue
    return found


def _kill_when(tree: Path, ready, what: str, *extra: str, timeout: float = 1200) -> None:
    """Start the workflow, SIGKILL its whole process group as soon as ``ready(tree)``."""
    proc = subprocess.Popen(SNAKEMAKE + list(extra), cwd=tree, env=_env(tree), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while not ready(tree):
            assert proc.poll() is None, f"the workflow ended (rc {proc.returncode}) before {what}"
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.05)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=60)
    for _ in range(100):  # the jobs die with their group; give the kernel a moment
        if not _processes_in(tree):
            break
        time.sleep(0.1)
    assert not _processes_in(tree), _processes_in(tree)


def _base_mid_training(tree: Path) -> bool:
    base = tree / RESULTS / "models" / "base-seed0"
    return (base / "checkpoints").is_dir() and any((base / "checkpoints").glob("step-*.pt")) \
        and not (base / "train_summary.json").exists()


def _finetune_mid_training(tree: Path) -> bool:
    models = tree / RESULTS / "models"
    return any(d.is_dir() and any((d / "checkpoints").glob("step-*.pt")) and not (d / "train_summary.json").exists()
               for d in models.glob("*-s*-seed0"))


def _check_whole(path: Path) -> None:
    """A product is complete (or absent): parse it by its kind."""
    s = path.suffix
    if s == ".json":
        json.loads(path.read_text())
    elif s == ".csv":
        rows = list(csv.reader(path.open(newline="")))
        assert rows and all(len(r) == len(rows[0]) for r in rows), path
    elif s == ".npz":
        import numpy as np

        with np.load(path) as z:
            for k in z.files:
                z[k]
    elif s == ".safetensors":
        from safetensors.numpy import load_file

        load_file(path)
    elif s == ".pt":
        from yarnlab.train.checkpoint import load_checkpoint

        load_checkpoint(path)
    elif s == ".png":
        assert path.read_bytes()[-8:-4] == b"IEND", path
    elif s == ".pdf":
        assert b"%%EOF" in path.read_bytes()[-64:], path


def _no_half_written_output(tree: Path) -> int:
    n = 0
    for path in (tree / RESULTS).rglob("*"):
        rel = path.relative_to(tree / RESULTS)
        if not path.is_file() or rel.parts[0] in ("logs", "benchmarks") or path.name.startswith("."):
            continue  # temporary files (".name.xxxx") are never read; logs are not products
        if any(part.startswith(".") for part in rel.parts):  # inside a temporary folder
            continue
        _check_whole(path)
        n += 1
    return n


def _clean_json(x):
    if isinstance(x, dict):
        return {k: _clean_json(v) for k, v in x.items() if not VOLATILE.search(k)}
    if isinstance(x, list):
        return [_clean_json(v) for v in x]
    return x


def _products(tree: Path) -> dict[str, object]:
    out = {}
    for base in (tree / FIGS, tree / RESULTS / "eval"):
        for path in sorted(base.rglob("*")):
            rel = path.relative_to(tree)
            if any(part.startswith(".") for part in rel.parts):  # temporary files of killed jobs
                continue
            if path.suffix not in (".csv", ".md") and path.name != "claims.json":
                continue
            text = path.read_text().replace(str(tree), "<tree>")
            if path.suffix == ".csv":
                rows = list(csv.DictReader(text.splitlines()))
                out[str(rel)] = [{k: v for k, v in r.items() if not VOLATILE.search(k or "")} for r in rows]
            elif path.suffix == ".md":
                out[str(rel)] = [ln for ln in text.splitlines() if not VOLATILE_LINE.search(ln)]
            else:
                out[str(rel)] = _clean_json(json.loads(text))
    return out


@pytest.mark.slow
def test_killed_workflow_resumes_to_the_products_of_an_uninterrupted_run(tmp_path):
    src = _copy_tree(ROOT, tmp_path / "src")  # one snapshot of the checkout for both runs
    full = _copy_tree(src, tmp_path / "full")
    r = subprocess.run([sys.executable, "-c", "import yarnlab; print(yarnlab.__file__)"], env=_env(full),
                       capture_output=True, text=True, cwd=full)
    assert Path(r.stdout.strip()).is_relative_to(full)  # the jobs import the private copy
    _run(full)
    reference = _products(full)
    assert any(k.endswith("CLAIMS.md") for k in reference) and sum(k.endswith(".csv") for k in reference) >= 5

    cut = _copy_tree(src, tmp_path / "cut")
    _kill_when(cut, _base_mid_training, "a base-model checkpoint")
    assert _no_half_written_output(cut) > 0
    _run(cut, "--unlock")
    _kill_when(cut, _finetune_mid_training, "a fine-tuning checkpoint", "--rerun-incomplete")
    assert _no_half_written_output(cut) > 0
    _run(cut, "--unlock")
    _run(cut, "--rerun-incomplete")
    assert _no_half_written_output(cut) > 0
    resumed = _products(cut)
    assert sorted(resumed) == sorted(reference)
    for key in reference:
        a, b = reference[key], resumed[key]
        first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), None) if isinstance(a, list) else None
        assert a == b, (key, first, a[first] if first is not None else a, b[first] if first is not None else b)
