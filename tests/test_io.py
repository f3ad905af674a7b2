"""yarnlab.io: atomic writes (rename on success, nothing left on error), one file mode, one
provenance schema, CSV tables that read back the numbers written."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from yarnlab import io
from yarnlab.errors import UsageError
from yarnlab.io import (
    atomic_files,
    atomic_path,
    atomic_write_bytes,
    atomic_write_text,
    provenance,
    read_table,
    write_json,
    write_table,
)


def _mode(p):
    return p.stat().st_mode & 0o777


def test_atomic_write_replaces_with_result_mode(tmp_path):
    target = tmp_path / "sub" / "a.txt"
    atomic_write_text(target, "one\n")
    atomic_write_text(target, "two\n")
    assert target.read_text() == "two\n" and _mode(target) == io.FILE_MODE == 0o644
    atomic_write_bytes(tmp_path / "b.bin", b"\x00\x01")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01" and _mode(tmp_path / "b.bin") == 0o644
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.txt", "b.bin", "sub"]


def test_failed_block_leaves_target_and_no_temporary(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("writer died")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    with pytest.raises(FileNotFoundError, match="nothing was written"), atomic_path(tmp_path / "b"):
        pass
    assert not (tmp_path / "b").exists()


def test_atomic_path_renames_a_whole_directory(tmp_path):
    with atomic_path(tmp_path / "ckpt") as tmp:
        tmp.mkdir()
        (tmp / "config.json").write_text("{}")
    assert (tmp_path / "ckpt" / "config.json").read_text() == "{}" and _mode(tmp_path / "ckpt") == 0o755
    with pytest.raises(ValueError), atomic_path(tmp_path / "other") as tmp:
        tmp.mkdir()
        (tmp / "x").write_text("x")
        raise ValueError
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]


def test_atomic_files_moves_each_file_into_an_existing_folder(tmp_path):
    (tmp_path / "metrics.jsonl").write_text("kept\n")
    with atomic_files(tmp_path) as tmp:
        (tmp / "config.json").write_text("{}")
        (tmp / "model.safetensors").write_bytes(b"w")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "metrics.jsonl", "model.safetensors"]
    assert _mode(tmp_path / "model.safetensors") == 0o644
    with pytest.raises(KeyError), atomic_files(tmp_path) as tmp:
        (tmp / "config.json").write_text("new")
        raise KeyError
    assert (tmp_path / "config.json").read_text() == "{}" and len(list(tmp_path.iterdir())) == 3


def test_provenance_schema():
    rec = provenance({"scale": np.float64(2.0), "dims": np.arange(2)}, seed=3)
    assert rec["package"] == "yarnlab" and rec["version"] and rec["python"] and rec["numpy"] == np.__version__
    assert rec["parameters"] == {"scale": 2.0, "dims": [0, 1]} and rec["seed"] == 3
    assert rec["git_dirty"] in (True, False, None)
    assert (rec["git_revision"] is None) <= ("git_note" in rec)  # no revision without a reason
    assert rec["created_utc"].endswith("+00:00")
    json.dumps(rec)
    with pytest.raises(UsageError, match="parameters"):
        provenance({}, parameters={})


@pytest.mark.slow
def test_provenance_lists_torch_only_when_imported():
    code = "import yarnlab.io as io, sys; r = io.provenance({}); print('torch' in r, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_table_round_trip_and_sidecar(tmp_path):
    rows = [{"method": "yarn", "s": 2, "ppl": 1 / 3, "t": np.float32(0.5)}, {"method": "pi", "s": 16, "ppl": math.pi,
                                                                             "t": 1e-300}]
    path = write_table(tmp_path / "r.csv", rows, {"seed": 0})
    back = read_table(path)
    assert back == [{"method": "yarn", "s": 2, "ppl": 1 / 3, "t": 0.5}, {"method": "pi", "s": 16, "ppl": math.pi,
                                                                         "t": 1e-300}]
    side = json.loads((tmp_path / "r.csv.provenance.json").read_text())
    assert side["file"] == "r.csv" and side["rows"] == 2 and side["parameters"] == {"seed": 0}
    assert _mode(path) == 0o644 and _mode(tmp_path / "r.csv.provenance.json") == 0o644
    with pytest.raises(UsageError, match="no rows"):
        write_table(tmp_path / "e.csv", [], {})
    with pytest.raises(UsageError, match="not found"):
        read_table(tmp_path / "missing.csv")


def test_write_json_sorted_and_indented(tmp_path):
    write_json(tmp_path / "j.json", {"b": np.int64(1), "a": [np.float64(0.5)]}, sort_keys=True, indent=1)
    assert (tmp_path / "j.json").read_text() == '{\n "a": [\n  0.5\n ],\n "b": 1\n}\n'


def test_one_module_renames():
    """Atomic renames live in yarnlab/io.py (and the checkpoint writer), nowhere else in the package."""
    import yarnlab

    root = os.path.dirname(yarnlab.__file__)
    found = []
    for dirpath, _, files in os.walk(root):
        for f in files:
            if f.endswith(".py"):
                p = os.path.join(dirpath, f)
                with open(p, encoding="utf-8") as fh:
                    text = fh.read()
                if "os.replace(" in text or "os.rename(" in text:
                    found.append(os.path.relpath(p, root))
    assert set(found) <= {"io.py", os.path.join("train", "checkpoint.py")}, found
    assert "io.py" in found


IN_CHECKOUT = (Path(io.__file__).resolve().parents[1] / ".git").exists()


@pytest.mark.skipif(not IN_CHECKOUT, reason="the package is not in a git checkout here")
def test_provenance_records_the_revision_of_the_checkout():
    rec = provenance({})
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(io.__file__).parent, capture_output=True,
                          text=True).stdout.strip()
    assert rec["git_revision"] == head and len(head) == 40 and rec["git_dirty"] in (True, False)


@pytest.mark.skipif(not IN_CHECKOUT, reason="the package is not in a git checkout here")
def test_when_git_refuses_the_checkout_the_revision_is_read_from_the_git_folder(monkeypatch):
    head = io.git_state()[0]

    def refuse(cmd, **kw):
        raise subprocess.CalledProcessError(128, cmd, stderr="fatal: detected dubious ownership in repository\n")

    monkeypatch.setattr(io.subprocess, "run", refuse)
    rev, dirty, why = io.git_state()
    assert rev == head and dirty is None and "dubious ownership" in why
    rec = provenance({})
    assert rec["git_revision"] == head and "working-tree state unknown" in rec["git_note"]


def test_head_from_files_follows_refs_and_packed_refs(tmp_path):
    git = tmp_path / "repo" / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    inner = tmp_path / "repo" / "pkg" / "sub"
    inner.mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "packed-refs").write_text("# pack-refs\n" + "a" * 40 + " refs/heads/main\n")
    assert io._head_from_files(inner) == "a" * 40
    (git / "refs" / "heads" / "main").write_text("b" * 40 + "\n")
    assert io._head_from_files(inner) == "b" * 40
    (git / "HEAD").write_text("c" * 40 + "\n")  # detached
    assert io._head_from_files(inner) == "c" * 40
    plain = tmp_path / "plain"
    plain.mkdir()
    if not any((d / ".git").exists() for d in plain.parents):
        assert io._head_from_files(plain) is None
