"""Screen pre-registered pretraining recipes by the regime checks alone.

The pre-registration (YAML, e.g. ``workflows/preregistration/base_recipe.yaml``) names a base config,
the thresholds of the regime checks, the stopping rule and the candidates in the order they run;
each candidate is a set of overrides of the base config. For candidate C the run's config is the
base config with C's overrides and the registered thresholds as its ``regime`` section,
``results: <results>/candidates/C``; it runs as ``snakemake --cores N regime_checks --configfile
<that>`` (nested, so ``--nolock``): the base model and its regime evaluations only, no fine-tune.

Stopping rule (``stop: first_pass``): candidates run in the registered order and the search stops
after the first whose every check passes; ``stop: all`` runs every candidate. A finished candidate
(its regime table exists and its config is unchanged but for the descriptive ``toy`` text) is not
redone. Each candidate that ran leaves a record beside the table (``<out dir>/records/<name>.json``:
its config's fingerprint, its regime rows and its pretraining cost), committed with it, so a
candidate whose run directory is not on this machine is not redone either (status ``recorded``).
A record made under another config (the base config changed since) does not stand in for a run, so
``--only NAME`` runs just the named candidates: every other one is read from its record as it stands
(it was judged under the config it ran with), or listed as not run yet.
The table (Markdown + CSV) is built from the records: every candidate that ran, failures included,
with each check's value, the pretraining time and tokens/s, and says which candidates did not run
and why.

    python workflows/scripts/candidates.py --prereg workflows/preregistration/base_recipe.yaml \\
        --results results --cores 2 --out paper_figs/candidates/candidates
"""

from __future__ import annotations

import argparse
import copy
import csv
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import yaml


def merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def load(prereg: str) -> dict:
    doc = yaml.safe_load(Path(prereg).read_text())
    problems = [f"{k}: required" for k in ("base_config", "thresholds", "stop", "candidates") if k not in doc]
    if doc.get("stop") not in (None, "first_pass", "all"):
        problems.append(f"stop: must be first_pass or all (got {doc.get('stop')!r})")
    names = [c.get("name") for c in doc.get("candidates", [])]
    if len(set(names)) != len(names) or None in names:
        problems.append(f"candidates: each needs a unique name (got {names})")
    if problems:
        sys.exit(f"{prereg}: " + "; ".join(problems))
    return doc


def candidate_config(doc: dict, cand: dict, results: str) -> dict:
    base = yaml.safe_load(Path(doc["base_config"]).read_text())
    cfg = merge(base, cand.get("overrides") or {})
    cfg["regime"] = merge(cfg.get("regime") or {}, doc["thresholds"])
    res = f"{results}/candidates/{cand['name']}"
    cfg.update(results=res, paper_figs=f"{res}/paper_figs")
    # the text printed under the candidate's regime table: its own recipe, not the base config's toy
    prereg = doc.get("_path", "the pre-registration")
    cfg["toy"] = merge(cfg.get("toy") or {}, {
        "choice": f"pre-registered candidate {cand['name']} ({prereg}), judged by the regime checks alone",
        "pretraining": "pretraining of the base config with the overrides "
                       + json.dumps((cand.get("overrides") or {}).get("base", {}))})
    over = (cand.get("overrides") or {}).get("base") or {}
    own = ([f"preset {over['preset']}"] if "preset" in over else []) + (
        [f"b = {over['rope_base']:g}"] if "rope_base" in over else [])
    if own and cfg["toy"].get("model"):  # the base config's model line names its own preset and b
        cfg["toy"]["model"] = f"{cfg['toy']['model']} (this candidate: {', '.join(own)})"
    return cfg


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return [r for r in csv.DictReader(ln for ln in fh if not ln.startswith("#"))]


def records_dir(prefix: str) -> Path:
    return Path(prefix).parent / "records"


def config_text(cfg: dict) -> str:
    return yaml.safe_dump(cfg, sort_keys=False)


def fingerprint(cfg: dict) -> str:
    """SHA-256 of the config without its descriptive ``toy`` text: what decides whether a run is current."""
    return hashlib.sha256(config_text({k: v for k, v in cfg.items() if k != "toy"}).encode()).hexdigest()


def read_record(prefix: str, name: str) -> dict | None:
    path = records_dir(prefix) / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def write_record(prefix: str, cand: dict, cfg: dict) -> dict:
    """The record of a finished candidate, from its run directory."""
    from yarnlab.io import atomic_write_text
    from yarnlab.workflow.layout import Layout

    res = cfg["results"]
    rec = {"name": cand["name"], "config_sha256": fingerprint(cfg),
           "regime": read_rows(Path(Layout(res).regime_checks("csv"))), "pretraining": _pretraining(res),
           "source": f"run directory {res}"}
    old = read_record(prefix, cand["name"])
    if old is not None and old.get("note"):  # a note written by hand about the run is kept
        rec["note"] = old["note"]
    records_dir(prefix).mkdir(parents=True, exist_ok=True)
    atomic_write_text(str(records_dir(prefix) / f"{cand['name']}.json"), json.dumps(rec, indent=1) + "\n")
    return rec


