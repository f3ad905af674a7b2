"""Per-layer truth against transformers' own modeling code: the pair layout each model type's
attention applies, which layers rotate (NoPE layers), and the length-dependent q scales.

Layouts: random q and k are rotated by the model type's own rotary module and rotation function
(``apply_rotary_pos_emb``, Llama 4's complex ``apply_rotary_emb``, DeepSeek MLA's
``apply_rotary_pos_emb_interleave``) and by :func:`yarnlab.rope.tables.rotate` with the layout the
doctor reports; the logits q_m . k_n must agree (MLA returns its rotated channels permuted, which the
logits do not see), and the other layout must not.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import numpy as np
import pytest

from yarnlab.rope.hf_read import read_hf_rope
from yarnlab.rope.tables import cos_sin, rotate

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")
from transformers.models.auto.configuration_auto import CONFIG_MAPPING, model_type_to_module_name  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures" / "hf_configs"
T = 24  # positions


def modeling(model_type: str):
    name = model_type_to_module_name(model_type.removesuffix("_text"))
    return importlib.import_module(f"transformers.models.{name}.modeling_{name}")


def default_config(model_type: str, **fields):
    return CONFIG_MAPPING[model_type](**fields)


def rotary(config, mod):
    names = [n for n in dir(mod) if n.endswith("RotaryEmbedding") and "Vision" not in n and "Indexer" not in n]
    return getattr(mod, sorted(names, key=len)[0])(config)


def transformers_rotated(model_type: str, config, q, k):
    """q, k (1, 1, T, |D|) rotated at positions 0..T-1 by the model type's own code."""
    mod = modeling(model_type)
    rot = rotary(config, mod)
    x = torch.zeros(1, T, 8)
    pos = torch.arange(T)[None]
    layer_types = getattr(config, "layer_types", None)
    nested = isinstance(config.rope_parameters, dict) and set(config.rope_parameters) & set(layer_types or ())
    kwargs = {"layer_type": "sliding_attention"} if nested else {}
    with torch.no_grad():
        emb = rot(x, pos, **kwargs)
        if model_type in ("llama4", "llama4_text"):  # complex tables, (B, T, H, D) tensors
            qr, kr = mod.apply_rotary_emb(q.transpose(1, 2), k.transpose(1, 2), emb)
            return qr.transpose(1, 2), kr.transpose(1, 2)
        cos, sin = emb
        if model_type in ("deepseek_v3", "deepseek_v32", "glm_moe_dsa", "mistral4") and getattr(
                config, "rope_interleave", True):
            return mod.apply_rotary_pos_emb_interleave(q, k, cos, sin)
        if model_type == "gemma4_text":
            return mod.apply_rotary_pos_emb(q, cos, sin), mod.apply_rotary_pos_emb(k, cos, sin)
        return mod.apply_rotary_pos_emb(q, k, cos, sin)


def yarnlab_rotated(entry, q, k, layout):
    spec = entry.spec
    res = spec.compute()
    cos, sin = cos_sin(res.inv_freq, T, res.attention_factor, layout, dtype=np.float64)
    d = spec.dim
    out = []
    for x in (q, k):
        x = x[0, 0].double().numpy()
        out.append(np.concatenate([rotate(x[:, :d], cos, sin, layout), x[:, d:]], axis=-1))
    return out


# (model type, config overrides): each type's default config, the MLA ones through their rope head
LAYOUT_TYPES = [("llama", {}), ("smollm3", {}), ("ministral3", {}), ("cohere", {}), ("cohere2", {}),
                ("llama4_text", {}), ("deepseek_v3", {}), ("deepseek_v32", {}), ("glm4", {}),
                ("glm4_moe", {"head_dim": 128}), ("qwen3_next", {}), ("hunyuan_v1_dense", {}), ("gpt_oss", {}),
                ("olmo2", {}), ("starcoder2", {}), ("phi3", {})]


@pytest.mark.parametrize("model_type,overrides", LAYOUT_TYPES, ids=[t for t, _ in LAYOUT_TYPES])
def test_reported_layout_gives_the_logits_of_transformers_attention(model_type, overrides):
    config = default_config(model_type, **overrides)
    raw = {**config.to_dict(), "model_type": model_type}
    found = read_hf_rope(raw)
    entry = found.entries[0]
    width = entry.spec.head_dim if not raw.get("qk_rope_head_dim") else raw["qk_rope_head_dim"]
    gen = torch.Generator().manual_seed(0)
    q, k = (torch.randn(1, 1, T, width, generator=gen, dtype=torch.float32) for _ in range(2))
    qr, kr = transformers_rotated(model_type, config, q, k)
    ref = (qr[0, 0].double() @ kr[0, 0].double().T).numpy()
    ours_q, ours_k = yarnlab_rotated(entry, q, k, entry.layout)
    np.testing.assert_allclose(ours_q @ ours_k.T, ref, atol=2e-4 * np.abs(ref).max(), err_msg=model_type)
    other = "half" if entry.layout == "interleaved" else "interleaved"
    wrong_q, wrong_k = yarnlab_rotated(entry, q, k, other)
    assert np.abs(wrong_q @ wrong_k.T - ref).max() > 1e-2 * np.abs(ref).max(), (model_type, "layouts agree")


