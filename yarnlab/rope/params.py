"""Method and temperature-rule parameters: each with its default, constraint kind and help.

A registry entry (:class:`~yarnlab.rope.methods.Method`,
:class:`~yarnlab.rope.temperature.TemperatureRule`) lists its parameters as :class:`Param` values;
:class:`HasParams` gives the views both registries share. The CLI options
(:mod:`yarnlab.rope.cli`) and the spec's validation (:mod:`yarnlab.rope.spec`) are derived from them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


def is_finite_number(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


@dataclass(frozen=True)
class Param:
    """One method parameter. ``kind`` fixes the constraint (and the CLI option derived from it):

    - ``positive``: a finite number > 0; ``nonnegative``: a finite number >= 0;
    - ``fraction``: a finite number in (0, 1];
    - ``bool``: true or false (CLI: ``--name``, or ``--no-name`` when the default is true);
    - ``choice``: one of ``choices``;
    - ``factors``: one finite number > 0 per rotated pair (|D|/2 of them); CLI: comma-separated.

    ``default`` is None for a required parameter.
    """

    name: str
    kind: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        return self.default is None

    def constraint(self, n_pairs: int | None = None) -> str:
        if self.kind == "positive":
            return "must be a finite number > 0"
        if self.kind == "nonnegative":
            return "must be a finite number >= 0"
        if self.kind == "fraction":
            return "must be a finite number in (0, 1]"
        if self.kind == "bool":
            return "must be true or false"
        if self.kind == "choice":
            return f"must be one of {', '.join(self.choices)}"
        count = f"{n_pairs} = |D|/2" if n_pairs is not None else "|D|/2"
        return f"must be a list of {count} finite numbers > 0"

    def check(self, value: Any, n_pairs: int | None = None, where: str = "params") -> str | None:
        """``where.name: constraint (got value)`` when ``value`` breaks the constraint, else None."""
        got = repr(value)
        if self.kind == "positive":
            ok = is_finite_number(value) and value > 0
        elif self.kind == "nonnegative":
            ok = is_finite_number(value) and value >= 0
        elif self.kind == "fraction":
            ok = is_finite_number(value) and 0 < value <= 1
        elif self.kind == "bool":
            ok = isinstance(value, bool)
        elif self.kind == "choice":
            ok = value in self.choices
        else:
            seq = value.tolist() if isinstance(value, np.ndarray) else value
            numbers = isinstance(seq, list | tuple) and len(seq) > 0 and all(
                is_finite_number(x) and x > 0 for x in seq)
            ok = numbers and (n_pairs is None or len(seq) == n_pairs)
            if numbers:
                got = f"{len(seq)} numbers"
        return None if ok else f"{where}.{self.name}: {self.constraint(n_pairs)} (got {got})"

    def normalise(self, value: Any) -> Any:
        """The stored form: factor lists become tuples of floats (hashable, equal after a JSON
        round trip); everything else is kept as given."""
        if self.kind == "factors":
            return tuple(float(x) for x in value)
        return value


class HasParams:
    """Views of a registry entry's ``parameters`` (a tuple of :class:`Param`), shared by methods and
    temperature rules."""

    parameters: tuple[Param, ...]

    @property
    def params(self) -> dict[str, Any]:
        """Parameter name -> default (None for a required parameter)."""
        return {p.name: p.default for p in self.parameters}

    @property
    def param_specs(self) -> dict[str, Param]:
        return {p.name: p for p in self.parameters}

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters if p.required)
