"""``python -m yarnlab.train pretrain|finetune ...``: the ``yarnlab train`` commands on their own."""

from __future__ import annotations

import argparse
import sys

from yarnlab import cpu
from yarnlab.errors import UsageError
from yarnlab.train.cli import register


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m yarnlab")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["train", *(sys.argv[1:] if argv is None else argv)])
    try:
        with cpu.restored():  # a command's subnormal flushing ends with it (yarnlab/cpu.py)
            return int(args.func(args) or 0)
    except BrokenPipeError:  # output piped into a reader that went away
        from yarnlab.cli_support import closed_pipe

        return closed_pipe()
    except UsageError as exc:
        print(f"yarnlab train: error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 2)  # 3: StaleCheckpoint


if __name__ == "__main__":
    raise SystemExit(main())
