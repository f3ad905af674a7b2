"""Context use of two candidate bases, each read on both candidates' evaluation pieces.

Separates what a change of evaluation pieces does to the `context_use` regime check from what a change
of training does: each base is scored by ``yarnlab eval context-use`` (the check's own command, length L,
the last ``visible`` tokens visible) on its own pieces and on the other candidate's, and every table is
summarised by the check's own estimator
(:func:`yarnlab.claims.regime.context_use_estimate`: mean truncated - full NLL, 95% bootstrap-t over works).

    python workflows/scripts/context_use_cross.py --results results/candidates \\
        --candidates small-b1e4-6k-mixcopy-warmmixed small-b1e4-6k-mixcopy-warmmixed-fp32 --out /tmp/cross
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from pathlib import Path


def summary(path: Path, n_boot: int) -> str:
    from yarnlab.claims.regime import context_use_estimate

    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    e = context_use_estimate(rows, n_boot)
    return f"{e.value:.3f} [{e.low:.3f}, {e.high:.3f}] ({len(rows)} pieces)"


def check_settings(runs: dict[str, Path], length: int | None, visible: int | None) -> tuple[int, int]:
    """The context-use check's length and visible tokens, read from each run's claims_settings.json.

    The two runs must agree (a cross reading compares like with like); an explicit ``length`` or
    ``visible`` overrides the runs' value.
    """
    import json

    from yarnlab.claims.regime import context_visible

    seen = set()
    for run in runs.values():
        path = run / "claims_settings.json"
        if not path.is_file():
            sys.exit(f"--candidates: {run} has no claims_settings.json (run its workflow first)")
        s = json.loads(path.read_text())
        n = int(s["original_ctx"])
        seen.add((n, context_visible(s["regime"]["context_visible_frac"], n)))
    if len(seen) != 1:
        sys.exit(f"--candidates: the runs' context-use settings differ (L, visible): {sorted(seen)}")
    ((n, v),) = seen
    return (n if length is None else length), (v if visible is None else visible)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--results", required=True, help="folder holding the candidates' run directories")
    p.add_argument("--candidates", nargs=2, required=True, metavar="NAME")
    p.add_argument("--out", required=True, help="folder for the cross tables")
    p.add_argument("--length", type=int, default=None,
                   help="context length (default: each run's L from its claims_settings.json)")
    p.add_argument("--visible", type=int, default=None,
                   help="visible tokens (default: the run's regime context_visible_frac x L, as the check uses)")
    p.add_argument("--n-boot", type=int, default=2000)
    a = p.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    runs = {n: Path(a.results, n) for n in a.candidates}
    for run in runs.values():
        if not (run / "models" / "base-seed0").is_dir() or not (run / "data" / "eval_docs.npz").is_file():
            sys.exit(f"--candidates: {run} has no base-seed0 model or data/eval_docs.npz")
    length, visible = check_settings(runs, a.length, a.visible)
    print(f"L = {length}, last {visible} tokens visible\n")
    print("| base | on the pieces of | context use, nats [95% CI] |\n|---|---|---|")
    for model in a.candidates:
        for docs in a.candidates:
            if model == docs:
                table = runs[model] / "eval" / "regime" / "context_use-seed0.csv"
            else:
                table = out / f"{model}_on_{docs}.csv"
                subprocess.run(["yarnlab", "eval", "context-use", "--model", str(runs[model] / "models" / "base-seed0"),
                                "--docs", str(runs[docs] / "data" / "eval_docs.npz"), "--length", str(length),
                                "--visible", str(visible), "--no-progress", "--out", str(table)], check=True)
            print(f"| {model} | {docs} | {summary(table, a.n_boot)} |", flush=True)


if __name__ == "__main__":
    main()
