"""Compare induction-head formation across training runs: one table and one figure.

    python benchmarks/induction_runs.py --run LABEL=PATH/metrics.jsonl [--run ...] --out PREFIX

Each ``metrics.jsonl`` is a ``yarnlab train pretrain`` log (with ``--induction-eval on``) or a
``benchmarks/induction_control.py`` log; the evaluation lines carry ``induction_gain_d<D>``. The
table (PREFIX.md) gives, per run, the gain at every distance at a few steps and the first step at
which the gain at any distance exceeds 0.5 nats (the phase change); the figure (PREFIX.png/.pdf)
draws the gain at each run's best and worst distance against the step.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def load(path: str) -> list[dict]:
    rows = [json.loads(ln) for ln in Path(path).read_text().splitlines() if ln.strip()]
    return [r for r in rows if any(k.startswith("induction_gain_d") for k in r) and not r.get("final")]


def dists(rows: list[dict]) -> list[int]:
    return sorted({int(k.rsplit("_d", 1)[1]) for r in rows for k in r if k.startswith("induction_gain_d")})


def formed_at(rows: list[dict], threshold: float = 0.5) -> int | None:
    for r in rows:
        if max(r[f"induction_gain_d{d}"] for d in dists(rows)) > threshold:
            return int(r["step"])
    return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", action="append", required=True, metavar="LABEL=PATH")
    ap.add_argument("--steps", default="1000,1500,2000,2500", help="steps shown in the table")
    ap.add_argument("--out", required=True, help="output prefix")
    a = ap.parse_args(argv)
    runs = [(lab, load(path)) for lab, path in (x.split("=", 1) for x in a.run)]
    steps = [int(s) for s in a.steps.split(",")]
    lines = ["| run | distances | " + " | ".join(f"gain at step {s}" for s in steps) + " | gain > 0.5 first at |",
             "|" + "---|" * (len(steps) + 3)]
    for lab, rows in runs:
        ds = dists(rows)
        cells = []
        for s in steps:
            r = next((x for x in rows if x["step"] == s), None)
            cells.append("-" if r is None else " / ".join(f"{r[f'induction_gain_d{d}']:.2f}" for d in ds))
        f = formed_at(rows)
        lines.append(f"| {lab} | {' / '.join(map(str, ds))} | " + " | ".join(cells) + f" | {f if f else 'never'} |")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(f"{a.out}.md").write_text("\n".join(lines) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 4.2))
    for i, (lab, rows) in enumerate(runs):
        c = plt.cm.tab10(i % 10)
        for d, ls in ((64, "-"), (max(dists(rows)), ":")):
            ax.plot([r["step"] for r in rows], [r[f"induction_gain_d{d}"] for r in rows], ls, color=c,
                    label=f"{lab}, distance {d}")
    ax.axhline(0, color="gray", lw=0.8)
    ax.set_xlabel("optimizer step (16 x 256 tokens)")
    ax.set_ylabel("induction gain (nats): first - second copy")
    ax.set_title("Induction-head formation on the copying task")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    for ext in ("png", "pdf"):
        fig.savefig(f"{a.out}.{ext}", dpi=110, bbox_inches="tight")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
