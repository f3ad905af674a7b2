"""Checks of the numbers read from a Hugging Face config, shared by the rope readers (hf_read, hf_scales):
each names the field and the allowed range in its error."""

from __future__ import annotations

import math

from yarnlab.errors import UsageError


def is_number(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def number(where: str, value, minimum: float | None = None, strict: bool = False) -> float:
    ok = is_number(value) and (minimum is None or (value > minimum if strict else value >= minimum))
    if not ok:
        bound = "" if minimum is None else f" {'>' if strict else '>='} {minimum:g}"
        raise UsageError(f"{where}: must be a number{bound} (got {shown(value)})")
    return float(value)


def integer(where: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())) \
            or value < minimum:
        raise UsageError(f"{where}: must be an integer >= {minimum} (got {shown(value)})")
    return int(value)


def shown(value, width: int = 60) -> str:
    """``repr(value)`` cut to ``width`` characters for messages (a long list is not echoed whole)."""
    text = repr(value)
    return text if len(text) <= width else f"{text[:width]}... ({type(value).__name__} of {len(text)} characters)"
