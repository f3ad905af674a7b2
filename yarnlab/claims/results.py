"""The result tables of one workflow run, read by role, and the paired comparisons every claim uses.

Every number of CLAIMS.md comes from a file listed by :func:`yarnlab.claims.inputs.input_paths`;
a missing file stops the report with all missing paths named.

Perplexity tables hold one row per (reading, length, document). Two readings (``yarnlab eval ppl``):

- ``same-targets`` (``ppl.same_targets: T``): at every length n the same T target tokens, the last T of
  each piece, read with the n - T tokens before them, so a length ratio PPL(n) / PPL(n') measures what
  the extra context is worth and nothing else;
- ``truncation`` (the paper's protocol, Section 4.3): the first n tokens of each piece, so the scored
  tokens change with n and a length ratio also moves with the content of the later tokens.

A :class:`Results` reads one of them (``reading``; default :func:`primary_reading`: same-targets when
the run sets ``ppl.same_targets``); :meth:`Results.with_reading` gives the other on the same files.
Rows without a ``reading`` column (tables written before it existed hold a single reading, the one
their configuration asked for) count as the primary reading.
"""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from pathlib import Path

from yarnlab.claims import grammar as G
from yarnlab.claims import stats as S
from yarnlab.claims.inputs import input_paths, missing_inputs
from yarnlab.errors import UsageError


class MissingInputError(UsageError):
    """A result file the claims need does not exist, or lacks the rows they need."""


READINGS = ("same-targets", "truncation")


def primary_reading(settings: dict) -> str:
    """The reading every perplexity claim votes on: same-targets when ``ppl.same_targets`` is set."""
    return "same-targets" if (settings.get("ppl") or {}).get("same_targets") else "truncation"


def second_reading(settings: dict) -> str | None:
    """The reading shown beside the primary one (never voting): truncation when the run scored it too
    (``ppl.truncation_reading`` with ``ppl.same_targets``), else None."""
    ppl = settings.get("ppl") or {}
    return "truncation" if ppl.get("same_targets") and ppl.get("truncation_reading") else None


def reading_text(settings: dict, reading: str) -> str:
    """One line saying which tokens a reading scores."""
    if reading == "same-targets":
        t = settings["ppl"]["same_targets"]
        return (f"same targets: at every length n the last {t} tokens of each piece, read with the n - {t} tokens "
                "before them (only the context differs between lengths)")
    return ("truncation, the paper's protocol: the first n tokens of each piece at length n (the scored tokens "
            "differ between lengths, so content moves length ratios too)")


