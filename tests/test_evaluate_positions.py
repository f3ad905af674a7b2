"""Per-position profile, context use and the sliding-window baseline against brute-force loops."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from yarnlab.errors import UsageError
from yarnlab.evaluate.positions import context_use, position_profile, sliding_baseline


def model64(seed: int = 0):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=259, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512)
    return LlamaForCausalLM(cfg).double().eval()


def random_docs(lengths, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, size=n) for n in lengths]


def nll_of_last(model, context, target) -> float:
    """-log p(target | context) from one forward pass over exactly ``context``."""
    with torch.no_grad():
        logits = model(input_ids=torch.as_tensor(np.asarray(context), dtype=torch.long)[None]).logits[0, -1]
    return float(-torch.log_softmax(logits.double(), -1)[int(target)])


@pytest.mark.parametrize("bos", [None, 256])
def test_position_profile_matches_per_token_passes(bos):
    model = model64()
    docs = random_docs([70, 40, 90])  # the 40-token document is too short and skipped
    prof = position_profile(model, docs, 48, bos_id=bos, batch_tokens=100)  # batches of 2 windows
    assert prof.doc_ids == [0, 2] and prof.nll.shape == (2, 48) and np.isnan(prof.nll[:, 0]).all()
    for d, doc in enumerate([docs[0], docs[2]]):
        x = ([bos] if bos is not None else []) + list(doc[: 48 - (bos is not None)])
        for q in (1, 2, 17, 47):
            assert prof.nll[d, q] == pytest.approx(nll_of_last(model, x[:q], x[q]), abs=1e-9)
    rows = prof.rows()
    assert len(rows) == 2 * 47 and rows[0] == {"doc": 0, "position": 1, "nll": prof.nll[0, 1]}


def test_profile_bins_are_per_document_means():
    model = model64()
    prof = position_profile(model, random_docs([64, 64]), 64)
    rows = prof.binned(4)
    assert [(r["pos_lo"], r["pos_hi"], r["tokens"]) for r in rows[:4]] == [(0, 16, 15), (16, 32, 16),
                                                                          (32, 48, 16), (48, 64, 16)]
    assert rows[5]["doc"] == 1 and rows[5]["nll"] == pytest.approx(prof.nll[1, 16:32].mean(), rel=1e-12)
    assert rows[0]["nll"] == pytest.approx(prof.nll[0, 1:16].mean(), rel=1e-12)
    total = sum(r["nll"] * r["tokens"] for r in rows) / sum(r["tokens"] for r in rows)
    assert total == pytest.approx(np.nanmean(prof.nll), rel=1e-12)
    assert len(prof.binned(63)) == 2 * 63
    for bad in (0, 64):
        with pytest.raises(UsageError, match="bins"):
            prof.binned(bad)


@pytest.mark.parametrize("bos,visible,batch", [(None, 5, 50), (None, 16, 1), (256, 3, 4096), (256, 15, 50)])
def test_context_use_matches_brute_force(bos, visible, batch):
    model = model64()
    docs = random_docs([40, 20, 32])
    rows = context_use(model, docs, 32, visible, bos_id=bos, batch_tokens=batch)
    assert [r["doc"] for r in rows] == [0, 2] and all(r["n_tokens"] == 16 for r in rows)
    pre = [bos] if bos is not None else []
    for r, doc in zip(rows, [docs[0], docs[2]]):
        x = pre + list(doc[: 32 - len(pre)])
        full = [nll_of_last(model, x[:q], x[q]) for q in range(16, 32)]
        trunc = [nll_of_last(model, pre + x[q - visible:q], x[q]) for q in range(16, 32)]
        assert r["nll_full"] == pytest.approx(np.mean(full), abs=1e-9)
        assert r["nll_truncated"] == pytest.approx(np.mean(trunc), abs=1e-9)
        assert (r["length"], r["visible"]) == (32, visible)
    if bos is None and visible == 16:  # the first target sees its whole context either way
        assert rows[0]["nll_full"] != pytest.approx(rows[0]["nll_truncated"], abs=1e-6)


@pytest.mark.parametrize("bos,targets", [(None, 5), (256, 2), (None, 16)])
def test_context_use_targets_are_evenly_spaced_subset(bos, targets):
    model = model64()
    docs = random_docs([40, 32])
    rows = context_use(model, docs, 32, 6, bos_id=bos, batch_tokens=64, targets=targets)
    # q_j = 16 + round(j * 15 / (targets - 1)), derived here without the function's linspace
    qs = sorted({16 + int(np.floor(j * 15 / (targets - 1) + 0.5)) for j in range(targets)})
    pre = [bos] if bos is not None else []
    for r, doc in zip(rows, docs):
        x = pre + list(doc[: 32 - len(pre)])
        assert r["n_tokens"] == len(qs)
        assert r["nll_full"] == pytest.approx(np.mean([nll_of_last(model, x[:q], x[q]) for q in qs]), abs=1e-9)
        assert r["nll_truncated"] == pytest.approx(
            np.mean([nll_of_last(model, pre + x[q - 6:q], x[q]) for q in qs]), abs=1e-9)
    for bad in (1, 17):
        with pytest.raises(UsageError, match=r"targets: must be in \[2, 16\]"):
            context_use(model, docs, 32, 6, targets=bad)


def sliding_context(p: int, L: int) -> int:
    """Start of the context of token p under windows of L, stride L/2 (derived independently of
    plan_windows): the first window [0, L) scores tokens 1..L-1; window k >= 1 begins at k L/2 and
    scores [(k - 1) L/2 + L, k L/2 + L), so p >= L belongs to k = (p - L) // (L/2) + 1."""
    return 0 if p < L else ((p - L) // (L // 2) + 1) * (L // 2)


@pytest.mark.parametrize("L", [16, 20])
def test_sliding_baseline_against_per_token_brute_force(L):
    model = model64()
    docs = random_docs([75, 40, 80])  # the 40-token document is below min_tokens = max(lengths)
    lengths = [L // 2, L, 57, 75]
    res = sliding_baseline(model, docs, lengths, L)
    assert sorted(res) == lengths
    docs = [docs[0], docs[2]]
    for n in lengths:
        assert res[n].window == min(L, n) and res[n].stride == min(L // 2, n)
        assert [len(a) for a in res[n].token_nll] == [n, n]
        for d, nll in enumerate(res[n].token_nll):
            doc = docs[d]
            assert np.isnan(nll[0]) and not np.isnan(nll[1:]).any()
            for p in range(1, n):
                b = sliding_context(p, L)
                assert p - b <= L - 1
                if p >= L:
                    assert p - b >= L // 2
                assert nll[p] == pytest.approx(nll_of_last(model, doc[b:p], doc[p]), abs=1e-6)


def test_sliding_baseline_is_eval_ppl_window_stride():
    from yarnlab.evaluate.perplexity import protocol_perplexity

    model = model64()
    docs = random_docs([64, 64])
    a = sliding_baseline(model, docs, [32, 64], 16)
    b = protocol_perplexity(model, docs, [32, 64], window=16, stride=8)
    assert all(a[n].perplexity() == b[n].perplexity() for n in (32, 64))


def test_bad_input():
    model = model64()
    docs = random_docs([32])
    with pytest.raises(UsageError, match="length"):
        position_profile(model, docs, 1)
    with pytest.raises(UsageError, match="no document has >= 33"):
        position_profile(model, docs, 33)
    with pytest.raises(UsageError, match="docs: need"):
        position_profile(model, [], 8)
    with pytest.raises(UsageError, match="batch_tokens"):
        position_profile(model, docs, 8, batch_tokens=0)
    with pytest.raises(UsageError, match=r"visible: must be in \[1, 16\]"):
        context_use(model, docs, 32, 17)
    with pytest.raises(UsageError, match=r"visible: must be in \[1, 15\] .*BOS"):
        context_use(model, docs, 32, 16, bos_id=256)
    with pytest.raises(UsageError, match="visible"):
        context_use(model, docs, 32, 0)
    with pytest.raises(UsageError, match="length"):
        context_use(model, docs, 3, 1)
    with pytest.raises(UsageError, match="L: must be >= 2"):
        sliding_baseline(model, docs, [16], 1)
    with pytest.raises(UsageError, match="min_tokens"):
        sliding_baseline(model, docs, [64], 16)


def test_profile_agrees_with_the_sliding_evaluator_in_float32_and_on_tensors():
    from yarnlab.evaluate.perplexity import sliding_window_nll

    model = model64().float()
    docs = [torch.as_tensor(d) for d in random_docs([50, 64])]
    prof = position_profile(model, docs, 48)
    ref = sliding_window_nll(model, [d[:48] for d in docs], 48, 48)
    assert np.allclose(prof.nll[:, 1:], np.stack(ref.token_nll)[:, 1:], rtol=1e-5, atol=1e-6)
