"""Property tests of every scaling method's invariants, through the public API users test their
own methods with: strategies from :mod:`yarnlab.testing.strategies` (methods, parameters and
temperature rules drawn from the registries), checks from :mod:`yarnlab.testing.invariants`."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from yarnlab.errors import SpecError
from yarnlab.rope import METHODS, RopeSpec, base_inv_freq
from yarnlab.rope.frequencies import correction_dim
from yarnlab.rope.methods import all_params
from yarnlab.rope.temperature import TEMPERATURE_RULES
from yarnlab.testing import invariants as inv
from yarnlab.testing.strategies import (
    factors,
    geometries,
    invalid_params,
    invalid_spec_fields,
    method_params,
    ramp_bounds,
    specs,
    temperature_rules,
)

STATIC = [m for m, info in METHODS.items() if not info.dynamic]
BOUNDED = ["pi", "ntk", "ntk-by-parts", "yarn", "llama3"]


# Llama 4's rule steps at floor_scale tokens whatever L (its first step is at n = floor_scale, which
# is L for Llama 4 itself), so "m = 1 up to L" is not a property of it; its own test is below
NOT_ONE_UP_TO_L = ("fixed", "llama4-attn")


# proportional RoPE sets the slowest pairs to theta = 0 at every s (a NoPE part of the head), so it is
# plain RoPE at s = 1 only for f = 1; its own properties are in test_rope_proportional.py
WITH_UNIT_IDENTITY = tuple(m for m in METHODS if m != "proportional")


@given(specs(methods=WITH_UNIT_IDENTITY, factor=1.0, rules=True, exclude_rules=NOT_ONE_UP_TO_L))
def test_unit_scale_is_plain_rope(spec):
    lengths = (None, spec.original_ctx, max(1, spec.original_ctx // 3))
    inv.check_unit_scale_identity(METHODS[spec.method].fn, spec.geometry, spec.params, seq_lens=lengths)
    for seq_len in lengths:
        assert spec.compute(seq_len).attention_factor == 1.0


@given(geometries(), factors())
def test_pi_is_theta_over_s_exactly(geom, s):
    res = RopeSpec("pi", factor=s, **geom).compute()
    assert np.array_equal(res.inv_freq, base_inv_freq(geom["rotary_dim"] or geom["head_dim"], geom["base"]) / s)


@given(st.sampled_from(BOUNDED).flatmap(lambda m: specs(methods=(m,))))
def test_scaled_frequencies_between_pi_and_rope_and_monotone(spec):
    fn = METHODS[spec.method].fn
    inv.check_bounds(fn, spec.geometry, spec.factor, spec.params)
    inv.check_monotone_wavelengths(fn, spec.geometry, spec.factor, spec.params)


@given(st.sampled_from(sorted(m for m, info in METHODS.items() if info.dynamic or m == "longrope"))
       .flatmap(lambda m: specs(methods=(m,))), st.integers(1, 64))
def test_dynamic_and_per_pair_methods_stay_within_bounds(spec, k):
    """Bounds hold at every length, with s the s_eff a dynamic method reports."""
    inv.check_bounds(METHODS[spec.method].fn, spec.geometry, spec.factor, spec.params, seq_len=k * spec.original_ctx)


@given(geometries(), factors(), ramp_bounds(), st.sampled_from(["ntk-by-parts", "yarn", "llama3"]))
def test_paper_ramp_ends(geom, s, bounds, method):
    alpha, beta = bounds
    if method == "llama3":  # its ramp is the paper's with alpha = low_freq_factor, beta = high_freq_factor
        params = {"low_freq_factor": alpha, "high_freq_factor": beta}
    else:
        params = {"alpha": alpha, "beta": beta, "ramp": "paper"}
    spec = RopeSpec(method, factor=s, params=params, **geom)
    inv.check_ramp_ends(METHODS[method].fn, spec.geometry, s, alpha, beta, spec.params)


@given(geometries(), factors())
def test_ntk_aware_first_pair_untouched_last_pair_like_pi(geom, s):
    """Appendix A.1: b' is chosen so the last pair matches PI and d = 0 is unchanged."""
    spec = RopeSpec("ntk", factor=s, **geom)
    theta = base_inv_freq(spec.dim, spec.base)
    scaled = spec.compute().inv_freq
    assert scaled[0] == theta[0] == 1.0
    assert scaled[-1] == pytest.approx(theta[-1] / s, rel=1e-9)


@given(geometries(), factors(), st.floats(0.01, 4.0))
def test_huge_beta_turns_paper_yarn_into_pi(geom, s, alpha):
    spec = RopeSpec("yarn", factor=s, params={"alpha": alpha, "beta": 1e15, "ramp": "paper"}, **geom)
    theta = base_inv_freq(spec.dim, spec.base)
    np.testing.assert_allclose(spec.compute().inv_freq, theta / s, rtol=1e-6)


