"""Which layers of a Hugging Face model rotate, and which have no positional encoding (NoPE).

A config's RoPE settings (:mod:`yarnlab.rope.hf_read`) say how the rotating layers rotate; whether
a layer rotates at all is decided by the model type's attention code, from fields that differ by
model type. :func:`read_layer_map` reads them as transformers 5's attention does:

- ``no_rope_layers`` (Llama 4, SmolLM3): one flag per layer, 1 = RoPE, 0 = NoPE. When absent (or
  empty, for Llama 4) the config class builds it from ``no_rope_layer_interval`` (default 4):
  layer i is NoPE when (i + 1) is a multiple of the interval;
- Cohere 2 (Command R7B): only sliding-window layers rotate (and none when ``sliding_window`` is
  null); EXAONE 4: the full-attention layers of a hybrid model (``sliding_window`` set) are NoPE;
- ``rope_parameters`` nested by layer type with a null entry: the layers of that type are NoPE;
- layer types that are not softmax attention (``linear_attention``: Qwen3-Next's Gated DeltaNet,
  MiniMax, Kimi Linear; ``mamba``) take no rotary embedding; Qwen3-Next builds its types from
  ``full_attention_interval`` (default 4: three linear layers, then one full).

Layer types come from ``layer_types``, else from the rule of the model type's config class
(Llama 4: ``chunked_attention`` for RoPE layers when ``attention_chunk_size`` is set; SmolLM3 and
Cohere 2 / EXAONE 4 / Gemma: sliding every layer but each n-th). No transformers import is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from yarnlab.errors import UsageError

# model types whose attention reads no_rope_layers (and the interval default their classes use)
NO_ROPE_LIST_TYPES = ("llama4", "llama4_text", "smollm3")
# model types whose attention rotates only sliding-window layers (name -> what the code says)
SLIDING_ONLY_TYPES = {"cohere2": "Cohere 2 rotates only its sliding-window layers",
                      "cohere2_moe": "Cohere 2 rotates only its sliding-window layers",
                      "exaone4": "EXAONE 4: global NoPE layers in a hybrid model (sliding_window set)",
                      "exaone_moe": "EXAONE 4: global NoPE layers in a hybrid model (sliding_window set)"}
# layer types whose blocks are not softmax attention and take no rotary embedding (Qwen3-Next's and
# Qwen3.5's Gated DeltaNet, MiniMax's lightning attention, Kimi Linear's KDA, the Mamba hybrids)
NO_POSITION_LAYER_TYPES = ("linear_attention", "mamba")
# model types whose class builds layer_types from full_attention_interval (3 linear, then 1 full)
FULL_INTERVAL_TYPES = ("qwen3_next", "qwen3_5_text", "qwen3_5_moe_text")
# the sliding-window pattern (every n-th layer full) a config class assumes when layer_types is absent
SLIDING_PATTERN_DEFAULT = {"cohere2": 4, "cohere2_moe": 4, "exaone4": 4, "exaone_moe": 4, "gemma3_text": 6,
                           "gemma4_text": 6}


@dataclass(frozen=True)
class LayerMap:
    """``num_layers`` (None when the config does not say), per-layer ``layer_types`` (None when not
    given or derivable), the NoPE layer indices and the field they were read from."""

    num_layers: int | None
    layer_types: tuple[str, ...] | None
    nope_layers: tuple[int, ...] = ()
    nope_source: str | None = None

    def rope_layers(self, layer_types: tuple[str, ...] = ()) -> list[int] | None:
        """Indices of the rotating layers (of the given types; all types when empty), or None when
        the layer count (or, for typed entries, the per-layer types) is unknown."""
        if self.num_layers is None:
            return None
        nope = set(self.nope_layers)
        layers = [i for i in range(self.num_layers) if i not in nope]
        if not layer_types:
            return layers
        if self.layer_types is None:
            return None
        return [i for i in layers if self.layer_types[i] in layer_types]

    def summary(self) -> dict[str, Any]:
        return {"num_layers": self.num_layers, "layer_types": None if self.layer_types is None else
                list(self.layer_types), "nope_layers": list(self.nope_layers), "nope_source": self.nope_source}


def _layer_count(config: dict) -> int | None:
    n = config.get("num_hidden_layers", config.get("n_layer"))
    if n is None:
        return None
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise UsageError(f"num_hidden_layers: must be an integer >= 1 (got {n!r})")
    return n


def _sliding_pattern(config: dict, n: int) -> tuple[str, ...] | None:
    mt = config.get("model_type")
    pattern = config.get("sliding_window_pattern", config.get("_sliding_window_pattern"))
    if pattern is None:
        pattern = SLIDING_PATTERN_DEFAULT.get(mt)
    if isinstance(pattern, str) and pattern and set(pattern) <= {"L", "G"}:  # EXAONE 4's "LLLG"
        return tuple("sliding_attention" if pattern[i % len(pattern)] == "L" else "full_attention"
                     for i in range(n))
    if isinstance(pattern, int) and not isinstance(pattern, bool) and pattern >= 1:
        return tuple("sliding_attention" if (i + 1) % pattern else "full_attention" for i in range(n))
    return None


def _layer_types(config: dict, n: int | None, flags: list[int] | None) -> tuple[str, ...] | None:
    given = config.get("layer_types")
    if given is not None:
        if not (isinstance(given, list) and all(isinstance(t, str) for t in given)):
            raise UsageError(f"layer_types: must be a list of strings (got {given!r:.60})")
        if n is not None and len(given) < n:
            raise UsageError(f"layer_types: must name each of the {n} layers (got {len(given)})")
        return tuple(given[:n] if n is not None else given)
    if n is None:
        return None
    mt = config.get("model_type")
    if mt in ("llama4", "llama4_text") and flags is not None:
        chunked = config.get("attention_chunk_size", 8192) is not None  # Llama4TextConfig's default
        return tuple("chunked_attention" if flag and chunked else "full_attention" for flag in flags)
    if mt == "smollm3" and flags is not None:
        sliding = bool(config.get("use_sliding_window")) and config.get("sliding_window") is not None
        return tuple("sliding_attention" if sliding and not flag else "full_attention" for flag in flags)
    if mt in FULL_INTERVAL_TYPES:
        interval = config.get("full_attention_interval", 4)
        if isinstance(interval, int) and not isinstance(interval, bool) and interval >= 1:
            return tuple("linear_attention" if (i + 1) % interval else "full_attention" for i in range(n))
    if mt in SLIDING_PATTERN_DEFAULT or config.get("sliding_window_pattern") is not None:
        if mt in ("exaone4", "exaone_moe") and config.get("sliding_window", 4096) is None:
            return tuple("full_attention" for _ in range(n))
        return _sliding_pattern(config, n)
    return None


def _rope_flags(config: dict, n: int | None) -> tuple[list[int] | None, str | None]:
    """(per-layer 1 = RoPE / 0 = NoPE flags, where they came from) for no_rope_layers models."""
    mt = config.get("model_type")
    flags = config.get("no_rope_layers")
    if flags is None and mt not in NO_ROPE_LIST_TYPES:
        return None, None
    if flags is not None and not (isinstance(flags, list) and all(f in (0, 1) and not isinstance(f, float)
                                                                  for f in flags)):
        raise UsageError(f"no_rope_layers: must be a list of 0 (NoPE) / 1 (RoPE) flags (got {flags!r:.60})")
    if flags:  # Llama 4 also rebuilds an empty list from the interval
        if n is not None and len(flags) < n:
            raise UsageError(f"no_rope_layers: must have a flag for each of the {n} layers (got {len(flags)})")
        return [int(f) for f in (flags[:n] if n is not None else flags)], "no_rope_layers (0 = NoPE)"
    if n is None:
        return None, None
    interval = config.get("no_rope_layer_interval", 4)
    if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
        raise UsageError(f"no_rope_layer_interval: must be an integer >= 1 (got {interval!r})")
    return ([int((i + 1) % interval != 0) for i in range(n)],
            f"no_rope_layer_interval = {interval} (every {interval}th layer is NoPE)")


def read_layer_map(config: dict, nope_types: tuple[str, ...] = ()) -> LayerMap:
    """The layer map of a (text) config; ``nope_types`` are layer types whose nested rope
    parameters are null. See the module docstring for the fields read."""
    n = _layer_count(config)
    flags, source = _rope_flags(config, n)
    types = _layer_types(config, n, flags)
    mt = config.get("model_type")
    nope: list[int] = []
    if flags is not None:
        nope = [i for i, f in enumerate(flags) if not f]
    elif mt in SLIDING_ONLY_TYPES and types is not None:
        hybrid = config.get("sliding_window", 4096) is not None  # both classes default to 4096
        if mt.startswith("cohere2"):
            nope = [i for i, t in enumerate(types) if t != "sliding_attention" or not hybrid]
            source = "layer_types: only sliding_attention layers rotate (Cohere 2's attention)"
        elif hybrid:
            nope = [i for i, t in enumerate(types) if t != "sliding_attention"]
            source = "layer_types: full_attention layers are NoPE (EXAONE 4's hybrid attention)"
    linear = sorted({t for t in types or () if t in NO_POSITION_LAYER_TYPES})
    if linear:
        nope = sorted(set(nope) | {i for i, t in enumerate(types) if t in linear})
        source = "; ".join(filter(None, [source, f"layer_types: {', '.join(linear)} blocks take no rotary embedding"]))
    if nope_types and types is not None:
        nope = sorted(set(nope) | {i for i, t in enumerate(types) if t in nope_types})
        source = "; ".join(filter(None, [source, f"rope_parameters null for {', '.join(nope_types)}"]))
    return LayerMap(n, types, tuple(nope), source if nope else None)
