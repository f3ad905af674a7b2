"""``yarnlab model show`` / ``yarnlab model extend`` on a tiny local checkpoint."""

from __future__ import annotations

import json
import math

import pytest
import torch
from hf_models import make_model

from yarnlab.cli import main
from yarnlab.model import load_model


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "tiny"
    make_model("gpt_neox", layers=3).save_pretrained(path)
    return path


def show_json(path, capsys, *extra):
    assert main(["model", "show", str(path), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_show_plain_checkpoint(checkpoint, capsys):
    d = show_json(checkpoint, capsys)
    assert (d["layers"], d["heads"], d["head_dim"], d["rotary_dim"], d["base"], d["original_ctx"]) == (
        3, 4, 16, 8, 10000.0, 64)
    assert d["spec"]["method"] == "none" and d["attention_factor"] == 1.0
    assert main(["model", "show", str(checkpoint / "config.json")]) == 0
    text = capsys.readouterr().out
    assert "rotary dim 8" in text and "L (original context) 64" in text


def test_extend_yarn_then_show(checkpoint, tmp_path, capsys):
    out = tmp_path / "yarn4"
    assert main(["model", "extend", str(checkpoint), str(out), "--method", "yarn", "--factor", "4"]) == 0
    capsys.readouterr()
    d = show_json(out, capsys)
    assert d["spec"]["method"] == "yarn" and d["spec"]["factor"] == 4.0 and d["original_ctx"] == 64
    assert d["attention_factor"] == pytest.approx(0.1 * math.log(4) + 1)
    assert d["stored_as"].startswith("rope_parameters (transformers-native)")
    assert (out / "yarnlab_extend.provenance.json").is_file()
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["rope_parameters"]["rope_type"] == "yarn"


def test_extend_yarnlab_only_and_dynamic_show(checkpoint, tmp_path, capsys):
    out = tmp_path / "dyn"
    assert main(["model", "extend", str(checkpoint), str(out), "--method", "dynamic-yarn", "--factor", "4"]) == 0
    capsys.readouterr()
    d = show_json(out, capsys, "--seq-len", "128")
    assert d["dynamic"] and d["scale"] == 2.0
    assert d["attention_factor"] == pytest.approx(0.1 * math.log(2) + 1)
    assert "yarnlab-only" in d["stored_as"]
    model = load_model(out)
    assert model.gpt_neox.rotary_emb.spec.method == "dynamic-yarn"
    with torch.no_grad():
        model(torch.arange(10)[None])


@pytest.mark.parametrize("argv", [
    ["model", "show", "/nonexistent/ckpt"],
    ["model", "show", "{ckpt}", "--seq-len", "0"],
    ["model", "extend", "{ckpt}", "{ckpt}", "--method", "yarn", "--factor", "4"],
    ["model", "extend", "{ckpt}", "{tmp}/x", "--method", "yarn", "--factor", "0.5"],
])
def test_usage_errors_exit_2(argv, checkpoint, tmp_path, capsys):
    argv = [a.format(ckpt=checkpoint, tmp=tmp_path) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "error" in err and "Traceback" not in err