def run(doc: dict, results: str, cores: int, prefix: str,
        only: set[str] | None = None) -> list[tuple[dict, str]]:
    """Run the candidates by the stopping rule; ``[(candidate, status)]`` with status ran / finished /
    recorded / skipped / pending. With ``only``, candidates outside it are read from their records
    (``recorded``) or left ``pending``, never run."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from yarnlab.workflow.layout import Layout

    out, passed = [], False
    for cand in doc["candidates"]:
        if passed and doc["stop"] == "first_pass":
            out.append((cand, "skipped"))
            continue
        if only is not None and cand["name"] not in only:
            rec = read_record(prefix, cand["name"])
            status = "pending" if rec is None else "recorded"
        else:
            rec, status = _run_one(doc, cand, results, cores, prefix, Layout)
        passed = rec is not None and all(r["passed"] == "True" for r in rec["regime"])
        out.append((cand, status))
    return out


def write_configs(doc: dict, results: str, names) -> list[Path]:
    """Write the config each named candidate runs with (``RESULTS/candidates/NAME/config.yaml``, the file
    :func:`_run_one` writes before it runs), running nothing. A run made elsewhere from that file (the GPU
    runbook: ``--job NAME=<that file>:regime_checks``) and unpacked into ``RESULTS/candidates`` is then
    ``finished``: its regime table exists and its config is the registered one."""
    return [_write_config(candidate_config(doc, cand, results)) for cand in doc["candidates"] if cand["name"] in names]


def _write_config(cfg: dict) -> Path:
    """``<cfg results>/config.yaml``: the file a candidate's run reads and its fingerprint is checked against."""
    from yarnlab.io import atomic_write_text

    path = Path(cfg["results"], "config.yaml")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(str(path), config_text(cfg))
    return path


def _run_one(doc: dict, cand: dict, results: str, cores: int, prefix: str, Layout) -> tuple[dict, str]:
    """(record, status) of one candidate: finished or recorded under its current config, else run now."""
    cfg = candidate_config(doc, cand, results)
    path = Path(cfg["results"], "config.yaml")
    table = Path(Layout(cfg["results"]).regime_checks("csv"))
    fp, rec = fingerprint(cfg), read_record(prefix, cand["name"])
    if table.exists() and path.exists() and fingerprint(yaml.safe_load(path.read_text())) == fp:
        print(f"== {cand['name']}: finished ({table}), not redone", flush=True)
        rec, status = write_record(prefix, cand, cfg), "finished"
    elif rec is not None and rec["config_sha256"] == fp:
        print(f"== {cand['name']}: recorded ({records_dir(prefix)}), not redone", flush=True)
        status = "recorded"
    else:
        _write_config(cfg)
        print(f"== {cand['name']}: {path}", flush=True)
        rc = subprocess.call(["snakemake", "--cores", str(cores), "--nolock", "--rerun-incomplete",
                              "regime_checks", "--configfile", str(path)])
        if rc:
            sys.exit(f"candidates: {cand['name']} failed (exit {rc}); its logs: {cfg['results']}/logs")
        rec, status = write_record(prefix, cand, cfg), "ran"
    return rec, status


def _pretraining(res: str) -> dict:
    """Tokens, speed and wall time of the base's pretraining. The wall time is the rule's benchmark (the
    last process); a run resumed from a checkpoint adds the earlier processes' time up to it
    (``elapsed_s_total - elapsed_s_this_run`` of the training summary), and its tokens/s is over the
    optimizer steps of all of them. Where the checkpoint did not record that time, ``wall_covers`` says
    the figures are the last process's alone."""
    from yarnlab.workflow.layout import SUMMARY, Layout

    summ = json.loads(Path(Layout(res).base_model(0, SUMMARY)).read_text())
    bench = Path(Layout(res).benchmark("base_model", "seed-0"))
    wall = float(read_rows_tsv(bench)[0]["s"]) if bench.exists() else float("nan")
    out = {"tokens": summ["tokens"], "tokens_per_s": summ["tokens_per_s_this_run"], "wall_s": wall,
           "heldout_bpb": summ.get("heldout_bpb")}
    resumed = summ.get("resumed_from_step")
    if resumed:
        out["resumed_from_step"] = resumed
        if summ.get("elapsed_s_total") is None or summ.get("train_seconds_total") is None:
            out["wall_covers"] = f"the last process only (steps {resumed}-{summ['steps']})"
        else:
            out["wall_s"] = wall + summ["elapsed_s_total"] - summ["elapsed_s_this_run"]
            out["tokens_per_s"] = summ["tokens"] / summ["train_seconds_total"]
            out["wall_covers"] = f"every process (resumed at step {resumed}; steps trained twice counted once)"
    return out


