"""Parity with transformers' ROPE_INIT_FUNCTIONS, including extreme configurations.

transformers computes in float32, so agreement is to float32 rounding: b^(-2d/D) and the ramp
blend are float32 there (see ``assert_close``). yarnlab reads the same config dict transformers
reads (``read_hf_config``) and writes specs back (``spec_to_hf``); both directions are checked.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from yarnlab.rope import RopeSpec, base_inv_freq, hf_supported, read_hf_config, spec_to_hf
from yarnlab.testing.strategies import specs

transformers = pytest.importorskip("transformers")
from transformers import LlamaConfig  # noqa: E402
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS  # noqa: E402

RTOL = 1e-5


def assert_close(ours, ref, theta):
    """|ours - ref| <= RTOL * theta_d: float32 error in the ramp weight gamma moves theta'_d by
    up to theta_d * d(gamma), so the unscaled theta_d is the right yardstick (a plain relative
    tolerance would blame transformers' float32 for an amplification by s)."""
    np.testing.assert_array_less(np.abs(ours - ref), RTOL * theta + 1e-300)

head_dims = st.sampled_from([16, 32, 64, 80, 96, 128, 192, 256]) | st.integers(4, 128).map(lambda k: 2 * k)
bases = st.sampled_from([10000.0, 500000.0, 1e6, 1e7]) | st.floats(100.0, 1e7)
contexts = st.sampled_from([256, 2048, 4096, 8192, 32768, 131072]) | st.integers(64, 131072)
scales = st.sampled_from([1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0]) | st.floats(1.0, 128.0)
partials = st.sampled_from([1.0, 1.0, 0.5, 0.25])


def hf_compute(config_fields: dict, seq_len=None):
    rope = config_fields["rope_parameters"]
    cfg = LlamaConfig(hidden_size=2 * config_fields["head_dim"], num_attention_heads=2,
                      **{k: v for k, v in config_fields.items() if k != "rope_parameters"},
                      rope_parameters=dict(rope))
    rope_type = cfg.rope_parameters["rope_type"]
    if rope_type == "default":
        dim = int(cfg.head_dim * cfg.rope_parameters.get("partial_rotary_factor", 1.0))
        base = cfg.rope_parameters["rope_theta"]
        import torch

        inv = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float) / dim))
        return inv.double().numpy(), 1.0
    inv, factor = ROPE_INIT_FUNCTIONS[rope_type](cfg, "cpu", seq_len=seq_len)
    return inv.double().numpy(), float(factor)


@st.composite
def hf_configs(draw):
    """Config dicts as released models write them, over the supported rope types."""
    head_dim = draw(head_dims)
    prf = draw(partials)
    assume(int(head_dim * prf) % 2 == 0 and int(head_dim * prf) >= 4)
    L = draw(contexts)
    s = draw(scales)
    rope_type = draw(st.sampled_from(["linear", "dynamic", "yarn", "llama3"]))
    rope = {"rope_type": rope_type, "rope_theta": draw(bases), "factor": s}
    if prf != 1.0:
        rope["partial_rotary_factor"] = prf
    fields = {"head_dim": head_dim, "max_position_embeddings": int(round(L * s))}
    if rope_type == "dynamic":
        fields["max_position_embeddings"] = L
    if rope_type in ("yarn", "llama3"):
        rope["original_max_position_embeddings"] = L
    if rope_type == "yarn":
        if draw(st.booleans()):
            rope["beta_fast"] = draw(st.floats(2.0, 128.0))
            rope["beta_slow"] = draw(st.floats(0.05, 1.99))
        rope["truncate"] = draw(st.booleans())
        extra = draw(st.sampled_from(["none", "attention_factor", "mscale"]))
        if extra == "attention_factor":
            rope["attention_factor"] = draw(st.floats(0.5, 2.0))
        elif extra == "mscale":
            rope["mscale"] = draw(st.floats(0.1, 2.0))
            rope["mscale_all_dim"] = draw(st.floats(0.1, 2.0))
    if rope_type == "llama3":
        low = draw(st.floats(0.5, 4.0))
        rope.update(low_freq_factor=low, high_freq_factor=draw(st.floats(low + 0.5, 32.0)))
    fields["rope_parameters"] = rope
    return fields


@given(hf_configs(), st.integers(1, 1 << 18))
def test_reading_hf_configs_matches_transformers(fields, seq_len):
    spec, _ = read_hf_config({k: (dict(v) if isinstance(v, dict) else v) for k, v in fields.items()})
    dynamic = fields["rope_parameters"]["rope_type"] == "dynamic"
    ref_inv, ref_m = hf_compute(fields, seq_len if dynamic else None)
    res = spec.compute(seq_len if dynamic else None)
    assert_close(res.inv_freq, ref_inv, base_inv_freq(spec.dim, spec.base))
    assert res.attention_factor == pytest.approx(ref_m, rel=1e-12)


@given(specs(methods=("none", "pi", "ntk", "dynamic-ntk", "ntk-by-parts", "yarn", "llama3")))
def test_writing_specs_for_transformers_round_trips(spec):
    assume(hf_supported(spec))
    assume(spec.method != "ntk" or spec.rotary_dim is None)
    assume(spec.method != "none" or spec.rotary_dim is None)
    fields = spec_to_hf(spec)
    ref_inv, ref_m = hf_compute(fields)
    res = spec.compute()
    assert_close(res.inv_freq, ref_inv, base_inv_freq(spec.dim, spec.base))
    assert res.attention_factor == pytest.approx(ref_m, rel=1e-9)


def test_unsupported_specs_say_why():
    from yarnlab.errors import UsageError

    for spec in [RopeSpec("yarn", head_dim=64, factor=4, params={"ramp": "paper"}),
                 RopeSpec("dynamic-yarn", head_dim=64, factor=4),
                 RopeSpec("dynamic-ntk", head_dim=64, factor=4),
                 RopeSpec("pi", head_dim=64, factor=4, temperature="yarn")]:
        assert not hf_supported(spec)
        with pytest.raises(UsageError, match="no transformers equivalent"):
            spec_to_hf(spec)


@pytest.mark.parametrize("truncate", [True, False])
@pytest.mark.parametrize("L,s,D,b", [(131072, 128.0, 256, 1e7), (4096, 16.0, 128, 1e4), (4096, 32.0, 128, 1e4),
                                     (8192, 8.0, 128, 500000.0), (256, 128.0, 4, 2.0)])
def test_yarn_extremes(L, s, D, b, truncate):
    fields = {"head_dim": D, "max_position_embeddings": int(L * s),
              "rope_parameters": {"rope_type": "yarn", "rope_theta": b, "factor": s,
                                  "original_max_position_embeddings": L, "truncate": truncate}}
    ref_inv, ref_m = hf_compute(fields)
    res = read_hf_config(fields)[0].compute()
    np.testing.assert_allclose(res.inv_freq, ref_inv, rtol=RTOL)
    assert res.attention_factor == pytest.approx(ref_m, rel=1e-12)
