"""The induction diagnostic on hand-built models: one that copies, one that cannot."""

from __future__ import annotations

import math

import numpy as np
import pytest

from yarnlab.errors import UsageError

torch = pytest.importorskip("torch")

from yarnlab.evaluate.induction import (  # noqa: E402
    LN26,
    default_distances,
    icl_score,
    induction_gain,
    induction_sequences,
    token_nll,
)

V = 259


class _Out:
    def __init__(self, logits):
        self.logits = logits


class Copier(torch.nn.Module):
    """Logits of an induction head that matches the last K = 3 tokens: at position t, find the
    previous occurrence of (x_{t-2}, x_{t-1}, x_t) and put almost all mass on the token after it;
    with no earlier occurrence, uniform over the letters. (Matching one token, a random letter
    recurs too often inside the gap to point at the right successor.)"""

    K = 3

    def forward(self, input_ids):
        b, t = input_ids.shape
        letters = torch.full((V,), -1e4)
        letters[ord("a"): ord("z") + 1] = 0.0
        out = letters.expand(b, t, V).clone()
        for i in range(b):
            x = input_ids[i].tolist()
            last = {}
            for q in range(self.K - 1, t):
                key = tuple(x[q - self.K + 1: q + 1])
                if key in last:
                    out[i, q, x[last[key] + 1]] = 20.0
                last[key] = q
        return _Out(out)


class Unigram(torch.nn.Module):
    """Uniform over the 26 letters whatever the context: nothing to copy with."""

    def forward(self, input_ids):
        b, t = input_ids.shape
        out = torch.full((b, t, V), -1e4)
        out[..., ord("a"): ord("z") + 1] = 0.0
        return _Out(out)


def test_a_copying_model_gains_at_every_distance():
    res = induction_gain(Copier(), 128, span=16, n_seqs=8, seed=0)
    assert [r["distance"] for r in res.summary] == [16, 32, 64, 112]
    for r in res.summary:
        # first copy: uniform over letters (ln 26) except where a letter repeats inside the span itself
        assert r["nll_first"] > 0.8 * LN26
        # second copy: copied from the first once K letters of it are in view (the first K - 1
        # targets stay uniform: 2 of 15, i.e. 0.43 nats of the mean; a trigram that recurs by chance
        # in the gap points elsewhere: 2 of the 8 sequences at distance 64, 0.77 nats in all)
        assert r["nll_second"] < 1.0
        assert r["gain_lo"] > 1.5
        assert r["gain_lo"] <= r["gain"] <= r["gain_hi"]
    assert len(res.rows) == 4 * 8


def test_a_model_that_cannot_copy_gains_nothing():
    res = induction_gain(Unigram(), 128, span=16, n_seqs=8)
    for r in res.summary:
        assert r["nll_first"] == pytest.approx(LN26, abs=1e-9)
        assert r["gain"] == pytest.approx(0.0, abs=1e-9)
    assert res.mean_gain == pytest.approx(0.0, abs=1e-9)


def test_sequences_are_a_span_a_gap_and_the_span_again():
    seqs = induction_sequences([16, 40], span=16, n_seqs=3, seed=5)
    assert seqs[16].shape == (3, 32) and seqs[40].shape == (3, 56)
    for d, x in seqs.items():
        assert np.array_equal(x[:, :16], x[:, d: d + 16])
        assert ((x >= ord("a")) & (x <= ord("z"))).all()
    # adding a distance never changes the sequences of another
    assert np.array_equal(induction_sequences([40], 16, 3, seed=5)[40], seqs[40])


def test_token_nll_matches_cross_entropy_by_hand():
    x = np.array([[97, 98, 99, 97, 98, 99]])
    nll = token_nll(Copier(), x)
    assert math.isnan(nll[0, 0])
    x = np.array([[97, 98, 99, 97, 98, 99, 97]])
    nll = token_nll(Copier(), x)
    # "a b c" recurs at positions 3..5, so the copier puts 20 on the "a" that followed it: -log softmax
    p = math.exp(20) / (math.exp(20) + 25)
    assert nll[0, 6] == pytest.approx(-math.log(p), rel=1e-6)
    assert nll[0, 1] == pytest.approx(LN26, rel=1e-9)


def test_default_distances_reach_the_window():
    assert default_distances(256, 32) == [32, 64, 128, 224]
    with pytest.raises(UsageError, match="length"):
        default_distances(40, 32)


def test_icl_score_is_late_minus_early():
    nll = np.full((4, 64), 3.0)
    nll[:, 48:] = 2.0  # later positions predicted better
    nll[:, 0] = np.nan
    out = icl_score(nll)
    assert out["icl"] == pytest.approx(-1.0)
    assert out["early"] == [4, 8] and out["late"] == [48, 64]
    assert out["icl_lo"] == pytest.approx(-1.0) and out["icl_hi"] == pytest.approx(-1.0)


@pytest.mark.parametrize("kw, field", [({"span": 1}, "span"), ({"n_seqs": 1}, "n_seqs"),
                                       ({"distances": [8]}, "distances"), ({"distances": [120]}, "distances")])
def test_bad_settings_name_the_field(kw, field):
    with pytest.raises(UsageError, match=field):
        induction_gain(Unigram(), 128, **{"span": 16, **kw})


def test_icl_needs_two_windows():
    with pytest.raises(UsageError, match="nll"):
        icl_score(np.zeros((1, 64)))


def test_other_vocabularies_map_the_same_draw():
    from yarnlab.evaluate.induction import random_token_vocab

    vocab = random_token_vocab(49152)
    assert vocab[0] == 1000 and vocab[-1] == 19999
    letters = induction_sequences([20], 10, 4, seed=2)[20]
    mapped = induction_sequences([20], 10, 4, seed=2, vocab=vocab)[20]
    assert ((mapped >= 1000) & (mapped < 20000)).all()
    # a one-to-one relabelling: equal letters map to equal ids, the copy structure is kept
    assert all(len(set(mapped[letters == c])) == 1 for c in np.unique(letters))
    assert np.array_equal(mapped[:, :10], mapped[:, 20:30])
    with pytest.raises(UsageError, match="vocab"):
        induction_sequences([20], 10, 4, vocab=np.arange(5))
