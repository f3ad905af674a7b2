"""Edges of the rope core that the general properties never reach (numpy only, no torch):
the ramp's upper clamp binding, partial rotary factors whose product is not exact, equal ramp
bounds (an empty band), a degenerate ramp (L < 2 pi) and Dynamic-YaRN's grow-only state across calls."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yarnlab.errors import SpecError
from yarnlab.rope import DynamicLength, RopeSpec, base_inv_freq, correction_range, read_hf_config, spec_to_hf
from yarnlab.rope.frequencies import correction_dim
from yarnlab.rope.methods import METHODS
from yarnlab.testing import invariants as inv
from yarnlab.testing.strategies import degenerate_ramp_geometries, factors, length_sequences, partial_rotary

D, B, L_LONG = 128, 10000.0, 65536


def theta(d: int) -> float:
    return B ** (-2 * d / D)  # Eq. 5


def test_upper_clamp_binds_at_a_long_original_context():
    """|D| = 128, b = 1e4, L = 65536: d(beta = 32) = 128 ln(65536/(64 pi)) / (2 ln 1e4) = 40.21 -> 40,
    d(alpha = 1) = 128 ln(65536/(2 pi)) / (2 ln 1e4) = 64.29 -> 65, beyond the last pair (63). The
    clamp to |D| - 1 = 127 keeps 65 (the reference code and transformers clamp there too); a clamp
    to |D|/2 - 1 = 63 would make pair 63 pure PI."""
    assert correction_dim(32.0, D, B, L_LONG) == pytest.approx(40.2104, abs=1e-4)
    assert correction_dim(1.0, D, B, L_LONG) == pytest.approx(64.2928, abs=1e-4)
    assert correction_range(32.0, 1.0, D, B, L_LONG) == (40, 65)
    s = 16.0
    got = RopeSpec("yarn", head_dim=D, original_ctx=L_LONG, factor=s).compute().inv_freq
    # gamma_d = 1 - (d - 40)/(65 - 40): pair 40 untouched, pair 52 gamma 0.52, pair 63 gamma 0.08
    for d, gamma in ((40, 1.0), (52, 0.52), (63, 0.08)):
        assert got[d] == pytest.approx(gamma * theta(d) + (1 - gamma) * theta(d) / s, rel=1e-13)
    assert got[63] > theta(63) / s * 1.5  # not PI
    assert got[39] == theta(39)


@given(partial_rotary())
def test_partial_rotary_factor_truncates_like_transformers(case):
    """rotary_dim = int(head_dim * f) (transformers truncates: 0.45 x 64 = 28.8 -> 28, not 29), and
    a spec written back with :func:`spec_to_hf` reads the same rotary dim (62/94 x 94 = 61.99..)."""
    head_dim, prf = case
    config = {"head_dim": head_dim, "partial_rotary_factor": prf, "rope_theta": 10000.0,
              "max_position_embeddings": 4096}
    spec, _ = read_hf_config(config)
    assert spec.dim == int(head_dim * prf)
    back, _ = read_hf_config({**spec_to_hf(spec), "max_position_embeddings": 4096})
    assert back.dim == spec.dim and back.head_dim == head_dim


def test_partial_rotary_pinned():
    spec, _ = read_hf_config({"head_dim": 64, "partial_rotary_factor": 0.45, "rope_theta": 1e4,
                              "max_position_embeddings": 2048})
    assert spec.rotary_dim == 28  # 0.45 x 64 = 28.8: truncated, as transformers does (rounding gives 29)


@given(st.floats(0.01, 1000.0), st.sampled_from(["yarn", "ntk-by-parts", "dynamic-yarn"]))
def test_equal_ramp_bounds_are_an_empty_band_and_reversed_ones_are_rejected(x, method):
    """alpha == beta (Kimi-K2's beta_fast == beta_slow) and low == high (Llama 4 Scout) are accepted:
    an empty band, every pair either untouched or PI; transformers computes both
    (tests/test_rope_hf_edges.py compares the values). Reversed bounds are refused."""
    s = 8.0
    for spec in (RopeSpec(method, head_dim=64, factor=s, params={"alpha": x, "beta": x, "ramp": "paper"}),
                 RopeSpec("llama3", head_dim=64, factor=s, params={"low_freq_factor": x, "high_freq_factor": x})):
        seq = spec.extended_ctx if spec.is_dynamic else None
        got, full = spec.compute(seq).inv_freq, base_inv_freq(64, spec.base)
        r = spec.original_ctx * full / (2 * math.pi)  # r(d) = L / lambda_d (Eq. 17)
        np.testing.assert_array_equal(got, np.where(r >= x, full, full / s))
    with pytest.raises(SpecError, match=r"params.alpha, params.beta: must satisfy 0 < alpha <= beta"):
        RopeSpec(method, head_dim=64, params={"alpha": 2 * x, "beta": x})
    with pytest.raises(SpecError, match=r"params.low_freq_factor, params.high_freq_factor: must satisfy 0 < low <="):
        RopeSpec("llama3", head_dim=64, params={"low_freq_factor": 2 * x, "high_freq_factor": x})


@given(degenerate_ramp_geometries(), factors(), st.sampled_from(["yarn", "ntk-by-parts"]))
def test_degenerate_ramp_stays_finite_and_bounded(geom, s, method):
    """L < 2 pi: both correction dims clamp to 0 (low == high); the ramp is widened by 0.001, so
    pair 0 is untouched and every other pair is PI, with no division by zero."""
    spec = RopeSpec(method, factor=s, **geom)
    assert correction_range(32.0, 1.0, spec.dim, spec.base, spec.original_ctx) == (0, 0)
    inv.check_bounds(METHODS[method].fn, spec.geometry, s, spec.params)
    got = spec.compute().inv_freq
    full = base_inv_freq(spec.dim, spec.base)
    assert got[0] == full[0] == 1.0
    np.testing.assert_allclose(got[1:], full[1:] / s, rtol=1e-14)


@given(length_sequences(), st.booleans())
def test_grow_only_state_carries_across_calls(lengths, grow_only):
    spec = RopeSpec("dynamic-yarn", head_dim=64, original_ctx=256, factor=16.0, params={"grow_only": grow_only})
    tracker = DynamicLength(spec)
    inv.check_grow_only(tracker, lengths, grow_only)
    tracker.reset()
    inv.check_grow_only(tracker, lengths[::-1], grow_only)


def test_grow_only_frequencies_follow_the_longest_length():
    spec = RopeSpec("dynamic-yarn", head_dim=64, original_ctx=256, factor=16.0, params={"grow_only": True})
    tracker = DynamicLength(spec)
    first = spec.compute(tracker(1024)).inv_freq
    again = spec.compute(tracker(300)).inv_freq  # shorter: the frequencies of 1024 stay
    assert np.array_equal(first, again)
    assert spec.compute(tracker(2048)).scale == 8.0
    tracker.reset()
    assert tracker(300) == 300 and math.isclose(spec.compute(tracker(300)).scale, 300 / 256)
