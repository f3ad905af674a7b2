"""Training windows without position artifacts, and the synthetic retrieval documents."""

from __future__ import annotations

import numpy as np
import pytest

from yarnlab.data.passkey import KEY_PREFIX, QUESTION, shortest_prompt
from yarnlab.data.synthetic import copy_documents
from yarnlab.data.tokenizer import BOS_ID, EOS_ID
from yarnlab.data.windows import WindowStream, retrieval_documents
from yarnlab.errors import UsageError


def docs(n=30, seed=0):
    rng = np.random.default_rng(seed)
    words = [b"alpha ", b"beta ", b"gamma\n", b"delta ", b"epsilon\n"]
    return [b"".join(words[i] for i in rng.integers(0, len(words), int(rng.integers(40, 400)))) for _ in range(n)]


def test_no_special_token_at_a_fixed_position():
    s = WindowStream(docs(), 64, seed=1)
    ids = np.concatenate([s.batch(k, 16)[0].numpy() for k in range(40)])  # 640 windows
    assert not (ids == BOS_ID).any()
    eos_pos = np.argwhere(ids == EOS_ID)[:, 1]
    # EOS stands where documents end: spread over the window, not piled on the last position
    assert len(eos_pos) > 20
    assert len(np.unique(eos_pos)) > 15
    assert np.mean(eos_pos == 63) < 0.1
    # the first token of a window is ordinary text most of the time (no bookend)
    assert np.mean(ids[:, 0] == EOS_ID) < 0.1


def test_eos_only_where_documents_end():
    d = docs(5)
    s = WindowStream(d, 32, seed=0)
    assert int((s.stream == EOS_ID).sum()) == len(d)
    assert len(s.stream) == sum(len(x) for x in d) + len(d)


def test_windows_are_a_function_of_seed_and_step_and_ranks_split_the_batch():
    a, b = WindowStream(docs(), 48, seed=3), WindowStream(docs(), 48, seed=3)
    assert np.array_equal(a.batch(7, 8)[0], b.batch(7, 8)[0])
    assert not np.array_equal(a.batch(7, 8)[0], a.batch(8, 8)[0])
    full = a.batch(5, 8)[0].numpy()
    halves = np.concatenate([a.batch(5, 8, rank=r, world_size=2)[0].numpy() for r in (0, 1)])
    assert np.array_equal(full, halves)
    ids, labels = a.batch(0, 4)
    assert np.array_equal(ids.numpy(), labels.numpy())  # every target scored, no padding


def test_eval_batches_fixed_and_non_overlapping():
    s = WindowStream(docs(), 32, seed=0)
    got = np.concatenate([x.numpy() for x, _ in s.eval_batches(3, 4)])
    assert got.shape == (12, 32)
    assert np.array_equal(got.reshape(-1), s.stream[: 12 * 32])


def test_retrieval_documents_hold_their_key_and_answer():
    out = retrieval_documents(20, 256, seed=5)
    assert len(out) == 20
    lo = shortest_prompt(5, task=False)
    for d in out:
        text = bytes(d.astype(np.uint8)).decode()
        assert lo <= len(d) <= 256
        key = text.split(KEY_PREFIX, 1)[1][:5]
        assert key.isdigit()
        assert text.endswith(QUESTION + " " + key + ".")
    lengths = {len(d) for d in out}
    assert len(lengths) > 5  # lengths vary: the answer is not at a fixed position


def test_retrieval_fraction_mixed_into_the_stream():
    s = WindowStream(docs(200), 256, seed=0, retrieval_fraction=0.1)
    assert 0.05 < s.retrieval_tokens / len(s.stream) < 0.15
    text = bytes(s.stream[s.stream < 256].astype(np.uint8))
    assert text.count(b"What is the pass key?") >= 5


@pytest.mark.parametrize("kw", [{"retrieval_fraction": 0.6}, {"retrieval_fraction": -0.1}])
def test_bad_settings_name_the_field(kw):
    with pytest.raises(UsageError, match="retrieval_fraction"):
        WindowStream(docs(), 32, **kw)


def test_too_little_text_is_named():
    with pytest.raises(UsageError, match="documents"):
        WindowStream([b"ab"], 64)


