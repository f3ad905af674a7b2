"""Cosine similarity of rotated positions: sim(0) = 1, PI at k equals RoPE at k/s, running statistics."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yarnlab.errors import UsageError
from yarnlab.rope import base_inv_freq
from yarnlab.testing import strategies as yst
from yarnlab.theory.similarity import cosine_similarity, output_grid, similarity_profile, similarity_table
from yarnlab.theory.wavelength import GEOMETRIES, TINY_DEFAULT, scaled_inv_freq

bases, head_dims = yst.bases(), yst.head_dims()


@given(head_dims, bases)
def test_sim_at_zero_is_one(dim, base):
    assert cosine_similarity(base_inv_freq(dim, base), [0])[0] == pytest.approx(1.0)


@given(st.sampled_from([2.0, 4.0, 16.0, 3.5]), st.lists(st.integers(0, 200000), min_size=1, max_size=20))
def test_pi_at_k_equals_rope_at_k_over_s(s, ks):
    g = GEOMETRIES["llama2"]
    pi = scaled_inv_freq(g, "pi", s)
    none = scaled_inv_freq(g, "none", s)
    k = np.array(ks, dtype=np.float64)
    np.testing.assert_allclose(cosine_similarity(pi, k), cosine_similarity(none, k / s), atol=1e-9)


def test_single_pair_weight_gives_that_pair_cosine():
    theta = base_inv_freq(8, 100.0)
    w = np.array([0, 0, 1.0, 0])
    k = np.arange(50)
    np.testing.assert_allclose(cosine_similarity(theta, k, w), np.cos(k * theta[2]), atol=1e-12)


def test_profile_running_statistics():
    prof = similarity_profile(scaled_inv_freq(TINY_DEFAULT, "yarn", 4.0), 1024)
    assert prof["sim"][0] == 1.0
    assert np.all(np.diff(prof["running_min"]) <= 0)
    np.testing.assert_allclose(prof["running_mean"][10], prof["sim"][:11].mean())
    assert np.all(prof["running_min"] <= prof["sim"])


def test_interpolation_crowds_positions():
    # the paper's claim: PI keeps positions more similar (less distinguishable) than RoPE at the same k
    g = GEOMETRIES["llama2"]
    none = similarity_profile(scaled_inv_freq(g, "none", 16.0), 4096)
    pi = similarity_profile(scaled_inv_freq(g, "pi", 16.0), 4096)
    assert pi["running_min"][4096] > none["running_min"][4096] + 0.2


def test_bad_weights_and_grid():
    theta = base_inv_freq(8, 100.0)
    with pytest.raises(UsageError, match="weights"):
        cosine_similarity(theta, [1], [1, 2])
    with pytest.raises(UsageError, match="weights"):
        cosine_similarity(theta, [1], [-1, 1, 1, 1])
    grid = output_grid(65536)
    assert grid[0] == 0 and grid[-1] == 65536 and 4096 in grid and np.all(np.diff(grid) > 0)


def test_table_rows_cover_methods():
    rows = similarity_table({"tiny": TINY_DEFAULT}, [2.0], ("none", "pi"), {"slow": np.linspace(0, 1, 16)})
    assert {(r["method"], r["profile"]) for r in rows} == {("none", "uniform"), ("none", "slow"), ("pi", "uniform"),
                                                          ("pi", "slow")}
    assert max(r["k"] for r in rows) == 512
