"""How transformers spells a registry entry: the Hugging Face form of a method or temperature rule.

A :class:`~yarnlab.rope.methods.Method` carries an :class:`HFType` (``hf``) when transformers 5
computes it: the ``rope_type``, the keys that type requires and reads, how it states the original
context L, and the conversion both ways (``write``: spec -> the type's keys; ``read``: the rope
dict -> the method's parameters). A :class:`~yarnlab.rope.temperature.TemperatureRule` carries an
:class:`HFRule` when a rope type states it with keys of its own (``attention_factor``, DeepSeek's
``mscale`` pair). :mod:`yarnlab.rope.hf_write` and :mod:`yarnlab.rope.hf_read` are derived from
these forms, so a new method with a transformers equivalent is one registry entry.

How each type gives L (transformers 5's rules, which yarnlab follows so that reading is faithful):

- ``divided``: L = ``original_max_position_embeddings`` if present, else ``max_position_embeddings``
  / s (``default``, ``linear``, ``proportional``);
- ``declared``: L = ``max_position_embeddings``; transformers never reads the original (``dynamic``);
- ``original``: L = ``original_max_position_embeddings``, the top-level field first; when it is
  missing transformers falls back to ``max_position_embeddings`` (yarnlab warns); ``yarn``,
  ``llama3``, ``longrope``.

This module imports only :mod:`yarnlab.errors` and :mod:`yarnlab.rope.hf_values`, so the registries
can hold its forms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from yarnlab.errors import UsageError
from yarnlab.rope.hf_values import is_number, number, shown

LENGTHS = ("divided", "declared", "original")


@dataclass
class HFRead:
    """What a form's ``read`` sees: the rope dict and where it is in the config (for messages), the
    rope type as the config writes it, the number of rotated pairs |D|/2, the share f of the head
    for a ``whole_head`` type, and the entry's notes and the config's warnings to add to."""

    rope: dict
    where: str
    raw: str
    n_pairs: int
    fraction: float | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def positive(self, key: str, value: Any = None) -> float:
        """``value`` (default: the rope dict's ``key``) as a number > 0, else a UsageError naming the key."""
        return number(f"{self.where}.{key}", self.rope[key] if value is None else value, 0.0, strict=True)

    def factors(self, key: str) -> list[float]:
        """The rope dict's ``key`` as |D|/2 numbers > 0 (LongRoPE's factor lists)."""
        value = self.rope[key]
        if not (isinstance(value, list) and value and all(is_number(x) and x > 0 for x in value)):
            raise UsageError(f"{self.where}.{key}: must be a list of numbers > 0 (got {shown(value)})")
        if len(value) != self.n_pairs:
            raise UsageError(f"{self.where}.{key}: must have |D|/2 = {self.n_pairs} entries (got {len(value)})")
        return [float(x) for x in value]

    def boolean(self, key: str, default: bool) -> bool:
        value = self.rope.get(key, default)
        if not isinstance(value, bool):
            raise UsageError(f"{self.where}.{key}: must be true or false (got {shown(value)})")
        return value


def _no_fields(spec) -> dict[str, Any]:
    return {}


def _no_params(src: HFRead) -> dict[str, Any]:
    return {}


def _supported(spec) -> str | None:
    return None


@dataclass(frozen=True)
class HFType:
    """A method's transformers form.

    - ``rope_type``; ``required``: the keys transformers 5 requires besides ``rope_type``;
      ``optional``: the keys it also reads (a key outside both is reported as ignored);
    - ``length``: how the type gives L (see the module docstring: ``divided``, ``declared``,
      ``original``); ``written_ctx``: the ``max_position_embeddings`` written, ``extended`` (s L) or
      ``original`` (L);
    - ``write(spec)``: the type's keys for a spec (``factor``, ``original_max_position_embeddings``,
      the method's parameters; a changed ``rope_theta`` for a method written as a base change), in
      the order they are written;
    - ``read(src: HFRead)``: the method's parameters from the rope dict (notes and warnings go to
      ``src``); ``reads`` False marks a method written as a type that is read as another method
      (``ntk`` as ``default`` with b', ``ntk-by-parts`` as ``yarn`` with m = 1);
    - ``unsupported(spec)``: why transformers cannot compute a spec of the method (parameter values
      the type lacks), or None;
    - ``temperature``: the rule transformers applies when the dict names none (``yarn``'s
      0.1 ln s + 1, ``longrope``'s sqrt(1 + ln s / ln L)); a type that reads ``attention_factor``
      carries any static m;
    - ``null_factor``: a null or absent ``factor`` means s = ``max_position_embeddings`` / L;
    - ``whole_head``: the type's ``partial_rotary_factor`` is the method's parameter f (frequencies
      spread over the whole head), not the share of rotated channels.
    """

    rope_type: str
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    length: str = "divided"
    write: Callable[[Any], dict[str, Any]] = _no_fields
    read: Callable[[HFRead], dict[str, Any]] = _no_params
    reads: bool = True
    unsupported: Callable[[Any], str | None] = _supported
    temperature: str = "none"
    null_factor: bool = False
    whole_head: bool = False
    written_ctx: str = "extended"

    def __post_init__(self):
        if self.length not in LENGTHS:
            raise ValueError(f"length: must be one of {', '.join(LENGTHS)} (got {self.length!r})")
        if self.written_ctx not in ("extended", "original"):
            raise ValueError(f"written_ctx: must be extended or original (got {self.written_ctx!r})")

    @property
    def keys(self) -> tuple[str, ...]:
        """Every key the type reads besides ``rope_type``."""
        return (*self.required, *self.optional)

    @property
    def reads_factor(self) -> bool:
        """Whether the type has a scale s (``default`` has none: s = 1 whatever the dict says)."""
        return "factor" in self.keys

    @property
    def factor_may_be_null(self) -> bool:
        """The type requires ``factor`` but takes null for s = max_position_embeddings / L (``yarn``)."""
        return "factor" in self.required and self.null_factor

    def length_and_scale(self, raw: str, factor: float | None, orig: int | None, max_pos: int,
                         warnings: list[str]) -> tuple[int, float]:
        """(L, s) by the type's ``length`` rule (see the module docstring), with transformers' fallbacks:
        ``factor`` as the dict gives it (None when absent or null, else checked >= 1), ``orig`` its
        ``original_max_position_embeddings``, ``max_pos`` the config's ``max_position_embeddings``;
        ``raw`` is the type as the config writes it (for the warnings appended to ``warnings``)."""
        if not self.reads_factor:
            factor = 1.0  # the type has no scale, whatever the dict says
        if self.length == "divided":
            factor = 1.0 if factor is None else factor
            return orig or int(round(max_pos / factor)), factor
        if self.length == "declared":
            if orig is not None and orig != max_pos:
                warnings.append(f"{self.rope_type}: transformers takes L = max_position_embeddings = {max_pos} "
                                f"and ignores original_max_position_embeddings = {orig}")
            return max_pos, factor
        if orig is None:
            orig = max_pos
            warnings.append(
                f"{raw}: original_max_position_embeddings is missing, so L = max_position_embeddings = "
                f"{max_pos} (transformers' fallback); if that is the EXTENDED length, the true L is "
                f"{max_pos}/factor and every ramp boundary is off")
        if factor is None:  # absent (longrope) or null (yarn): transformers derives s from the lengths
            factor = max_pos / orig
            if self.factor_may_be_null:
                warnings.append(f"{raw}: factor is null, so s = max_position_embeddings / L = {factor:g} "
                                f"(transformers' rule)")
        return orig, factor


@dataclass(frozen=True)
class HFRule:
    """A temperature rule's transformers form: the rope-dict ``keys`` that state it (it applies to the
    rope types that read them all), ``read(src)``: its parameters when the dict sets it, else None,
    and ``write(params)``: the keys for its parameters."""

    keys: tuple[str, ...]
    read: Callable[[HFRead], dict[str, Any] | None]
    write: Callable[[dict[str, Any]], dict[str, Any]]

    def fits(self, form: HFType) -> bool:
        """Whether the rope type ``form`` reads every key of this rule."""
        return set(self.keys) <= set(form.keys)