def _cut(s, offsets):
    """Windows (offsets) whose edges fall strictly inside a synthetic document."""
    t, n = s.seq_len, 0
    for o in offsets:
        inside = (s._syn_start < o) & (o < s._syn_end) | (s._syn_start < o + t) & (o + t < s._syn_end)
        n += bool(inside.any())
    return n


def test_copy_documents_mixed_into_the_stream():
    s = WindowStream(docs(200), 256, seed=0, retrieval_fraction=0.05, copy_fraction=0.1)
    assert 0.07 < s.copy_tokens / len(s.stream) < 0.13
    assert 0.03 < s.retrieval_tokens / len(s.stream) < 0.07
    # each recorded copy document is span + gap + span with its two copies equal
    copies = [s.stream[a:b] for a, b in zip(s._syn_start, s._syn_end)
              if not bytes(s.stream[a:b].astype(np.uint8)).startswith((b"There", b" "))]
    assert len(copies) > 20
    assert all(((c >= ord("a")) & (c <= ord("z"))).all() for c in copies)


def test_whole_placement_keeps_synthetic_documents_inside_the_window():
    kw = dict(seed=3, retrieval_fraction=0.1, copy_fraction=0.1)
    whole = WindowStream(docs(300), 128, **kw)
    cut = WindowStream(docs(300), 128, place_whole=False, **kw)
    assert np.array_equal(whole.stream, cut.stream)  # the same stream; only the offsets differ
    n = 2000
    # a window that cut one document holds it whole after the move; it can still cut a neighbour that
    # sits closer than T: rare at these shares (measured 20 of 2000), against 781 at random offsets
    o_whole, o_cut = whole.offsets(0, n), cut.offsets(0, n)
    assert _cut(whole, o_whole) < 0.03 * n
    assert _cut(cut, o_cut) > 0.3 * n
    # every window with a pass-key question holds its answer
    ids = np.concatenate([whole.batch(k, 16)[0].numpy() for k in range(50)])
    q = np.frombuffer(b"What is the pass key? The pass key is", dtype=np.uint8)
    for row in ids:
        text = bytes(row[row < 256].astype(np.uint8))
        at = text.find(bytes(q))
        if at >= 0 and text.find(b"pass key is ", 0, at) >= 0:
            assert len(text) >= at + len(q) + 6
    # a function of (seed, item) alone: resuming needs no state
    assert np.array_equal(whole.offsets(500, 10), o_whole[500:510])


@pytest.mark.parametrize("kw, field", [({"copy_fraction": 0.99}, "copy_fraction"),
                                       ({"copy_fraction": 0.6, "retrieval_fraction": 0.4},
                                        "retrieval_fraction \\+ copy_fraction"),
                                       ({"copy_fraction": 0.1, "encode": list}, "copy_fraction")])
def test_bad_copy_settings_name_the_field(kw, field):
    with pytest.raises(UsageError, match=field):
        WindowStream(docs(), 32, **kw)


