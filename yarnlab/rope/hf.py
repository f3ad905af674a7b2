"""Hugging Face interop: reading configs (:mod:`yarnlab.rope.hf_read`) and writing specs back
(:mod:`yarnlab.rope.hf_write`), in one place for callers.

Reading: :func:`read_hf_config` gives the :class:`~yarnlab.rope.spec.RopeSpec` of a model with ONE
RoPE setting plus warnings about known pitfalls; :func:`~yarnlab.rope.hf_read.read_hf_rope` gives
every setting (per-layer RoPE such as Gemma 3's). A ``yarnlab_rope`` entry, written by yarnlab for
methods transformers lacks, takes precedence and is read as a spec. How each rope type gives L and
s is its form's (:mod:`yarnlab.rope.hf_form`), as transformers reads it: ``dynamic`` takes
``max_position_embeddings`` as L; ``yarn``, ``llama3`` and ``longrope`` take
``original_max_position_embeddings`` and, when it is missing, fall back to
``max_position_embeddings`` as transformers does (WRONG whenever that field already holds the
extended length; yarnlab warns); ``yarn`` with ``factor`` null and ``longrope`` without ``factor``
take s = max_position_embeddings / L.

Writing: :func:`spec_to_hf` gives the config fields that make transformers compute the same
frequencies and attention factor; :func:`hf_supported` says whether that exists.

Imports point one way: this module -> ``hf_read`` -> ``hf_write``; all three read the method and
temperature registries, which hold each entry's transformers form.
"""

from __future__ import annotations

from typing import Any

from yarnlab.errors import UsageError
from yarnlab.rope.hf_read import read_hf_rope
from yarnlab.rope.hf_types import HF_TYPES
from yarnlab.rope.hf_write import hf_supported, partial_factor, spec_to_hf
from yarnlab.rope.spec import RopeSpec

__all__ = ["HF_TYPES", "hf_supported", "partial_factor", "read_hf_config", "spec_from_hf_config", "spec_to_hf"]


def read_hf_config(config: dict[str, Any]) -> tuple[RopeSpec, list[str]]:
    """(spec, warnings) for a Hugging Face ``config.json`` dict with one RoPE setting.

    A config with several (per-layer RoPE) is refused here, naming them: one spec cannot describe
    it; use :func:`~yarnlab.rope.hf_read.read_hf_rope`.
    """
    found = read_hf_rope(config)
    if len(found.entries) > 1:
        kinds = "; ".join(f"{'/'.join(e.layer_types)}: {e.spec.method}, b = {e.spec.base:g}" for e in found.entries)
        raise UsageError(f"rope_parameters: {len(found.entries)} RoPE settings by layer type ({kinds}); one spec "
                         f"cannot describe them (read them with yarnlab.rope.hf_read.read_hf_rope)")
    return found.entries[0].spec, found.warnings


def spec_from_hf_config(config: dict[str, Any]) -> RopeSpec:
    """The spec a Hugging Face config describes (warnings dropped; see :func:`read_hf_config`)."""
    return read_hf_config(config)[0]
