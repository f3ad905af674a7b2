"""Property tests of every scaling method's invariants (hypothesis, shared strategies)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import factors, geometries, invalid_spec_fields, method_params, ramp_bounds, specs

from yarnlab.errors import SpecError
from yarnlab.rope import METHODS, RopeSpec, base_inv_freq, cos_sin, ratios, rotate
from yarnlab.rope.frequencies import correction_dim
from yarnlab.rope.temperature import TEMPERATURE_RULES

STATIC = [m for m, info in METHODS.items() if not info.dynamic]
BOUNDED = ["pi", "ntk", "ntk-by-parts", "yarn", "llama3"]


@given(specs(factor=1.0))
def test_unit_scale_is_plain_rope(spec):
    theta = base_inv_freq(spec.dim, spec.base)
    for seq_len in (None, spec.original_ctx, max(1, spec.original_ctx // 3)):
        res = spec.compute(seq_len)
        np.testing.assert_allclose(res.inv_freq, theta, rtol=1e-12, atol=0)
        assert res.attention_factor == 1.0


@given(geometries(), factors)
def test_pi_is_theta_over_s_exactly(geom, s):
    res = RopeSpec("pi", factor=s, **geom).compute()
    assert np.array_equal(res.inv_freq, base_inv_freq(geom["rotary_dim"] or geom["head_dim"], geom["base"]) / s)


@given(st.sampled_from(BOUNDED).flatmap(lambda m: specs(methods=(m,))))
def test_scaled_frequencies_between_pi_and_rope_and_monotone(spec):
    theta = base_inv_freq(spec.dim, spec.base)
    scaled = spec.compute().inv_freq
    tol = 1e-12
    assert np.all(scaled <= theta * (1 + tol))
    assert np.all(scaled >= theta / spec.factor * (1 - tol))
    wavelengths = 2 * np.pi / scaled
    assert np.all(np.diff(wavelengths) > 0)


@given(geometries(), factors, ramp_bounds())
def test_paper_ramp_ends(geom, s, bounds):
    alpha, beta = bounds
    spec = RopeSpec("ntk-by-parts", factor=s, params={"alpha": alpha, "beta": beta, "ramp": "paper"}, **geom)
    theta = base_inv_freq(spec.dim, spec.base)
    r = ratios(spec.dim, spec.base, spec.original_ctx)
    scaled = spec.compute().inv_freq
    assert np.array_equal(scaled[r > beta], theta[r > beta])
    np.testing.assert_allclose(scaled[r < alpha], theta[r < alpha] / s, rtol=1e-14)


@given(geometries(), factors)
def test_ntk_aware_first_pair_untouched_last_pair_like_pi(geom, s):
    """Appendix A.1: b' is chosen so the last pair matches PI and d = 0 is unchanged."""
    spec = RopeSpec("ntk", factor=s, **geom)
    theta = base_inv_freq(spec.dim, spec.base)
    scaled = spec.compute().inv_freq
    assert scaled[0] == theta[0] == 1.0
    assert scaled[-1] == pytest.approx(theta[-1] / s, rel=1e-9)


@given(geometries(), factors, st.floats(0.01, 4.0))
def test_huge_beta_turns_paper_yarn_into_pi(geom, s, alpha):
    spec = RopeSpec("yarn", factor=s, params={"alpha": alpha, "beta": 1e15, "ramp": "paper"}, **geom)
    theta = base_inv_freq(spec.dim, spec.base)
    np.testing.assert_allclose(spec.compute().inv_freq, theta / s, rtol=1e-6)


@given(geometries(), factors)
def test_index_ramp_keeps_pair_zero_when_beta_bound_clamps(geom, s):
    """With the index ramp, d(beta) <= 0 clamps low to 0 and pair 0 stays untouched: the index
    ramp does not tend to PI as beta grows (the paper ramp does)."""
    spec = RopeSpec("yarn", factor=s, params={"beta": 1e15}, **geom)
    assume(correction_dim(1.0, spec.dim, spec.base, spec.original_ctx) > 1)
    assert spec.compute().inv_freq[0] == 1.0


@given(st.sampled_from(["dynamic-pi", "dynamic-ntk", "dynamic-yarn"]), geometries(), st.integers(1, 64),
       st.sampled_from(["paper", "transformers"]))
