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


def table(config: dict, out_prefix: str) -> None:
    from yarnlab.io import atomic_write_text, write_table

    by = {}
    toys = list(config["sensitivity"]["toys"])
    for toy, _seed, cfg in runs(config):
        doc = json.loads(Path(cfg["paper_figs"], "claims.json").read_text())
        for c in doc["claims"] + doc["open_questions"]:
            e = by.setdefault(c["id"], {"title": c["title"], "verdicts": {t: [] for t in toys}, "headline": {}})
            e["verdicts"][toy].append(c["verdict"])
            e["headline"].setdefault(toy, c.get("headline", ""))
    rows, lines = [], []
    for cid, e in by.items():
        cells = {}
        for t in toys:
            cnt = Counter(e["verdicts"][t])
            cells[t] = ", ".join(f"{v} {n}/{len(e['verdicts'][t])}" for v, n in cnt.most_common())
        robust = len({v for t in toys for v in e["verdicts"][t]}) == 1
        rows.append(
            {
                "claim": cid,
                "title": e["title"],
                **{f"verdicts {t}": cells[t] for t in toys},
                **{f"headline {t} (first seed)": e["headline"][t] for t in toys},
                "same verdict everywhere": robust,
            }
        )
        lines.append(
            f"| {cid} | {e['title']} | " + " | ".join(cells[t] for t in toys) + f" | {'yes' if robust else 'no'} |"
        )
    write_table(
        f"{out_prefix}.csv", rows, {"toys": config["sensitivity"]["toys"], "seeds": config["sensitivity"]["seeds"]}
    )
    head = [
        "# Verdicts across toy geometry and training seeds",
        "",
        "Each toy (geometry / training overrides of the config) is run once per seed, the whole workflow each "
        "time; a cell counts the seeds per verdict. 'Same verdict everywhere': every toy and seed agree.",
        "",
        "Toys: " + "; ".join(f"{t}: {json.dumps(o or {})}" for t, o in config["sensitivity"]["toys"].items()),
        "",
        "| # | claim | " + " | ".join(toys) + " | same verdict everywhere |",
        "|" + "---|" * (len(toys) + 3),
    ]
    atomic_write_text(f"{out_prefix}.md", "\n".join(head + lines) + "\n")


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
