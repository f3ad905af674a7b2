"""``yarnlab eval ...`` end to end on a tiny checkpoint and a small document folder."""

from __future__ import annotations

import csv
import json
import math
import shutil

import pytest

from yarnlab.cli import main
from yarnlab.errors import UsageError


@pytest.fixture(scope="module")
def setup(tmp_path_factory, micro_checkpoint):
    root = tmp_path_factory.mktemp("eval")
    shutil.copytree(micro_checkpoint, root / "ckpt")
    docs = root / "docs"
    docs.mkdir()
    for i in range(3):
        (docs / f"d{i}.txt").write_text(" ".join(f"word{j * (i + 1) % 97}" for j in range(150)))
    return root


def read(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


def test_ppl_protocol_and_sliding(setup, tmp_path):
    out = tmp_path / "ppl"
    rc = main(["eval", "ppl", "--model", str(setup / "ckpt"), "--docs", str(setup / "docs"), "--out", str(out),
               "--lengths", "128:256:128", "--method", "yarn", "--factor", "2", "--no-progress"])
    assert rc == 0
    rows = read(out / "ppl.csv")
    assert [int(r["length"]) for r in rows] == [128, 256] and {r["reading"] for r in rows} == {"truncation"}
    assert all(int(r["docs"]) == 3 and 1 < float(r["ppl_token"]) < 1000 for r in rows)
    prov = json.loads((out / "ppl.csv.provenance.json").read_text())
    assert prov["spec"]["method"] == "yarn" and prov["spec"]["factor"] == 2.0
    assert len(prov["data_manifest"]["documents"]) == 3 and prov["version"] and prov["seed"] == 0
    seg = read(out / "ppl_segments.csv")
    assert {int(r["segment"]) for r in seg if r["length"] == "256"} == {0}  # L = 256 for the tiny models
    out2 = tmp_path / "slide"
    assert main(["eval", "ppl", "--model", str(setup / "ckpt"), "--docs", str(setup / "docs"), "--out", str(out2),
                 "--window", "128", "--stride", "64", "--no-progress"]) == 0
    row = read(out2 / "ppl.csv")[0]
    assert int(row["window"]) == 128 and float(row["nll_token"]) == pytest.approx(math.log(float(row["ppl_token"])))


def test_ppl_same_targets_reading(setup, tmp_path):
    ck, docs = str(setup / "ckpt"), str(setup / "docs")
    assert main(["eval", "ppl", "--model", ck, "--docs", docs, "--out", str(tmp_path), "--lengths", "64,256",
                 "--same-targets", "32", "--no-progress"]) == 0
    rows = read(tmp_path / "ppl.csv")
    assert [(r["length"], r["reading"], r["tokens"]) for r in rows] == [("64", "same-targets", "96"),
                                                                        ("256", "same-targets", "96")]
    assert main(["eval", "ppl", "--model", ck, "--docs", docs, "--out", str(tmp_path / "x"), "--window", "64",
                 "--same-targets", "8", "--no-progress"]) == 2


def test_ppl_both_readings_in_one_table(setup, tmp_path):
    """--same-targets T --also-truncation --target-end E: per-document rows of both readings, each named,
    on the same documents; the sliding form (--window) of both too."""
    from yarnlab.io import read_table

    ck, docs = str(setup / "ckpt"), str(setup / "docs")
    out = tmp_path / "both.csv"
    assert main(["eval", "ppl", "--model", ck, "--docs", docs, "--out", str(out), "--lengths", "64,128",
                 "--same-targets", "32", "--target-end", "256", "--also-truncation", "--no-progress"]) == 0
    rows = read_table(out)
    assert [(r["reading"], r["length"]) for r in rows[::3]] == [("same-targets", 64), ("same-targets", 128),
                                                               ("truncation", 64), ("truncation", 128)]
    assert {r["doc"] for r in rows} == {0, 1, 2} and len(rows) == 12
    by = {(r["reading"], r["length"], r["doc"]): r["nll"] for r in rows}
    assert by[("same-targets", 64, 0)] != by[("truncation", 64, 0)]
    slide = tmp_path / "slide.csv"
    assert main(["eval", "ppl", "--model", ck, "--docs", docs, "--out", str(slide), "--lengths", "64,128",
                 "--same-targets", "32", "--target-end", "256", "--also-truncation", "--window", "64",
                 "--stride", "32", "--no-progress"]) == 0
    srows = {(r["reading"], r["length"], r["doc"]): r["nll"] for r in read_table(slide)}
    assert srows[("same-targets", 64, 1)] == pytest.approx(by[("same-targets", 64, 1)], abs=1e-6)  # W = n
    assert srows[("same-targets", 128, 1)] != by[("same-targets", 128, 1)]  # at most 64 tokens of context
    # at the target end (the default: the longest length) the same-target rows reuse the truncation forward
    reuse, alone = tmp_path / "reuse.csv", tmp_path / "alone.csv"
    for path, extra in ((reuse, ["--also-truncation"]), (alone, [])):
        assert main(["eval", "ppl", "--model", ck, "--docs", docs, "--out", str(path), "--lengths", "64,256",
                     "--same-targets", "32", "--no-progress", *extra]) == 0
    a = {(r["length"], r["doc"]): r["nll"] for r in read_table(reuse) if r["reading"] == "same-targets"}
    b = {(r["length"], r["doc"]): r["nll"] for r in read_table(alone)}
    assert a.keys() == b.keys() and all(a[k] == pytest.approx(b[k], abs=1e-5) for k in a)


@pytest.mark.parametrize("extra, needle", [
    (["--lengths", "64", "--same-targets", "64"], "--same-targets: must be an integer in [1, 63]"),
    (["--lengths", "64,128", "--same-targets", "0"], "--same-targets: must be an integer in [1, 63]"),
    (["--lengths", "64,128", "--same-targets", "8", "--target-end", "100"],
     "--target-end: must be >= the longest of --lengths, 128 (got 100)"),
    (["--lengths", "64,128", "--also-truncation"], "--also-truncation: only with --same-targets"),
    (["--lengths", "64,128", "--target-end", "256"], "--target-end: only with --same-targets"),
    (["--lengths", "64,128", "--same-targets", "8", "--min-tokens", "256"], "--same-targets: needs --lengths, and"),
])
def test_ppl_reading_options_refused_with_the_option_named(setup, tmp_path, capsys, extra, needle):
    argv = ["eval", "ppl", "--model", str(setup / "ckpt"), "--docs", str(setup / "docs"), "--out",
            str(tmp_path / "x.csv"), "--no-progress", *extra]
    assert main(argv) == 2
    assert needle in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_sweep_passkey_entropy(setup, tmp_path):
    ck, docs = str(setup / "ckpt"), str(setup / "docs")
    assert main(["eval", "sweep", "--model", ck, "--docs", docs, "--out", str(tmp_path), "--method", "yarn",
                 "--factor", "2", "--length", "384", "--ms", "0.9,1.0,1.2", "--n-boot", "20", "--no-progress"]) == 0
    best = read(tmp_path / "sweep_argmin.csv")[0]
    assert best["method"] == "yarn" and 0.9 <= float(best["m_refined"]) <= 1.2
    assert len(read(tmp_path / "sweep_fig4.csv")) == 3 * 2
    assert main(["eval", "passkey", "--model", ck, "--out", str(tmp_path), "--lengths", "256,300",
                 "--trials", "2", "--candidates", "4", "--no-progress"]) == 0
    acc = read(tmp_path / "passkey_accuracy.csv")
    assert {(r["length"], r["metric"]) for r in acc} == {(n, m) for n in ("256", "300") for m in ("exact", "ranked")}
    assert len(read(tmp_path / "passkey_trials.csv")) == 4
    assert main(["eval", "entropy", "--model", ck, "--docs", docs, "--out", str(tmp_path), "--lengths", "64,128",
                 "--query-bins", "2", "--max-docs", "1", "--no-progress"]) == 0
    layers = read(tmp_path / "entropy_layers.csv")
    assert len(layers) == 2 * 6 and all(float(r["entropy"]) <= float(r["uniform_entropy"]) for r in layers)


def test_bad_input_exits_2(setup, tmp_path, capsys):
    ck, docs = str(setup / "ckpt"), str(setup / "docs")
    assert main(["eval", "ppl", "--model", ck, "--docs", docs, "--out", str(tmp_path), "--factor", "2",
                 "--window", "64"]) == 2
    assert "--method" in capsys.readouterr().err
    assert main(["eval", "ppl", "--model", ck, "--docs", docs, "--out", str(tmp_path), "--lengths", "99999"]) == 2
    assert "min_tokens" in capsys.readouterr().err
    assert main(["eval", "ppl", "--model", ck, "--out", str(tmp_path), "--window", "64"]) == 2
    assert main(["eval", "ppl", "--model", str(tmp_path / "nope"), "--docs", docs, "--out", str(tmp_path),
                 "--window", "64"]) == 2
    with pytest.raises(SystemExit):
        main(["eval", "ppl", "--model", ck, "--docs", docs, "--out", str(tmp_path), "--lengths", "a:b"])


def test_lm_eval_hook_missing_is_a_usage_error():
    import importlib.util

    if importlib.util.find_spec("lm_eval") is not None:
        pytest.skip("lm_eval is installed here")
    from yarnlab.evaluate.lmeval import run_lm_eval

    with pytest.raises(UsageError, match="lm-evaluation-harness"):
        run_lm_eval(None, None)


def test_every_scaling_option_without_a_method_is_refused(setup, tmp_path, capsys):
    """Each parameter of the method and temperature registries (longrope's factor lists, llama4's
    beta, ...) needs --method; none is silently ignored."""
    from yarnlab.rope.cli import _rule_params
    from yarnlab.rope.methods import all_params

    ck, docs = str(setup / "ckpt"), str(setup / "docs")
    flags = []
    for name, p in {**all_params(), **_rule_params()}.items():
        flag = "--" + name.replace("_", "-")
        if p.kind == "bool":
            flags.append(["--no-" + flag[2:]] if p.default else [flag])
        elif p.kind == "choice":
            flags.append([flag, p.choices[0]])
        elif p.kind == "factors":
            flags.append([flag, "1,1"])
        else:
            flags.append([flag, "0.5"])
    for f in flags + [["--temperature", "yarn"], ["--factor", "2"]]:
        assert main(["eval", "ppl", "--model", ck, "--docs", docs, "--out", str(tmp_path), "--window", "64", *f]) == 2
        assert f"--method: required with scaling options ({f[0]})" in capsys.readouterr().err, f
