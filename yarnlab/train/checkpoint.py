"""Resumable checkpoints: written atomically, read defensively, never deleted on an error.

A checkpoint ``<out>/checkpoints/step-<7-digit step>.pt`` holds the model and optimizer state, the
scheduler state, the step, the token count and every RNG state (Python, NumPy, torch CPU and
CUDA). Restoring it and running on gives bit-identical weights to an uninterrupted run on CPU
(eager, threads fixed; the data order is a function of (seed, step)). A compiled run (``compile``)
resumes with the same data and state, but matches an uninterrupted run to float rounding only, not bit
for bit, and those differences grow over the steps that follow.

Failure handling:

- writing goes through :func:`yarnlab.io.atomic_path` (temporary file, fsync, ``os.replace``), so
  a killed job leaves either the previous checkpoint set or the new one; a read-only or full
  results folder gives a :class:`~yarnlab.errors.UsageError` naming the folder and what to do;
- the ``keep`` newest checkpoints are kept (default 2), so :func:`load_resumable` can fall back to
  the previous one when the newest is truncated or corrupt (it names the bad file on stderr);
- :func:`set_aside` moves a checkpoint folder written under other settings to
  ``checkpoints.stale-<UTC time>`` (with the old ``metrics.jsonl`` and a ``REASON.txt``); nothing
  is deleted.
"""

from __future__ import annotations

import datetime as _dt
import errno
import os
import random
import re
import sys
from pathlib import Path

import numpy as np
import torch

from yarnlab.errors import UsageError
from yarnlab.io import atomic_path

_NAME = re.compile(r"^step-(\d+)\.pt$")
_REQUIRED = ("model", "optimizer", "scheduler", "rng", "step", "tokens", "config")


def rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def checkpoint_dir(out: str | os.PathLike) -> Path:
    return Path(out) / "checkpoints"


def list_checkpoints(out: str | os.PathLike) -> list[tuple[int, Path]]:
    """(step, path) of every checkpoint file, oldest first (temporary files are not listed)."""
    d = checkpoint_dir(out)
    if not d.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in d.iterdir() if (m := _NAME.match(p.name))]
    return sorted(found)


def latest_checkpoint(out: str | os.PathLike) -> Path | None:
    found = list_checkpoints(out)
    return found[-1][1] if found else None


def write_error(folder: Path, exc: OSError) -> UsageError:
    """The usage error for an ``OSError`` raised while writing results into ``folder``."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        what = "the disk is full: free space (or point --out / `results:` at a larger disk) and rerun with --resume"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        what = "the folder is not writable: make it writable (or choose another --out) and rerun with --resume"
    else:
        what = "check the folder and rerun with --resume"
    return UsageError(f"out: cannot write a checkpoint in {folder} ({exc.strerror or exc}); {what}")


def save_checkpoint(out: str | os.PathLike, state: dict, step: int, keep: int = 2) -> Path:
    """Write ``state`` as checkpoint ``step`` atomically, then prune all but the ``keep`` newest."""
    d = checkpoint_dir(out)
    path = d / f"step-{step:07d}.pt"
    try:
        d.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            torch.save(state, fh)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        raise write_error(d, exc) from exc
    for _, old in list_checkpoints(out)[:-max(1, keep)]:
        old.unlink(missing_ok=True)
    return path


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read one checkpoint; a truncated or corrupt file raises :class:`UsageError` naming it."""
    try:
        # the file holds RNG states (tuples, numpy arrays) besides tensors: not weights-only
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises RuntimeError, EOFError, UnpicklingError, zip errors...
        raise UsageError(f"checkpoint {path}: unreadable (truncated or corrupt: {type(exc).__name__}: {exc})") from exc
    if not isinstance(state, dict) or any(k not in state for k in _REQUIRED):
        raise UsageError(f"checkpoint {path}: not a yarnlab training checkpoint (missing "
                         f"{[k for k in _REQUIRED if not isinstance(state, dict) or k not in state]})")
    return state


def load_resumable(out: str | os.PathLike) -> tuple[Path, dict] | None:
    """The newest readable checkpoint of ``out`` as (path, state), or None when there is none.

    An unreadable newest checkpoint is reported on stderr and the previous one is tried (files are
    left in place: the next save of that step replaces them). When every checkpoint is unreadable,
    :class:`UsageError` names them all and says what to do."""
    bad = []
    for _, path in reversed(list_checkpoints(out)):
        try:
            state = load_checkpoint(path)
        except UsageError as exc:
            bad.append(str(exc))
            print(f"yarnlab train: warning: {exc}; trying the previous checkpoint", file=sys.stderr)
            continue
        return path, state
    if bad:
        raise UsageError("resume: no readable checkpoint in " + str(checkpoint_dir(out)) + ":\n  "
                         + "\n  ".join(bad) + "\nmove that folder aside to start this run over, or "
                         "restore a good checkpoint into it")
    return None


def set_aside(out: str | os.PathLike, reason: str) -> Path:
    """Move ``<out>/checkpoints`` (and ``<out>/metrics.jsonl``) to a new folder
    ``<out>/checkpoints.stale-<UTC time>`` with ``REASON.txt``; return that folder. Nothing is deleted."""
    out = Path(out)
    src = checkpoint_dir(out)
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    dst = out / f"checkpoints.stale-{stamp}"
    n = 1
    while dst.exists():
        n += 1
        dst = out / f"checkpoints.stale-{stamp}-{n}"
    os.replace(src, dst)
    metrics = out / "metrics.jsonl"
    if metrics.exists():
        os.replace(metrics, dst / "metrics.jsonl")
    (dst / "REASON.txt").write_text(reason.rstrip() + "\n")
    print(f"yarnlab train: moved the checkpoints written under other settings to {dst} "
          f"({reason.splitlines()[0]}); starting over", file=sys.stderr)
    return dst
