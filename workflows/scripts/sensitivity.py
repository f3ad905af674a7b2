"""Geometry and seed sensitivity of the claims (config ``sensitivity``): the whole workflow once per
toy x seed, each in its own results folder, then one table of every claim's verdict per toy.

For toy T (overrides, e.g. ``{base: {rope_base: 10000}}``) and seed k the run's config is
``sensitivity.base_config`` (a config file, e.g. the default; without it, the current config) with T's
overrides, ``seeds: [k]``, ``results: <results>/sensitivity/T-seedk`` and its own ``paper_figs`` inside;
it runs as ``snakemake --cores N paper_figs --configfile <that>`` (nested, so ``--nolock``). A run whose
``paper_figs/claims.json`` exists and whose config file is unchanged is finished and not redone (delete
its folder to redo it).

The table (``PREFIX.md``) leads with the verdicts pooled over the seeds, per claim and toy
(:func:`yarnlab.claims.pooled.build_pooled`, read from each seed run's result files and claims settings:
hierarchical intervals over seeds, then works; ``PREFIX_pooled.csv`` / ``PREFIX_pooled.json`` hold them in
full), then the per-seed tables: the regime checks, the verdicts of the seeds (e.g. ``holds 3/3``, from
each run's ``claims.json``; ``PREFIX.csv``) and each seed's headline. ``--table-only`` rebuilds all of it from
finished runs.
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
    from yarnlab.workflow.layout import Layout

    toys = sorted(config["sensitivity"]["toys"], key=lambda t: (config["sensitivity"]["toys"][t] is not None, t))
    rows = []
    for toy, seed, cfg in sorted(runs(config), key=lambda r: (toys.index(r[0]), r[1])):
        doc = json.loads(Path(Layout(cfg["results"], cfg["paper_figs"]).figure("claims.json")).read_text())
        for r in doc["regime"]:
            rows.append({"kind": "regime", "id": r["check"], "title": r["what"], "toy": toy, "seed": seed,
                         "verdict": outcome(r), "verdict_if_testable": "",
                         "value": r["value"]})
        for c in doc["claims"] + doc["open_questions"]:
            rows.append({"kind": "claim", "id": c["id"], "title": c["title"], "toy": toy, "seed": seed,
                         "verdict": c["verdict"], "verdict_if_testable": c.get("verdict_if_testable") or "",
                         "value": c.get("headline", "")})
    return toys, rows


def pooled(config: dict) -> dict[str, dict | str]:
    """Per toy, :func:`yarnlab.claims.pooled.build_pooled` of its seed runs (each run's results folder and
    ``claims_settings.json``), or why it is not pooled (fewer seeds than a hierarchical interval needs)."""
    from yarnlab.claims.pooled import MIN_SEEDS, build_pooled
    from yarnlab.workflow.layout import Layout

    by_toy: dict[str, list] = {}
    for toy, _seed, cfg in runs(config):
        settings = Path(Layout(cfg["results"]).claims_settings_file())
        if not settings.is_file():
            sys.exit(f"sensitivity: {settings} is missing: run {toy} first (without --table-only)")
        by_toy.setdefault(toy, []).append((cfg["results"], json.loads(settings.read_text())))
    out: dict[str, dict | str] = {}
    for toy, seed_runs in by_toy.items():
        if len(seed_runs) < MIN_SEEDS:
            out[toy] = f"not pooled: {len(seed_runs)} seed(s), a hierarchical interval needs >= {MIN_SEEDS}"
        else:
            out[toy] = build_pooled(seed_runs)
    return out


def _pooled_rows(toys: list[str], docs: dict) -> list[dict]:
    rows = []
    for toy in toys:
        doc = docs[toy]
        if isinstance(doc, str):
            rows.append({"toy": toy, "id": "-", "title": "", "seeds": "", "verdict": "not pooled",
                         "verdict_if_testable": "", "headline": "", "why": doc})
            continue
        for c in doc["claims"] + doc["open_questions"]:
            rows.append({"toy": toy, "id": c["id"], "title": c["title"], "seeds": " ".join(map(str, doc["seeds"])),
                         "verdict": c["verdict"], "verdict_if_testable": c.get("verdict_if_testable") or "",
                         "headline": c.get("headline", ""), "why": "; ".join(c.get("not_testable_because", []))})
    return rows


def _pooled_lines(config: dict, toys: list[str], docs: dict) -> list[str]:
    rows = [r for r in _pooled_rows(toys, docs) if r["id"] != "-"]
    ids = list(dict.fromkeys(r["id"] for r in rows))
    title = {r["id"]: r["title"] for r in rows}
    cell = {(r["toy"], r["id"]): r for r in rows}
    method = next((d["interval_method"] for d in docs.values() if not isinstance(d, str)), "")
    lines = [
        "## Verdicts pooled over the seeds (the headline)",
        "",
        f"One verdict per claim and toy from all of its seeds ({', '.join(map(str, config['sensitivity']['seeds']))}) "
        f"together: 95% {method} (max-t within each claim's family); claims 3 and 5's steps ratios resample "
        "seeds, then held-out windows. A claim whose regime check failed in any seed is *not testable on this "
        "toy* (in brackets, what it would read). Claims 6, 9 and Q4 are not pooled (see the per-seed tables).",
        "",
    ]
    lines += [f"- `{t}`: {docs[t]}" for t in toys if isinstance(docs[t], str)]
    lines += ["", "| # | claim | " + " | ".join(toys) + " |", "|" + "---|" * (len(toys) + 2)]
    for cid in ids:
        cells = []
        for t in toys:
            r = cell.get((t, cid))
            cells.append("" if r is None else f"**{r['verdict']}**"
                         + (f" (would read: {r['verdict_if_testable']})" if r["verdict_if_testable"] else ""))
        lines.append(f"| {cid} | {title[cid]} | " + " | ".join(cells) + " |")
    lines += ["", "Pooled headline numbers:", "", "| # | toy | headline |", "|---|---|---|"]
    lines += [f"| {r['id']} | {r['toy']} | {r['headline'].replace('|', '/')} |" for r in rows if r["headline"]]
    return lines + [""]


def _count(values: list[str]) -> str:
    return ", ".join(f"{v} {n}/{len(values)}" for v, n in Counter(values).most_common())


def table(config: dict, out_prefix: str) -> None:
    """``PREFIX.csv`` (the tidy rows of :func:`collect`) and ``PREFIX.md``: the regime checks per
    toy (passes per seed and each seed's value), every verdict per toy (seeds per verdict; for "not
    testable", what the rows would read), and each claim's headline per toy and seed."""
    from yarnlab.io import atomic_write_text, write_table

    toys, rows = collect(config)
    docs = pooled(config)
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
        *_pooled_lines(config, toys, docs),
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
        "## Verdicts per geometry and seed (seeds per verdict; each seed's own intervals over works)",
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
    from yarnlab.io import write_json

    params = {"toys": config["sensitivity"]["toys"], "seeds": seeds}
    write_table(f"{out_prefix}.csv", rows, params)
    write_table(f"{out_prefix}_pooled.csv", _pooled_rows(toys, docs), params)
    write_json(f"{out_prefix}_pooled.json", {**params, "pooled": docs}, sort_keys=True, indent=1)
    atomic_write_text(f"{out_prefix}.md", "\n".join(lines) + "\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", required=True, help="the resolved workflow config (JSON)")
    p.add_argument("--cores", type=int, default=1)
    p.add_argument("--out", required=True, help="output prefix of the table (PREFIX.md, PREFIX.csv)")
    p.add_argument("--table-only", action="store_true", help="only rebuild the table from finished runs")
    a = p.parse_args()
    config = json.loads(Path(a.config).read_text())
    from yarnlab.workflow.layout import Layout

    if not a.table_only:
        for toy, seed, cfg in runs(config):
            path = Path(cfg["results"], "config.yaml")
            text = yaml.safe_dump(cfg, sort_keys=False)
            report = Path(Layout(cfg["results"], cfg["paper_figs"]).figure("claims.json"))
            if report.exists() and path.exists() and path.read_text() == text:
                print(f"== {toy} seed {seed}: finished ({report}), not redone", flush=True)
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