def test_the_layout_types_cover_both_layouts_and_the_complex_and_mla_forms():
    layouts = {read_hf_rope({**default_config(t, **o).to_dict(), "model_type": t}).entries[0].layout: t
               for t, o in LAYOUT_TYPES}
    assert set(layouts) == {"half", "interleaved"}
    notes = read_hf_rope({**default_config("llama4_text").to_dict(), "model_type": "llama4_text"}).entries[0].notes
    assert any("complex product" in n for n in notes)


# ---- NoPE layers --------------------------------------------------------------------------------

def rotates(model_type: str, module) -> bool:
    """Whether the attention module's forward applies the rotation (the condition its code tests)."""
    if model_type in ("llama4_text", "smollm3"):
        return bool(module.use_rope)
    if model_type == "cohere2":
        return module.sliding_window is not None
    if model_type == "exaone4":
        return module.sliding_window is None or module.is_sliding
    raise AssertionError(model_type)


def attention_rotation_map(config) -> list[bool]:
    mod = modeling(config.model_type)
    cls = getattr(mod, next(n for n in dir(mod) if n.endswith("Attention") and "Flash" not in n
                            and not n.startswith("Vision")))
    out = []
    with torch.device("meta"):
        for i in range(config.num_hidden_layers):
            out.append(rotates(config.model_type, cls(config, layer_idx=i)))
    return out


NOPE_CASES = {
    "llama-4-scout-17b-16e-instruct": lambda raw: raw["text_config"],
    "smollm3-3b": lambda raw: raw,
    "command-r7b-12-2024": lambda raw: raw,
}


@pytest.mark.parametrize("folder", sorted(NOPE_CASES))
def test_nope_layers_are_the_layers_transformers_attention_does_not_rotate(folder):
    raw = json.loads((FIXTURES / folder / "config.json").read_text())
    text = NOPE_CASES[folder](raw)
    config = CONFIG_MAPPING[text["model_type"]].from_dict({k: v for k, v in text.items() if k != "model_type"})
    want = [i for i, r in enumerate(attention_rotation_map(config)) if not r]
    found = read_hf_rope(raw)
    assert list(found.layers.nope_layers) == want and want
    assert found.entries[0].layers == tuple(i for i in range(config.num_hidden_layers) if i not in want)
    assert list(found.layers.layer_types) == list(config.layer_types)


@pytest.mark.parametrize("model_type,fields", [
    ("exaone4", {"num_hidden_layers": 8, "sliding_window": 4096, "sliding_window_pattern": 4}),
    ("exaone4", {"num_hidden_layers": 6, "sliding_window": 2048, "sliding_window_pattern": 2}),
    ("cohere2", {"num_hidden_layers": 8, "sliding_window": None}),
    ("smollm3", {"num_hidden_layers": 10, "no_rope_layer_interval": 3}),
    ("llama4_text", {"num_hidden_layers": 6, "no_rope_layers": [1, 0, 1, 1, 0, 1], "attention_chunk_size": None}),
])
def test_nope_rules_by_model_type_follow_the_attention_code(model_type, fields):
    config = CONFIG_MAPPING[model_type](**fields)
    want = [i for i, r in enumerate(attention_rotation_map(config)) if not r]
    raw = {"model_type": model_type, **{k: v for k, v in config.to_dict().items() if k != "layer_types"}, **fields}
    layers = read_hf_rope(raw).layers
    assert list(layers.nope_layers) == want
    assert list(layers.layer_types) == list(config.layer_types)


def test_null_rope_parameters_of_a_layer_type_make_its_layers_nope():
    raw = {"model_type": "gemma3_text", "num_hidden_layers": 4, "head_dim": 64, "num_attention_heads": 2,
           "hidden_size": 128, "max_position_embeddings": 4096,
           "layer_types": ["sliding_attention", "full_attention", "sliding_attention", "full_attention"],
           "rope_parameters": {"sliding_attention": {"rope_type": "default", "rope_theta": 1e4},
                               "full_attention": None}}
    found = read_hf_rope(raw)
    assert found.layers.nope_layers == (1, 3) and found.entries[0].layers == (0, 2)


# ---- length-dependent q scales ------------------------------------------------------------------