@given(geometries(), factors())
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
    static_name = {"dynamic-yarn": "yarn", "dynamic-pi": "pi", "dynamic-ntk": "ntk"}[method]
    static_fn = METHODS[static_name].fn
    if variant == "transformers" and method == "dynamic-ntk":
        # transformers' form: NTK-aware at s_eff = factor * l/L - (factor - 1)
        static_fn = lambda g, s, seq_len=None: METHODS["ntk"].fn(g, 8.0 * s - 7.0)  # noqa: E731
    inv.check_dynamic_equals_static(METHODS[method].fn, static_fn, spec.geometry, float(k), spec.params,
                                    factor=8.0)
    for length in (1, L // 2 or 1, L):
        assert spec.compute(length).attention_factor == 1.0
    res = spec.compute(L * k)
    static = RopeSpec(static_name, factor=res.scale, **geom).compute()
    assert res.attention_factor == pytest.approx(static.attention_factor, rel=1e-12)


@given(st.floats(1.0, 1e4), st.floats(1.0, 1e4), st.sampled_from([256, 4096, 131072]))
def test_attention_factor_one_at_unit_scale_and_increasing(s1, s2, L):
    lo, hi = sorted((s1, s2))
    assume(hi > lo * (1 + 1e-9))
    rules = [("yarn", {}), ("yarn", {"coefficient": 0.3}), ("longrope", {}),
             ("mscale-ratio", {"mscale": 1.0, "mscale_all_dim": 0.5})]
    for name, params in rules:
        inv.check_attention_factor(TEMPERATURE_RULES[name].fn, L, lo, hi, params)
    # log-n grows with the length, not with s
    f = TEMPERATURE_RULES["log-n"].fn
    assert f(1.0, original_ctx=L, seq_len=L) == 1.0
    assert f(1.0, original_ctx=L, seq_len=int(L * hi) + 1) > 1.0


@given(temperature_rules(exclude=NOT_ONE_UP_TO_L), st.sampled_from([256, 4096, 131072]), st.floats(0.01, 1.0))
def test_every_rule_but_fixed_and_llama4_is_one_at_unit_scale_and_up_to_L(rule, L, frac):
    name, params = rule
    f = TEMPERATURE_RULES[name].fn
    assert f(1.0, original_ctx=L, **params) == 1.0
    assert f(1.0, original_ctx=L, seq_len=max(1, int(frac * L)), **params) == 1.0


@given(st.floats(1.0, 1e5), st.floats(0.0, 2.0), st.integers(1, 1 << 22), st.integers(1, 1 << 22))
def test_llama4_rule_is_one_below_its_floor_and_grows_with_the_length(floor_scale, attn_scale, n1, n2):
    f = TEMPERATURE_RULES["llama4-attn"].fn
    params = {"floor_scale": floor_scale, "attn_scale": attn_scale}
    lo, hi = sorted((n1, n2))
    m_lo, m_hi = (f(8.0, original_ctx=4096, seq_len=n, **params) for n in (lo, hi))
    assert m_lo <= m_hi
    if lo < floor_scale:
        assert m_lo == 1.0
    # the logit scale m^2 is 1 + attn_scale ln(1 + floor(n / floor_scale)), the last query's q scale
    assert m_hi**2 == pytest.approx(1 + attn_scale * math.log1p(math.floor(hi / floor_scale)), rel=1e-12)


@given(specs(rules=True), st.integers(0, 20000), st.integers(0, 20000), st.integers(0, 5000), st.integers(0, 2**32 - 1),
       st.sampled_from(["half", "interleaved"]))
def test_relative_position_property_holds_for_every_method(spec, m, n, shift, seed, layout):
    """q_m . k_n depends only on m - n (Eqs. 6-9), whatever per-pair h(theta) a method applies."""
    res = spec.compute(spec.original_ctx * 2 if spec.is_dynamic else None)
    inv.check_relative_position(res.inv_freq, res.attention_factor, m, n, shift, seed=seed, layout=layout)


@given(specs(rules=True))
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


@given(invalid_params())
def test_invalid_method_parameters_name_the_parameter(case):
    """One planted violation per draw: a value outside its kind's constraint, or an ordered pair
    reversed (alpha > beta)."""
    method, head_dim, params, fragment = case
    with pytest.raises(SpecError) as err:
        RopeSpec(method, head_dim=head_dim, params=params)
    assert fragment in str(err.value)


@given(st.sampled_from(sorted(METHODS)).flatmap(lambda m: st.tuples(st.just(m), method_params(m))),
       st.text(min_size=1, max_size=8).filter(lambda k: k not in all_params()))
def test_unknown_method_parameters_are_rejected(case, key):
    method, params = case
    with pytest.raises(SpecError) as err:
        RopeSpec(method, head_dim=128, params={**params, key: 1.0})
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
