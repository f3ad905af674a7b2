"""The ``yarnlab`` command line.

Each area registers its sub-commands through a light module (``<area>/cli.py``) that imports only
the standard library at module level, so ``yarnlab freqs`` never pays for importing torch.
A :class:`~yarnlab.errors.UsageError` raised anywhere becomes exit code 2 with its message; a
closed output pipe (``yarnlab freqs ... | head -1``) ends the command quietly with exit code 141.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from yarnlab import __version__, cpu
from yarnlab.cli_support import closed_pipe
from yarnlab.errors import UsageError

# modules exposing ``register(subparsers)``; each sub-parser sets ``func`` (args -> int | None)
COMMAND_MODULES = [
    "yarnlab.rope.cli",
    "yarnlab.theory.cli",
    "yarnlab.data.cli",
    "yarnlab.model.cli",
    "yarnlab.train.cli",
    "yarnlab.evaluate.cli",
    "yarnlab.figures.cli",
    "yarnlab.claims.cli",
]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own errors: exit 2, no traceback
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="yarnlab", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"yarnlab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # an area not present in this build
            if exc.name is None or not (name == exc.name or name.startswith(exc.name + ".")):
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except BrokenPipeError:  # --help into a closed pipe
        return closed_pipe()
    try:
        with cpu.restored():  # a command's subnormal flushing ends with it (yarnlab/cpu.py)
            rc = args.func(args)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (``yarnlab ... | head -1``): stop quietly
        return closed_pipe()
    except UsageError as exc:
        print(f"yarnlab {args.command}: error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 2)  # 3: StaleCheckpoint
    return int(rc or 0)


if __name__ == "__main__":
    raise SystemExit(main())
