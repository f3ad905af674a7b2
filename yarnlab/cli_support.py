"""Helpers every command-line module shares: ``KEY=VALUE`` options and the closed-pipe exit.

Standard library only, and a leaf of the import graph (it imports :mod:`yarnlab.errors` alone), so
the area command modules (``<area>/cli.py``, ``python -m yarnlab.train``, ``python -m
yarnlab.figures``) use these without importing :mod:`yarnlab.cli`, which loads them.
"""

from __future__ import annotations

import sys

from yarnlab.errors import UsageError


def key_values(items: list[str] | None, flag: str = "--set") -> dict[str, str]:
    """``["k=v", ...]`` -> ``{k: v}``; an item without ``=`` is a UsageError naming ``flag``."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"{flag}: expected key=value (got {item!r})")
        out[key] = value
    return out


def closed_pipe() -> int:
    """Point stdout at /dev/null so the interpreter's final flush cannot raise again; exit 141
    (128 + SIGPIPE), what a shell tool killed by the closed pipe reports."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout without a file descriptor (captured in tests)
        pass
    return 141
