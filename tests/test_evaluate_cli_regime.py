"""``yarnlab eval positions|context-use|logit-spread`` end to end on a tiny checkpoint and an .npz."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest

from yarnlab.cli import main


@pytest.fixture(scope="module")
def setup(tmp_path_factory, micro_checkpoint):
    root = tmp_path_factory.mktemp("regime")
    shutil.copytree(micro_checkpoint, root / "ckpt")
    rng = np.random.default_rng(0)
    docs = dict(doc0=rng.integers(0, 256, 80), doc1=rng.integers(0, 256, 30), doc2=rng.integers(0, 256, 70))
    np.savez(root / "docs.npz", ids=np.array(["a@0", "b@0", "a@80"]), **docs)  # as `yarnlab eval docs` writes
    np.savez(root / "plain.npz", **docs)
    np.savez(root / "bad.npz", a=np.arange(10))
    return root


def read(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


def args(setup, *rest):
    return ["eval", *rest[:1], "--model", str(setup / "ckpt"), "--docs", str(setup / "docs.npz"), "--no-progress",
            *rest[1:]]


def test_positions(setup, tmp_path):
    from yarnlab.evaluate.positions import position_profile
    from yarnlab.model import load_model

    out = tmp_path / "pos.csv"
    assert main(args(setup, "positions", "--length", "64", "--out", str(out))) == 0
    rows = read(out)
    assert list(rows[0]) == ["method", "factor", "length", "doc", "position", "nll"]
    assert len(rows) == 2 * 63 and {r["doc"] for r in rows} == {"a@0", "a@80"}  # doc1 (30 tokens) is skipped
    prov = json.loads(out.with_name("pos.csv.provenance.json").read_text())
    assert prov["data_manifest"]["documents"][2] == {"file": "doc2", "id": "a@80", "tokens": 70}
    assert prov["rows"] == 126
    with np.load(setup / "docs.npz") as z:
        direct = position_profile(load_model(str(setup / "ckpt")).eval(), [z["doc0"], z["doc2"]], 64)
    assert float(rows[63 + 9]["nll"]) == pytest.approx(direct.nll[1, 10], rel=1e-5)
    binned = tmp_path / "bins.csv"
    assert main(args(setup, "positions", "--length", "72", "--method", "yarn", "--factor", "2", "--bins", "8",
                     "--bos", "--out", str(binned))) == 0  # with the BOS, 71 tokens: doc0 only
    rows = read(binned)
    assert list(rows[0]) == ["method", "factor", "length", "doc", "bin", "pos_lo", "pos_hi", "tokens", "nll"]
    assert len(rows) == 8 and {(r["method"], r["factor"], r["doc"]) for r in rows} == {("yarn", "2.0", "a@0")}
    assert [r["tokens"] for r in rows[:2]] == ["8", "9"] and rows[-1]["pos_hi"] == "72"


def test_context_use_and_logit_spread(setup, tmp_path):
    out = tmp_path / "ctx.csv"
    assert main(args(setup, "context-use", "--length", "64", "--visible", "8", "--out", str(out))) == 0
    rows = read(out)
    assert list(rows[0]) == ["method", "factor", "doc", "length", "visible", "n_tokens", "nll_full",
                             "nll_truncated"]
    assert [r["doc"] for r in rows] == ["a@0", "a@80"] and rows[0]["n_tokens"] == "32"
    plain = tmp_path / "plain.csv"  # an .npz without ids: the key names
    assert main(["eval", "context-use", "--model", str(setup / "ckpt"), "--docs", str(setup / "plain.npz"),
                 "--length", "64", "--visible", "8", "--out", str(plain)]) == 0
    assert [r["doc"] for r in read(plain)] == ["doc0", "doc2"]
    assert [r["nll_full"] for r in read(plain)] == [r["nll_full"] for r in rows]
    spread, pred, heads = tmp_path / "sp.csv", tmp_path / "pred.csv", tmp_path / "heads.csv"
    assert main(args(setup, "logit-spread", "--length", "64", "--scales", "2,4", "--max-docs", "1",
                     "--out", str(spread), "--prediction-out", str(pred), "--heads-out", str(heads))) == 0
    rows = read(spread)
    assert len(rows) == 6 * 2 and {r["n_docs"] for r in rows} == {"1"} and all(float(r["sigma"]) > 0 for r in rows)
    summary = read(pred)
    assert [float(r["s"]) for r in summary] == [2.0, 4.0] and summary[0]["n_heads"] == "12"
    per_head = read(heads)
    assert len(per_head) == 2 * 12 and (per_head[13]["layer"], per_head[13]["head"]) == ("0", "1")
    assert float(per_head[13]["sigma"]) == pytest.approx(float(rows[1]["sigma"]), rel=1e-12)


@pytest.mark.parametrize("rest,message", [
    (("context-use", "--length", "64", "--visible", "0"), "--visible"),
    (("context-use", "--length", "64", "--visible", "33"), "visible: must be in [1, 32]"),
    (("positions", "--length", "0"), "--length"),
    (("positions", "--length", "64", "--bins", "64"), "bins: must be in [1, 63]"),
    (("positions", "--length", "99"), "no document has >= 99"),
    (("positions", "--length", "64", "--batch-tokens", "0"), "--batch-tokens"),
    (("logit-spread", "--length", "64", "--heads-out", "h.csv"), "--heads-out: needs --prediction-out"),
    (("logit-spread", "--length", "64", "--scales", "0.5", "--prediction-out", "p.csv"), "scales"),
])
def test_bad_input_exits_2(setup, tmp_path, capsys, rest, message):
    assert main(args(setup, *rest, "--out", str(tmp_path / "x.csv"))) == 2
    assert message in capsys.readouterr().err


def test_npz_with_other_names_exits_2(setup, tmp_path, capsys):
    assert main(["eval", "positions", "--model", str(setup / "ckpt"), "--docs", str(setup / "bad.npz"),
                 "--length", "8", "--out", str(tmp_path / "x.csv")]) == 2
    assert "doc0 .. doc{N-1}" in capsys.readouterr().err


def test_eval_ppl_window_stride_is_the_sliding_baseline(setup, tmp_path):
    from yarnlab.evaluate.positions import sliding_baseline
    from yarnlab.model import load_model

    out = tmp_path / "ppl"
    assert main(args(setup, "ppl", "--lengths", "32,64", "--window", "16", "--stride", "8", "--out", str(out))) == 0
    rows = read(out / "ppl.csv")
    with np.load(setup / "docs.npz") as z:
        docs = [z[k] for k in ("doc0", "doc1", "doc2")]
    res = sliding_baseline(load_model(str(setup / "ckpt")).eval(), docs, [32, 64], 16)
    assert [(r["window"], r["stride"]) for r in rows] == [("16", "8"), ("16", "8")]
    for r in rows:
        assert float(r["nll_token"]) == pytest.approx(res[int(r["length"])].mean_nll(), rel=1e-6)
    # documents of an .npz are named by their stable ids (doc1 is too short for 64 tokens)
    with np.load(setup / "docs.npz") as z:
        ids = [str(x) for x in z["ids"]]
    assert {r["doc"] for r in read(out / "ppl_docs.csv")} == {ids[0], ids[2]}


def test_induction(setup, tmp_path):
    from yarnlab.evaluate.induction import induction_gain
    from yarnlab.model import load_model

    out, summary = tmp_path / "ind.csv", tmp_path / "ind_summary.csv"
    assert main(args(setup, "induction", "--length", "64", "--span", "8", "--n-seqs", "3", "--out", str(out),
                     "--summary-out", str(summary))) == 0
    rows, summ = read(out), read(summary)
    assert list(rows[0]) == ["method", "factor", "length", "distance", "span", "seq", "nll_first", "nll_second", "gain"]
    assert sorted({int(r["distance"]) for r in rows}) == [8, 16, 32, 56]
    # the CLI's numbers are the library's on the same checkpoint
    lib = induction_gain(load_model(str(setup / "ckpt")), 64, span=8, n_seqs=3)
    assert [float(r["gain"]) for r in rows] == pytest.approx([r["gain"] for r in lib.rows], abs=1e-9)
    assert [r["measure"] for r in summ] == ["induction_gain"] * 4 + ["icl"]
    assert int(summ[-1]["n"]) == 2  # one 64-token window in each of the two 70- and 80-token documents
    for r in summ:
        assert float(r["lo"]) <= float(r["value"]) <= float(r["hi"])


def test_induction_refuses_a_span_longer_than_half_the_length(setup, tmp_path):
    assert main(args(setup, "induction", "--length", "64", "--span", "40", "--out", str(tmp_path / "x.csv"))) == 2
    assert not (tmp_path / "x.csv").exists()
