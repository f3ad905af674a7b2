"""apply_scaling on tiny random Hugging Face models built from a config (no download).

Parity: a model patched by yarnlab gives the same logits as the same weights under transformers'
built-in rope type (yarn, linear, dynamic, llama3), for Llama, Mistral, Qwen2 and GPT-NeoX
(partial rotary). Each parity test also checks that the scaling changes the logits by far more
than the tolerance, so it could fail. Save + vanilla reload, yarnlab-only round trips through
load_model, repeated application, and the input errors.
"""

from __future__ import annotations

import copy

import pytest
import torch
from hf_models import ARCHS, HEAD_DIM, L, make_model
from transformers import AutoModelForCausalLM

from yarnlab.errors import UsageError
from yarnlab.model import apply_scaling, load_model, model_spec
from yarnlab.model.rotary import YarnlabRotaryEmbedding
from yarnlab.rope.spec import RopeSpec

TOL = 1e-5


def logits(model, ids):
    with torch.no_grad():
        return model(ids, use_cache=False).logits


@pytest.fixture(scope="module")
def ids():
    return torch.randint(0, 300, (2, 160), generator=torch.Generator().manual_seed(1))


HF_ROPES = {
    "yarn": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": L},
    "yarn-m": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": L, "attention_factor": 1.3,
               "beta_fast": 16.0, "beta_slow": 2.0},
    "linear": {"rope_type": "linear", "factor": 4.0},
    "dynamic": {"rope_type": "dynamic", "factor": 2.0},
    "llama3": {"rope_type": "llama3", "factor": 4.0, "original_max_position_embeddings": L,
               "low_freq_factor": 1.0, "high_freq_factor": 4.0},
}


@pytest.mark.parametrize("arch", sorted(ARCHS))
@pytest.mark.parametrize("name", sorted(HF_ROPES))
def test_parity_with_transformers_builtin(arch, name, ids):
    base = make_model(arch)
    reference = make_model(arch, HF_ROPES[name], state=base.state_dict())  # transformers' own rope
    ours = copy.deepcopy(base)
    apply_scaling(ours, HF_ROPES[name])
    want, got, plain = logits(reference, ids), logits(ours, ids), logits(base, ids)
    torch.testing.assert_close(got, want, atol=TOL, rtol=0)
    assert (plain - want).abs().max() > 100 * TOL  # the scaling matters at these lengths


SPECS = {  # the same methods written as yarnlab specs
    "yarn": RopeSpec("yarn", head_dim=HEAD_DIM, original_ctx=L, factor=4.0),
    "linear": RopeSpec("pi", head_dim=HEAD_DIM, original_ctx=L, factor=4.0),
    "llama3": RopeSpec("llama3", head_dim=HEAD_DIM, original_ctx=L, factor=4.0),
    "dynamic": RopeSpec("dynamic-ntk", head_dim=HEAD_DIM, original_ctx=L, factor=2.0,
                        params={"variant": "transformers"}),
}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_ropespec_equals_hf_dict(name, ids):
    base = make_model("llama")
    reference = make_model("llama", HF_ROPES[name], state=base.state_dict())
    ours = copy.deepcopy(base)
    apply_scaling(ours, SPECS[name])
    torch.testing.assert_close(logits(ours, ids), logits(reference, ids), atol=TOL, rtol=0)


def test_partial_rotary_module_shape():
    model = make_model("gpt_neox")
    spec = apply_scaling(model, HF_ROPES["yarn"])
    assert spec.rotary_dim == 8 and spec.head_dim == 16
    rot = model.gpt_neox.rotary_emb
    assert isinstance(rot, YarnlabRotaryEmbedding)
    cos, sin = rot(torch.zeros(1, 5, 64), torch.arange(5)[None])
    assert cos.shape == sin.shape == (1, 5, 8)


def test_partial_rotary_spec_mismatch_raises():
    model = make_model("gpt_neox")
    with pytest.raises(UsageError, match="rotary_dim"):
        apply_scaling(model, RopeSpec("yarn", head_dim=16, original_ctx=L, factor=4.0))  # full rotary


