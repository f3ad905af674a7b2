"""Geometry and seed sensitivity of the claims (config ``sensitivity``): the whole workflow once per
toy x seed, each in its own results folder, then one table of every claim's verdict per toy.

For toy T (overrides, e.g. ``{base: {rope_base: 10000}}``) and seed k the run's config is
``sensitivity.base_config`` (a config file, e.g. the default; without it, the current config) with T's
overrides, ``seeds: [k]``, ``results: <results>/sensitivity/T-seedk`` and its own ``paper_figs`` inside;
it runs as ``snakemake --cores N paper_figs --configfile <that>`` (nested, so ``--nolock``). A run whose
``paper_figs/claims.json`` exists and whose config file is unchanged is finished and not redone (delete
its folder to redo it). The table (Markdown + CSV) lists, per claim and toy, the verdicts of the seeds
(e.g. ``holds 3/3``) and the headline of the first seed; ``--table-only`` rebuilds it from finished runs.
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml


def merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def runs(config: dict) -> list[tuple[str, int, dict]]:
    sens = config["sensitivity"]
    root = f"{config['results']}/sensitivity"
    start = {k: v for k, v in config.items() if k != "sensitivity"}
    if sens.get("base_config"):
        start = yaml.safe_load(Path(sens["base_config"]).read_text())
    out = []
    for toy, over in sens["toys"].items():
        for seed in sens["seeds"]:
            cfg = merge(start, over or {})
            res = f"{root}/{toy}-seed{seed}"
            cfg.update(results=res, paper_figs=f"{res}/paper_figs", seeds=[seed])
            out.append((toy, seed, cfg))
    return out


def collect(config: dict) -> tuple[list[str], list[dict]]:
    """``(toys, rows)``: one tidy row per toy, seed and regime check or claim, read from each run's
    claims.json. The default toy (no overrides) comes first."""
    from yarnlab.claims.regime import outcome

    toys = sorted(config["sensitivity"]["toys"], key=lambda t: (config["sensitivity"]["toys"][t] is not None, t))
    rows = []
    for toy, seed, cfg in sorted(runs(config), key=lambda r: (toys.index(r[0]), r[1])):
        doc = json.loads(Path(cfg["paper_figs"], "claims.json").read_text())
        for r in doc["regime"]:
            rows.append({"kind": "regime", "id": r["check"], "title": r["what"], "toy": toy, "seed": seed,
                         "verdict": outcome(r), "verdict_if_testable": "",
                         "value": r["value"]})
        for c in doc["claims"] + doc["open_questions"]:
            rows.append({"kind": "claim", "id": c["id"], "title": c["title"], "toy": toy, "seed": seed,
                         "verdict": c["verdict"], "verdict_if_testable": c.get("verdict_if_testable") or "",
                         "value": c.get("headline", "")})
    return toys, rows


def _count(values: list[str]) -> str:
    return ", ".join(f"{v} {n}/{len(values)}" for v, n in Counter(values).most_common())


def table(config: dict, out_prefix: str) -> None:
    """``PREFIX.csv`` (the tidy rows of :func:`collect`) and ``PREFIX.md``: the regime checks per
    toy (passes per seed and each seed's value), every verdict per toy (seeds per verdict; for "not
    testable", what the rows would read), and each claim's headline per toy and seed."""
    from yarnlab.io import atomic_write_text, write_table

    toys, rows = collect(config)
    seeds = config["sensitivity"]["seeds"]
    ids = list(dict.fromkeys((r["kind"], r["id"]) for r in rows))
    title = {(r["kind"], r["id"]): r["title"] for r in rows}

    def pick(kind, cid, toy):
        return [r for r in rows if (r["kind"], r["id"], r["toy"]) == (kind, cid, toy)]

    lines = [
        "# Verdicts across toy geometry and training seeds",
        "",
        "Each toy (geometry / training overrides of workflows/config/default.yaml) is run once per training "
        f"seed ({', '.join(map(str, seeds))}), the whole workflow each time "
        "(`python workflows/scripts/sensitivity.py`, rule `sensitivity_table` of claims-full).",
        "",
        "Toys: " + "; ".join(f"`{t}`: {json.dumps(config['sensitivity']['toys'][t] or {})}" for t in toys),
        "",
        "## Regime checks per geometry (passes / seeds; each seed's value)",
        "",
        "| check | " + " | ".join(toys) + " |",
        "|" + "---|" * (len(toys) + 1),
    ]
    for kind, cid in ids:
        if kind == "regime":
            cells = []
            for t in toys:
                g = pick(kind, cid, t)
                cells.append(f"{sum(r['verdict'] == 'pass' for r in g)}/{len(g)}: " + "; ".join(r["value"] for r in g))
            lines.append(f"| {cid} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Verdicts per geometry (seeds per verdict)",
        "",
        "A claim whose regime check failed is *not testable on this toy*; in brackets, what its rows would "
        "read. 'Same everywhere': every toy and seed give the same verdict.",
        "",
        "| # | claim | " + " | ".join(toys) + " | same everywhere |",
        "|" + "---|" * (len(toys) + 3),
    ]
    for kind, cid in ids:
        if kind != "claim":
            continue
        cells = []
        for t in toys:
            g = pick(kind, cid, t)
            cell = _count([r["verdict"] for r in g])
            would = [r["verdict_if_testable"] for r in g if r["verdict_if_testable"]]
            cells.append(cell + (f" (would read: {_count(would)})" if would else ""))
        same = len({r["verdict"] for r in rows if (r["kind"], r["id"]) == (kind, cid)}) == 1
        lines.append(f"| {cid} | {title[(kind, cid)]} | " + " | ".join(cells) + f" | {'yes' if same else 'no'} |")
    lines += [
        "",
        "## Headline numbers per geometry and seed",
        "",
        "| # | toy | " + " | ".join(f"seed {k}" for k in seeds) + " |",
        "|" + "---|" * (len(seeds) + 2),
    ]
    for kind, cid in ids:
        if kind != "claim":
            continue
        for t in toys:
            by_seed = {r["seed"]: r["value"] for r in pick(kind, cid, t)}
            lines.append(f"| {cid} | {t} | " + " | ".join(by_seed.get(k, "").replace("|", "/") for k in seeds) + " |")
    write_table(f"{out_prefix}.csv", rows, {"toys": config["sensitivity"]["toys"], "seeds": seeds})
    atomic_write_text(f"{out_prefix}.md", "\n".join(lines) + "\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", required=True, help="the resolved workflow config (JSON)")
    p.add_argument("--cores", type=int, default=1)
    p.add_argument("--out", required=True, help="output prefix of the table (PREFIX.md, PREFIX.csv)")
    p.add_argument("--table-only", action="store_true", help="only rebuild the table from finished runs")
    a = p.parse_args()
    config = json.loads(Path(a.config).read_text())
    if not a.table_only:
        for toy, seed, cfg in runs(config):
            path = Path(cfg["results"], "config.yaml")
            text = yaml.safe_dump(cfg, sort_keys=False)
            if Path(cfg["paper_figs"], "claims.json").exists() and path.exists() and path.read_text() == text:
                print(f"== {toy} seed {seed}: finished ({cfg['paper_figs']}/claims.json), not redone", flush=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"== {toy} seed {seed}: {path}", flush=True)
            cmd = [
                "snakemake",
                "--cores",
                str(a.cores),
                "--nolock",
                "--rerun-incomplete",
                "paper_figs",
                "--configfile",
                str(path),
            ]
            rc = subprocess.call(cmd)
            if rc:
                sys.exit(f"sensitivity: {toy} seed {seed} failed (exit {rc}); its log: {cfg['results']}/logs")
    table(config, a.out)


if __name__ == "__main__":
    main()
