"""Length-dependent logit scales that a model type's attention applies to q, read from its config.

Some 2025 models scale each query by a function of its position, the real long-context
temperature of those models (the quantity YaRN's Eq. 22 fixes per s):

- Llama 4 (``attn_temperature_tuning``, default on; ``floor_scale`` 8192, ``attn_scale`` 0.1 by
  default): the queries of its NoPE layers times 1 + attn_scale ln(1 + floor((p + 1) / floor_scale));
- Ministral 3 / Mistral 4 (``llama_4_scaling_beta`` in the rope parameters): every layer's queries
  times 1 + beta ln(1 + floor(p / L)), L = ``original_max_position_embeddings``.

Each is a rule of :data:`~yarnlab.rope.temperature.TEMPERATURE_RULES` (``llama4-attn``,
``llama4-scaling``), so a spec can carry it. Only q is scaled, so the logits are multiplied by the
same factor (not its square, as a cos/sin factor m would be).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from yarnlab.rope.hf_values import number
from yarnlab.rope.temperature import TEMPERATURE_RULES, llama4_q_scale, llama4_scaling_q_scale

# model types whose attention reads llama_4_scaling_beta from the rope parameters
LLAMA4_SCALING_TYPES = ("ministral3", "mistral4")
LLAMA4_TYPES = ("llama4", "llama4_text")


@dataclass(frozen=True)
class LengthScale:
    """One length-dependent q scale: the registry rule, its parameters, where it was read, the
    layers whose queries it scales, and the other factors on those layers' logits."""

    rule: str
    params: dict
    source: str
    formula: str
    original_ctx: int
    layers: tuple[int, ...] | None       # None: every layer (count unknown)
    applies_to: str
    other_logit_factor: float = 1.0       # m^2 times the model factor on the same layers (1 on NoPE layers)
    notes: tuple[str, ...] = field(default_factory=tuple)

    def q_scale(self, position: int) -> float:
        """The multiplier of the query at 0-based ``position``."""
        if self.rule == "llama4-attn":
            return float(llama4_q_scale(position, **self.params))
        return float(llama4_scaling_q_scale(position, self.original_ctx, **self.params))

    def summary(self, max_position_embeddings: int) -> dict[str, Any]:
        """The JSON entry: rule, formula, params, layers, and at three lengths n (L, the declared
        maximum, twice it) the scale of the last query p = n - 1 and the resulting logit scale."""
        at = {"L": self.original_ctx, "max_position_embeddings": max_position_embeddings,
              "2 x max_position_embeddings": 2 * max_position_embeddings}
        values = {name: {"length": n, "q_scale": self.q_scale(n - 1),
                         "logit_scale": self.q_scale(n - 1) * self.other_logit_factor} for name, n in at.items()}
        return {"rule": self.rule, "summary": TEMPERATURE_RULES[self.rule].summary, "formula": self.formula,
                "params": dict(self.params), "source": self.source, "original_ctx": self.original_ctx,
                "layers": None if self.layers is None else list(self.layers), "applies_to": self.applies_to,
                "at": values, "notes": list(self.notes)}


def _param(config: dict, key: str, default: float, where: str | None = None) -> float:
    """``config[key]`` (``default`` when absent): a finite number >= 0, or > 0 for ``floor_scale``."""
    return number(where or key, config.get(key, default), 0.0, strict=key == "floor_scale")


def read_length_scales(config: dict, rope: dict, entries, layer_map) -> list[LengthScale]:
    """The length-dependent q scales of a (text) config; ``rope`` is its rope dict (flat), ``entries``
    its RoPE entries (:class:`~yarnlab.rope.hf_read.RopeEntry`), ``layer_map`` its layer map."""
    mt = config.get("model_type")
    out: list[LengthScale] = []
    L = entries[0].spec.original_ctx if entries else None
    if mt in LLAMA4_TYPES and config.get("attn_temperature_tuning", True) and layer_map.nope_layers:
        params = {"floor_scale": _param(config, "floor_scale", 8192.0), "attn_scale": _param(config, "attn_scale", 0.1)}
        out.append(LengthScale(
            "llama4-attn", params, "attn_temperature_tuning, floor_scale, attn_scale (Llama 4's NoPE layers)",
            f"q x (1 + {params['attn_scale']:g} ln(1 + floor((p + 1) / {params['floor_scale']:g})))", L,
            layer_map.nope_layers, "the queries of the NoPE layers (no rotation there)"))
    if isinstance(rope, dict) and rope.get("llama_4_scaling_beta") is not None and mt in LLAMA4_SCALING_TYPES:
        where = "rope_parameters.llama_4_scaling_beta"
        params = {"llama_4_scaling_beta": _param(rope, "llama_4_scaling_beta", 0.1, where)}
        entry = entries[0]
        m = entry.spec.compute(entry.spec.extended_ctx if entry.spec.is_dynamic else None).attention_factor
        out.append(LengthScale(
            "llama4-scaling", params, f"{where} ({mt}'s attention)",
            f"q x (1 + {params['llama_4_scaling_beta']:g} ln(1 + floor(p / {entry.spec.original_ctx})))",
            entry.spec.original_ctx, entry.layers, "every layer's rotated queries (after RoPE)",
            m * m * entry.softmax_factor,
            (f"stacks with the RoPE entry's logit scale {m * m * entry.softmax_factor:.6g}",)))
    return out
