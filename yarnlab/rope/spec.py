"""``RopeSpec``: a scaling method, its parameters and the geometry it applies to, validated.

A spec is a frozen value. Construction checks everything at once and raises one
:class:`~yarnlab.errors.SpecError` listing every problem as ``field: constraint (got value)``.
Method parameters left out are filled with their defaults, so two specs that compute the same
frequencies compare equal and ``RopeSpec.from_dict(spec.to_dict()) == spec``.

What "L" means: ``original_ctx`` is the context the model was PRE-trained with (transformers'
``original_max_position_embeddings``); the extended context is L' = factor * L.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from yarnlab.errors import SpecError
from yarnlab.rope.methods import METHODS, Geometry
from yarnlab.rope.params import is_finite_number
from yarnlab.rope.temperature import TEMPERATURE_RULES

# sizes beyond any real model, refused so that a typo cannot run for minutes (largest real head
# dims are 256-512, pretraining contexts a few 10^5, extension factors a few hundred)
MAX_HEAD_DIM = 8192
MAX_CTX = 2**24  # original_ctx
MAX_FACTOR = 4096.0

SPEC_FIELDS = ("method", "head_dim", "base", "original_ctx", "factor", "rotary_dim", "params",
               "temperature", "temperature_params")


@dataclass(frozen=True)
class RopeResult:
    """Scaled inverse frequencies theta'_d (float64, (|D|/2,)) and the cos/sin multiplier m = sqrt(1/t)."""

    inv_freq: np.ndarray
    attention_factor: float
    scale: float  # the s the temperature rule saw (s_eff for dynamic methods)


def size_problems(head_dim: Any, rotary_dim: Any, ctx: Any, factor: Any) -> list[str]:
    """Sizes beyond any real model (:data:`MAX_HEAD_DIM`, :data:`MAX_CTX`, :data:`MAX_FACTOR`);
    values of the wrong type are left to the other checks."""
    out = []

    def num(x):
        return is_finite_number(x) and not isinstance(x, bool)

    for name, value in (("head_dim", head_dim), ("rotary_dim", rotary_dim)):
        if num(value) and value > MAX_HEAD_DIM:
            out.append(f"{name}: must be <= {MAX_HEAD_DIM}, beyond any real model (got {value!r})")
    if num(ctx) and ctx > MAX_CTX:
        out.append(f"original_ctx: must be <= {MAX_CTX} (2^24), beyond any real model (got {ctx!r})")
    if num(factor) and factor > MAX_FACTOR:
        out.append(f"factor: must be <= {MAX_FACTOR:g}, beyond any real model (got {factor!r})")
    return out


