"""Torch rotary tables: agreement with the numpy core, float64 angles, rotation inverse, module."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from yarnlab.errors import UsageError
from yarnlab.model.rotary import YarnlabRotaryEmbedding, rotary_tables, rotate, rotate_half, unrotate
from yarnlab.rope.spec import RopeSpec
from yarnlab.rope.tables import cos_sin, float32_naive_cos_sin

SPECS = [
    RopeSpec("none", head_dim=64, original_ctx=4096),
    RopeSpec("yarn", head_dim=128, original_ctx=4096, factor=16.0),
    RopeSpec("ntk-by-parts", head_dim=64, rotary_dim=16, original_ctx=2048, factor=8.0, params={"ramp": "paper"}),
    RopeSpec("llama3", head_dim=128, base=500000.0, original_ctx=8192, factor=8.0),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.method)
def test_matches_numpy_core(spec):
    positions = np.array([0, 1, 7, 1000, 4095, 65535, 131071])
    r = spec.compute()
    want_cos, want_sin = cos_sin(r.inv_freq, positions, r.attention_factor, dtype=np.float32)
    cos, sin = rotary_tables(spec, torch.from_numpy(positions))
    assert cos.shape == (len(positions), spec.dim) and cos.dtype == torch.float32
    np.testing.assert_allclose(cos.numpy(), want_cos, atol=2e-7, rtol=0)
    np.testing.assert_allclose(sin.numpy(), want_sin, atol=2e-7, rtol=0)


def test_float64_angles_at_long_positions():
    """At p ~ 2^20 float32 products lose ~p 2^-24 rad; yarnlab's tables stay at float32 rounding."""
    spec = RopeSpec("yarn", head_dim=128, original_ctx=4096, factor=32.0)
    positions = np.arange(2**20, 2**20 + 64)
    r = spec.compute()
    ang = positions[:, None].astype(np.float64) * r.inv_freq[None, :]
    exact = np.concatenate([np.cos(ang), np.cos(ang)], axis=-1) * r.attention_factor
    cos, _ = rotary_tables(spec, torch.from_numpy(positions))
    ours = np.abs(cos.double().numpy() - exact).max()
    naive_cos, _ = float32_naive_cos_sin(r.inv_freq, positions)
    naive = np.abs(naive_cos.astype(np.float64) * r.attention_factor - exact).max()
    assert ours < 2e-7
    assert naive > 1e-3  # the contrast: the common float32 computation drifts


def test_int_length_and_batched_positions():
    spec = SPECS[1]
    cos_n, sin_n = rotary_tables(spec, 10)
    pos = torch.arange(10).repeat(3, 1)  # (B=3, T=10)
    cos_b, sin_b = rotary_tables(spec, pos, dtype=torch.bfloat16)
    assert cos_b.shape == (3, 10, 128) and cos_b.dtype == torch.bfloat16
    torch.testing.assert_close(cos_b[1].float(), cos_n, atol=1e-2, rtol=0)


def test_dynamic_seq_len():
    spec = RopeSpec("dynamic-yarn", head_dim=64, original_ctx=100, factor=4.0)
    short, _ = rotary_tables(spec, 50)  # s = 1: plain RoPE
    plain, _ = rotary_tables(RopeSpec("none", head_dim=64, original_ctx=100), 50)
    torch.testing.assert_close(short, plain, atol=0, rtol=0)
    at_300, _ = rotary_tables(spec, 50, seq_len=300)  # s = 3 applied to the first 50 positions
    assert (at_300 - short).abs().max() > 1e-2
    long, _ = rotary_tables(spec, 300)
    torch.testing.assert_close(long[:50], at_300, atol=0, rtol=0)


def test_rotate_unrotate_inverse_and_pass_through():
    spec = RopeSpec("yarn", head_dim=32, rotary_dim=16, original_ctx=64, factor=8.0)
    assert spec.compute().attention_factor > 1.1
    pos = torch.arange(200)[None].repeat(2, 1)
    cos, sin = rotary_tables(spec, pos)
    x = torch.randn(2, 3, 200, 32, generator=torch.Generator().manual_seed(0))
    y = rotate(x, cos, sin)
    assert torch.equal(y[..., 16:], x[..., 16:])
    # norms scale by m in the rotated channels
    m = spec.compute().attention_factor
    torch.testing.assert_close(y[..., :16].norm(dim=-1), m * x[..., :16].norm(dim=-1), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(unrotate(y, cos, sin), x, rtol=0, atol=1e-5)


def test_rotate_half_convention():
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert rotate_half(x).tolist() == [-3.0, -4.0, 1.0, 2.0]


def test_module_forward_dtype_and_state():
    spec = RopeSpec("dynamic-yarn", head_dim=16, original_ctx=32, factor=4.0)
    mod = YarnlabRotaryEmbedding(spec)
    x = torch.zeros(1, 5, 8, dtype=torch.bfloat16)
    cos, sin = mod(x, torch.arange(60, 65)[None])
    assert cos.dtype == torch.bfloat16 and cos.shape == (1, 5, 16)
    assert mod.current.scale == pytest.approx(65 / 32)
    assert mod.attention_scaling == pytest.approx(0.1 * np.log(65 / 32) + 1)


@pytest.mark.parametrize("bad", [-1, 0, torch.tensor([1.5]), torch.tensor([-2, 3]), torch.tensor([], dtype=torch.long)])
def test_bad_positions(bad):
    with pytest.raises(UsageError, match="positions_or_n"):
        rotary_tables(SPECS[0], bad)
