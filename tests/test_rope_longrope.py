"""LongRoPE (Phi-3's ``longrope``, legacy ``su``) as a core method: properties and parity with
transformers' ``longrope`` over generated configs.

theta'_d = theta_d / lambda_d with lambda the short factors while l <= L and the long factors once
l > L; m = sqrt(1 + ln s / ln L) unless ``attention_factor`` is given.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from yarnlab.errors import SpecError, UsageError
from yarnlab.rope import RopeSpec, base_inv_freq, read_hf_config, spec_to_hf
from yarnlab.rope.tables import cos_sin, rotate

head_dims = st.sampled_from([32, 64, 96, 128]) | st.integers(2, 64).map(lambda k: 2 * k)
bases = st.sampled_from([10000.0, 500000.0]) | st.floats(100.0, 1e7)
contexts = st.sampled_from([2048, 4096, 8192]) | st.integers(64, 65536)
scales = st.sampled_from([1.0, 2.0, 8.0, 32.0]) | st.floats(1.0, 64.0)
ANY_FACTORS = st.floats(0.5, 80.0)


@st.composite
def longrope_specs(draw, factors=ANY_FACTORS):
    head_dim = draw(head_dims)
    n = head_dim // 2
    return RopeSpec("longrope", head_dim=head_dim, base=draw(bases), original_ctx=draw(contexts),
                    factor=draw(scales), params={k: draw(st.lists(factors, min_size=n, max_size=n))
                                                 for k in ("short_factor", "long_factor")})


@given(longrope_specs(), st.integers(1, 1 << 18))
def test_each_pair_is_divided_by_its_factor_short_up_to_L_long_beyond(spec, seq_len):
    theta = base_inv_freq(spec.dim, spec.base)
    used = spec.params["long_factor" if seq_len > spec.original_ctx else "short_factor"]
    np.testing.assert_allclose(spec.compute(seq_len).inv_freq * np.array(used), theta, rtol=1e-14)
    np.testing.assert_array_equal(spec.compute(spec.original_ctx).inv_freq, spec.compute().inv_freq)
    assert not np.array_equal(spec.compute(spec.original_ctx + 1).inv_freq, spec.compute().inv_freq) or \
        spec.params["long_factor"] == spec.params["short_factor"]


@given(longrope_specs(factors=st.just(1.0)), st.integers(1, 1 << 18))
def test_unit_factors_are_plain_rope(spec, seq_len):
    np.testing.assert_array_equal(spec.compute(seq_len).inv_freq, base_inv_freq(spec.dim, spec.base))


@given(longrope_specs(), st.floats(1.0, 64.0), st.floats(1.0, 64.0))
def test_attention_factor_is_one_at_unit_scale_and_grows_with_s(spec, s1, s2):
    lo, hi = sorted((s1, s2))
    m_lo, m_hi = (spec.replace(factor=s).compute().attention_factor for s in (lo, hi))
    assert spec.replace(factor=1.0).compute().attention_factor == 1.0
    assert 1.0 <= m_lo <= m_hi
    assert m_hi == pytest.approx(math.sqrt(1 + math.log(hi) / math.log(spec.original_ctx)) if hi > 1 else 1.0)
    assert spec.compute(10 * spec.original_ctx).attention_factor == spec.compute().attention_factor


@given(longrope_specs(), st.integers(0, 5000), st.integers(0, 5000), st.integers(1, 3000),
       st.sampled_from(["half", "interleaved"]), st.randoms(use_true_random=False))
def test_relative_position_property(spec, m, n, shift, layout, rnd):
    """q_m . k_n depends on m - n only (Eqs. 6-9), at a length past L (long factors)."""
    rng = np.random.default_rng(rnd.randint(0, 2**32 - 1))
    q, k = rng.standard_normal(spec.dim), rng.standard_normal(spec.dim)
    res = spec.compute(2 * spec.original_ctx)
    c, s = cos_sin(res.inv_freq, [m, n, m + shift, n + shift], res.attention_factor, layout, np.float64)

    def dot(i, j):
        return rotate(q[None], c[i:i + 1], s[i:i + 1], layout)[0] @ rotate(k[None], c[j:j + 1], s[j:j + 1], layout)[0]

    assert dot(0, 1) == pytest.approx(dot(2, 3), rel=1e-6, abs=1e-6 * float(np.abs(q).sum() * np.abs(k).sum()))


@given(longrope_specs())
def test_json_round_trip_and_hf_round_trip(spec):
    assert RopeSpec.from_json(spec.to_json()) == spec
    back = read_hf_config(spec_to_hf(spec))[0]
    assert back.params == spec.params and back.original_ctx == spec.original_ctx
    assert back.factor == pytest.approx(spec.factor) and back.compute().attention_factor == \
        pytest.approx(spec.compute().attention_factor, rel=1e-12)


@pytest.mark.parametrize("params,field", [
    ({}, "params.short_factor: required by method 'longrope'"),
    ({"short_factor": [1.0] * 32, "long_factor": [1.0] * 31}, "params.long_factor: must be a list of 32 = |D|/2"),
    ({"short_factor": [1.0] * 31 + [0.0], "long_factor": [1.0] * 32}, "params.short_factor: must be a list"),
    ({"short_factor": [1.0] * 31 + [float("nan")], "long_factor": [1.0] * 32}, "params.short_factor"),
    ({"short_factor": "1,2", "long_factor": [1.0] * 32}, "params.short_factor: must be a list"),
])
def test_bad_factor_lists_name_the_field(params, field):
    with pytest.raises(SpecError, match=field.replace("|", r"\|")):
        RopeSpec("longrope", head_dim=64, factor=4, params=params)


def test_cli_takes_factor_lists(capsys):
    from yarnlab.cli import main

    ones, twos = ",".join(["1"] * 8), ",".join(["2"] * 8)
    rc = main(["freqs", "--method", "longrope", "--head-dim", "16", "--factor", "4", "--original-ctx", "100",
               "--short-factor", ones, "--long-factor", twos, "--seq-len", "101", "--json"])
    import json

    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["pairs"]["interp_factor"] == pytest.approx([2.0] * 8)
    assert out["attention_factor"] == pytest.approx(math.sqrt(1 + math.log(4) / math.log(100)))


# ---- parity with transformers ----------------------------------------------------------------

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")
from transformers import LlamaConfig, Phi3Config  # noqa: E402
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS  # noqa: E402
from transformers.models.phi3.modeling_phi3 import Phi3RotaryEmbedding  # noqa: E402


@st.composite
def longrope_configs(draw):
    """Config dicts as Phi-3 style models write them: factor lists, original_max_position_embeddings
    at the top level or in the rope dict, factor or not, attention_factor or not, partial rotary."""
    head_dim = draw(st.sampled_from([32, 64, 96, 128]))
    prf = draw(st.sampled_from([1.0, 1.0, 0.5]))
    n = int(head_dim * prf) // 2
    L = draw(contexts)
    s = draw(scales)
    rope = {"rope_type": "longrope", "rope_theta": draw(bases),
            "short_factor": draw(st.lists(st.floats(1.0, 4.0), min_size=n, max_size=n)),
            "long_factor": draw(st.lists(st.floats(1.0, 80.0), min_size=n, max_size=n))}
    if prf != 1.0:
        rope["partial_rotary_factor"] = prf
    fields = {"head_dim": head_dim, "hidden_size": 2 * head_dim, "num_attention_heads": 2,
              "max_position_embeddings": int(round(L * s))}
    if draw(st.booleans()):
        fields["original_max_position_embeddings"] = L
    else:
        rope["original_max_position_embeddings"] = L
    if draw(st.booleans()):
        rope["factor"] = s
    if draw(st.booleans()):
        rope["attention_factor"] = draw(st.floats(0.5, 2.0))
    fields["rope_parameters"] = rope
    return fields


def _copy(fields):
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in fields.items()}


@given(longrope_configs(), st.integers(1, 1 << 18))
def test_reading_longrope_configs_matches_transformers(fields, seq_len):
    spec, _ = read_hf_config(_copy(fields))
    cfg = LlamaConfig(**_copy(fields))
    ref_inv, ref_m = ROPE_INIT_FUNCTIONS["longrope"](cfg, "cpu", seq_len=seq_len)
    res = spec.compute(seq_len)
    theta = base_inv_freq(spec.dim, spec.base)
    np.testing.assert_array_less(np.abs(res.inv_freq - ref_inv.double().numpy()), 2e-6 * theta)
    assert res.attention_factor == pytest.approx(ref_m, rel=1e-12)


@given(longrope_specs(factors=st.floats(1.0, 80.0)))
def test_writing_longrope_specs_for_transformers_round_trips(spec):
    assume(spec.factor > 1.0)
    fields = spec_to_hf(spec)
    cfg = LlamaConfig(hidden_size=2 * spec.head_dim, num_attention_heads=2, **_copy(fields))
    for seq_len in (spec.original_ctx, spec.original_ctx + 1):
        ref_inv, ref_m = ROPE_INIT_FUNCTIONS["longrope"](cfg, "cpu", seq_len=seq_len)
        res = spec.compute(seq_len)
        np.testing.assert_allclose(res.inv_freq, ref_inv.double().numpy(), rtol=2e-6)
        assert res.attention_factor == pytest.approx(ref_m, rel=1e-12)


@pytest.mark.parametrize("seq_len", [100, 4096, 4097, 9000])
def test_phi3_rotary_module_switches_where_yarnlab_does(seq_len):
    """The real Phi3RotaryEmbedding (its forward switches factor sets) against yarnlab's spec."""
    n = 48
    rng = np.random.default_rng(0)
    short, long = (np.sort(rng.uniform(1, hi, n)).tolist() for hi in (3.0, 64.0))
    raw = {"model_type": "phi3", "hidden_size": 3072, "num_attention_heads": 32, "max_position_embeddings": 131072,
           "original_max_position_embeddings": 4096, "rope_theta": 10000.0,
           "rope_scaling": {"type": "longrope", "short_factor": short, "long_factor": long}}
    spec = read_hf_config(raw)[0]
    rot = Phi3RotaryEmbedding(Phi3Config(**{k: v for k, v in _copy(raw).items() if k != "model_type"}))
    with torch.no_grad():
        cos, _ = rot(torch.zeros(1, seq_len, 8), torch.arange(seq_len)[None])
    res = spec.compute(seq_len)
    np.testing.assert_allclose(rot.inv_freq.double().numpy(), res.inv_freq, rtol=2e-6)
    ours = res.attention_factor * np.cos((seq_len - 1) * res.inv_freq)
    np.testing.assert_allclose(cos[0, -1, :n].double().numpy(), ours, atol=2e-3)


