"""cos/sin tables: layouts, attention factor, and float32 accuracy at long positions."""

from __future__ import annotations

import numpy as np
import pytest

from yarnlab.errors import UsageError
from yarnlab.rope import RopeSpec, cos_sin, rotate
from yarnlab.rope.tables import exact_cos_sin, float32_naive_cos_sin

POSITIONS = np.array([0, 1, 4095, 4096, 65535, 131071, 500_000, 777_777, (1 << 20) - 1, 1 << 20])


@pytest.mark.parametrize("factor", [1.0, 16.0])
def test_float32_table_error_below_1e6_up_to_2_pow_20(factor):
    spec = RopeSpec("pi", head_dim=128, factor=factor)
    res = spec.compute()
    c, s = cos_sin(res.inv_freq, POSITIONS, dtype=np.float32)
    rc, rs = exact_cos_sin(spec.base, 128, POSITIONS, factor)
    err = max(np.abs(c[:, :64] - rc).max(), np.abs(s[:, :64] - rs).max())
    assert err <= 1e-6
    # the usual float32 computation drifts far more at these positions (the README's note)
    nc, ns = float32_naive_cos_sin(res.inv_freq, POSITIONS)
    naive_err = max(np.abs(nc[:, :64] - rc).max(), np.abs(ns[:, :64] - rs).max())
    assert naive_err > 1e-3


def test_layouts_and_attention_factor():
    inv = np.array([1.0, 0.1])
    c, s = cos_sin(inv, 3, attention_factor=2.0, layout="half", dtype=np.float64)
    assert c.shape == (3, 4)
    np.testing.assert_allclose(c[2], 2 * np.cos([2.0, 0.2, 2.0, 0.2]))
    ci, si = cos_sin(inv, 3, layout="interleaved", dtype=np.float64)
    np.testing.assert_allclose(si[2], np.sin([2.0, 2.0, 0.2, 0.2]))
    with pytest.raises(UsageError, match="layout: must be one of half, interleaved"):
        cos_sin(inv, 3, layout="zigzag")


@pytest.mark.parametrize("layout", ["half", "interleaved"])
def test_rotation_rotates_each_pair(layout):
    inv = np.array([0.5, 0.25])
    c, s = cos_sin(inv, [2], layout=layout, dtype=np.float64)
    x = np.array([[1.0, 2.0, 3.0, 4.0]])
    y = rotate(x, c, s, layout)
    pairs = [(0, 2), (1, 3)] if layout == "half" else [(0, 1), (2, 3)]
    for (i, j), theta in zip(pairs, inv):
        a = 2 * theta
        expect = (x[0, i] * np.cos(a) - x[0, j] * np.sin(a), x[0, i] * np.sin(a) + x[0, j] * np.cos(a))
        np.testing.assert_allclose((y[0, i], y[0, j]), expect)


def test_exact_reference_agrees_with_float64_where_float64_is_exact_enough():
    pos = np.array([0, 1, 7, 100, 4095])
    cos, sin = exact_cos_sin(1e4, 16, pos, factor=2.0)
    ang = pos[:, None] * (1e4 ** (-np.arange(0, 16, 2) / 16) / 2.0)
    assert np.abs(cos - np.cos(ang)).max() < 1e-12 and np.abs(sin - np.sin(ang)).max() < 1e-12
