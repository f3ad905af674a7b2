"""Balanced evaluation pieces (issue 20 item 3): every evaluation set is a prefix of the piece list
(``--max-docs``), so each prefix of r pieces per work must hold r pieces of every work and no work's
opening piece (``<work>@0``: title, cast list) unless it takes that work whole. Checked on the piece
ids, on synthetic streams and on the real prose held-out split at every set size the default config
uses; the seed makes the order reproducible; ``sequential`` still gives the order before balancing."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml

from yarnlab.evaluate.docs import evaluation_pieces, slot_order

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = yaml.safe_load((ROOT / "workflows/config/default.yaml").read_text())


def default_set_sizes() -> dict[str, int]:
    """Every evaluation-set size of the default config (each a prefix of the data.n_docs pieces)."""
    regime = DEFAULT.get("regime") or {}
    return {"data.n_docs": DEFAULT["data"]["n_docs"], "sweep.n_docs": DEFAULT["sweep"]["n_docs"],
            "ablation.n_docs": DEFAULT["ablation"]["n_docs"], "dynamic.n_docs": DEFAULT["dynamic"]["n_docs"],
            "regime.spread_docs": regime.get("spread_docs", 8)}


def work(i: str) -> str:
    return i.rsplit("@", 1)[0]


def check_prefix(ids: list[str], n: int, slots: dict[str, int]) -> None:
    """The first ``n`` ids: the same count per work (n a multiple of the number of works, below every
    work's slot count) and no opening piece; in general, an opening piece only of a work taken whole."""
    head = ids[:n]
    counts = Counter(work(i) for i in head)
    assert sorted(counts) == sorted(slots), (n, counts)
    assert len(set(counts.values())) == 1, (n, counts)
    assert [i for i in head if i.endswith("@0")] == [], (n, head)


def old_ids(streams, tokens: int, n_docs: int) -> list[str]:
    """The order before balancing, restated: round k takes slot k of every work long enough for it."""
    ids, k = [], 0
    while len(ids) < n_docs:
        ids += [f"{w}@{k * tokens}" for w, s in streams if (k + 1) * tokens <= len(s)]
        k += 1
    return ids[:n_docs]


def synthetic(n_slots=(7, 3, 12, 5, 9), tokens: int = 10) -> list[tuple[str, np.ndarray]]:
    """Works ``w0, w1, ...`` of ``n_slots[i] * tokens + 3`` tokens (a partial tail slot), values
    encoding (work, position) so a piece can be traced back."""
    return [(f"w{i}", 100_000 * i + np.arange(k * tokens + 3)) for i, k in enumerate(n_slots)]


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_synthetic_prefixes_are_balanced_and_openings_come_last(seed):
    tokens, streams = 10, synthetic()
    slots = {w: len(s) // tokens for w, s in streams}
    total = sum(slots.values())
    pieces, ids = evaluation_pieces(streams, tokens, total, seed=seed)
    assert sorted(ids) == sorted(old_ids(streams, tokens, total))  # the same pieces, another order
    for piece, i in zip(pieces, ids):  # each piece is its work's slot at the id's offset
        w, off = work(i), int(i.rsplit("@", 1)[1])
        np.testing.assert_array_equal(piece, dict(streams)[w][off:off + tokens])
    W = len(streams)
    for r in range(1, min(slots.values())):  # every prefix of r pieces per work below the shortest work
        check_prefix(ids, r * W, slots)
    with pytest.raises(AssertionError):  # the shortest work (3 slots) is taken whole at r = 3: its opening
        check_prefix(ids, min(slots.values()) * W, slots)
    for w, k in slots.items():  # a work's opening is its last piece, in round K_w - 1
        mine = [j for j, i in enumerate(ids) if work(i) == w]
        assert len(mine) == k and ids[mine[-1]] == f"{w}@0"
    for n in range(1, total + 1):  # no prefix holds the opening of a work it does not take whole
        taken = Counter(work(i) for i in ids[:n])
        assert all(taken[work(i)] == slots[work(i)] for i in ids[:n] if i.endswith("@0")), n


def test_sequential_reproduces_the_old_order():
    tokens, streams = 10, synthetic()
    total = sum(len(s) // tokens for _, s in streams)
    for n in (1, 5, 17, total):
        pieces, ids = evaluation_pieces(streams, tokens, n, "sequential")
        assert ids == old_ids(streams, tokens, n)
    # the order before balancing, literally: every opening first
    assert evaluation_pieces(streams, tokens, 7, "sequential")[1] == ["w0@0", "w1@0", "w2@0", "w3@0", "w4@0",
                                                                      "w0@10", "w1@10"]


def test_the_seed_fixes_the_order_and_a_work_depends_on_its_name_only():
    tokens, streams = 10, synthetic()
    total = sum(len(s) // tokens for _, s in streams)
    a = evaluation_pieces(streams, tokens, total, seed=3)[1]
    assert a == evaluation_pieces(streams, tokens, total, seed=3)[1]
    assert a != evaluation_pieces(streams, tokens, total, seed=4)[1]
    # dropping a work leaves every other work's order unchanged
    rest = evaluation_pieces(streams[1:], tokens, total - len(streams[0][1]) // tokens, seed=3)[1]
    for w, _ in streams[1:]:
        assert [i for i in a if work(i) == w] == [i for i in rest if work(i) == w]
    assert slot_order("w2", 12, "balanced", 3)[-1] == 0 and sorted(slot_order("w2", 12, "balanced", 3)) == list(
        range(12))
    assert slot_order("w2", 1) == [0] and slot_order("w2", 0) == []


@pytest.fixture(scope="module")
def prose_heldout():
    """The default config's held-out prose works, byte-tokenized (skipped when the corpus is absent)."""
    from yarnlab.errors import UsageError
    from yarnlab.evaluate.docs import corpus_streams

    try:
        streams, _ = corpus_streams(DEFAULT["data"]["corpus"], DEFAULT["data"]["heldout_fraction"])
    except (UsageError, OSError, FileNotFoundError) as exc:
        pytest.skip(f"prose corpus not available: {exc}")
    return streams


def test_default_sets_on_the_prose_heldout_split_are_balanced(prose_heldout):
    tokens, n_docs = DEFAULT["data"]["tokens"], DEFAULT["data"]["n_docs"]
    slots = {w: len(s) // tokens for w, s in prose_heldout}
    W = len(slots)
    pieces, ids = evaluation_pieces(prose_heldout, tokens, n_docs)
    assert len(ids) == n_docs and len(set(ids)) == n_docs and all(len(p) == tokens for p in pieces)
    for key, n in default_set_sizes().items():
        assert n % W == 0 and n // W < min(slots.values()), (key, n, W)  # the sizes the property covers
        check_prefix(ids, n, slots)
    old = evaluation_pieces(prose_heldout, tokens, n_docs, "sequential")[1]
    assert old == old_ids(prose_heldout, tokens, n_docs)
    # the order before balancing: the opening of every work in the first W pieces, all of dynamic.n_docs;
    # the check above refuses it
    assert sum(i.endswith("@0") for i in old[:DEFAULT["dynamic"]["n_docs"]]) == min(W, DEFAULT["dynamic"]["n_docs"])
    with pytest.raises(AssertionError):
        check_prefix(old, DEFAULT["dynamic"]["n_docs"], slots)