def test_reapply_sweeps_attention_factor(ids):
    """Repeated calls replace the spec: each m gives transformers' yarn with attention_factor m."""
    base = make_model("llama")
    model = copy.deepcopy(base)
    seen = []
    for m in (1.0, 1.3, 0.8):
        spec = RopeSpec("yarn", head_dim=HEAD_DIM, original_ctx=L, factor=4.0, temperature="fixed",
                        temperature_params={"m": m})
        apply_scaling(model, spec)
        rope = {**HF_ROPES["yarn"], "attention_factor": m}
        reference = make_model("llama", rope, state=base.state_dict())
        out = logits(model, ids)
        torch.testing.assert_close(out, logits(reference, ids), atol=TOL, rtol=0)
        seen.append(out)
        assert model.config.rope_parameters.get("attention_factor", 1.0) == pytest.approx(m) or m == 1.0
    assert (seen[0] - seen[1]).abs().max() > 100 * TOL
    rotaries = [mod for mod in model.modules() if isinstance(mod, YarnlabRotaryEmbedding)]
    assert len(rotaries) == 1
    assert len(model.model._forward_pre_hooks) == 1  # the cache hook is installed once


@pytest.mark.parametrize("arch", ["llama", "gpt_neox"])
@pytest.mark.parametrize("name", ["yarn", "yarn-m", "linear", "dynamic", "llama3"])
def test_save_and_vanilla_reload(arch, name, ids, tmp_path):
    model = make_model(arch)
    apply_scaling(model, HF_ROPES[name])
    model.save_pretrained(tmp_path)
    vanilla = AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    assert not any(isinstance(m, YarnlabRotaryEmbedding) for m in vanilla.modules())
    torch.testing.assert_close(logits(vanilla, ids), logits(model, ids), atol=TOL, rtol=0)
    assert model_spec(vanilla) == model_spec(model)


def test_static_ntk_saves_as_base_change(ids, tmp_path):
    model = make_model("llama")
    apply_scaling(model, RopeSpec("ntk", head_dim=HEAD_DIM, original_ctx=L, factor=4.0))
    model.save_pretrained(tmp_path)
    vanilla = AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    torch.testing.assert_close(logits(vanilla, ids), logits(model, ids), atol=TOL, rtol=0)


YARNLAB_ONLY = {
    "ntk-by-parts-paper-ramp": RopeSpec("ntk-by-parts", head_dim=HEAD_DIM, original_ctx=L, factor=4.0,
                                        params={"ramp": "paper"}),
    "dynamic-yarn": RopeSpec("dynamic-yarn", head_dim=HEAD_DIM, original_ctx=L, factor=4.0),
}


@pytest.mark.parametrize("name", sorted(YARNLAB_ONLY))
def test_yarnlab_only_round_trip(name, ids, tmp_path):
    spec = YARNLAB_ONLY[name]
    base = make_model("llama")
    model = copy.deepcopy(base)
    apply_scaling(model, spec)
    model.save_pretrained(tmp_path)
    assert model.config.yarnlab_rope == spec.to_dict()
    assert "yarnlab-only" in model.config.yarnlab_rope_note

    reloaded = load_model(tmp_path).eval()
    assert model_spec(reloaded) == spec
    torch.testing.assert_close(logits(reloaded, ids), logits(model, ids), atol=TOL, rtol=0)
    # vanilla transformers sees plain RoPE, as the note says: the logits are the unscaled model's
    vanilla = AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    torch.testing.assert_close(logits(vanilla, ids), logits(base, ids), atol=TOL, rtol=0)
    assert (logits(vanilla, ids) - logits(model, ids)).abs().max() > 100 * TOL


def test_yarnlab_only_then_supported_clears_entry():
    model = make_model("llama")
    apply_scaling(model, YARNLAB_ONLY["ntk-by-parts-paper-ramp"])
    apply_scaling(model, HF_ROPES["yarn"])
    assert not hasattr(model.config, "yarnlab_rope")
    assert model.config.rope_parameters["rope_type"] == "yarn"


def test_hf_dict_read_against_original_geometry():
    """A second dict is read against the ORIGINAL config, not the one the first call rewrote."""
    model = make_model("llama")
    apply_scaling(model, {"rope_type": "linear", "factor": 4.0})
    assert model.config.max_position_embeddings == 4 * L
    spec = apply_scaling(model, {"rope_type": "dynamic", "factor": 2.0})
    assert spec.original_ctx == L  # transformers' dynamic takes max_position_embeddings as L


def test_errors():
    model = make_model("llama")
    with pytest.raises(UsageError, match="head_dim"):
        apply_scaling(model, RopeSpec("yarn", head_dim=32, original_ctx=L, factor=4.0))
    with pytest.raises(UsageError, match="rope_type"):
        apply_scaling(model, {"rope_type": "foo", "factor": 4.0})
    with pytest.raises(UsageError, match="RopeSpec or a rope dict"):
        apply_scaling(model, "yarn")
    with pytest.raises(UsageError, match="no rotary-embedding module"):
        apply_scaling(torch.nn.Linear(2, 2), HF_ROPES["yarn"])
