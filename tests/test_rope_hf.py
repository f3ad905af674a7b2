"""Reading Hugging Face configs: both dict forms, pitfalls, GPT-NeoX fields, and yarnlab-only specs."""

from __future__ import annotations

import pytest

from yarnlab.errors import UsageError
from yarnlab.rope import RopeSpec, read_hf_config, spec_from_hf_config, spec_to_hf

LLAMA2 = {"hidden_size": 4096, "num_attention_heads": 32, "rope_theta": 10000.0}


def test_old_rope_scaling_and_new_rope_parameters_read_the_same():
    old = {**LLAMA2, "max_position_embeddings": 65536,
           "rope_scaling": {"type": "yarn", "factor": 16.0, "original_max_position_embeddings": 4096}}
    new = {**LLAMA2, "max_position_embeddings": 65536,
           "rope_parameters": {"rope_type": "yarn", "factor": 16.0, "original_max_position_embeddings": 4096}}
    a, wa = read_hf_config(old)
    b, wb = read_hf_config(new)
    assert a == b and wa == wb == []
    assert a.method == "yarn" and a.original_ctx == 4096 and a.factor == 16.0 and a.head_dim == 128
    assert a.params["ramp"] == "index"


def test_missing_original_context_warns():
    spec, warnings = read_hf_config({**LLAMA2, "max_position_embeddings": 65536,
                                     "rope_scaling": {"type": "yarn", "factor": 16.0}})
    assert spec.original_ctx == 65536
    assert any("original_max_position_embeddings is missing" in w for w in warnings)


def test_factor_and_length_ratio_disagree_warns():
    _, warnings = read_hf_config({**LLAMA2, "max_position_embeddings": 32768,
                                  "rope_parameters": {"rope_type": "yarn", "factor": 16.0,
                                                      "original_max_position_embeddings": 4096}})
    assert any("transformers uses the factor" in w for w in warnings)


def test_factor_null_is_derived_from_lengths_but_absent_is_refused():
    rope = {"rope_type": "yarn", "original_max_position_embeddings": 4096}
    spec, warnings = read_hf_config({**LLAMA2, "max_position_embeddings": 32768,
                                     "rope_parameters": {**rope, "factor": None}})
    assert spec.factor == 8.0 and any("factor is null" in w for w in warnings)
    with pytest.raises(UsageError, match="rope_parameters.factor: required for rope type 'yarn'"):
        read_hf_config({**LLAMA2, "max_position_embeddings": 32768, "rope_parameters": rope})


def test_yarn_overrides_become_temperature_rules():
    base = {**LLAMA2, "max_position_embeddings": 32768}
    fixed = spec_from_hf_config({**base, "rope_parameters": {"rope_type": "yarn", "factor": 8.0,
                                                             "original_max_position_embeddings": 4096,
                                                             "attention_factor": 1.0}})
    assert fixed.temperature == "fixed" and fixed.compute().attention_factor == 1.0
    ds = spec_from_hf_config({**base, "rope_parameters": {"rope_type": "yarn", "factor": 40.0, "mscale": 1.0,
                                                          "mscale_all_dim": 1.0,
                                                          "original_max_position_embeddings": 4096}})
    assert ds.temperature == "mscale-ratio" and ds.compute().attention_factor == 1.0


def test_gpt_neox_fields():
    spec = spec_from_hf_config({"hidden_size": 512, "num_attention_heads": 8, "rotary_pct": 0.25,
                                "rotary_emb_base": 10000, "max_position_embeddings": 2048})
    assert spec.method == "none" and spec.head_dim == 64 and spec.dim == 16


def test_yarnlab_only_spec_round_trips_through_its_own_key():
    spec = RopeSpec("dynamic-yarn", head_dim=64, original_ctx=256, factor=8, params={"ramp": "paper"})
    assert spec_from_hf_config({**LLAMA2, "yarnlab_rope": spec.to_dict()}) == spec


def test_spec_to_hf_writes_ntk_as_base_change():
    fields = spec_to_hf(RopeSpec("ntk", head_dim=128, original_ctx=4096, factor=16))
    assert fields["rope_parameters"]["rope_type"] == "default"
    assert fields["rope_parameters"]["rope_theta"] == pytest.approx(1e4 * 16 ** (128 / 126))


@pytest.mark.parametrize("config,field", [
    ({"max_position_embeddings": 4096, "rope_theta": 1e4}, "config: needs head_dim"),
    ({"max_position_embeddings": 4096, "hidden_size": 64}, "cannot tell whether it has a rotary position embedding"),
    ({**LLAMA2, "max_position_embeddings": 4096, "rope_scaling": {"type": "longrope"}},
     "rope_scaling.short_factor: required for rope type 'longrope'; rope_scaling.long_factor: required"),
    ({**LLAMA2, "max_position_embeddings": 4096, "rope_scaling": {"type": "foo"}},
     "rope_scaling.rope_type: 'foo' is not supported"),
    ({**LLAMA2, "max_position_embeddings": 4096, "rope_scaling": {"type": "linear"}}, "rope_scaling.factor: required"),
    ({**LLAMA2, "max_position_embeddings": 4096, "rope_scaling": {"type": "linear", "factor": 0.5}},
     "rope_scaling.factor: must be a number >= 1"),
])
def test_bad_configs_name_the_field(config, field):
    with pytest.raises(UsageError, match=field):
        read_hf_config(config)


