"""Proportional RoPE (Gemma 4's full-attention layers): pinned values, properties from the shared
strategies, and parity with transformers' ``proportional`` rope type and Gemma 4's rotary module."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yarnlab.errors import SpecError
from yarnlab.rope import METHODS, RopeSpec, base_inv_freq, read_hf_rope, spec_to_hf
from yarnlab.testing import invariants as inv
from yarnlab.testing.strategies import factors, method_geometries, method_params

FN = METHODS["proportional"].fn


def test_pinned_gemma4_full_layer():
    """|D| = 512, b = 1e6, f = 0.25: 64 pairs rotate with theta_d = 1e6^(-2d/512) (the exponent over
    the whole head), the other 192 have theta = 0."""
    spec = RopeSpec("proportional", head_dim=512, base=1e6, original_ctx=131072,
                    params={"partial_rotary_factor": 0.25})
    got = spec.compute().inv_freq
    assert got.shape == (256,) and np.count_nonzero(got) == 64
    assert got[1] == pytest.approx(1e6 ** (-2 / 512), rel=1e-15)
    assert got[63] == pytest.approx(1e6 ** (-126 / 512), rel=1e-15)  # not 1e6^(-126/128), as partial rotary
    assert not got[64:].any()


@given(method_geometries(), factors(), method_params("proportional", n_pairs=64))
def test_rotating_pairs_are_pi_of_full_rope_and_the_rest_never_turn(geom, s, params):
    f = params.get("partial_rotary_factor", 1.0)
    inv_freq, s_eff = FN(geom, s, None, **params)
    n = int(f * geom.rotary_dim // 2)
    theta = base_inv_freq(geom.rotary_dim, geom.base)
    np.testing.assert_array_equal(inv_freq[:n], theta[:n] / s)
    assert not inv_freq[n:].any() and s_eff == s
    assert np.all(np.diff(inv_freq) <= 0)  # frequencies never increase with d
    inv.check_relative_position(inv_freq, 1.0, m=7, n=3, shift=geom.original_ctx)


@given(method_geometries(), factors())
def test_whole_share_is_pi(geom, s):
    np.testing.assert_array_equal(FN(geom, s, None, partial_rotary_factor=1.0)[0],
                                  METHODS["pi"].fn(geom, s)[0])
    inv.check_method(FN, geom, s, {"partial_rotary_factor": 1.0})


@pytest.mark.parametrize("f", [0.0, 1.5, -0.25, float("nan")])
def test_share_outside_0_1_is_refused(f):
    with pytest.raises(SpecError, match=r"params.partial_rotary_factor: must be a finite number in \(0, 1\]"):
        RopeSpec("proportional", head_dim=64, params={"partial_rotary_factor": f})


# ---- parity with transformers -------------------------------------------------------------------

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")
from transformers import LlamaConfig  # noqa: E402
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS  # noqa: E402


def hf_proportional(head_dim: int, base: float, f: float, s: float):
    cfg = LlamaConfig(hidden_size=2 * head_dim, num_attention_heads=2, head_dim=head_dim, num_hidden_layers=1,
                      max_position_embeddings=4096, rope_parameters={
                          "rope_type": "proportional", "rope_theta": base, "partial_rotary_factor": f, "factor": s})
    inv, m = ROPE_INIT_FUNCTIONS["proportional"](cfg, "cpu")
    return inv.double().numpy(), float(m)


@given(st.integers(2, 256).map(lambda k: 2 * k), st.floats(100.0, 1e7),
       st.one_of(st.sampled_from([0.25, 0.5, 0.75, 1.0]), st.floats(0.01, 1.0)), factors())
def test_frequencies_equal_transformers_proportional(head_dim, base, f, s):
    ref, m = hf_proportional(head_dim, base, f, s)
    spec = RopeSpec("proportional", head_dim=head_dim, base=base, factor=s, params={"partial_rotary_factor": f})
    res = spec.compute()
    theta = base_inv_freq(head_dim, base)
    np.testing.assert_array_less(np.abs(res.inv_freq - ref), 1e-6 * theta + 1e-300)
    assert np.array_equal(res.inv_freq == 0, ref == 0)  # the same pairs never turn
    assert res.attention_factor == m == 1.0


@given(st.integers(2, 256).map(lambda k: 2 * k), st.sampled_from([0.25, 0.5, 1.0]), factors())
def test_written_back_config_reads_the_same_in_transformers(head_dim, f, s):
    spec = RopeSpec("proportional", head_dim=head_dim, base=1e6, original_ctx=4096, factor=s,
                    params={"partial_rotary_factor": f})
    rope = spec_to_hf(spec)["rope_parameters"]
    ref, _ = hf_proportional(head_dim, rope["rope_theta"], rope["partial_rotary_factor"], rope["factor"])
    np.testing.assert_allclose(spec.compute().inv_freq, ref, rtol=1e-6)


def test_gemma4_rotary_module_and_reader_agree():
    """Gemma 4's default text config: full-attention layers proportional (global head dim 512,
    f = 0.25, b = 1e6), sliding layers plain RoPE (head dim 256, b = 1e4); the reader's entries equal
    the rotary module's buffers and its cos table."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING
    from transformers.models.gemma4 import modeling_gemma4

    config = CONFIG_MAPPING["gemma4_text"]()
    rot = modeling_gemma4.Gemma4TextRotaryEmbedding(config)
    found = read_hf_rope({**config.to_dict(), "model_type": "gemma4_text"})
    assert {e.layer_types[0]: e.spec.method for e in found.entries} == {"full_attention": "proportional",
                                                                        "sliding_attention": "none"}
    T = 64
    for entry in found.entries:
        layer = entry.layer_types[0]
        ref = getattr(rot, f"{layer}_inv_freq").double().numpy()
        res = entry.spec.compute()
        np.testing.assert_allclose(res.inv_freq, ref, rtol=2e-6)
        with torch.no_grad():
            cos, _ = rot(torch.zeros(1, T, 8), torch.arange(T)[None], layer_type=layer)
        ours = np.cos(np.arange(T)[:, None] * res.inv_freq[None])
        np.testing.assert_allclose(cos[0].double().numpy()[:, : entry.spec.dim // 2], ours, atol=2e-5)
        assert entry.layers == tuple(i for i, t in enumerate(config.layer_types) if t == layer)
    full = next(e for e in found.entries if e.layer_types == ("full_attention",))
    assert full.spec.head_dim == 512 and math.isclose(full.spec.params["partial_rotary_factor"], 0.25)
