"""``yarnlab figure NAME --inputs FILE... --out PREFIX [--set key=value ...]`` (standard library only
at import time)."""

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


def _add(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="figure or table name (see yarnlab.figures.plots.FIGURES)")
    p.add_argument("--inputs", nargs="+", required=True, help="result files the figure reads")
    p.add_argument("--out", required=True, help="output prefix: PREFIX.png/.pdf, tables PREFIX.csv/.md")
    p.add_argument("--set", nargs="*", help="figure options as key=value")


def register(subparsers) -> None:
    p = subparsers.add_parser("figure", help="draw an experiment figure/table from result files")
    _add(p)
    p.set_defaults(func=_run)


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