# ---- strict like transformers: what transformers 5 refuses, yarnlab refuses naming the field ----

REFUSED = [
    ({"rope_scaling": {"type": "linear", "factor": "8"}}, "rope_scaling.factor: must be a number"),
    ({"rope_theta": "10000"}, "rope_theta: must be a number"),
    ({"rope_scaling": {"type": "yarn", "original_max_position_embeddings": 4096}},
     "rope_scaling.factor: required for rope type 'yarn'"),
    ({"rope_scaling": {"rope_type": "llama3", "factor": 8.0, "original_max_position_embeddings": 4096}},
     "rope_scaling.low_freq_factor: required for rope type 'llama3'"),
    ({"rope_scaling": {"type": "dynamic"}}, "rope_scaling.factor: required for rope type 'dynamic'"),
    ({"rope_scaling": {"rope_type": "foo", "factor": 8.0}}, "rope_scaling.rope_type: 'foo' is not supported"),
    ({"rope_scaling": {"type": "longrope", "short_factor": [1.0] * 10, "long_factor": [2.0] * 64,
                       "original_max_position_embeddings": 4096}}, "rope_scaling.short_factor: must have"),
    ({"rope_scaling": {"type": "yarn", "factor": 8.0, "beta_fast": "32", "original_max_position_embeddings": 4096}},
     "rope_scaling.beta_fast: must be a number"),
]


@pytest.mark.parametrize("change,field", REFUSED)
def test_what_transformers_refuses_is_refused_naming_the_field(change, field):
    transformers = pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    config = {**LLAMA2, "num_hidden_layers": 1, "max_position_embeddings": 32768, **change}
    with pytest.raises(Exception):  # noqa: B017 - transformers raises KeyError, TypeError or RuntimeError
        cfg = transformers.LlamaConfig(**{k: (dict(v) if isinstance(v, dict) else v) for k, v in config.items()})
        rot = transformers.models.llama.modeling_llama.LlamaRotaryEmbedding(cfg)
        rot(torch.zeros(1, 8, 4), torch.arange(8)[None])
    with pytest.raises(UsageError, match=field):
        read_hf_config({**config, "model_type": "llama"})


@pytest.mark.parametrize("folder,kind", [("bert-base-uncased", "position_embedding_type 'absolute'"),
                                         ("gpt2", "transformers' GPT2Config has no RoPE parameters"),
                                         ("bloom-560m", "transformers' BloomConfig has no RoPE parameters")])
def test_models_without_rope_are_refused(folder, kind):
    import json
    from pathlib import Path

    config = json.loads((Path(__file__).parent / "fixtures" / "hf_configs" / folder / "config.json").read_text())
    with pytest.raises(UsageError, match=f"has no rotary position embedding \\({kind}"):
        read_hf_config(config)


def test_alibi_is_refused():
    with pytest.raises(UsageError, match=r"has no rotary position embedding \(ALiBi"):
        read_hf_config({**LLAMA2, "alibi": True})


def test_cohere_rope_gptj_is_rotary_and_interleaved():
    """Cohere's config.json says ``position_embedding_type: "rope_gptj"``: GPT-J-style RoPE, not its absence."""
    from yarnlab.rope import read_hf_rope

    found = read_hf_rope({"model_type": "cohere", "hidden_size": 8192, "num_attention_heads": 64,
                          "rope_theta": 8e6, "max_position_embeddings": 131072, "position_embedding_type": "rope_gptj"})
    assert found.entries[0].spec.method == "none" and found.entries[0].layout == "interleaved"


def test_a_list_valued_rope_scaling_is_not_echoed_whole():
    with pytest.raises(UsageError) as err:
        read_hf_config({**LLAMA2, "max_position_embeddings": 4096, "rope_scaling": list(range(300))})
    message = str(err.value)
    assert message.startswith("rope_scaling: must be a mapping (got [0, 1, 2") and len(message) < 160
    assert "list of 1390 characters" in message


def test_a_geometry_problem_is_not_blamed_on_an_absent_rope_scaling():
    with pytest.raises(UsageError) as err:
        read_hf_config({"head_dim": 10000, "rope_theta": 1e4, "max_position_embeddings": 4096})
    assert str(err.value) == ("config: the RoPE setting it gives is invalid: head_dim: must be <= 8192, "
                              "beyond any real model (got 10000)")
    with pytest.raises(UsageError, match=r"^rope_scaling: the RoPE setting it gives is invalid: params.alpha"):
        read_hf_config({"head_dim": 64, "rope_theta": 1e4, "max_position_embeddings": 32768, "rope_scaling": {
            "type": "yarn", "factor": 8.0, "original_max_position_embeddings": 4096, "beta_fast": 1, "beta_slow": 2}})
