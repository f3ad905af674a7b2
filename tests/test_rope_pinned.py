"""Pinned values for the Llama-2 7B geometry (|D| = 128, b = 1e4, L = 4096) and independent
re-derivations of the paper's formulas in plain Python (no yarnlab code on the reference side).

If these inputs change, the outputs change: the numbers below were checked against the equations
by hand (see comments) and against transformers (test_rope_parity.py).
"""

from __future__ import annotations

import math

import pytest

from yarnlab.rope import RopeSpec, correction_range
from yarnlab.rope.methods import ntk_base

D, B, L = 128, 10000.0, 4096


def theta(d, dim=D, base=B):
    return base ** (-2 * d / dim)  # Eq. 5


def paper_yarn(d, s, alpha=1.0, beta=32.0):
    """Eqs. 17-20 written out."""
    r = L / (2 * math.pi / theta(d))
    gamma = 0.0 if r < alpha else 1.0 if r > beta else (r - alpha) / (beta - alpha)
    return (1 - gamma) * theta(d) / s + gamma * theta(d)


@pytest.mark.parametrize("s,m", [(16.0, 1.2772588722239782), (32.0, 1.3465735902799727), (8.0, 1.2079441541679836)])
def test_attention_factor_eq22(s, m):
    # 0.1 ln 16 + 1 = 1.27726, 0.1 ln 32 + 1 = 1.34657, 0.1 ln 8 + 1 = 1.20794 (Eq. 25: ~1.208)
    assert RopeSpec("yarn", head_dim=D, original_ctx=L, factor=s).compute().attention_factor == pytest.approx(m, 1e-15)


def test_llama2_correction_range():
    # d(32) = 128 ln(4096/(64 pi)) / (2 ln 1e4) = 20.944 -> floor 20; d(1) = 45.027 -> ceil 46
    assert correction_range(32.0, 1.0, D, B, L, truncate=True) == (20, 46)
    low, high = correction_range(32.0, 1.0, D, B, L, truncate=False)
    assert low == pytest.approx(20.9445, abs=1e-4) and high == pytest.approx(45.0269, abs=1e-4)


@pytest.mark.parametrize("s", [16.0, 32.0])
def test_llama2_index_ramp_pinned(s):
    inv = RopeSpec("yarn", head_dim=D, original_ctx=L, factor=s).compute().inv_freq
    # pairs 0..20 untouched, 46..63 exactly PI, pair 33 halfway in index: gamma = 1 - 13/26 = 0.5
    for d in (0, 10, 20):
        assert inv[d] == pytest.approx(theta(d), rel=1e-15)
    for d in (46, 50, 63):
        assert inv[d] == pytest.approx(theta(d) / s, rel=1e-15)
    assert inv[33] == pytest.approx(0.5 * theta(33) / s + 0.5 * theta(33), rel=1e-14)


@pytest.mark.parametrize("s", [16.0, 32.0])
def test_llama2_paper_ramp_matches_written_out_equations(s):
    inv = RopeSpec("yarn", head_dim=D, original_ctx=L, factor=s, params={"ramp": "paper"}).compute().inv_freq
    for d in range(D // 2):
        assert inv[d] == pytest.approx(paper_yarn(d, s), rel=1e-13)


def test_llama2_ntk_base_eq16():
    # b' = 1e4 * 16^(128/126) = 160000 * e^(0.015873 * ln 16) = 167,199
    assert ntk_base(B, 16.0, D) == pytest.approx(B * 16 ** (128 / 126), rel=1e-15)
    assert round(ntk_base(B, 16.0, D)) == 167199.0
    inv = RopeSpec("ntk", head_dim=D, original_ctx=L, factor=16).compute().inv_freq
    assert inv[63] == pytest.approx(theta(63) / 16, rel=1e-12)


def test_paper_and_index_ramps_differ_inside_the_band():
    """Linear in index is linear in ln r: the two ramps disagree strongly mid-band (Llama-2, s = 16)."""
    from yarnlab.rope.frequencies import effective_gamma
    from yarnlab.rope.methods import ntk_by_parts_gamma

    spec = RopeSpec("yarn", head_dim=D, original_ctx=L, factor=16)
    g_index = ntk_by_parts_gamma(spec.geometry, 1.0, 32.0, "index")
    g_paper = ntk_by_parts_gamma(spec.geometry, 1.0, 32.0, "paper")
    diff = abs(g_index - g_paper).max()
    assert 0.3 < diff < 0.45
    inv_p = RopeSpec("yarn", head_dim=D, original_ctx=L, factor=16, params={"ramp": "paper"}).compute().inv_freq
    from yarnlab.rope import base_inv_freq

    assert effective_gamma(base_inv_freq(D, B), inv_p, 16.0) == pytest.approx(g_paper, abs=1e-12)
