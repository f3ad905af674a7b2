"""The words of a claim's section: formatted numbers and intervals, headlines, extra tables, "not run".

A claim is computed in two steps (:mod:`yarnlab.claims.registry`): its *measurement* (numbers, intervals,
the verdict rows and parts, from :class:`~yarnlab.claims.results.Results`) and its *section* (the
criterion, headline, tables, figures, rules and sources that CLAIMS.md and claims.json show, written from
the measurement alone). This module holds what the section step shares; it computes no statistic.
"""

from __future__ import annotations

import math

from yarnlab.claims import grammar as G


class NotRun(Exception):
    """A measurement this configuration does not call for (a claim role set to null, a grid with one cell):
    the claim's section reads "not run" with ``why``."""

    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


def not_run(why: str) -> dict:
    """The section of a claim that was not run, saying why."""
    return {
        "measurements": [],
        "verdict": G.NOT_RUN,
        "criterion": why,
        "headline": "not run",
        "figures": [],
        "rules": [],
        "sources": [],
    }


def named(parts: dict[str, str], names: dict[str, str]) -> dict[str, str]:
    """A measurement's part verdicts (keyed by part) under the names the section prints."""
    return {names[k]: v for k, v in parts.items()}


def num(x) -> str:
    """A number as CLAIMS.md prints it: 4 significant digits; "n/a" for None and non-finite values."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)


def interval(d: dict) -> str:
    """'value [low, high]' of an estimate dict (a PPL ratio, a difference)."""
    return f"{num(d['value'])} [{num(d['low'])}, {num(d['high'])}]"


def headline_row(rows: list[dict]) -> str:
    """The primary row at the longest length, as 'what at N: ratio [CI]'."""
    prim = [r for r in rows if r.get("role") in (None, "primary") and "ppl_ratio" in r]
    if not prim:
        return ""
    r = max(prim, key=lambda r: r.get("length", 0))
    return f"{r['what']} at {r['length']}: {interval(r['ppl_ratio'])}"


def table(title: str, columns: list[str], rows: list[list]) -> dict:
    """An extra table of a claim section, cells formatted here (the renderer only lays them out)."""
    return {
        "title": title,
        "columns": columns,
        "rows": [[num(c) if not isinstance(c, str) else c for c in r] for r in rows],
    }
