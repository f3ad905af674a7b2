"""Attention entropy from a real forward pass."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from yarnlab.evaluate.entropy import attention_entropy, layer_means


def micro():
    from yarnlab.model.tiny import build_model

    return build_model("micro").double().eval()


def test_entropy_matches_output_attentions():
    model = micro()
    rng = np.random.default_rng(0)
    docs = [rng.integers(0, 256, 96) for _ in range(2)]
    rows = attention_entropy(model, docs, [64, 96], query_bins=2)
    assert model.config._attn_implementation == "sdpa"  # restored
    model.set_attn_implementation("eager")
    with torch.no_grad():
        att = model(input_ids=torch.as_tensor(docs[1][:64])[None], output_attentions=True).attentions
    model.set_attn_implementation("sdpa")
    p = att[3][0, 1].double()  # layer 3, head 1: (n, n)
    h = -(torch.xlogy(p, p)).sum(-1).numpy()
    row = next(r for r in rows if (r["length"], r["doc"], r["layer"], r["head"], r["query_lo"]) == (64, 1, 3, 1, 32))
    assert row["entropy"] == pytest.approx(h[32:64].mean(), rel=1e-10)
    assert row["uniform_entropy"] == pytest.approx(np.log(np.arange(33, 65)).mean(), rel=1e-12)
    assert all(r["entropy"] <= r["uniform_entropy"] + 1e-9 for r in rows)
    assert len(rows) == 2 * 2 * 6 * model.config.num_attention_heads * 2


def test_larger_attention_factor_sharpens_attention():
    from yarnlab.model import apply_scaling, model_spec

    model = micro()
    rng = np.random.default_rng(1)
    docs = [rng.integers(0, 256, 128)]
    spec = model_spec(model)
    means = []
    for m in (1.0, 6.0):
        apply_scaling(model, spec.replace(temperature="fixed", temperature_params={"m": m}))
        means.append(np.mean([r["entropy"] for r in layer_means(attention_entropy(model, docs, [128]))]))
    assert means[1] < means[0] - 0.05
