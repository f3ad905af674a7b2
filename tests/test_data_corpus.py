"""Byte tokenizer, corpora, document split and manifest."""

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yarnlab.data.corpus import load_code, load_corpus, load_directory, shakespeare_group, split_corpus, write_manifest
from yarnlab.data.tokenizer import BOS_ID, EOS_ID, ByteTokenizer
from yarnlab.errors import UsageError


@given(st.text())
def test_tokenizer_round_trip(text):
    tok = ByteTokenizer()
    ids = tok.encode(text, bos=True, eos=True)
    assert ids[0] == BOS_ID and ids[-1] == EOS_ID
    assert all(0 <= i < 256 for i in ids[1:-1]) and len(ids) == len(text.encode()) + 2
    assert tok.decode(ids) == text


def _make_dir(tmp_path, n=12):
    for i in range(n):
        sub = tmp_path / ("a" if i % 2 else "b")
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"doc{i}.txt").write_text(f"document {i} " * (50 + i))
    (tmp_path / "ignored.bin").write_bytes(b"\x00\x01")
    return tmp_path


def test_directory_corpus_split_is_by_document_and_deterministic(tmp_path):
    corpus = load_directory(_make_dir(tmp_path))
    assert len(corpus.documents) == 12  # .bin skipped
    s1, s2 = split_corpus(corpus, 0.25, seed=3), split_corpus(corpus, 0.25, seed=3)
    assert [d.name for d in s1.heldout] == [d.name for d in s2.heldout]
    names_train, names_held = {d.name for d in s1.train}, {d.name for d in s1.heldout}
    assert not names_train & names_held
    assert names_train | names_held == {d.name for d in corpus.documents}
    assert len(names_held) == 3
    # another seed gives another (still disjoint) split
    assert {d.name for d in split_corpus(corpus, 0.25, seed=4).heldout} != names_held


def test_manifest_records_every_file_with_its_hash(tmp_path):
    corpus = load_directory(_make_dir(tmp_path / "c"))
    split = split_corpus(corpus, 0.2)
    m = write_manifest(split, tmp_path / "out" / "manifest.json")
    assert json.loads((tmp_path / "out" / "manifest.json").read_text()) == m
    rows = {r["file"]: r for r in m["train"] + m["heldout"]}
    assert len(rows) == len(corpus.documents)
    for d in corpus.documents:
        data = (tmp_path / "c" / d.name).read_bytes()
        assert rows[d.name]["bytes"] == len(data)
        assert rows[d.name]["sha256"] == hashlib.sha256(data).hexdigest()


def test_bad_inputs_name_the_field(tmp_path):
    with pytest.raises(UsageError, match="corpus"):
        load_corpus(str(tmp_path / "missing"))
    corpus = load_directory(_make_dir(tmp_path))
    with pytest.raises(UsageError, match="heldout_fraction"):
        split_corpus(corpus, 1.5)


def test_shakespeare_editions_share_a_group():
    assert shakespeare_group("hamlet_gut") == shakespeare_group("hamlet_gut_f") == "hamlet"
    assert shakespeare_group("twelfe-night_gut_f") == shakespeare_group("twelfth_night_gut")
    assert shakespeare_group("titus_andronicus_gut_f") == shakespeare_group("tragedy_of_titus_andronicus_gut")


def test_prose_corpus_keeps_editions_together():
    try:
        corpus = load_corpus("prose")
    except UsageError as exc:
        pytest.skip(str(exc))
    assert len(corpus.documents) == 77
    groups = {}
    for d in corpus.documents:
        groups.setdefault(d.group, []).append(d.name)
    # every First-Folio file (_gut_f) has its Gutenberg edition in the same group
    assert all(any(n.endswith("_gut.txt") for n in groups[d.group])
               for d in corpus.documents if d.name.endswith("_gut_f.txt"))
    for seed in range(5):
        split = split_corpus(corpus, 0.1, seed)
        assert not {d.group for d in split.train} & {d.group for d in split.heldout}
        assert 0.03 < sum(d.bytes for d in split.heldout) / corpus.total_bytes < 0.3


def test_code_corpus_is_the_standard_library():
    corpus = load_code()
    assert len(corpus.documents) > 100
    assert all(d.name.endswith(".py") and "site-packages" not in d.name for d in corpus.documents)
    assert any(d.name == "argparse.py" for d in corpus.documents)
