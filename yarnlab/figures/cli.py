"""A figure in two steps, each a command (standard library only at import time):

- ``yarnlab summarize KIND --inputs CSV... --out CSV [--set key=value ...]``: the summary table a figure
  draws, its statistics computed once (kinds in :data:`yarnlab.figures.summaries.KINDS`), CSV +
  provenance and a Markdown twin;
- ``yarnlab figure NAME --inputs FILE... --out PREFIX [--set key=value ...]`` (also ``python -m
  yarnlab.figures NAME ...``): the figure or table drawn from result files, no statistic computed."""

from __future__ import annotations

import argparse


def _run(args) -> int:
    from yarnlab.errors import UsageError
    from yarnlab.figures.plots import FIGURES

    if args.name not in FIGURES:
        raise UsageError(f"name: must be one of {sorted(FIGURES)} (got {args.name!r})")
    from yarnlab.cli_support import key_values

    opts = key_values(args.set)
    written = FIGURES[args.name](list(args.inputs), args.out, **opts)
    for path in written:
        print(path)
    return 0


def _summarize(args) -> int:
    from yarnlab.cli_support import key_values
    from yarnlab.figures.summaries import summarize
    from yarnlab.io import read_table

    opts = key_values(args.set)
    rows = [r for path in args.inputs for r in read_table(path)]
    for path in summarize(args.kind, rows, args.out, list(args.inputs), opts):
        print(path)
    return 0


def _add(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="figure or table name (see yarnlab.figures.plots.FIGURES)")
    p.add_argument("--inputs", nargs="+", required=True, help="result files the figure reads")
    p.add_argument("--out", required=True, help="output prefix: PREFIX.png/.pdf, tables PREFIX.csv/.md")
    p.add_argument("--set", nargs="*", help="figure options as key=value")


def register(subparsers) -> None:
    p = subparsers.add_parser("figure", help="draw an experiment figure/table from result files")
    _add(p)
    p.set_defaults(func=_run)
    m = subparsers.add_parser("summarize", help="the summary table a figure draws (perplexity, passkey, ...)")
    m.add_argument("kind", help="ppl | short_context | dynamic | passkey | ablation | temperature_study")
    m.add_argument("--inputs", nargs="+", required=True, help="per-document result CSVs (yarnlab eval)")
    m.add_argument("--out", required=True, help="CSV output (a .md twin is written beside it)")
    m.add_argument("--set", nargs="*", help="options as key=value (n_boot, length, threshold, reading)")
    m.set_defaults(func=_summarize)


def main(argv=None) -> int:
    from yarnlab.errors import UsageError

    p = argparse.ArgumentParser(prog="python -m yarnlab.figures", description=__doc__)
    _add(p)
    args = p.parse_args(argv)
    try:
        return _run(args)
    except BrokenPipeError:  # output piped into a reader that went away
        from yarnlab.cli_support import closed_pipe

        return closed_pipe()
    except UsageError as e:
        print(f"error: {e}")
        return 2
