"""``yarnlab eval docs`` (:mod:`yarnlab.evaluate.cli_docs`) and ``yarnlab model fetch|from-gguf``:
the workflow's former scripts as commands. Nothing is downloaded: ``fetch`` runs on a stand-in
``snapshot_download``; ``from-gguf`` on a tiny GGUF file is tested in test_model_gguf.py.

The evaluation documents are checked against an independent expectation: every piece is the byte
slice of its work's first held-out document at the id's offset, taken round-robin over the sorted works
(``--pieces sequential``: the order before balancing, written out here; the balanced order is tested in
test_evaluate_pieces.py)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

import yarnlab.cli
from yarnlab.cli import build_parser
from yarnlab.errors import UsageError
from yarnlab.evaluate.docs import evaluation_pieces

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ("corpus", "hf_dataset", "hf_split", "tokenizer", "heldout_fraction", "tokens", "n_docs", "pieces",
          "pieces_seed", "out")


def _subparsers(parser: argparse.ArgumentParser):
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def parser() -> argparse.ArgumentParser:
    """The real ``yarnlab`` parser (``eval docs`` registered by yarnlab.evaluate.cli)."""
    p = build_parser()
    assert "docs" in _subparsers(_subparsers(p).choices["eval"]).choices
    return p


def run(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


def eval_docs(out: Path, *extra: str, tokens: int = 64, n_docs: int = 10) -> list[str]:
    return ["eval", "docs", "--corpus", "prose", "--heldout-fraction", "0.1", "--tokens", str(tokens),
            "--n-docs", str(n_docs), "--out", str(out), *extra]


def load(path: Path) -> tuple[list[str], list[np.ndarray]]:
    with np.load(path) as z:
        keys = sorted((k for k in z.files if k != "ids"), key=lambda k: int(k[3:]))
        return z["ids"].tolist(), [z[k] for k in keys]


@pytest.fixture(scope="module")
def heldout():
    """work -> bytes of its first held-out document (the training split of prose, seed 0)."""
    from yarnlab.data.corpus import load_corpus, split_corpus

    first = {}
    for d in split_corpus(load_corpus("prose"), 0.1, 0).heldout:
        first.setdefault(d.group, d.read_bytes())
    return first


def expected(heldout: dict[str, bytes], tokens: int, n_docs: int) -> list[str]:
    """Ids by the rule, written out: round k, the works in name order, whole pieces only."""
    ids, k = [], 0
    while len(ids) < n_docs:
        new = [f"{w}@{k * tokens}" for w in sorted(heldout) if (k + 1) * tokens <= len(heldout[w])]
        assert new, f"only {len(ids)} pieces of {tokens} tokens"
        ids, k = ids + new, k + 1
    return ids[:n_docs]


@pytest.mark.parametrize("tokens,n_docs,order", [(64, 10, "sequential"), (40_000, 10, "sequential"),
                                                 (40_000, 10, "balanced")])
def test_prose_pieces_are_heldout_slices(tmp_path, heldout, tokens, n_docs, order):
    out = tmp_path / "docs.npz"
    assert run(eval_docs(out, "--pieces", order, tokens=tokens, n_docs=n_docs)) == 0
    ids, pieces = load(out)
    if order == "sequential":
        assert ids == expected(heldout, tokens, n_docs)
    else:  # every piece of the 4 works (2 or 3 slots each): an opening only in its work's last round
        slots = {w: len(b) // tokens for w, b in heldout.items()}
        assert sorted(ids) == sorted(expected(heldout, tokens, n_docs)) and n_docs == sum(slots.values())
        first = [i for i in ids if i.endswith("@0")]
        assert [ids.index(i) // len(heldout) for i in first] == [slots[i.rsplit("@", 1)[0]] - 1 for i in first]
        assert not any(i.endswith("@0") for i in ids[:len(heldout)])
    for i, piece in zip(ids, pieces):
        work, offset = i.rsplit("@", 1)
        data = heldout[work][int(offset):int(offset) + tokens]
        assert piece.dtype == np.int64 and len(piece) == tokens
        np.testing.assert_array_equal(piece, np.frombuffer(data, dtype=np.uint8))
    rec = json.loads(Path(str(out) + ".provenance.json").read_text())
    assert list(rec["parameters"]) == list(PARAMS) and rec["parameters"]["out"] == str(out)
    assert rec["n_docs"] == n_docs and rec["source"]["works"] == sorted(heldout)
    assert rec["parameters"]["pieces"] == order and rec["parameters"]["pieces_seed"] == 0
    assert rec["source"]["corpus"] == "prose" and rec["source"]["tokenizer"] == "bytes"
    assert sorted(f.name for f in tmp_path.iterdir()) == ["docs.npz", "docs.npz.provenance.json"]


def test_40k_pieces_exhaust_short_works(heldout):
    """With 40,000-token pieces the shorter works run out first: later rounds skip them."""
    streams = [(w, np.frombuffer(heldout[w], dtype=np.uint8).astype(np.int64)) for w in sorted(heldout)]
    have = sum(len(s) // 40_000 for _, s in streams)
    _, ids = evaluation_pieces(streams, 40_000, have, "sequential")
    rounds = [int(i.rsplit("@", 1)[1]) // 40_000 for i in ids]
    assert rounds == sorted(rounds) and len(set(ids)) == have
    assert len({i.rsplit("@", 1)[0] for i in ids if i.endswith(f"@{max(rounds) * 40_000}")}) < len(streams)


@pytest.mark.parametrize("option,value,needle", [
    ("--tokens", "0", "--tokens: must be an integer >= 1 (got 0)"),
    ("--n-docs", "0", "--n-docs: must be an integer >= 1 (got 0)"),
    ("--heldout-fraction", "1.0", "--heldout-fraction: must be in (0, 1) (got 1.0)"),
    ("--heldout-fraction", "0", "--heldout-fraction: must be in (0, 1) (got 0.0)"),
    ("--pieces-seed", "-1", "--pieces-seed: must be an integer >= 0 (got -1)"),
])
def test_bad_input_names_option(tmp_path, option, value, needle):
    argv = eval_docs(tmp_path / "docs.npz", "--pieces-seed", "0")
    argv[argv.index(option) + 1] = value
    with pytest.raises(UsageError) as err:
        run(argv)
    assert needle in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_too_many_pieces(tmp_path, heldout):
    have = sum(len(b) // 40_000 for b in heldout.values())
    with pytest.raises(UsageError, match=rf"--n-docs: must be in \[1, {have}\]: only {have} pieces of 40000 tokens"):
        run(eval_docs(tmp_path / "docs.npz", tokens=40_000, n_docs=have + 1))
    assert list(tmp_path.iterdir()) == []


def test_usage_errors_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(yarnlab.cli, "build_parser", parser)
    assert yarnlab.cli.main(eval_docs(tmp_path / "d.npz", tokens=0)) == 2
    assert "--tokens: must be an integer >= 1" in capsys.readouterr().err
    assert yarnlab.cli.main(["eval", "docs", "--hf-dataset", "pg19", "--tokens", "8", "--n-docs", "1",
                             "--out", str(tmp_path / "d.npz")]) == 2
    assert "--tokenizer: required with --hf-dataset" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:  # argparse: one source only
        yarnlab.cli.main(["eval", "docs", "--corpus", "code", "--hf-dataset", "pg19", "--tokens", "8",
                          "--n-docs", "1", "--out", str(tmp_path / "d.npz")])
    assert exc.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_hf_dataset_pieces(tmp_path, monkeypatch):
    """``--hf-dataset``: documents of >= --tokens bytes in row order, work ``<dataset><i>``."""
    import yarnlab.data.hf
    import yarnlab.evaluate.docs as docs
    from yarnlab.data.hf import TextDocument

    texts = ["a" * 30, "b" * 5, "c" * 20]  # the 5-byte one is dropped by min_bytes = --tokens

    def fake_load(name, split, min_bytes=0):
        assert (name, split) == ("pg19", "validation")
        return [TextDocument(f"{name}/{split}/{i}", t) for i, t in enumerate(texts) if len(t.encode()) >= min_bytes]

    class Tok:
        def __call__(self, text, add_special_tokens=True):
            assert add_special_tokens is False
            return {"input_ids": [ord(c) for c in text]}

    monkeypatch.setattr(yarnlab.data.hf, "load_hf_documents", fake_load)
    monkeypatch.setattr(docs, "_hf_tokenizer", lambda path: Tok())
    out = tmp_path / "hf.npz"
    assert run(["eval", "docs", "--hf-dataset", "pg19", "--hf-split", "validation", "--tokenizer", "tok",
                "--tokens", "10", "--n-docs", "4", "--pieces", "sequential", "--out", str(out)]) == 0
    ids, pieces = load(out)
    assert ids == ["pg190@0", "pg191@0", "pg190@10", "pg191@10"]
    assert [chr(p[0]) for p in pieces] == ["a", "c", "a", "c"]
    rec = json.loads(Path(f"{out}.provenance.json").read_text())
    assert rec["source"] == {"hf_dataset": "pg19", "split": "validation", "tokenizer": "tok"}
    assert rec["parameters"]["corpus"] == "prose" and rec["parameters"]["hf_dataset"] == "pg19"


def test_library_errors():
    streams = [("w", np.arange(10))]
    with pytest.raises(UsageError, match=r"tokens: must be >= 1 \(got 0\)"):
        evaluation_pieces(streams, 0, 1)
    with pytest.raises(UsageError, match=r"n_docs: must be >= 1 \(got 0\)"):
        evaluation_pieces(streams, 5, 0)
    with pytest.raises(UsageError, match=r"n_docs: must be in \[1, 2\]"):
        evaluation_pieces(streams, 5, 3)
    pieces, ids = evaluation_pieces(streams, 5, 2, "sequential")
    assert ids == ["w@0", "w@5"] and [p.tolist() for p in pieces] == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    pieces, ids = evaluation_pieces(streams, 5, 2)  # balanced: the opening slot last
    assert ids == ["w@5", "w@0"] and [p.tolist() for p in pieces] == [[5, 6, 7, 8, 9], [0, 1, 2, 3, 4]]
    with pytest.raises(UsageError, match=r"order: must be one of \['balanced', 'sequential'\] \(got 'random'\)"):
        evaluation_pieces(streams, 5, 2, "random")
    with pytest.raises(UsageError, match=r"seed: must be an integer >= 0 \(got -3\)"):
        evaluation_pieces(streams, 5, 2, "balanced", -3)


@pytest.mark.parametrize("command,options", [("fetch", ["--repo", "--out"]), ("from-gguf", ["--source", "--out"])])
def test_model_help(command, options, capsys):
    with pytest.raises(SystemExit) as exc:
        yarnlab.cli.main(["model", command, "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert f"yarnlab model {command}" in text and all(o in text for o in options)
    with pytest.raises(SystemExit) as exc:  # the options are required
        yarnlab.cli.main(["model", command])
    assert exc.value.code == 2


def test_model_fetch_layout(tmp_path, monkeypatch):
    """``fetch`` with a stand-in snapshot_download: the files of the former hf_base.py."""
    hub = pytest.importorskip("huggingface_hub")
    calls = []

    def fake_snapshot(repo, local_dir, allow_patterns):
        calls.append((repo, local_dir, allow_patterns))
        Path(local_dir).mkdir(parents=True, exist_ok=True)
        Path(local_dir, "config.json").write_text("{}")
        return str(Path(local_dir).resolve())

    monkeypatch.setattr(hub, "snapshot_download", fake_snapshot)
    out = tmp_path / "base"
    assert yarnlab.cli.main(["model", "fetch", "--repo", "org/tiny", "--out", str(out)]) == 0
    assert calls == [("org/tiny", str(out), ["*.json", "*.safetensors", "*.model"])]
    assert (out / "metrics.jsonl").read_text() == ""
    summary = json.loads((out / "train_summary.json").read_text())
    assert list(summary) == ["scenario", "repo", "path", "provenance"]
    assert (summary["scenario"], summary["repo"], summary["path"]) == ("hf_base", "org/tiny", str(out.resolve()))
    assert summary["provenance"]["parameters"] == {"repo": "org/tiny", "out": str(out)}