def read_rows_tsv(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def table(doc: dict, statuses: list[tuple[dict, str]], prefix: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from yarnlab.io import atomic_write_text, write_table

    rows, lines = [], [
        "# Pretraining candidates, judged by the regime checks alone",
        "",
        f"Pre-registration: `{doc['_path']}` (committed before any candidate ran; thresholds, candidates and the "
        f"stopping rule `{doc['stop']}` are read from it). Each candidate is `{doc['base_config']}` with its "
        "overrides; "
        "only the base model and its regime evaluations run (`snakemake regime_checks`). Every candidate that ran "
        "is listed, failures included.",
        "",
    ]
    checks: list[str] = []
    per: dict[str, dict] = {}
    for cand, status in statuses:
        if status in ("skipped", "pending"):
            continue
        rec = read_record(prefix, cand["name"])
        reg = rec["regime"]
        per[cand["name"]] = {"regime": reg, "note": rec.get("note"), **rec["pretraining"]}
        for r in reg:
            if r["check"] not in checks:
                checks.append(r["check"])
            rows.append({"candidate": cand["name"], "check": r["check"], "value": r["value"],
                         "threshold": r["threshold"], "passed": r["passed"]})
    names = list(per)
    lines += ["| check | " + " | ".join(names) + " |", "|" + "---|" * (len(names) + 1)]
    for c in checks:
        cells = []
        for n in names:
            r = next((x for x in per[n]["regime"] if x["check"] == c), None)
            cells.append("-" if r is None else f"{'pass' if r['passed'] == 'True' else '**fail**'}: {r['value']}")
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    lines.append("| all checks | " + " | ".join(
        "pass" if all(r["passed"] == "True" for r in per[n]["regime"]) else "fail" for n in names) + " |")
    lines.append("| pretraining tokens | " + " | ".join(f"{per[n]['tokens']:,}" for n in names) + " |")
    lines.append("| tokens/s (pretraining, all cores) | " + " | ".join(f"{per[n]['tokens_per_s']:,.0f}" for n in names)
                 + " |")
    lines.append("| base_model wall time | " + " | ".join(
        f"{per[n]['wall_s'] / 60:.1f} min" + (f" ({per[n]['wall_covers']})" if per[n].get("wall_covers") else "")
        for n in names) + " |")
    lines.append("| held-out bits per byte | " + " | ".join(f"{per[n]['heldout_bpb']:.3f}" for n in names) + " |")
    notes = [f"- `{n}`: {per[n]['note']}" for n in names if per[n]["note"]]
    if notes:
        lines += ["", "Notes on the records:", "", *notes]
    lines += ["", "## Candidates", ""]
    for cand, status in statuses:
        what = {"ran": "ran", "finished": "ran (earlier invocation)",
                "recorded": "ran (read from its committed record)",
                "skipped": "not run: an earlier candidate passed every check (stopping rule)",
                "pending": "not run yet: next in the registered order (rerun the command to continue)"}[status]
        lines.append(f"- `{cand['name']}` ({what}): {cand.get('why', '').strip()} Overrides: "
                     f"`{json.dumps(cand.get('overrides') or {})}`")
    write_table(f"{prefix}.csv", rows, {"prereg": doc["_path"], "thresholds": doc["thresholds"]})
    atomic_write_text(f"{prefix}.md", "\n".join(lines) + "\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--prereg", required=True, help="the pre-registration YAML")
    p.add_argument("--results", default="results", help="results root (candidates go to RESULTS/candidates/NAME)")
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--out", required=True, help="output prefix of the table (PREFIX.md, PREFIX.csv)")
    p.add_argument("--table-only", action="store_true", help="only rebuild the table from the committed records")
    p.add_argument("--only", nargs="+", metavar="NAME",
                   help="run only these candidates; the others are read from their records as they stand")
    p.add_argument("--write-config", action="store_true",
                   help="with --only: write each named candidate's config (RESULTS/candidates/NAME/config.yaml) "
                        "and run nothing, e.g. for the GPU runbook (workflows/scripts/gpu_runbook.py)")
    a = p.parse_args()
    doc = load(a.prereg)
    unknown = set(a.only or ()) - {c["name"] for c in doc["candidates"]}
    if unknown:
        p.error(f"--only: {sorted(unknown)} are not candidates of {a.prereg}; "
                f"allowed: {[c['name'] for c in doc['candidates']]}")
    doc["_path"] = a.prereg
    if a.write_config:
        if not a.only:
            p.error("--write-config: needs --only NAME [NAME ...] (the candidates whose configs to write)")
        for path in write_configs(doc, a.results, a.only):
            print(path)
        return
    # --table-only: the same loop with no candidate to run (each read from its record, or pending)
    statuses = run(doc, a.results, a.cores, a.out, set() if a.table_only else set(a.only) if a.only else None)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    table(doc, statuses, a.out)
    print(Path(f"{a.out}.md").read_text())


if __name__ == "__main__":
    main()
