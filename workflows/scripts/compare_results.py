"""Compare two workflow results trees, table by table.

Every CSV and JSONL file present under the same relative path in both trees (benchmarks and logs left out)
is read row by row; numeric cells must agree to ``--tol``, every other cell exactly, on the columns both
files have. Timing columns (wall time, tokens/s, memory) are skipped: they are not results. Used to show that
a refactor leaves a run's numbers unchanged: run the same config at two commits, then

    python workflows/scripts/compare_results.py RESULTS_BEFORE RESULTS_AFTER

Prints the count of identical and differing tables, each difference, and the files only one tree has; exits
1 when any common table differs.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

#: timing and resource columns: they vary run to run and are not results
TIMING = {"elapsed_s", "tokens_per_s", "tokens_per_s_this_run", "wall_s", "created_utc"}


def _num(x) -> float | None:
    if isinstance(x, bool):
        return None
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def _rows(path: Path) -> list[dict]:
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _cells_differ(u, v, tol: float) -> bool:
    if isinstance(u, list) and isinstance(v, list):
        return len(u) != len(v) or any(_cells_differ(p, q, tol) for p, q in zip(u, v))
    if isinstance(u, dict) or isinstance(v, dict):
        return json.dumps(u, sort_keys=True) != json.dumps(v, sort_keys=True)
    nu, nv = _num(u), _num(v)
    if nu is not None and nv is not None:
        return not (math.isnan(nu) and math.isnan(nv)) and abs(nu - nv) > tol
    return str(u) != str(v)


def difference(a: Path, b: Path, tol: float) -> str | None:
    """Why the tables at ``a`` and ``b`` differ, or None."""
    ra, rb = _rows(a), _rows(b)
    if len(ra) != len(rb):
        return f"{len(ra)} rows vs {len(rb)}"
    for i, (x, y) in enumerate(zip(ra, rb)):
        for k in sorted((set(x) & set(y)) - TIMING):
            if _cells_differ(x[k], y[k], tol):
                return f"row {i}, column {k}: {str(x[k])[:80]!r} vs {str(y[k])[:80]!r}"
    return None


def tables(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*") if p.suffix in (".csv", ".jsonl")
            and not {"benchmarks", "logs"} & set(p.relative_to(root).parts)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("before", type=Path)
    p.add_argument("after", type=Path)
    p.add_argument("--tol", type=float, default=1e-9, help="largest absolute difference of equal numbers")
    a = p.parse_args()
    for root in (a.before, a.after):
        if not root.is_dir():
            p.error(f"{root}: not a results folder")
    ta, tb = tables(a.before), tables(a.after)
    diffs = {rel: why for rel in sorted(ta & tb) if (why := difference(a.before / rel, a.after / rel, a.tol))}
    print(f"common tables: {len(ta & tb)}; identical: {len(ta & tb) - len(diffs)}; different: {len(diffs)}")
    for rel, why in diffs.items():
        print(f"  differs: {rel}: {why}")
    for name, only in (("before", ta - tb), ("after", tb - ta)):
        print(f"only {name}: {len(only)}" + "".join(f"\n  {r}" for r in sorted(only)))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