def test_dynamic_identity_up_to_L_and_static_at_sL(method, geom, k, variant):
    params = {"variant": variant} if method == "dynamic-ntk" else {}
    spec = RopeSpec(method, factor=8.0, params=params, **geom)
    L = spec.original_ctx
    theta = base_inv_freq(spec.dim, spec.base)
    for length in (1, L // 2 or 1, L):
        res = spec.compute(length)
        np.testing.assert_allclose(res.inv_freq, theta, rtol=1e-12)
        assert res.attention_factor == 1.0
    length = L * k
    res = spec.compute(length)
    if method == "dynamic-yarn":
        static = RopeSpec("yarn", factor=float(k), **geom).compute()
    elif method == "dynamic-pi":
        static = RopeSpec("pi", factor=float(k), **geom).compute()
    elif variant == "paper":
        static = RopeSpec("ntk", factor=float(k), **geom).compute()
    else:  # transformers' form: NTK-aware at s_eff = factor * l/L - (factor - 1)
        static = RopeSpec("ntk", factor=8.0 * k - 7.0, **geom).compute()
    np.testing.assert_allclose(res.inv_freq, static.inv_freq, rtol=1e-12)
    assert res.attention_factor == pytest.approx(static.attention_factor, rel=1e-12)


@given(st.floats(1.0, 1e4), st.floats(1.0, 1e4), st.sampled_from([256, 4096, 131072]))
def test_attention_factor_one_at_unit_scale_and_increasing(s1, s2, L):
    lo, hi = sorted((s1, s2))
    assume(hi > lo * (1 + 1e-9))
    rules = [("yarn", {}), ("yarn", {"coefficient": 0.3}), ("longrope", {}),
             ("mscale-ratio", {"mscale": 1.0, "mscale_all_dim": 0.5})]
    for name, params in rules:
        f = TEMPERATURE_RULES[name].fn
        assert f(1.0, original_ctx=L, **params) == 1.0
        assert f(hi, original_ctx=L, **params) > f(lo, original_ctx=L, **params)
    # log-n grows with the length, not with s
    f = TEMPERATURE_RULES["log-n"].fn
    assert f(1.0, original_ctx=L, seq_len=L) == 1.0
    assert f(1.0, original_ctx=L, seq_len=int(L * hi) + 1) > 1.0


@given(specs(), st.integers(0, 20000), st.integers(0, 20000), st.integers(0, 5000), st.randoms(use_true_random=False),
       st.sampled_from(["half", "interleaved"]))
def test_relative_position_property_holds_for_every_method(spec, m, n, shift, rnd, layout):
    """q_m . k_n depends only on m - n (Eqs. 6-9), whatever per-pair h(theta) a method applies."""
    res = spec.compute(spec.original_ctx * 2 if spec.is_dynamic else None)
    gen = np.random.default_rng(rnd.randint(0, 2**32 - 1))
    q, k = gen.normal(size=(2, spec.dim))
    positions = np.array([m, n, m + shift, n + shift])
    c, s = cos_sin(res.inv_freq, positions, res.attention_factor, layout=layout, dtype=np.float64)
    qr = rotate(np.stack([q, q]), c[[0, 2]], s[[0, 2]], layout)
    kr = rotate(np.stack([k, k]), c[[1, 3]], s[[1, 3]], layout)
    d1, d2 = qr[0] @ kr[0], qr[1] @ kr[1]
    scale = np.linalg.norm(q) * np.linalg.norm(k) * res.attention_factor**2
    assert abs(d1 - d2) <= 1e-9 * scale


@given(specs())
def test_json_round_trip(spec):
    assert RopeSpec.from_json(spec.to_json()) == spec
    assert RopeSpec.from_dict(spec.to_dict()) == spec


@given(invalid_spec_fields())
def test_invalid_specs_raise_the_documented_error_naming_each_field(case):
    fields, bad = case
    with pytest.raises(SpecError) as err:
        RopeSpec(**fields)
    message = str(err.value)
    for key in bad:
        assert f"{key}:" in message, (key, message)


@given(st.sampled_from(sorted(METHODS)).flatmap(lambda m: st.tuples(st.just(m), method_params(m))),
       st.text(min_size=1, max_size=8).filter(lambda k: k not in {"alpha", "beta", "ramp", "truncate", "variant",
                                                                   "grow_only", "low_freq_factor",
                                                                   "high_freq_factor"}))
def test_unknown_method_parameters_are_rejected(case, key):
    method, params = case
    with pytest.raises(SpecError) as err:
        RopeSpec(method, head_dim=64, params={**params, key: 1.0})
    assert f"params.{key}: unknown parameter" in str(err.value)


def test_all_problems_reported_at_once():
    with pytest.raises(SpecError) as err:
        RopeSpec("yarn", head_dim=63, base=0.5, original_ctx=-1, factor=0.5,
                 params={"alpha": 40.0, "beta": 32.0, "ramp": "log"}, temperature="hot")
    msg = str(err.value)
    assert len(err.value.problems) == 7
    for key in ("head_dim:", "base:", "original_ctx:", "factor:", "params.ramp:", "params.alpha, params.beta:",
                "temperature:"):
        assert key in msg
    assert "got 0.5" in msg and "got 63" in msg


def test_log_n_makes_spec_dynamic():
    spec = RopeSpec("pi", head_dim=64, original_ctx=256, factor=4, temperature="log-n")
    assert spec.is_dynamic
    assert spec.compute(256).attention_factor == 1.0
    assert spec.compute(1024).attention_factor == pytest.approx(math.sqrt(math.log(1024) / math.log(256)))