def test_phi3_reads_yarn_as_longrope_and_refuses_it_without_factor_lists():
    raw = {"model_type": "phi3", "hidden_size": 3072, "num_attention_heads": 32, "max_position_embeddings": 131072,
           "original_max_position_embeddings": 4096, "rope_theta": 1e4,
           "rope_scaling": {"type": "yarn", "factor": 32.0}}
    with pytest.raises(KeyError, match="short_factor"):
        Phi3Config(**{k: v for k, v in _copy(raw).items() if k != "model_type"})
    with pytest.raises(UsageError, match="rope_scaling.short_factor: required for rope type 'yarn'"):
        read_hf_config(raw)


def test_longrope_in_the_theory_wavelength_table_and_interpolation_figure(tmp_path):
    """Phi-3.5-mini's released long factors, on its geometry, next to PI and YaRN at s = 32."""
    import json
    from pathlib import Path

    from yarnlab.rope.methods import Geometry
    from yarnlab.theory.figures import METHOD_LABELS, plot_interpolation_factor
    from yarnlab.theory.wavelength import wavelength_table

    raw = json.loads((Path(__file__).parent / "fixtures" / "hf_configs" / "phi-3.5-mini-instruct"
                      / "config.json").read_text())["rope_scaling"]
    params = {"longrope": {k: raw[k] for k in ("short_factor", "long_factor")}}
    rows = wavelength_table({"phi3": Geometry(96, 10000.0, 4096)}, [32.0], ("none", "pi", "yarn", "longrope"),
                            method_params=params)
    got = [r["interp_factor"] for r in rows if r["method"] == "longrope"]
    assert got == pytest.approx(raw["long_factor"], rel=1e-12)  # evaluated at l = s L > L
    paths = plot_interpolation_factor(rows, tmp_path / "interp", "phi3", 32.0)
    assert all(p.stat().st_size > 0 for p in paths) and "LongRoPE" in METHOD_LABELS["longrope"]


@given(st.integers(4, 64).map(lambda k: 2 * k), bases, contexts, scales, st.data())
def test_longrope_keeps_the_public_invariants(head_dim, base, L, s, data):
    """The invariants of ``yarnlab.testing`` (s = 1 identity with unit factors, bounds with factors in
    [1, s], increasing wavelengths with non-decreasing factors, relative position), on both sets."""
    invariants = pytest.importorskip("yarnlab.testing.invariants")
    from yarnlab.rope.methods import Geometry, rope_longrope
    from yarnlab.rope.temperature import temperature_longrope

    n = head_dim // 2
    params = {k: sorted(data.draw(st.lists(st.floats(1.0, s), min_size=n, max_size=n)))
              for k in ("short_factor", "long_factor")}
    geom = Geometry(head_dim, base, L)
    for seq_len in (L, 2 * L):
        invariants.check_method(rope_longrope, geom, s, params, seq_len=seq_len)
    invariants.check_attention_factor(temperature_longrope, L, 1.5, max(s, 2.0))
