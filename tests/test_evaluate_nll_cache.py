"""The per-token NLL store: a cached read equals a fresh forward; different frequencies, m, weights or
token ids never share an entry; dynamic methods and training mode are never cached."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from yarnlab.evaluate import nll_cache
from yarnlab.evaluate.perplexity import same_target_perplexity, scored_nll, sliding_window_nll
from yarnlab.evaluate.sweep import temperature_sweep
from yarnlab.model import apply_scaling
from yarnlab.model.patch import model_spec


def tiny_llama(seed=0):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=97, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64)
    return LlamaForCausalLM(cfg).to(torch.float64).eval()


def entries(folder):
    return sorted(p.name for p in folder.rglob("*.npy"))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(nll_cache.ENV, str(tmp_path))
    return tmp_path


def test_cached_tail_equals_a_fresh_forward(cache, monkeypatch):
    model = tiny_llama()
    ids = torch.as_tensor(np.random.default_rng(0).integers(0, 97, size=(2, 40)))
    with torch.inference_mode():
        first = scored_nll(model, ids, 10)  # stores both whole rows
        assert len(entries(cache)) == 2
        again = scored_nll(model, ids, 25)  # read from the store
        monkeypatch.delenv(nll_cache.ENV)
        fresh10, fresh25 = scored_nll(model, ids, 10), scored_nll(model, ids, 25)
    np.testing.assert_allclose(first, fresh10, rtol=0, atol=1e-12)
    np.testing.assert_allclose(again, fresh25, rtol=0, atol=1e-12)


def test_sweep_at_m_one_shares_the_forward_of_plain_by_parts(cache, monkeypatch):
    model = tiny_llama()
    docs = [np.random.default_rng(i).integers(0, 97, size=128) for i in range(2)]
    spec = model_spec(model).replace(method="ntk-by-parts", factor=2.0)
    with torch.inference_mode():
        apply_scaling(model, spec)
        same_target_perplexity(model, docs, [128], 32)
        n = len(entries(cache))
        assert n == 2
        sweep = temperature_sweep(model, docs, spec, [1.0, 1.1], 128)
        assert len(entries(cache)) == n + 2  # m = 1 was read, m = 1.1 is new
    monkeypatch.delenv(nll_cache.ENV)
    with torch.inference_mode():
        apply_scaling(model, spec)
        fresh = sliding_window_nll(model, docs, 128, 128)
    np.testing.assert_allclose(sweep.doc_nll[0], fresh.doc_nll(), rtol=0, atol=1e-12)


def test_keys_change_with_what_the_forward_depends_on():
    model, other = tiny_llama(0), tiny_llama(1)
    ids = torch.arange(20)
    base = nll_cache.row_keys(model, ids[None])
    assert base == nll_cache.row_keys(model, ids.clone()[None])
    assert base != nll_cache.row_keys(other, ids[None])  # weights
    assert base != nll_cache.row_keys(model, torch.arange(1, 21)[None])  # tokens
    spec = model_spec(model).replace(method="yarn", factor=2.0)
    apply_scaling(model, spec)
    yarn = nll_cache.row_keys(model, ids[None])
    apply_scaling(model, spec.replace(temperature="fixed", temperature_params={"m": 1.0}))
    assert len({base[0], yarn[0], nll_cache.row_keys(model, ids[None])[0]}) == 3  # frequencies, then m
    apply_scaling(model, spec.replace(method="dynamic-yarn"))
    assert nll_cache.row_keys(model, ids[None]) is None


def test_dynamic_methods_and_training_mode_are_not_stored(cache):
    model = tiny_llama()
    ids = torch.as_tensor(np.random.default_rng(1).integers(0, 97, size=(1, 48)))
    apply_scaling(model, model_spec(model).replace(method="dynamic-yarn", factor=2.0))
    with torch.inference_mode():
        scored_nll(model, ids, 8)
        sliding_window_nll(model, [ids[0].numpy()], 48, 48)
    model.train()
    with torch.no_grad():
        scored_nll(model, ids, 8)
    assert entries(cache) == []