def validate(fields: dict[str, Any]) -> list[str]:
    """Every problem with a would-be spec, as ``field: constraint (got value)`` strings."""
    problems: list[str] = []
    method = fields.get("method")
    if method not in METHODS:
        problems.append(f"method: must be one of {', '.join(METHODS)} (got {method!r})")
    head_dim = fields.get("head_dim")
    head_ok = isinstance(head_dim, int) and not isinstance(head_dim, bool) and head_dim >= 4 and head_dim % 2 == 0
    if not head_ok:
        problems.append(f"head_dim: must be an even integer >= 4 (got {head_dim!r})")
    rotary_dim = fields.get("rotary_dim")
    if rotary_dim is not None:
        if not (isinstance(rotary_dim, int) and not isinstance(rotary_dim, bool) and rotary_dim >= 4
                and rotary_dim % 2 == 0):
            problems.append(f"rotary_dim: must be an even integer >= 4, or null for head_dim (got {rotary_dim!r})")
        elif head_ok and rotary_dim > head_dim:
            problems.append(f"rotary_dim: must be <= head_dim = {head_dim} (got {rotary_dim!r})")
    base = fields.get("base")
    if not is_finite_number(base) or base <= 1:
        problems.append(f"base: must be a finite number > 1 (got {base!r})")
    ctx = fields.get("original_ctx")
    if not (isinstance(ctx, int) and not isinstance(ctx, bool) and ctx > 0):
        problems.append(f"original_ctx: must be an integer > 0 (got {ctx!r})")
    factor = fields.get("factor")
    if not is_finite_number(factor) or factor < 1:
        problems.append(f"factor: must be a finite number >= 1 (got {factor!r})")
    problems += size_problems(head_dim, rotary_dim, ctx, factor)

    params = fields.get("params")
    if not isinstance(params, dict):
        problems.append(f"params: must be a mapping (got {params!r})")
        params = {}
    if method in METHODS:
        spec_method = METHODS[method]
        allowed = spec_method.param_specs
        n_pairs = None
        dim = rotary_dim if rotary_dim is not None else head_dim
        if isinstance(dim, int) and not isinstance(dim, bool) and dim >= 4 and dim % 2 == 0:
            n_pairs = dim // 2
        for key, value in params.items():
            if key not in allowed:
                choices = ", ".join(allowed) if allowed else "none"
                problems.append(f"params.{key}: unknown parameter for method {method!r} (allowed: {choices})")
            elif (problem := allowed[key].check(value, n_pairs)) is not None:
                problems.append(problem)
        for key in spec_method.required:
            if key not in params:
                problems.append(f"params.{key}: required by method {method!r} ({allowed[key].help})")
        full = {**spec_method.params, **{k: v for k, v in params.items() if k in allowed}}
        for relation in spec_method.relations:
            if (problem := relation(full)) is not None:
                problems.append(problem)

    rule = fields.get("temperature")
    tparams = fields.get("temperature_params")
    if not isinstance(tparams, dict):
        problems.append(f"temperature_params: must be a mapping (got {tparams!r})")
        tparams = {}
    if rule is not None and rule not in TEMPERATURE_RULES:
        problems.append(f"temperature: must be one of {', '.join(TEMPERATURE_RULES)} or null (got {rule!r})")
    elif method in METHODS or rule is not None:
        rule_name = rule if rule is not None else METHODS[method].default_temperature
        spec_rule = TEMPERATURE_RULES[rule_name]
        for key, value in tparams.items():
            if key not in spec_rule.params:
                choices = ", ".join(spec_rule.params) if spec_rule.params else "none"
                problems.append(f"temperature_params.{key}: unknown parameter for rule {rule_name!r} "
                                f"(allowed: {choices})")
            elif (problem := spec_rule.param_specs[key].check(value, where="temperature_params")) is not None:
                problems.append(problem)
        for key in spec_rule.required:
            if key not in tparams:
                problems.append(f"temperature_params.{key}: required by rule {rule_name!r}")
    return problems