def test_gap_share_sets_how_many_copy_documents_have_a_gap():

    def gapped(docs):
        out = 0
        for d in docs:
            for span in range(8, len(d) // 2 + 1):  # the shortest span whose copies match end to end
                if np.array_equal(d[:span], d[len(d) - span:]) and len(d) > 2 * span:
                    out += 1
                    break
        return out

    assert gapped(copy_documents(200, 128, seed=1, gap_share=0.0)) == 0
    assert all(np.array_equal(d[: len(d) // 2], d[len(d) // 2:]) for d in copy_documents(50, 128, 1, gap_share=0.0))
    assert 60 < gapped(copy_documents(200, 128, seed=1, gap_share=1.0)) <= 200
    with pytest.raises(UsageError, match="gap_share"):
        copy_documents(2, 128, 0, gap_share=1.5)


def test_a_curriculum_draws_from_the_first_stream_until_the_switch():
    from yarnlab.data.windows import PhasedStream

    warm = WindowStream(docs(200), 64, seed=0, copy_fraction=0.9, copy_gap_share=0.0)
    main = WindowStream(docs(200), 64, seed=0, copy_fraction=0.1)
    p = PhasedStream(warm, main, switch=5)
    assert np.array_equal(p.batch(4, 8)[0], warm.batch(4, 8)[0])
    assert np.array_equal(p.batch(5, 8)[0], main.batch(5, 8)[0])
    assert next(iter(p.eval_batches(1, 4)))[0].shape == (4, 64)
    with pytest.raises(UsageError, match="seq_len"):
        PhasedStream(WindowStream(docs(), 32), main, 3)


def test_copy_alphabet_sets_the_symbols_of_copy_documents():
    letters = np.concatenate(copy_documents(100, 128, seed=2))
    printable = np.concatenate(copy_documents(100, 128, seed=2, copy_alphabet="printable"))
    assert set(letters.tolist()) <= set(range(ord("a"), ord("z") + 1))
    got = set(printable.tolist())
    assert got <= set(range(32, 127)) and len(got) == 95  # digits, capitals, space and punctuation too
    assert any(ord("0") <= x <= ord("9") for x in got) and any(ord("A") <= x <= ord("Z") for x in got)
    d = copy_documents(30, 128, seed=2, gap_share=0.0, copy_alphabet="printable")
    assert all(np.array_equal(x[: len(x) // 2], x[len(x) // 2:]) for x in d)
    with pytest.raises(UsageError, match=r"copy_alphabet: must be one of \['letters', 'printable', 'prose', 'mixed'\]"):
        copy_documents(2, 128, 0, copy_alphabet="digits")
    s = WindowStream(docs(200), 64, seed=0, copy_fraction=0.5, copy_alphabet="printable")
    inserted = np.concatenate([s.stream[a:b] for a, b in zip(s._syn_start, s._syn_end)])
    assert set(inserted.tolist()) - set(range(ord("a"), ord("z") + 1))  # not letters only


def _occurs_in(part, text):
    """Whether ``part`` is a run of consecutive tokens of ``text``."""
    n = len(part)
    return any(np.array_equal(text[o:o + n], part) for o in np.flatnonzero(text == part[0]) if o + n <= len(text))


def test_prose_copy_documents_repeat_a_slice_of_the_training_text():
    rng = np.random.default_rng(5)
    text = rng.integers(97, 123, size=5000)  # a text whose slices cannot be mistaken for each other
    for x in copy_documents(20, 128, seed=3, gap_share=0.0, copy_alphabet="prose", text=text):
        half = len(x) // 2
        assert np.array_equal(x[:half], x[half:]) and _occurs_in(x[:half], text)
    for x in copy_documents(20, 128, seed=3, gap_share=1.0, copy_alphabet="prose", text=text):
        assert any(np.array_equal(x[:s], x[len(x) - s:]) for s in range(8, len(x) // 2 + 1))
        assert _occurs_in(x[:8], text) and len(x) <= 128
    with pytest.raises(UsageError, match="copy_alphabet: 'prose' cuts spans from the training text"):
        copy_documents(2, 128, 0, copy_alphabet="prose")


def test_mixed_copy_documents_draw_each_source():
    text = np.frombuffer(b"The Tragedy of Hamlet, Prince of Denmark. " * 40, dtype=np.uint8).astype(np.int64)
    d = copy_documents(60, 128, seed=1, gap_share=0.0, copy_alphabet="mixed", text=text)
    assert all(np.array_equal(x[: len(x) // 2], x[len(x) // 2:]) for x in d)
    lower = set(range(ord("a"), ord("z") + 1))
    kinds = {"letters": 0, "prose": 0, "printable": 0}
    for x in d:
        a = x[: len(x) // 2]
        kinds["letters" if set(a.tolist()) <= lower and not _occurs_in(a, text)
              else "prose" if _occurs_in(a, text) else "printable"] += 1
    assert all(n >= 10 for n in kinds.values()), kinds  # about 20 each of 60


def test_a_stream_cuts_prose_copies_from_its_own_training_text():
    s = WindowStream(docs(200), 64, seed=0, copy_fraction=0.3, copy_alphabet="prose")
    keep = np.ones(len(s.stream), dtype=bool)
    for a, b in zip(s._syn_start, s._syn_end):
        keep[a:b + 1] = False  # the document and its newline
    text = s.stream[keep]
    a, b = int(s._syn_start[0]), int(s._syn_end[0])
    doc = s.stream[a:b]
    assert _occurs_in(doc[:8], text[text != s.eos_id])