def test_llama4_nope_layer_query_scale_equals_transformers_attention(monkeypatch):
    """A NoPE layer of a small Llama 4 text model: the query its attention hands to the attention
    kernel is q_proj(x) times the scale yarnlab reports for that position."""
    mod = modeling("llama4_text")
    config = CONFIG_MAPPING["llama4_text"](hidden_size=16, num_attention_heads=2, num_key_value_heads=2, head_dim=8,
                                           num_hidden_layers=2, no_rope_layers=[0, 1], floor_scale=4,
                                           attn_scale=0.5, use_qk_norm=False)
    config._attn_implementation = "eager"
    seen = {}

    def capture(module, query, key, value, attention_mask, **kwargs):
        seen["q"] = query.detach().clone()
        return torch.zeros(query.shape[0], query.shape[2], query.shape[1], query.shape[3]), None

    monkeypatch.setattr(mod, "eager_attention_forward", capture)
    attention = mod.Llama4TextAttention(config, layer_idx=0)
    x = torch.randn(1, T, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        attention(x, position_embeddings=None, attention_mask=None)
        plain = attention.q_proj(x).view(1, T, 2, 8).transpose(1, 2)
    raw = {**config.to_dict(), "model_type": "llama4_text"}
    found = read_hf_rope(raw)
    (scale,) = found.scales
    assert scale.rule == "llama4-attn" and scale.layers == (0,)
    ours = np.array([scale.q_scale(p) for p in range(T)])
    got = (seen["q"] / plain).double().numpy()[0, 0, :, 0]
    np.testing.assert_allclose(got, ours, rtol=1e-6)
    assert ours[2] == 1.0 and ours[3] == pytest.approx(1 + 0.5 * np.log(2))  # floor((3 + 1) / 4) = 1


def test_ministral3_query_scale_equals_transformers_function():
    mod = modeling("ministral3")
    raw = json.loads((FIXTURES / "ministral-3-8b-base-2512" / "config.json").read_text())
    (scale,) = read_hf_rope(raw).scales
    positions = torch.tensor([[0, 1, 16383, 16384, 16385, 262143, 262144, 524287, 10**7]])
    ref = mod.get_llama_4_attn_scale(positions, 0.1, 16384).double().numpy().ravel()
    np.testing.assert_allclose([scale.q_scale(int(p)) for p in positions[0]], ref, rtol=1e-6)


def test_length_scales_are_registry_rules_a_spec_can_carry():
    from yarnlab.rope import RopeSpec

    spec = RopeSpec("yarn", head_dim=128, original_ctx=16384, factor=16.0, temperature="llama4-scaling",
                    temperature_params={"llama_4_scaling_beta": 0.1})
    assert spec.is_dynamic and spec.compute(16384).attention_factor == 1.0
    # the last query of a 262144-token input: floor(262143 / 16384) = 15, logits x (1 + 0.1 ln 16)
    assert spec.compute(262144).attention_factor ** 2 == pytest.approx(1 + 0.1 * np.log(16), rel=1e-12)
    spec = RopeSpec("none", head_dim=128, original_ctx=8192, temperature="llama4-attn")
    assert spec.compute(8192).attention_factor ** 2 == pytest.approx(1 + 0.1 * np.log(2), rel=1e-12)


# ---- a second base per layer type, given by its own field -----------------------------------------

@pytest.mark.parametrize("model_type,fields", [
    ("modernbert-decoder", {"local_rope_theta": 20000.0, "global_rope_theta": 320000.0}),
    ("gemma3_text", {"rope_local_base_freq": 25000.0, "rope_theta": 2e6}),
])
def test_second_base_fields_give_the_bases_of_transformers_config_class(model_type, fields):
    config = CONFIG_MAPPING[model_type](**fields)
    raw = {"model_type": model_type, **{k: v for k, v in config.to_dict().items() if k != "rope_parameters"},
           **fields}
    found = read_hf_rope(raw)
    bases = {e.layer_types[0]: e.spec.base for e in found.entries}
    assert bases == {t: p["rope_theta"] for t, p in config.rope_parameters.items()}
    assert len(set(bases.values())) == 2


def test_linear_attention_layers_of_qwen3_next_take_no_rotary_embedding():
    """Qwen3-Next's decoder builds a Gated DeltaNet block (no position embedding) for linear_attention
    layers and a rotary softmax attention for the others; the doctor's NoPE layers are the former."""
    raw = json.loads((FIXTURES / "qwen3-next-80b-a3b-instruct" / "config.json").read_text())
    config = CONFIG_MAPPING["qwen3_next"].from_dict({k: v for k, v in raw.items() if k != "model_type"})
    mod = modeling("qwen3_next")
    with torch.device("meta"):
        softmax = [hasattr(mod.Qwen3NextDecoderLayer(config, i), "self_attn") for i in range(config.num_hidden_layers)]
    found = read_hf_rope(raw)
    assert list(found.layers.nope_layers) == [i for i, a in enumerate(softmax) if not a]
    assert found.entries[0].layers == tuple(i for i, a in enumerate(softmax) if a) and sum(softmax) == 12
