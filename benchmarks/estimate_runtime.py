"""Per-rule CPU seconds of a workflow run, and its predicted time on a machine of given GFLOP/s.

    python benchmarks/estimate_runtime.py --results results --gflops-here 44 [--gflops 33] [--cores 2]
        [--wall 1320]

Reads Snakemake's benchmark files ``<results>/benchmarks/<rule>/*.tsv`` (one per job: wall seconds
``s`` and ``cpu_time``; the Snakefile gives every rule one) and prints, per rule, the jobs, wall
seconds and CPU seconds, then the predicted wall-clock time on a machine whose single-thread
float32 matmul runs at ``--gflops`` (``benchmarks/matmul_gflops.py``; the work is matmul-bound):

    T(G) = T_here * G_here / G,   T_here = --wall if given, else T_base + (CPU_all - CPU_base) / cores

where T_base is the wall time of the base-model pretraining (alone on the critical path, using every
core) and CPU_all - CPU_base the CPU seconds of every other job, spread over ``--cores`` cores. The
second form is a lower bound when the DAG cannot keep every core busy; pass the measured ``--wall``
for the first form. Prints JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

CRITICAL = ("base_model",)


def read_benchmarks(results: str | Path) -> dict[str, dict]:
    """{rule: {"jobs", "wall_s", "cpu_s"}} summed over ``<results>/benchmarks/<rule>/*.tsv``."""
    root = Path(results) / "benchmarks"
    if not root.is_dir():
        raise SystemExit(f"estimate_runtime: {root} does not exist; run the workflow first "
                         "(every rule writes its benchmark file there)")
    rules: dict[str, dict] = {}
    for tsv in sorted(root.glob("*/*.tsv")):
        with open(tsv, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        if not rows:
            continue
        r = rules.setdefault(tsv.parent.name, {"jobs": 0, "wall_s": 0.0, "cpu_s": 0.0})
        for row in rows:
            r["jobs"] += 1
            r["wall_s"] += float(row["s"])
            cpu = row.get("cpu_time", "NA")
            r["cpu_s"] += float(cpu) if cpu not in ("", "NA", None) else float(row["s"])
    if not rules:
        raise SystemExit(f"estimate_runtime: no benchmark files under {root}")
    return rules


def estimate(rules: dict[str, dict], gflops_here: float, gflops: float, cores: int = 2,
             wall: float | None = None) -> dict:
    """The prediction of the module docstring; every intermediate figure is returned."""
    if gflops_here <= 0 or gflops <= 0 or cores < 1:
        raise SystemExit(f"estimate_runtime: need --gflops-here > 0, --gflops > 0, --cores >= 1 "
                         f"(got {gflops_here}, {gflops}, {cores})")
    cpu_all = sum(r["cpu_s"] for r in rules.values())
    base_wall = sum(rules[k]["wall_s"] for k in CRITICAL if k in rules)
    base_cpu = sum(rules[k]["cpu_s"] for k in CRITICAL if k in rules)
    t_here = wall if wall is not None else base_wall + (cpu_all - base_cpu) / cores
    return {"cpu_s_total": cpu_all, "critical_wall_s": base_wall, "t_here_s": t_here,
            "t_here_from": "measured --wall" if wall is not None else "benchmark files",
            "gflops_here": gflops_here, "gflops": gflops, "cores": cores,
            "t_predicted_s": t_here * gflops_here / gflops}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--results", default="results", help="the workflow's results folder (default results)")
    p.add_argument("--gflops-here", type=float, required=True,
                   help="this machine's single-thread matmul GFLOP/s (benchmarks/matmul_gflops.py)")
    p.add_argument("--gflops", type=float, default=33.0, help="the target machine's GFLOP/s (default 33)")
    p.add_argument("--cores", type=int, default=2, help="cores of the target machine (default 2)")
    p.add_argument("--wall", type=float, default=None, help="measured wall seconds of the run here")
    p.add_argument("--json", action="store_true", help="print JSON")
    a = p.parse_args(argv)
    rules = read_benchmarks(a.results)
    est = estimate(rules, a.gflops_here, a.gflops, a.cores, a.wall)
    if a.json:
        print(json.dumps({"rules": rules, **est}, indent=1))
        return 0
    print(f"{'rule':<32} {'jobs':>5} {'wall s':>10} {'CPU s':>10}")
    for name, r in sorted(rules.items(), key=lambda kv: -kv[1]["cpu_s"]):
        print(f"{name:<32} {r['jobs']:>5d} {r['wall_s']:>10.1f} {r['cpu_s']:>10.1f}")
    print(f"{'total':<32} {sum(r['jobs'] for r in rules.values()):>5d} "
          f"{sum(r['wall_s'] for r in rules.values()):>10.1f} {est['cpu_s_total']:>10.1f}")
    print(f"time here ({est['t_here_from']}): {est['t_here_s'] / 60:.1f} min at {a.gflops_here:g} GFLOP/s; "
          f"predicted at {a.gflops:g} GFLOP/s on {a.cores} cores: {est['t_predicted_s'] / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
