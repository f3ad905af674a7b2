"""Attention-logit spread on a model whose logits are known in closed form, and the m* prediction."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from yarnlab.errors import UsageError
from yarnlab.evaluate.logits import attention_logit_spread, predict_temperature

HEAD_DIM, BASE = 16, 100.0


def controlled_model(amp_q, pair_k, amp_k, layers=2):
    """Llama whose residual stream is the constant vector (1, ..., 1) at every position (equal
    embeddings, zero o_proj and down_proj), so every layer's normed input is 1 / sqrt(1 + eps) per
    unit. Key head g is amp_k[g] e_{pair_k[g]}; query head h (group g = h // groups) is
    amp_q[h] e_{pair_k[g]}. After RoPE (half layout) q_i . k_j = amp_q amp_k cos((i - j) theta_d),
    theta_d = BASE^(-2d / HEAD_DIM), so z_ij = amp_q amp_k cos((i - j) theta_d) / sqrt(HEAD_DIM)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    n_heads, n_kv = len(amp_q), len(amp_k)
    cfg = LlamaConfig(vocab_size=32, hidden_size=32, intermediate_size=16, num_hidden_layers=layers,
                      num_attention_heads=n_heads, num_key_value_heads=n_kv, head_dim=HEAD_DIM,
                      rope_theta=BASE, max_position_embeddings=256, rms_norm_eps=1e-30)
    model = LlamaForCausalLM(cfg).double().eval()
    hidden = cfg.hidden_size
    with torch.no_grad():
        model.model.embed_tokens.weight.fill_(1.0)
        groups = n_heads // n_kv
        for layer in model.model.layers:
            a = layer.self_attn
            a.q_proj.weight.zero_()
            a.k_proj.weight.zero_()
            a.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
            for g in range(n_kv):
                a.k_proj.weight[g * HEAD_DIM + pair_k[g]] = amp_k[g] / hidden
            for h in range(n_heads):
                a.q_proj.weight[h * HEAD_DIM + pair_k[h // groups]] = amp_q[h] / hidden
    return model


def expected_sigma(n, amp, pair):
    """RMS over queries i in [n/2, n) of the population std over j <= i of amp cos((i-j) theta)/sqrt(D)."""
    theta = BASE ** (-2 * pair / HEAD_DIM)
    var = [np.var(amp * np.cos((i - np.arange(i + 1)) * theta) / math.sqrt(HEAD_DIM)) for i in range(n // 2, n)]
    return math.sqrt(np.mean(var)), float(np.mean(np.sqrt(var)))


@pytest.mark.parametrize("n,bos", [(40, None), (41, 5)])
def test_measured_spread_equals_closed_form(n, bos):
    amp_q, pair_k, amp_k = [2.0, 5.0, -3.0, 1.0], [0, 3], [3.0, 4.0]
    model = controlled_model(amp_q, pair_k, amp_k)
    docs = [np.arange(40) % 32, np.zeros(50, dtype=int), np.zeros(10, dtype=int)]  # 40 = 41 - 1 with a BOS
    res = attention_logit_spread(model, docs, n, bos_id=bos, query_block=7)
    assert res.doc_ids == [0, 1] and res.sigma.shape == (2, 4) and res.n_queries == n - n // 2
    assert model.config._attn_implementation == "sdpa"
    rows = res.rows()
    for r in rows:
        sigma, mean_std = expected_sigma(n, amp_q[r["head"]] * amp_k[r["head"] // 2], pair_k[r["head"] // 2])
        assert r["sigma"] == pytest.approx(sigma, rel=1e-6)  # rotary angles in float32
        assert r["mean_std"] == pytest.approx(mean_std, rel=1e-6)
        assert r["sigma_doc_sd"] == pytest.approx(0.0, abs=1e-9)  # the same logits in both documents
        assert r["n_queries"] == 2 * (n - n // 2) and r["n_docs"] == 2
    assert rows[1]["sigma"] > 2 * rows[0]["sigma"]  # amplitude 15 vs 6 on the same pair
    assert len(res.doc_rows()) == 2 * 2 * 4


def test_forward_pass_is_unchanged_and_attention_factor_squares_into_sigma():
    from yarnlab.model import apply_scaling, model_spec
    from yarnlab.model.tiny import build_model

    model = build_model("micro").double().eval()
    rng = np.random.default_rng(0)
    docs = [rng.integers(0, 256, 96) for _ in range(2)]
    ids = torch.as_tensor(docs[0][:64])[None]
    with torch.no_grad():
        before = model(input_ids=ids).logits
    base = attention_logit_spread(model, docs, 64)
    with torch.no_grad():
        after = model(input_ids=ids).logits
    assert torch.equal(before, after)
    spec = model_spec(model)
    apply_scaling(model, spec.replace(temperature="fixed", temperature_params={"m": 1.5}))
    scaled = attention_logit_spread(model, docs, 64)
    # layer 0 sees the same hidden states: logits scale by m^2 (YaRN Eq. 22 applied to cos and sin)
    assert scaled.sigma[0] == pytest.approx(1.5**2 * base.sigma[0], rel=1e-6)
    assert not np.allclose(scaled.sigma[1:], 1.5**2 * base.sigma[1:], rtol=1e-6)


def test_predict_temperature_uses_the_theory_layer():
    from yarnlab.theory.entropy import gaussian_invariant_m_asymptotic, gaussian_invariant_m_mc

    sigmas = [1.0, 2.0, 3.0, 6.0]
    per_head, summary = predict_temperature(sigmas, [1, 4], 64, budget=1 << 14)
    assert len(per_head) == 8 and [r["s"] for r in summary] == [1.0, 4.0]
    ms = [r["m_invariant"] for r in per_head if r["s"] == 4.0]
    assert ms == [pytest.approx(gaussian_invariant_m_mc(4.0, 64, s, budget=1 << 14), rel=1e-12) for s in sigmas]
    assert ms == sorted(ms, reverse=True) and all(m > 1 for m in ms)  # a wider spread needs less sharpening
    s4 = summary[1]
    assert s4["m_median"] == pytest.approx(np.median(ms)) and s4["m_q25"] < s4["m_median"] < s4["m_q75"]
    assert s4["sigma_rms"] == pytest.approx(math.sqrt(np.mean(np.square(sigmas))))
    asym = float(gaussian_invariant_m_asymptotic(4.0, s4["sigma_rms"]))
    assert s4["m_asymptotic_at_sigma_rms"] == pytest.approx(asym)
    assert s4["n_solved"] == 4 and s4["m_yarn_rule"] == pytest.approx(0.1 * math.log(4) + 1)
    assert summary[0]["m_median"] == pytest.approx(1.0, abs=0.05)  # s = 1: no change (up to MC noise)
    # a tiny spread puts m* beyond the solver's range: NaN, left out of the quantiles
    per_head, summary = predict_temperature([0.01, 2.0], [16], 64, budget=1 << 14)
    assert math.isnan(per_head[0]["m_invariant"]) and summary[0]["n_solved"] == 1


def test_bad_input():
    with pytest.raises(UsageError, match="sigmas"):
        predict_temperature([1.0, 0.0], [2], 64)
    with pytest.raises(UsageError, match="sigmas"):
        predict_temperature([], [2], 64)
    with pytest.raises(UsageError, match="scales"):
        predict_temperature([1.0], [0.5], 64)
    with pytest.raises(UsageError, match="n: must be >= 2"):
        predict_temperature([1.0], [2], 1)
    model = controlled_model([1.0, 1.0], [0], [1.0], layers=1)
    with pytest.raises(UsageError, match="length"):
        attention_logit_spread(model, [np.zeros(8, dtype=int)], 1)
    with pytest.raises(UsageError, match="no document has >= 9"):
        attention_logit_spread(model, [np.zeros(8, dtype=int)], 9)
    with pytest.raises(UsageError, match="query_block"):
        attention_logit_spread(model, [np.zeros(8, dtype=int)], 8, query_block=0)
