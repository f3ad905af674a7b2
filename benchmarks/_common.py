"""Shared helpers for the benchmark scripts (plain scripts, not tests)."""

from __future__ import annotations

import json
import platform
import time


def timed(fn, *args, **kwargs) -> float:
    """Wall-clock seconds of one call."""
    t0 = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - t0


def interleaved(fns: dict, reps: int) -> dict[str, list[float]]:
    """Time each callable ``reps`` times, alternating between them (ABAB...) so that drifts in
    machine load hit every variant alike. Returns the per-call seconds of each."""
    out = {k: [] for k in fns}
    for _ in range(reps):
        for k, f in fns.items():
            out[k].append(timed(f))
    return out


def report(name: str, result: dict) -> None:
    import torch

    result = {"benchmark": name, "torch": torch.__version__, "threads": torch.get_num_threads(),
              "cpu": platform.processor() or platform.machine(), **result}
    print(json.dumps(result, indent=1))
