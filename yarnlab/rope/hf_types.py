"""What transformers 5 reads per model type: the rope types and their methods, legacy type names,
fields that carry a base or say a config uses RoPE, and the channel-pair layout each model type's
attention code rotates with. Tables only; :mod:`yarnlab.rope.hf_read` reads configs with them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from yarnlab.rope.hf_form import HFType
from yarnlab.rope.methods import METHODS


def rope_types() -> dict[str, tuple[str, HFType]]:
    """rope type -> (the method it is read as, its form), from the method registry: every method whose
    :class:`~yarnlab.rope.hf_form.HFType` ``reads``, in registry order."""
    out: dict[str, tuple[str, HFType]] = {}
    for name, method in METHODS.items():
        form = method.hf
        if form is not None and form.reads:
            if form.rope_type in out:
                raise AssertionError(f"rope type {form.rope_type!r} is read by two methods: "
                                     f"{out[form.rope_type][0]} and {name}")
            out[form.rope_type] = (name, form)
    return out


class _HFTypes(Mapping):
    """rope type -> (yarnlab method, keys transformers 5 requires besides rope_type, keys it also
    reads): a view of :func:`rope_types`, read from the registry on every access."""

    def __getitem__(self, rope_type: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        method, form = rope_types()[rope_type]
        return method, form.required, form.optional

    def __iter__(self) -> Iterator[str]:
        return iter(rope_types())

    def __len__(self) -> int:
        return len(rope_types())


HF_TYPES: Mapping[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = _HFTypes()
# head dim of a layer type that differs from the model's head_dim: (field, transformers' default)
# (Gemma 4's full-attention layers use global_head_dim, 512 by default in Gemma4TextConfig)
LAYER_HEAD_DIM = {("gemma4_text", "full_attention"): ("global_head_dim", 512)}
LEGACY_TYPES = {"su": "longrope", "mrope": "default"}
# fields that say a config uses RoPE even where transformers has no config class for its type
ROPE_EVIDENCE = ("rope_theta", "rope_scaling", "rope_parameters", "rotary_dim", "rotary_pct", "rotary_emb_base",
                 "partial_rotary_factor", "rope_local_base_freq", "qk_rope_head_dim", "local_rope_theta",
                 "swa_rope_theta", "global_rope_theta")
# fields giving the sliding-window layers their own base, as the config classes that read them move
# them into rope_parameters["sliding_attention"] (Gemma 3, ModernBERT decoder, dots)
SLIDING_BASE_FIELDS = ("rope_local_base_freq", "local_rope_theta", "swa_rope_theta")
# NTK-alpha: model types whose rotary module reads a "dynamic" rope dict with `alpha` as a fixed
# NTK-aware base b alpha^(|D|/(|D|-2)) (Hunyuan's DynamicNTKAlphaRotary)
NTK_ALPHA_TYPES = ("hunyuan_v1_dense", "hunyuan_v1_moe")
# Pair layout by model type, as each type's attention code in transformers 5 rotates: the types
# below pair channels (2d, 2d + 1) ("interleaved"), every other type pairs (d, d + |D|/2) ("half",
# rotate_half). tests/test_rope_layers.py rotates random q and k with each type's own function and
# compares the logits with yarnlab's layout.
INTERLEAVED_BY_TYPE = {
    "gptj": "rotate_every_two", "codegen": "rotate_every_two",
    "cohere": "rotate_half over x[..., ::2], x[..., 1::2]", "cohere2": "rotate_half over x[..., ::2], x[..., 1::2]",
    "cohere2_moe": "rotate_half over x[..., ::2], x[..., 1::2]",
    "glm": "repeat_interleave of cos/sin", "glm4": "repeat_interleave of cos/sin",
    "ernie4_5": "repeat_interleave of cos/sin", "ernie4_5_moe": "repeat_interleave of cos/sin",
    "deepseek_v2": "a complex product (view_as_complex)",
    "llama4": "a complex product (view_as_complex)", "llama4_text": "a complex product (view_as_complex)",
    "deepseek_v32": "MLA's apply_rotary_pos_emb_interleave (its DSA indexer rotates half-split)",
    "glm_moe_dsa": "MLA's apply_rotary_pos_emb_interleave",
}
INTERLEAVED_TYPES = tuple(INTERLEAVED_BY_TYPE)
# MLA types whose attention interleaves when rope_interleave is true (their config classes default it to
# true); Kimi K2 (no transformers class) ships DeepSeek-V3's own modeling code, which rotates q and k
# after viewing each pair (2d, 2d + 1) together, the same interleaved layout
ROPE_INTERLEAVE_TYPES = ("deepseek_v3", "mistral4", "kimi_k2")
# position_embedding_type values that name a rotary embedding (Cohere writes GPT-J-style "rope_gptj")
ROPE_POSITION_TYPES = ("rotary", "rope", "rope_gptj")
DEFAULT_THETA = 10000.0
