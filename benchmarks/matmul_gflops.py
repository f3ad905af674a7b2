"""Single-thread float32 matmul throughput of this machine, in GFLOP/s, and its CPU model.

    python benchmarks/matmul_gflops.py [--n 1024] [--reps 20] [--threads 1]

GFLOP/s = 2 n^3 / t for an (n x n) @ (n x n) float32 product (torch, ``--threads`` threads; median
and best of ``--reps`` timed calls after two warm-up calls). The training of the tiny models is
matmul-bound, so this one number predicts a machine's workflow time
(``benchmarks/estimate_runtime.py``). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time


def cpu_model() -> str:
    """The CPU's model name (Linux /proc/cpuinfo; else what the platform module reports)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def matmul_gflops(n: int = 1024, reps: int = 20, threads: int = 1) -> dict:
    import torch

    if n < 16 or reps < 1 or threads < 1:
        raise SystemExit(f"matmul_gflops: need --n >= 16, --reps >= 1, --threads >= 1 (got {n}, {reps}, {threads})")
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=g, dtype=torch.float32)
    b = torch.randn(n, n, generator=g, dtype=torch.float32)
    out = torch.empty(n, n, dtype=torch.float32)
    for _ in range(2):
        torch.matmul(a, b, out=out)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        torch.matmul(a, b, out=out)
        times.append(time.perf_counter() - t0)
    flop = 2.0 * n**3
    return {"benchmark": "matmul_gflops", "cpu": cpu_model(), "threads": threads, "n": n, "reps": reps,
            "gflops_median": round(flop / statistics.median(times) / 1e9, 2),
            "gflops_best": round(flop / min(times) / 1e9, 2), "torch": torch.__version__,
            "cpus_visible": __import__("os").cpu_count()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1024, help="matrix size (default 1024)")
    p.add_argument("--reps", type=int, default=20, help="timed calls (default 20)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    a = p.parse_args(argv)
    print(json.dumps(matmul_gflops(a.n, a.reps, a.threads)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
