"""Chunking: BOS/EOS bookends, no chunk across documents, resumable order, rank slices."""

import numpy as np
import pytest

from yarnlab.data.chunks import IGNORE, ChunkStream
from yarnlab.data.tokenizer import BOS_ID, EOS_ID, PAD_ID
from yarnlab.errors import UsageError

DOCS = [bytes([65 + i]) * (100 + 37 * i) for i in range(6)]  # doc i is made of one letter


def _content(ids):
    return ids[1: np.where(ids == EOS_ID)[0][0]]


def test_chunks_are_bookended_and_stay_in_one_document():
    s = ChunkStream(DOCS, seq_len=32, seed=1)
    for step in range(40):
        ids, labels = s.batch(step, 4)
        for row, lab in zip(ids.numpy(), labels.numpy()):
            assert row[0] == BOS_ID and (row == EOS_ID).sum() == 1
            body = _content(row)
            assert len(body) >= 1 and len(set(body.tolist())) == 1  # one document only
            pad = row == PAD_ID
            assert (lab[pad] == IGNORE).all() and (lab[~pad] == row[~pad]).all()


def test_epoch_zero_covers_every_byte_once_without_offsets():
    s = ChunkStream(DOCS, seq_len=32, seed=0, vary_offsets=False, min_tail=1)
    rows = s.items(0, len(s))
    covered = sorted((int(d), int(a), int(n)) for d, a, n in rows)
    for i, doc in enumerate(DOCS):
        spans = [(a, n) for d, a, n in covered if d == i]
        assert sum(n for _, n in spans) == len(doc)
        assert [a for a, _ in spans] == list(range(0, len(doc), 30))


def test_order_is_a_function_of_seed_and_step():
    a, b = ChunkStream(DOCS, 32, seed=5), ChunkStream(DOCS, 32, seed=5)
    for step in (0, 7, 60):  # 60 reaches later epochs
        assert np.array_equal(a.batch(step, 4)[0], b.batch(step, 4)[0])
    assert not np.array_equal(a.batch(3, 4)[0], ChunkStream(DOCS, 32, seed=6).batch(3, 4)[0])


def test_rank_slices_make_up_the_global_batch():
    s = ChunkStream(DOCS, 32, seed=2)
    for step in (0, 9):
        full = s.batch(step, 6)[0]
        parts = [s.batch(step, 6, rank=r, world_size=3)[0] for r in range(3)]
        assert np.array_equal(full, np.concatenate(parts))
    with pytest.raises(UsageError, match="batch_size"):
        s.batch(0, 5, rank=0, world_size=2)


def test_later_epochs_shift_the_cut_points():
    s = ChunkStream(DOCS, 32, seed=0)
    starts0 = {(int(d), int(a)) for d, a, _ in s._epoch(0)}
    starts1 = {(int(d), int(a)) for d, a, _ in s._epoch(1)}
    assert starts0 != starts1


def test_token_id_documents_with_pad_equal_to_eos():
    docs = [list(range(10, 60)), list(range(100, 117))]
    s = ChunkStream(docs, seq_len=16, seed=0, bos_id=1, eos_id=2, pad_id=2, shuffle=False, vary_offsets=False)
    assert not s.byte_level
    ids, labels = s.batch(0, len(s))
    for row, lab in zip(ids.numpy(), labels.numpy()):
        assert row[0] == 1
        n = int((lab != IGNORE).sum()) - 2  # BOS and EOS positions carry labels too
        assert row[1 + n] == 2 and lab[1 + n] == 2  # the real EOS is a target
        assert (lab[2 + n:] == IGNORE).all() and (row[2 + n:] == 2).all()
    body = np.concatenate([r[1: 1 + int((lab != IGNORE).sum()) - 2] for r, lab in zip(ids.numpy(), labels.numpy())])
    assert sorted(body.tolist()) == sorted(docs[0] + docs[1])