class Results:
    """The result tables of one run, read lazily by role (see ``input_paths``)."""

    def __init__(self, results: str, settings: dict, n_boot: int | None = None,
                 only: set[str] | None = None, reading: str | None = None):
        self.results, self.settings = results, settings
        self.paths = input_paths(results, settings)
        if only is not None:  # a subset of roles (the regime checks alone)
            self.paths = {k: v for k, v in self.paths.items() if k in only}
        missing = missing_inputs(self.paths)
        if missing:
            raise MissingInputError("missing result files (run the workflow first): " + ", ".join(missing))
        self.n_boot = int(n_boot or settings["claims"]["n_boot"])
        self.margin = float(settings["claims"]["margin"])
        self.L = int(settings["original_ctx"])
        self.primary = primary_reading(settings)
        self.reading = reading or self.primary
        if self.reading not in READINGS:
            raise UsageError(f"reading: must be one of {list(READINGS)} (got {self.reading!r})")
        self._cache: dict[str, list[dict]] = {}

    def with_reading(self, reading: str) -> Results:
        """The same files (and cache), perplexity rows of ``reading``."""
        if reading not in READINGS:
            raise UsageError(f"reading: must be one of {list(READINGS)} (got {reading!r})")
        other = copy.copy(self)
        other.reading = reading
        return other

    def reading_text(self) -> str:
        return reading_text(self.settings, self.reading)

    # ---------------------------------------------------------------- raw tables
    def table(self, key: str) -> list[dict]:
        from yarnlab.io import read_table

        if key not in self.paths:
            raise MissingInputError(f"{key}: not an input of this configuration")
        if key not in self._cache:
            rows = read_table(self.paths[key])
            if not rows:
                raise MissingInputError(f"{self.paths[key]}: no rows")
            self._cache[key] = rows
        return self._cache[key]

    def jsonl(self, key: str) -> list[dict]:
        return [json.loads(ln) for ln in Path(self.paths[key]).read_text().splitlines() if ln.strip()]

    def json(self, key: str) -> dict:
        return json.loads(Path(self.paths[key]).read_text())

    def src(self, *keys: str) -> list[str]:
        return [self.paths[k] for k in keys if k in self.paths]

    def has(self, key: str) -> bool:
        return key in self.paths

    def seeds(self) -> list[tuple[int, Results]]:
        """(training seed, its results) of every run these results stand for: this run alone here;
        :class:`yarnlab.claims.pooled.PooledResults` pools several."""
        return [(int(self.settings["seed"]), self)]

    # ---------------------------------------------------------------- perplexity tables
    def ppl_keys(self, label: str) -> list[str]:
        keys = [k for k in (f"ppl:{label}", f"long:{label}", f"variant:{label}") if k in self.paths]
        if not keys:
            raise MissingInputError(f"{label}: no perplexity table in this configuration")
        return keys

    def ppl_rows(self, key: str) -> list[dict]:
        """The rows of perplexity table ``key`` in this reading (rows without a reading: the primary)."""
        return [r for r in self.table(key) if r.get("reading", self.primary) == self.reading]

    def nll(self, label: str, length: int) -> dict:
        """{doc id: mean NLL per token} of a model at one length (main + long + variant tables), in
        this reading."""
        out = {}
        for k in self.ppl_keys(label):
            out.update({r["doc"]: r["nll"] for r in self.ppl_rows(k) if r["length"] == length})
        if not out:
            raise MissingInputError(f"{label}: no rows of the {self.reading} reading at length {length} in "
                                    f"{self.src(*self.ppl_keys(label))}")
        return out

    def lengths(self, label: str) -> list[int]:
        """The lengths of ``label``'s perplexity rows in this reading (none at all: MissingInputError)."""
        out = sorted({r["length"] for k in self.ppl_keys(label) for r in self.ppl_rows(k)})
        if not out:
            raise MissingInputError(f"{label}: no rows of the {self.reading} reading in "
                                    f"{self.src(*self.ppl_keys(label))}")
        return out

    def within(self, label: str, s: float, low: float = 0.5) -> list[int]:
        """Lengths of ``label`` in [low * L, s * L]."""
        return [n for n in self.lengths(label) if low * self.L <= n <= s * self.L]

    # ---------------------------------------------------------------- comparisons
    def family(self, items: list[tuple[dict, dict, dict]]) -> list[dict]:
        """Rows for a family of paired comparisons with simultaneous intervals.

        ``items``: (a {doc: nll}, b {doc: nll}, row) with row holding ``what``, ``length``, ``test``
        (superiority | inferiority | noninferiority | equivalence | above | below), optional
        ``threshold`` (nats; default the margin for the margin tests, 0 otherwise) and ``role``.
        The rows that vote (:func:`voting`) form one family and the rest (context, supporting)
        another, so rows that do not vote never widen the voting rows' intervals."""
        if not items:
            return []
        out: list[dict | None] = [None] * len(items)
        for votes in (True, False):
            idx = [i for i, (_, _, row) in enumerate(items) if _votes(row) == votes]
            if idx:
                ests = S.paired_family([items[i][:2] for i in idx], self.n_boot)
                for i, est in zip(idx, ests):
                    out[i] = _judged(items[i][2], est, self.margin)
        return out

    def compare(self, pairs: list[tuple[str, str, int, str, str]], role: str | None = None,
                context=None) -> list[dict]:
        """A family of model comparisons (a, b, length, test, what) on the same documents; ``role``
        for every row, or ``context(a)`` True marking a row as context."""
        items = []
        for a, b, n, test, what in pairs:
            row = {"what": what, "a": a, "b": b, "length": n, "test": test}
            if role:
                row["role"] = role
            elif context is not None and context(a):
                row["role"] = "context"
            items.append((self.nll(a, n), self.nll(b, n), row))
        return self.family(items)


def _judged(row: dict, est: S.Estimate, margin: float) -> dict:
    test = row["test"]
    thr = row.get("threshold")
    if test == "superiority":
        v = G.superiority(est)
    elif test == "inferiority":
        v = G.inferiority(est)
    elif test == "noninferiority":
        v = G.noninferiority(est, margin if thr is None else thr)
    elif test == "equivalence":
        v = G.equivalence(est, margin if thr is None else thr)
    elif test == "above":
        v = G.above(est, thr)
    elif test == "below":
        v = G.below(est, thr)
    else:
        raise ValueError(f"test: unknown {test!r}")
    return {**row, "ppl_ratio": S.ratio(est).to_dict(), "nll_diff": est.to_dict(), "verdict": v}


def _votes(row: dict) -> bool:
    return row.get("role") in (None, "primary")


def voting(rows: list[dict]) -> list[str]:
    """Verdicts of the rows that vote (not supporting, not context)."""
    return [r["verdict"] for r in rows if _votes(r)]


def by_key(rows: list[dict], *keys: str, value: str = "nll") -> dict:
    """{(key values...): {doc: value}} of tidy rows."""
    out = defaultdict(dict)
    for r in rows:
        out[tuple(r[k] for k in keys)][r["doc"]] = r[value]
    return out
