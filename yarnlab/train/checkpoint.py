"""Resumable checkpoints, written atomically (temporary file + ``os.replace``).

A checkpoint ``<out>/checkpoints/step-<7-digit step>.pt`` holds the model and optimizer state, the
scheduler state, the step, the token count and every RNG state (Python, NumPy, torch CPU and
CUDA). Restoring it and running on gives bit-identical weights to an uninterrupted run on CPU
(threads fixed; the data order is a function of (seed, step)).
"""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import numpy as np
import torch

_NAME = re.compile(r"^step-(\d+)\.pt$")


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
    """(step, path) of every complete checkpoint, oldest first."""
    d = checkpoint_dir(out)
    if not d.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in d.iterdir() if (m := _NAME.match(p.name))]
    return sorted(found)


def latest_checkpoint(out: str | os.PathLike) -> Path | None:
    found = list_checkpoints(out)
    return found[-1][1] if found else None


def save_checkpoint(out: str | os.PathLike, state: dict, step: int, keep: int = 2) -> Path:
    """Write ``state`` as checkpoint ``step`` atomically, then prune all but the ``keep`` newest."""
    d = checkpoint_dir(out)
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"step-{step:07d}.pt"
    tmp = d / f".{path.name}.tmp{os.getpid()}"
    with open(tmp, "wb") as fh:
        torch.save(state, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    for _, old in list_checkpoints(out)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def load_checkpoint(path: str | os.PathLike) -> dict:
    # the file holds RNG states (tuples, numpy arrays) besides tensors: not weights-only
    return torch.load(path, map_location="cpu", weights_only=False)
