"""Sliding-window perplexity against a brute-force transcription of the reference loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from yarnlab.errors import UsageError
from yarnlab.evaluate.perplexity import (
    naive_perplexity,
    plan_windows,
    protocol_perplexity,
    same_target_perplexity,
    scored_nll,
    sliding_window_nll,
)


def tiny_llama(seed: int = 0, dtype=torch.float64):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(
        vocab_size=259, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
    )
    return LlamaForCausalLM(cfg).to(dtype).eval()


def random_docs(lengths, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 259, size=n) for n in lengths]


def brute_force(model, docs, window, stride):
    """Reference eval/perplexity.py loop (no BOS), written out independently: windows
    begin = 0, S, 2S..., targets are the last end - prev_end tokens; NLL from full float64 logits.
    A window with no target (a 1-token tail chunk, NaN in the reference) is skipped."""
    losses, counts = [], []
    for d in docs:
        d = torch.as_tensor(d)
        prev_end = 0
        for begin in range(0, len(d), stride):
            end = min(begin + window, len(d))
            trg_len = min(end - prev_end, end - begin - 1)  # the first input token is never a target
            with torch.no_grad():
                logp = torch.log_softmax(model(input_ids=d[begin:end][None]).logits[0].double(), -1)
            nll = [-logp[p - begin - 1, d[p]].item() for p in range(end - trg_len, end)]
            if nll:
                losses.append(float(np.mean(nll)))
                counts.append(len(nll))
            prev_end = end
            if end == len(d):
                break
    token = math.exp(sum(loss * n for loss, n in zip(losses, counts)) / sum(counts))
    return token, math.exp(float(np.mean(losses)))


@pytest.mark.parametrize("window,stride", [(64, 16), (48, 48), (40, 7), (64, 64)])
def test_batched_equals_brute_force(window, stride):
    model = tiny_llama()
    docs = random_docs([200, 131, 64, 97])
    res = sliding_window_nll(model, docs, window, stride, batch_tokens=300)
    token, win = brute_force(model, docs, window, stride)
    assert res.perplexity("token") == pytest.approx(token, rel=1e-10)
    assert res.perplexity("window") == pytest.approx(win, rel=1e-10)
    # the naive loop uses the HF loss, which computes in float32
    assert naive_perplexity(model, docs, window, stride) == pytest.approx((token, win), rel=1e-6)


def test_every_token_scored_once():
    for n, w, s in [(200, 64, 16), (64, 64, 16), (10, 64, 64), (300, 50, 50), (101, 20, 3)]:
        seen = np.zeros(n, dtype=int)
        for b, e, tb in plan_windows(n, w, s):
            assert b < tb <= e and e - b <= w
            seen[tb:e] += 1
        if s < w:
            assert seen[0] == 0 and (seen[1:] == 1).all()
        assert seen.max() == 1


def test_stride_equal_window_is_non_overlapping_chunks():
    model = tiny_llama()
    doc = random_docs([160])[0]
    res = sliding_window_nll(model, [doc], window=40, stride=40)
    chunks = [doc[i : i + 40] for i in range(0, 160, 40)]
    per_chunk = sliding_window_nll(model, chunks, window=40, stride=40)
    assert res.perplexity() == pytest.approx(per_chunk.perplexity(), rel=1e-12)
    assert np.allclose(res.doc_nll()[0], np.nanmean(np.concatenate(per_chunk.token_nll)))
    assert [w[1:4] for w in res.windows] == [(0, 40, 1), (40, 80, 41), (80, 120, 81), (120, 160, 121)]


def test_bos_scores_every_token_and_matches_naive():
    model = tiny_llama()
    docs = random_docs([90, 70])
    res = sliding_window_nll(model, docs, 32, 8, bos_id=1)
    assert not np.isnan(np.concatenate(res.token_nll)).any()
    assert naive_perplexity(model, docs, 32, 8, bos_id=1) == pytest.approx(
        (res.perplexity("token"), res.perplexity("window")), rel=1e-6
    )


def test_sliding_scores_chunk_boundaries():
    """Sliding windows score the first token of every chunk; non-overlapping chunks cannot."""
    model = tiny_llama()
    docs = random_docs([256])
    near = sliding_window_nll(model, docs, 64, 8).token_nll[0]
    chunk = sliding_window_nll(model, docs, 64, 64).token_nll[0]
    assert np.isnan(chunk[64]) and not np.isnan(near[64])


def test_segments_and_protocol():
    model = tiny_llama()
    docs = random_docs([128, 128, 50])
    out = protocol_perplexity(model, docs, [32, 64, 128])
    assert set(out) == {32, 64, 128}
    assert len(out[64].token_nll) == 2 and len(out[64].token_nll[0]) == 64  # the short doc is dropped
    assert len(out[64].windows) == 2  # one window per document, as the reference with --truncate
    nll, counts = out[128].segment_nll(32)
    assert nll.shape == (2, 4) and counts[:, 0].tolist() == [31, 31] and counts[:, 1].tolist() == [32, 32]
    total = np.nansum(nll * counts) / counts.sum()
    assert total == pytest.approx(out[128].mean_nll(), rel=1e-12)
    slid = protocol_perplexity(model, docs, [128], window=64, stride=16)[128]
    assert len(slid.windows) == 2 * 5


def test_bad_input_raises_usage_error():
    with pytest.raises(UsageError, match="stride"):
        plan_windows(100, 32, 64)
    with pytest.raises(UsageError, match="no token to score"):
        sliding_window_nll(tiny_llama(), [np.array([5])], 8, 4)
    with pytest.raises(UsageError, match="min_tokens"):
        protocol_perplexity(None, random_docs([10]), [32])


@pytest.mark.parametrize("arch", ["llama", "neox"])
def test_logits_projected_in_chunks_give_the_same_nll(arch):
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

    model = tiny_llama() if arch == "llama" else GPTNeoXForCausalLM(GPTNeoXConfig(
        vocab_size=259, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        max_position_embeddings=512)).double().eval()
    ids = torch.as_tensor(np.stack(random_docs([200, 200], seed=4)))
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=ids).logits.double(), -1)
        ref = -logp[:, 49:199].gather(-1, ids[:, 50:200, None])[..., 0].numpy()  # last 150 targets
        for chunk in (1, 7, 149, 150, 10_000):
            got = scored_nll(model, ids, 150, logit_chunk=chunk)
            assert got.shape == (2, 150) and np.abs(got - ref).max() < 1e-9, chunk
    docs = random_docs([300, 170], seed=5)
    a = sliding_window_nll(model, docs, window=128, stride=128, logit_chunk=5)
    b = sliding_window_nll(model, docs, window=128, stride=128, logit_chunk=10_000)
    assert all(np.allclose(x, y, atol=1e-9, equal_nan=True) for x, y in zip(a.token_nll, b.token_nll))
    with pytest.raises(UsageError, match="logit_chunk: must be >= 1"):
        scored_nll(model, ids, 10, logit_chunk=0)


def context_blind_llama():
    """A Llama whose attention outputs are zero: each position's logits depend on its own token only,
    so the loss of a token does not depend on how much context precedes it."""
    model = tiny_llama(seed=3)
    with torch.no_grad():
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight.zero_()
        model.lm_head.weight.mul_(30.0)  # sharp logits: the loss differs a lot from token to token
    return model


def drifting_docs(n_docs=4, n=400, seed=7):
    """Documents whose token distribution drifts along the document (ids rise with position), so the
    first n tokens of a piece are not like its later tokens."""
    rng = np.random.default_rng(seed)
    return [np.clip((np.arange(n) * 250 // n) + rng.integers(0, 9, size=n), 0, 258) for _ in range(n_docs)]


def test_same_targets_give_ratio_one_when_the_loss_ignores_context_and_truncation_does_not():
    model, docs = context_blind_llama(), drifting_docs()
    same = same_target_perplexity(model, docs, [100, 200, 400], targets=64)
    ratios = [same[n].perplexity() / same[100].perplexity() for n in (200, 400)]
    assert ratios == pytest.approx([1.0, 1.0], abs=1e-9)
    trunc = protocol_perplexity(model, docs, [100, 200, 400])
    drift = [trunc[n].perplexity() / trunc[100].perplexity() for n in (200, 400)]
    assert min(abs(r - 1) for r in drift) > 0.05  # content alone moves the truncation reading
    # the scored tokens are the last 64 of the first 400, every length alike
    for res in same.values():
        assert all(np.flatnonzero(~np.isnan(a)).tolist() == list(range(336, 400)) for a in res.token_nll)


def test_same_targets_use_the_context_a_real_model_sees():
    model, docs = tiny_llama(), random_docs([300, 300, 300], seed=8)
    same = same_target_perplexity(model, docs, [64, 300], targets=32)
    with torch.no_grad():  # length 64: the window x[236:300], last 32 targets
        d = torch.as_tensor(docs[1][236:300])[None]
        logp = torch.log_softmax(model(input_ids=d).logits.double(), -1)[0]
        ref = -logp[31:63].gather(-1, d[0, 32:64, None])[:, 0].numpy()
    assert np.allclose(same[64].token_nll[1][268:], ref, atol=1e-9)
    with pytest.raises(UsageError, match=r"targets: must be an integer in \[1, 63\]"):
        same_target_perplexity(model, docs, [64, 300], targets=64)
    with pytest.raises(UsageError, match="min_tokens: no document has >= 301"):
        same_target_perplexity(model, docs, [301], targets=8)


def test_same_targets_end_at_target_end_and_every_length_reads_back_from_it():
    """``end`` E: the targets are x_{E-T} .. x_{E-1} at every length, read with the n tokens ending at E."""
    model, docs = tiny_llama(), random_docs([300, 260, 300], seed=9)
    same = same_target_perplexity(model, docs, [64, 128], targets=16, end=280)
    assert len(same[64].token_nll) == 2  # the 260-token document is shorter than E = 280
    for n, res in same.items():
        assert all(np.flatnonzero(~np.isnan(a)).tolist() == list(range(264, 280)) for a in res.token_nll)
        with torch.no_grad():
            d = torch.as_tensor(docs[2][280 - n:280])[None]
            logp = torch.log_softmax(model(input_ids=d).logits.double(), -1)[0]
            ref = -logp[n - 17:n - 1].gather(-1, d[0, n - 16:, None])[:, 0].numpy()
        assert np.allclose(res.token_nll[1][264:], ref, atol=1e-9), n
    with pytest.raises(UsageError, match=r"end: must be >= the longest length 128 \(got 100\)"):
        same_target_perplexity(model, docs, [64, 128], targets=16, end=100)


@pytest.mark.parametrize("n,window,stride", [(300, 64, 32), (300, 64, 64), (200, 100, 30), (120, 64, 16)])
def test_same_targets_with_a_window_equal_the_whole_sliding_walk_on_the_targets(n, window, stride):
    """With ``window`` W < n only the windows that score a target run; the targets' NLL equals that of the
    whole sliding walk over the same n context tokens (the sliding baseline on the same targets)."""
    model, docs = tiny_llama(), random_docs([320, 330], seed=10)
    T, E = 40, 320
    same = same_target_perplexity(model, docs, [n], targets=T, end=E, window=window, stride=stride)[n]
    whole = sliding_window_nll(model, [d[E - n:E] for d in docs], window, stride)
    for a, b in zip(same.token_nll, whole.token_nll):
        assert np.flatnonzero(~np.isnan(a)).tolist() == list(range(E - T, E))
        assert np.allclose(a[E - T:], b[n - T:], atol=1e-9)
    assert (same.window, same.stride) == (window, stride)
    assert sum(c for *_, c in same.windows) == len(docs) * T  # windows count only their targets
    assert same.mean_nll() == pytest.approx(np.mean([a[E - T:] for a in same.token_nll]), abs=1e-12)
    plan = plan_windows(n, window, stride)
    k = sum(1 for _, e, _ in plan if e > n - T)
    assert len(same.windows) == len(docs) * k and k < len(plan)  # the windows before the targets are not run


def test_same_targets_with_a_context_blind_model_and_a_window_stay_flat():
    """The sliding baseline on the same targets: a loss that ignores context gives ratio 1 at every length."""
    model, docs = context_blind_llama(), drifting_docs(n=400)
    same = same_target_perplexity(model, docs, [100, 200, 400], targets=64, window=64, stride=32)
    assert [same[n].perplexity() / same[100].perplexity() for n in (200, 400)] == pytest.approx([1, 1], abs=1e-9)


@pytest.mark.parametrize("window,stride", [(None, 256), (64, 32)])
def test_the_same_targets_at_the_target_end_come_from_the_truncation_reading(window, stride):
    """At n = E the same-target context is the truncated document itself, read by the same windows: its
    targets' NLL is the truncation reading's on the last T tokens (the command line reuses it)."""
    from yarnlab.evaluate.perplexity import same_targets_from_truncation

    model, docs = tiny_llama(), random_docs([200, 240, 150], seed=12)
    E, T = 200, 24
    trunc = protocol_perplexity(model, docs, [100, E], min_tokens=E, window=window, stride=stride)
    derived = same_targets_from_truncation(trunc[E], T)
    direct = same_target_perplexity(model, docs, [100, E], targets=T, end=E, window=window, stride=stride)[E]
    assert len(derived.token_nll) == len(direct.token_nll) == 2
    for a, b in zip(derived.token_nll, direct.token_nll):
        assert np.array_equal(np.isnan(a), np.isnan(b)) and np.allclose(a[E - T:], b[E - T:], atol=1e-9)
    assert sorted((d, c) for d, *_, c in derived.windows) == sorted((d, c) for d, *_, c in direct.windows)
    assert derived.mean_nll("window") == pytest.approx(direct.mean_nll("window"), abs=1e-9)
