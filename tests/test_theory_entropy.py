"""Attention entropy: exact cases, masking, monotonicity, the Gaussian model and real-logit inversion."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yarnlab.errors import UsageError
from yarnlab.rope.methods import Geometry
from yarnlab.theory.entropy import (
    GaussianLogits,
    best_matching_sigma,
    entropy_curve,
    gaussian_entropy_asymptotic,
    gaussian_invariant_m_asymptotic,
    gaussian_invariant_m_mc,
    invariant_temperature_from_logits,
    mean_entropy,
    softmax_entropy,
    temperature_rules_table,
)


@given(st.integers(1, 5000), st.floats(-50, 50))
def test_constant_logits_have_entropy_ln_n(n, c):
    assert softmax_entropy(np.full(n, c)) == pytest.approx(math.log(n), abs=1e-9)


def test_peaked_logits_have_zero_entropy_and_masks_drop_keys():
    x = np.array([0.0, 0.0, 1e4])
    assert softmax_entropy(x) == pytest.approx(0.0, abs=1e-9)
    rng = np.random.default_rng(0)
    z = rng.standard_normal((5, 7))
    masked = z.copy()
    masked[:, 5:] = -np.inf
    np.testing.assert_allclose(softmax_entropy(masked), softmax_entropy(z[:, :5]), rtol=1e-12)
    causal = np.where(np.tril(np.ones((4, 4))) > 0, rng.standard_normal((4, 4)), -np.inf)
    assert softmax_entropy(causal)[0] == 0.0  # the first query sees one key
    assert np.isnan(softmax_entropy(np.full(3, -np.inf)))


def test_entropy_matches_definition():
    z = np.random.default_rng(1).standard_normal(100) * 2
    p = np.exp(z / 0.7) / np.exp(z / 0.7).sum()
    assert softmax_entropy(z, 0.7) == pytest.approx(-(p * np.log(p)).sum(), rel=1e-12)


@given(st.floats(0.05, 10.0), st.floats(1.01, 3.0))
def test_entropy_increases_with_temperature(t, k):
    z = np.random.default_rng(2).standard_normal((4, 64)) * 3
    assert mean_entropy(z, t * k) > mean_entropy(z, t)


def test_gaussian_mc_matches_large_n_formula_for_small_spread():
    g = GaussianLogits(8192, 0.5, seed=3)
    assert g.entropy(1.0) == pytest.approx(float(gaussian_entropy_asymptotic(8192, 0.5)), abs=5e-3)
    for s in (2.0, 16.0):
        assert gaussian_invariant_m_mc(s, 4096, 1.0) == pytest.approx(
            float(gaussian_invariant_m_asymptotic(s, 1.0)), abs=5e-3)


def test_invariant_m_is_one_at_s1_and_grows():
    assert float(gaussian_invariant_m_asymptotic(1.0, 2.0)) == 1.0
    ms = [gaussian_invariant_m_mc(s, 1024, 2.0) for s in (2, 8, 32)]
    assert 1.0 < ms[0] < ms[1] < ms[2]


@given(st.floats(0.3, 4.0))
def test_inversion_recovers_a_planted_temperature(c):
    # logits_long = c * logits_short: softmax(logits_long / t) equals softmax(logits_short) iff t = c
    rng = np.random.default_rng(4)
    short = rng.standard_normal((3, 6, 40)) * 2
    short[..., 30:] = -np.inf
    assert invariant_temperature_from_logits(short, c * short) == pytest.approx(c, rel=1e-5)


def test_entropy_curve_and_errors():
    z = np.random.default_rng(5).standard_normal((2, 50))
    rows = entropy_curve(z, [0.8, 1.0, 1.2])
    assert [r["t"] for r in rows] == pytest.approx([1 / 0.64, 1.0, 1 / 1.44])
    assert rows[0]["entropy"] > rows[1]["entropy"] > rows[2]["entropy"]
    with pytest.raises(UsageError, match="t: must be > 0"):
        softmax_entropy(z, 0.0)
    with pytest.raises(UsageError, match="masked"):
        mean_entropy(np.full((2, 3), -np.inf))
    with pytest.raises(UsageError, match="outside the range"):
        invariant_temperature_from_logits(np.zeros((1, 4)), np.zeros((1, 8)))  # ln 4 never reached by 8 equal keys


def test_rules_table_uses_core_rules():
    rows = {(r["rule"], r["s"]): r["m"] for r in temperature_rules_table(Geometry(128, 1e4, 4096), [8.0])}
    assert rows[("yarn", 8.0)] == pytest.approx(1.2079, abs=1e-4)  # Eq. 25
    assert rows[("none", 8.0)] == 1.0
    assert rows[("longrope", 8.0)] == pytest.approx(math.sqrt(1 + math.log(8) / math.log(4096)))
    assert rows[("log-n", 8.0)] == pytest.approx(rows[("longrope", 8.0)])  # equal at n = sL
    # the length-dependent rules of Llama 4 (floor_scale = L) and Ministral 3 at the last query of sL tokens
    assert rows[("llama4-attn", 8.0)] ** 2 == pytest.approx(1 + 0.1 * math.log(1 + 8))
    assert rows[("llama4-scaling", 8.0)] ** 2 == pytest.approx(1 + 0.1 * math.log(1 + 7))


def test_best_matching_sigma_is_a_least_squares_optimum():
    scales = [2, 4, 8, 16, 32, 64]
    sig = best_matching_sigma(scales)
    target = 0.1 * np.log(scales) + 1

    def loss(x):
        return np.sum((gaussian_invariant_m_asymptotic(np.array(scales, float), x) - target) ** 2)

    assert loss(sig) < loss(sig * 0.95) and loss(sig) < loss(sig * 1.05)
