"""Passkey generator (key placement) and scorer (planted cases, cache vs no-cache parity)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from yarnlab.data.passkey import FILLER, make_passkey_prompt, passkey_trials
from yarnlab.data.tokenizer import ByteTokenizer
from yarnlab.errors import UsageError
from yarnlab.evaluate.passkey import accuracy_by_depth, accuracy_by_length, paper_table, score_passkey

TOK = ByteTokenizer()


@pytest.mark.parametrize("n", [243, 256, 1000, 4096])
def test_generator_places_key_where_it_says(n):
    for seed in range(20):
        p = make_passkey_prompt(n, seed)
        assert len(p.ids) == n and len(p.key) == 5
        assert p.text[p.key_char_start : p.key_char_end] == p.key
        assert p.ids[p.key_token_start : p.key_token_end].tolist() == TOK.encode(p.key)
        assert TOK.decode(p.ids) == p.text
        assert p.text[: p.key_char_start].endswith("The pass key is ")
        assert p.answer_ids.tolist() == TOK.encode(" " + p.key)
        assert p.text.endswith("The pass key is")
        filler = len(p.text) - len(p.text.replace(FILLER[1:20], ""))
        assert (filler > 0) == (n > 300)


def test_depth_is_uniform_and_positions_follow_it():
    depths, pos = [], []
    for seed in range(400):
        p = make_passkey_prompt(2000, seed)
        depths.append(p.depth)
        pos.append(p.key_token_start / len(p.ids))
    depths, pos = np.array(depths), np.array(pos)
    hist = np.histogram(depths, bins=4, range=(0, 1))[0]
    assert hist.min() > 70  # 100 expected per bin
    assert np.corrcoef(depths, pos)[0, 1] > 0.999
    early, late = make_passkey_prompt(2000, 0, depth=0.0), make_passkey_prompt(2000, 0, depth=1.0)
    assert early.key_token_start < 200 and late.key_token_start > 1850


def test_trials_are_stable_and_validated():
    a = passkey_trials([300, 500], n_trials=3, seed=4)
    b = passkey_trials([500], n_trials=5, seed=4)
    assert [t[2].key for t in a if t[0] == 500] == [t[2].key for t in b[:3]]
    with pytest.raises(UsageError, match="n_tokens"):
        make_passkey_prompt(50, 0)
    with pytest.raises(UsageError, match="depth"):
        make_passkey_prompt(500, 0, depth=1.5)


class InductionOracle(torch.nn.Module):
    """Predicts the token that followed the latest earlier occurrence of the last ``k`` tokens
    (a perfect induction head); uniform where there is none. Returns no cache."""

    def __init__(self, vocab=259, k=6):
        super().__init__()
        self.k, self.vocab = k, vocab
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, input_ids, **kwargs):
        b, n = input_ids.shape
        logits = torch.zeros(b, n, self.vocab)
        for r in range(b):
            seq = input_ids[r].tolist()
            last = {}
            for i in range(n):
                if i + 1 >= self.k:
                    ctx = tuple(seq[i + 1 - self.k : i + 1])
                    if ctx in last:
                        logits[r, i, seq[last[ctx] + 1]] = 20.0
                    if i + 1 < n:
                        last[ctx] = i
        return type("Out", (), {"logits": logits, "cache": None})()


def test_scorer_finds_planted_key():
    trials = passkey_trials([300, 600], n_trials=3, seed=1)
    rows = score_passkey(InductionOracle(), trials, n_candidates=10)
    assert all(r["exact"] and r["ranked"] and r["rank"] == 1 for r in rows)
    assert paper_table(rows) == {"metric": "exact", "threshold": 0.8, "max_length": 600, "mean_accuracy": 1.0}


def test_scorer_rejects_a_wrong_key():
    """The prompt hides one key but the expected answer is another: both criteria must fail."""
    trials = []
    for j in range(3):
        p = make_passkey_prompt(400, j)
        other = str((int(p.key[0]) % 9) + 1) + p.key[1:]  # differs in the first digit
        q = make_passkey_prompt(400, j, key=other)
        planted = type(p)(**{**p.__dict__, "key": q.key, "answer_ids": q.answer_ids})
        trials.append((400, j, planted))
    rows = score_passkey(InductionOracle(), trials, n_candidates=10)
    assert not any(r["exact"] or r["ranked"] for r in rows)
    assert all(r["rank"] > 1 for r in rows)
    assert paper_table(rows)["max_length"] is None


def test_cache_and_no_cache_agree_on_a_tiny_model():
    from yarnlab.model.tiny import build_model

    model = build_model("micro").double().eval()
    trials = passkey_trials([300], n_trials=2, seed=0)
    a = score_passkey(model, trials, n_candidates=5, use_cache=True)
    b = score_passkey(model, trials, n_candidates=5, use_cache=False)
    for x, y in zip(a, b):
        assert x["greedy"] == y["greedy"] and x["rank"] == y["rank"]
        assert x["key_logprob"] == pytest.approx(y["key_logprob"], rel=1e-9)
        assert x["best_other_logprob"] == pytest.approx(y["best_other_logprob"], rel=1e-9)


def test_tables():
    rows = [{"length": n, "depth": d, "exact": e, "ranked": True}
            for n, d, e in [(100, 0.1, True), (100, 0.9, True), (200, 0.1, True), (200, 0.95, False),
                            (300, 0.5, False), (300, 0.6, False)]]
    assert accuracy_by_length(rows) == {100: 1.0, 200: 0.5, 300: 0.0}
    assert paper_table(rows) == {"metric": "exact", "threshold": 0.8, "max_length": 100, "mean_accuracy": 1.0}
    assert paper_table(rows, "ranked")["max_length"] == 300
    cells = accuracy_by_depth(rows, bins=2)
    assert {(c["length"], c["depth_lo"]): c["accuracy"] for c in cells}[(200, 0.5)] == 0.0
