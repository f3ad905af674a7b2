"""The sympy derivations hold, and their expressions agree with the numeric core at random points."""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from yarnlab.rope import RopeSpec, base_inv_freq, correction_dim, cos_sin, wavelengths
from yarnlab.rope.methods import ntk_base
from yarnlab.testing import strategies as yst
from yarnlab.theory import symbolic as S

bases, contexts, factors, head_dims = yst.bases(), yst.contexts(), yst.factors(), yst.head_dims()

DERIVATIONS = {d.name: d for d in S.all_derivations()}
_WAVELENGTH = sp.lambdify((S.b, S.d, S.D), DERIVATIONS["wavelength"].expr, "math")
_CORR = sp.lambdify((S.n, S.D, S.b, S.L), DERIVATIONS["correction_dim"].expr, "math")
_NTK = sp.lambdify((S.b, S.s, S.D), DERIVATIONS["ntk_aware_base"].expr, "math")
_REL = DERIVATIONS["relative_position"]
_REL_F = sp.lambdify([_REL.symbols[k] for k in ("m", "n", "theta", "q1", "q2", "k1", "k2")], _REL.expr, "math")


@pytest.mark.parametrize("name", sorted(DERIVATIONS))
def test_every_derivation_holds(name):
    assert DERIVATIONS[name].holds, DERIVATIONS[name].claim


def test_the_checker_rejects_a_false_identity():
    # the zero test must be able to fail: b' = b * s^(D/(D-1)) is not Eq. 16
    assert not S._is_zero(S.ntk_aware_base().expr - S.b * S.s ** (S.D / (S.D - 1)))
    assert not S._equal_positive(S.b ** 2, S.b ** 3)


def test_expected_closed_forms():
    assert sp.simplify(DERIVATIONS["ntk_aware_base"].expr - S.b * S.s ** (S.D / (S.D - 2))) == 0
    assert DERIVATIONS["length_scaling"].expr == DERIVATIONS["length_scaling"].symbols["m_scale"] ** 2
    assert DERIVATIONS["limit_yarn_beta_inf"].expr == S.theta / S.s


@given(head_dims, bases)
def test_wavelength_matches_core(dim, base):
    lam = wavelengths(base_inv_freq(dim, base))
    ref = np.array([_WAVELENGTH(base, d, dim) for d in range(dim // 2)])
    np.testing.assert_allclose(lam, ref, rtol=1e-12)


@given(head_dims, bases, contexts, st.floats(0.01, 1000.0))
def test_correction_dim_matches_core(dim, base, ctx, rotations):
    assert math.isclose(_CORR(rotations, dim, base, ctx), correction_dim(rotations, dim, base, ctx),
                        rel_tol=1e-12, abs_tol=1e-9)


@given(head_dims.filter(lambda k: k > 2), bases, factors)
def test_ntk_base_matches_core_and_last_pair_is_pi(dim, base, s):
    assert math.isclose(_NTK(base, s, dim), ntk_base(base, s, dim), rel_tol=1e-12)
    ntk = RopeSpec(method="ntk", head_dim=dim, base=base, factor=s).compute().inv_freq
    pi = RopeSpec(method="pi", head_dim=dim, base=base, factor=s).compute().inv_freq
    assert math.isclose(ntk[-1], pi[-1], rel_tol=1e-9)
    assert ntk[0] == 1.0


@given(st.integers(0, 10**5), st.integers(0, 10**5), st.floats(1e-6, 1.0),
       st.lists(st.floats(-3, 3), min_size=4, max_size=4))
def test_relative_position_numerically(m, n, theta, qk):
    q = np.array(qk[:2])
    k = np.array(qk[2:])

    def rot(a):
        return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])

    direct = (rot(m * theta) @ q) @ (rot(n * theta) @ k)
    assert math.isclose(_REL_F(m, n, theta, *qk), direct, abs_tol=1e-7)
    shifted = (rot((m + 17) * theta) @ q) @ (rot((n + 17) * theta) @ k)
    assert math.isclose(direct, shifted, abs_tol=1e-6)


@given(st.floats(0.5, 2.0), st.integers(0, 5000), st.integers(0, 5000))
def test_length_scaling_with_core_tables(m_scale, pm, pn):
    rng = np.random.default_rng(pm * 7919 + pn)
    inv = base_inv_freq(16, 10000.0)
    q, k = rng.standard_normal(16), rng.standard_normal(16)
    dots = []
    for factor in (1.0, m_scale):
        cos, sin = cos_sin(inv, np.array([pm, pn]), attention_factor=factor, dtype=np.float64)
        half = lambda x: np.concatenate([-x[8:], x[:8]])  # noqa: E731  (half layout rotate)
        qr = q * cos[0] + half(q) * sin[0]
        kr = k * cos[1] + half(k) * sin[1]
        dots.append(qr @ kr)
    assert math.isclose(dots[1], m_scale**2 * dots[0], rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize("method", ["pi", "ntk", "ntk-by-parts", "yarn", "llama3", "dynamic-ntk", "dynamic-yarn"])
def test_every_method_is_rope_at_s1(method):
    spec = RopeSpec(method=method, head_dim=64, factor=1.0)
    res = spec.compute(seq_len=100)
    np.testing.assert_allclose(res.inv_freq, base_inv_freq(64, 10000.0), rtol=1e-14)
    assert res.attention_factor == 1.0


def test_yarn_tends_to_pi_as_beta_grows():
    pi = RopeSpec(method="pi", head_dim=128, factor=8.0).compute().inv_freq
    far = [RopeSpec(method="yarn", head_dim=128, factor=8.0, params={"beta": beta, "ramp": "paper"})
           .compute().inv_freq for beta in (1e4, 1e6, 1e8)]
    errs = [np.max(np.abs(f / pi - 1)) for f in far]
    # the ramp's middle branch is (r - alpha)/(beta - alpha): the gap to PI shrinks like 1/beta
    assert errs[0] > errs[1] > errs[2]
    assert errs[1] / errs[2] == pytest.approx(100.0, rel=1e-3)
    assert errs[2] < 1e-4