@dataclass(frozen=True)
class RopeSpec:
    """Method + parameters + geometry. See the module docstring; fields:

    - ``method``: a name in :data:`~yarnlab.rope.methods.METHODS`.
    - ``head_dim``: |D| of the attention head (even); ``rotary_dim``: rotated channels (partial
      rotary), ``None`` means all of ``head_dim``.
    - ``base``: b > 1. ``original_ctx``: L > 0. ``factor``: s >= 1 (for dynamic methods the intended
      maximum; the applied s follows the length).
    - ``params``: the method's parameters (each :class:`~yarnlab.rope.params.Param` of the
      registry: ``alpha``, ``beta``, ``ramp``, ``truncate``, ``variant``, ``grow_only``,
      ``low_freq_factor``, ``high_freq_factor``, ``short_factor``, ``long_factor``), defaults filled in.
    - ``temperature``: a rule in :data:`~yarnlab.rope.temperature.TEMPERATURE_RULES`, or ``None``
      for the method's default (``yarn`` for yarn/dynamic-yarn, ``longrope`` for longrope, ``none``
      otherwise);
      ``temperature_params`` its parameters.
    """

    method: str
    head_dim: int
    base: float = 10000.0
    original_ctx: int = 4096
    factor: float = 1.0
    rotary_dim: int | None = None
    params: dict = field(default_factory=dict)
    temperature: str | None = None
    temperature_params: dict = field(default_factory=dict)

    def __post_init__(self):
        fields = {f: getattr(self, f) for f in SPEC_FIELDS}
        problems = validate(fields)
        if problems:
            raise SpecError(problems)
        # normalise: ints stay ints, numbers become floats, defaults filled in
        object.__setattr__(self, "base", float(self.base))
        object.__setattr__(self, "factor", float(self.factor))
        specs = METHODS[self.method].param_specs
        object.__setattr__(self, "params", {**METHODS[self.method].params,
                                            **{k: specs[k].normalise(v) for k, v in self.params.items()}})
        object.__setattr__(self, "temperature_params", dict(self.temperature_params))
        if self.rotary_dim == self.head_dim:
            object.__setattr__(self, "rotary_dim", None)

    # ---- derived -------------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        """|D| as the formulas use it: the rotated channels."""
        return self.rotary_dim or self.head_dim

    @property
    def geometry(self) -> Geometry:
        return Geometry(self.dim, self.base, self.original_ctx)

    @property
    def temperature_rule(self) -> str:
        return self.temperature if self.temperature is not None else METHODS[self.method].default_temperature

    @property
    def is_dynamic(self) -> bool:
        """True when frequencies or the attention factor depend on the current length."""
        return METHODS[self.method].dynamic or TEMPERATURE_RULES[self.temperature_rule].length_dependent

    @property
    def extended_ctx(self) -> int:
        """L' = s L, rounded (the ``max_position_embeddings`` of an extended model)."""
        return int(round(self.factor * self.original_ctx))

    def compute(self, seq_len: int | None = None) -> RopeResult:
        """theta'_d and m for a forward pass over ``seq_len`` tokens (ignored by static methods)."""
        if seq_len is not None and (not isinstance(seq_len, int | np.integer) or seq_len <= 0):
            raise SpecError([f"seq_len: must be an integer > 0 (got {seq_len!r})"], "compute() argument")
        method = METHODS[self.method]
        inv_freq, s_eff = method.fn(self.geometry, self.factor, seq_len, **self.params)
        rule = TEMPERATURE_RULES[self.temperature_rule]
        m = rule.fn(s_eff, original_ctx=self.original_ctx, seq_len=seq_len, **self.temperature_params)
        return RopeResult(np.asarray(inv_freq, dtype=np.float64), float(m), float(s_eff))

    # ---- (de)serialisation ---------------------------------------------------------------------
    def replace(self, **changes) -> RopeSpec:
        """A new validated spec with some fields changed (changing ``method`` drops its params)."""
        if "method" in changes and changes["method"] != self.method and "params" not in changes:
            changes["params"] = {}
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {f: (dict(getattr(self, f)) if f.endswith("params") else getattr(self, f)) for f in SPEC_FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RopeSpec:
        if not isinstance(data, dict):
            raise SpecError([f"spec: must be a JSON object (got {type(data).__name__})"])
        unknown = sorted(set(data) - set(SPEC_FIELDS))
        problems = [f"{k}: unknown field (allowed: {', '.join(SPEC_FIELDS)})" for k in unknown]
        missing = [k for k in ("method", "head_dim") if k not in data]
        problems += [f"{k}: required" for k in missing]
        if problems:
            raise SpecError(problems)
        kwargs = dict(data)
        kwargs.setdefault("params", {})
        kwargs.setdefault("temperature_params", {})
        if kwargs["params"] is None:
            kwargs["params"] = {}
        if kwargs["temperature_params"] is None:
            kwargs["temperature_params"] = {}
        return cls(**kwargs)

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_json(cls, text: str) -> RopeSpec:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError([f"spec: not valid JSON ({exc})"]) from None
        return cls.from_dict(data)


class DynamicLength:
    """The length a dynamic method sees, with optional grow-only memory.

    Plain dynamic scaling uses the current length l. The reference code's Dynamic-YaRN (and
    transformers' dynamic rope) recompute only when l exceeds the longest length seen so far
    (``grow_only``); this tracks that maximum. ``reset()`` forgets it.
    """

    def __init__(self, spec: RopeSpec):
        self.grow_only = bool(spec.params.get("grow_only", False))
        self.longest = 0

    def __call__(self, seq_len: int) -> int:
        if not self.grow_only:
            return seq_len
        self.longest = max(self.longest, seq_len)
        return self.longest

    def reset(self) -> None:
        self.longest = 0

