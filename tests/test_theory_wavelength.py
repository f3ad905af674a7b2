"""Wavelength-vs-context and ramp analyses: known values for the Llama-2 geometry, and properties."""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given

from yarnlab.errors import UsageError
from yarnlab.rope.methods import Geometry
from yarnlab.testing import strategies as yst
from yarnlab.theory import symbolic as S
from yarnlab.theory.ramp import ramp_comparison, ramp_difference_summary
from yarnlab.theory.wavelength import (
    GEOMETRIES,
    count_long_pairs_formula,
    make_geometries,
    wavelength_summary,
    wavelength_table,
)

bases, contexts, factors, head_dims = yst.bases(), yst.contexts(), yst.factors(), yst.head_dims()

LLAMA2 = {"llama2": GEOMETRIES["llama2"]}
_RAMP = sp.lambdify((sp.Symbol("r"), sp.Symbol("a"), sp.Symbol("b")),
                    S.ramp_gamma(sp.Symbol("r"), sp.Symbol("a"), sp.Symbol("b")), "math")


def test_llama2_long_pairs_and_band():
    row = wavelength_summary(LLAMA2, [16.0])[0]
    # d(1) = 128 ln(4096/(2 pi)) / (2 ln 1e4) = 45.03: pairs 46..63 have lambda > 4096
    assert row["pairs_lambda_gt_L"] == row["pairs_lambda_gt_L_formula"] == 18
    assert row["pairs_lambda_gt_Lext"] == 0  # the slowest wavelength, 2 pi 1e4^(126/128) ~ 54,410 < 65,536
    assert row["d_beta"] == pytest.approx(20.944, abs=1e-3)
    assert row["d_alpha"] == pytest.approx(45.027, abs=1e-3)
    assert (row["band_low_index"], row["band_high_index"]) == (20, 46)
    assert (row["paper_band_first"], row["paper_band_last"]) == (21, 45)


@given(head_dims, bases, contexts, factors)
def test_long_pair_count_matches_formula(dim, base, ctx, s):
    g = Geometry(dim, base, ctx)
    row = wavelength_summary({"g": g}, [s])[0]
    # skip draws where a wavelength sits on the boundary to within rounding
    lam = 2 * math.pi * base ** (2 * np.arange(dim // 2) / dim)
    for length, key in ((ctx, "pairs_lambda_gt_L"), (s * ctx, "pairs_lambda_gt_Lext")):
        if np.min(np.abs(lam / length - 1)) < 1e-9:
            continue
        assert row[key] == row[key + "_formula"] == count_long_pairs_formula(g, length)


def test_pi_and_ntk_interpolation_factors():
    rows = wavelength_table(LLAMA2, [8.0], methods=("none", "pi", "ntk"))
    by = {m: [r for r in rows if r["method"] == m] for m in ("none", "pi", "ntk")}
    assert all(r["interp_factor"] == 1.0 and r["gamma_eff"] == 1.0 for r in by["none"])
    assert all(r["interp_factor"] == pytest.approx(8.0) and r["gamma_eff"] == pytest.approx(0.0) for r in by["pi"])
    assert by["ntk"][0]["interp_factor"] == 1.0
    assert by["ntk"][-1]["interp_factor"] == pytest.approx(8.0)
    # wavelengths: PI multiplies every wavelength by s
    for a, b in zip(by["none"], by["pi"]):
        assert b["wavelength_scaled"] == pytest.approx(8.0 * a["wavelength"])
        assert a["turn_within_L"] == int(a["r"] >= 1)


def test_unknown_geometry_is_a_usage_error():
    with pytest.raises(UsageError, match="geometry"):
        make_geometries(["gpt2"])


def test_paper_ramp_matches_symbolic_ramp_and_index_ramp_matches_correction_dims():
    rows = ramp_comparison(LLAMA2, [4.0])
    d_beta = S.correction_dim().numeric(D=128, b=1e4, L=4096, n=32)
    d_alpha = S.correction_dim().numeric(D=128, b=1e4, L=4096, n=1)
    low, high = math.floor(d_beta), math.ceil(d_alpha)
    for r in rows:
        assert r["gamma_paper"] == pytest.approx(_RAMP(r["r"], 1.0, 32.0), abs=1e-12)
        assert r["gamma_index"] == pytest.approx(1 - min(max((r["d"] - low) / (high - low), 0), 1), abs=1e-12)
        # outside the band both ramps agree
        if r["d"] <= low or r["d"] >= high:
            assert r["gamma_diff"] == pytest.approx(0.0, abs=1e-12)
            assert r["theta_rel_diff"] == pytest.approx(0.0, abs=1e-12)


def test_llama2_max_gamma_difference():
    summary = ramp_difference_summary(ramp_comparison(LLAMA2, [1.0, 16.0]))
    by_s = {r["s"]: r for r in summary}
    # gamma does not depend on s; the index ramp sits above the paper ramp by up to ~0.367 (pair 30)
    for r in summary:
        assert r["max_abs_gamma_diff"] == pytest.approx(0.3672, abs=1e-3)
        assert r["d_gamma_max"] == 30
    assert by_s[1.0]["max_abs_theta_rel_diff"] < 1e-14  # at s = 1 both are plain RoPE
    assert by_s[16.0]["max_abs_theta_rel_diff"] > 1.0
