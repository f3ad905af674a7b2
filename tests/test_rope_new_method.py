"""A method is one function and one registry entry: a throwaway method, registered at run time, is
picked up by every surface that lists methods with no other edit: ``yarnlab freqs`` (options and
``spec_from_args``), ``yarnlab eval`` and ``train finetune`` options, the workflow's config check,
the Hugging Face writer and reader (its entry declares a rope type), and the rope doctor
(``yarnlab inspect``). A second one, without a transformers form, is refused by the writer and
still reported by the doctor from a ``yarnlab_rope`` entry."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from yarnlab.cli import build_parser, main
from yarnlab.errors import UsageError
from yarnlab.rope import METHODS, RopeSpec, base_inv_freq, hf_supported, read_hf_config, spec_to_hf
from yarnlab.rope.hf_form import HFRead, HFType
from yarnlab.rope.hf_types import HF_TYPES
from yarnlab.rope.methods import GROWS, Geometry, Method, dynamic_scale
from yarnlab.rope.params import Param

ROOT = Path(__file__).resolve().parents[1]
HEAD = 32


def rope_slow_share(geom: Geometry, factor: float, seq_len: int | None = None, share: float = 0.5):
    """The slowest ``share`` of the pairs interpolated like PI (theta_d / s), the rest untouched."""
    theta = base_inv_freq(geom.rotary_dim, geom.base)
    slow = np.arange(theta.size) >= int((1.0 - share) * theta.size)
    return np.where(slow, theta / factor, theta), factor


def rope_slow_share_dynamic(geom: Geometry, factor: float, seq_len: int | None = None, share: float = 0.5):
    """The same at s = max(1, l/L)."""
    s = dynamic_scale(seq_len, geom.original_ctx)
    return rope_slow_share(geom, s, seq_len, share)[0], s


SHARE = Param("share", "fraction", 0.5, "slow-share: share of the pairs (the slowest) interpolated like PI")


def _read(src: HFRead) -> dict:
    return {"share": src.positive("share", src.rope.get("share", 0.5))}


SLOW_SHARE = Method(
    "slow-share", rope_slow_share, (SHARE,), default_temperature="yarn", summary="the slow pairs as PI",
    hf=HFType("slow_share", ("factor",), ("original_max_position_embeddings", "attention_factor", "share"),
              length="original", temperature="yarn", read=_read,
              write=lambda spec: {"factor": spec.factor, "original_max_position_embeddings": spec.original_ctx,
                                  "share": spec.params["share"]}))
SLOW_SHARE_DYNAMIC = Method("slow-share-dynamic", rope_slow_share_dynamic, (SHARE,), dynamic=True,
                            summary="the slow pairs as PI at s = max(1, l/L)", length_rule=GROWS)


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setitem(METHODS, SLOW_SHARE.name, SLOW_SHARE)
    monkeypatch.setitem(METHODS, SLOW_SHARE_DYNAMIC.name, SLOW_SHARE_DYNAMIC)


def spec(**kw) -> RopeSpec:
    return RopeSpec("slow-share", head_dim=HEAD, original_ctx=1024, factor=4.0, params={"share": 0.25}, **kw)


def test_yarnlab_freqs_takes_the_method_and_its_parameter(registered, capsys):
    argv = ["freqs", "--method", "slow-share", "--share", "0.25", "--factor", "4", "--head-dim", str(HEAD),
            "--original-ctx", "1024"]
    with pytest.raises(SystemExit):
        main(["freqs", "--help"])
    assert "slow-share" in (help_text := capsys.readouterr().out) and "--share" in help_text
    assert main([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["spec"] == spec().to_dict()
    np.testing.assert_array_equal(data["inv_freq"], rope_slow_share(spec().geometry, 4.0, share=0.25)[0])
    assert data["attention_factor"] == pytest.approx(0.1 * np.log(4.0) + 1.0)  # its default rule, yarn
    assert main(["freqs", "--method", "slow-share", "--share", "1.5"]) == 2
    assert "params.share: must be a finite number in (0, 1] (got 1.5)" in capsys.readouterr().err


def test_eval_and_finetune_options_reach_the_spec(registered):
    from yarnlab.rope.cli import given_scaling_options, method_params, spec_from_args

    parser = build_parser()
    args = parser.parse_args(["eval", "ppl", "--model", "m", "--out", "o", "--method", "slow-share", "--share", "0.25",
                              "--factor", "4"])
    assert spec_from_args(args, head_dim=HEAD, base=10000.0, original_ctx=1024) == spec()
    args = parser.parse_args(["eval", "ppl", "--model", "m", "--out", "o", "--share", "0.25"])
    assert args.method is None and given_scaling_options(args) == ["--share"]  # refused without --method
    args = parser.parse_args(["train", "finetune", "--base", "b", "--seq-len", "64", "--out", "o", "--steps", "1",
                              "--method", "slow-share", "--share", "0.25", "--factor", "4"])
    assert (args.method, method_params(args)) == ("slow-share", {"share": 0.25})
    from yarnlab.train.recipes import finetune_spec

    base = {"num_attention_heads": 4, "head_dim": HEAD, "max_position_embeddings": 1024, "rope_theta": 10000.0}
    assert finetune_spec(base, args.method, args.factor, method_params(args)) == spec()


def test_the_workflow_config_check_accepts_it(registered):
    from yarnlab.workflow import config as wc

    config = yaml.safe_load((ROOT / "workflows" / "config" / "smoke.yaml").read_text())
    config["finetune"]["methods"] = ["slow-share", "slow-share-dynamic"]
    assert {"slow-share", "slow-share-dynamic"} <= set(wc.workflow_methods())
    assert wc.methods(config) == []


@pytest.mark.parametrize("temperature,tparams,written,read_as", [
    (None, {}, {}, None),  # the type's own rule: nothing written
    ("fixed", {"m": 1.25}, {"attention_factor": 1.25}, "fixed"),
    ("none", {}, {"attention_factor": 1.0}, "fixed"),  # m = 1 is stated as attention_factor 1
])
def test_hugging_face_round_trip(registered, temperature, tparams, written, read_as):
    s = spec(temperature=temperature, temperature_params=tparams)
    assert hf_supported(s)
    assert HF_TYPES["slow_share"] == ("slow-share", ("factor",), ("original_max_position_embeddings",
                                                                  "attention_factor", "share"))
    fields = spec_to_hf(s)
    assert fields["max_position_embeddings"] == 4096
    assert fields["rope_parameters"] == {"rope_theta": 10000.0, "rope_type": "slow_share", "factor": 4.0,
                                         "original_max_position_embeddings": 1024, "share": 0.25, **written}
    back, warnings = read_hf_config({"num_attention_heads": 4, **fields})
    assert back == s.replace(temperature=read_as, temperature_params={"m": written["attention_factor"]}
                             if read_as else {}) and warnings == []
    np.testing.assert_array_equal(back.compute().inv_freq, s.compute().inv_freq)
    assert back.compute().attention_factor == s.compute().attention_factor


def test_the_reader_applies_the_entrys_keys_and_length_rule(registered):
    config = {"num_attention_heads": 4, "head_dim": HEAD, "max_position_embeddings": 4096,
              "rope_scaling": {"rope_type": "slow_share", "factor": 4.0, "bogus": 1}}
    got, warnings = read_hf_config(config)
    assert (got.method, got.original_ctx, got.params) == ("slow-share", 4096, {"share": 0.5})
    assert any("original_max_position_embeddings is missing" in w for w in warnings)
    assert any("bogus not read by transformers for rope type 'slow_share'" in w for w in warnings)
    with pytest.raises(UsageError, match="rope_scaling.factor: required for rope type 'slow_share'"):
        read_hf_config({**config, "rope_scaling": {"rope_type": "slow_share"}})


def test_a_method_without_a_transformers_form_is_refused_by_the_writer(registered):
    s = RopeSpec("slow-share-dynamic", head_dim=HEAD, original_ctx=1024, factor=4.0)
    assert not hf_supported(s)
    with pytest.raises(UsageError, match="no transformers equivalent: transformers has no slow-share-dynamic"):
        spec_to_hf(s)
    with pytest.raises(UsageError, match="length-dependent attention factor"):
        spec_to_hf(spec(temperature="log-n"))


def test_the_doctor_reports_both(registered, tmp_path, capsys):
    from yarnlab.rope.doctor import inspect_config

    path = tmp_path / "config.json"
    path.write_text(json.dumps({"num_attention_heads": 4, **spec_to_hf(spec())}))
    assert main(["inspect", "--json", str(path)]) == 0
    entry = json.loads(capsys.readouterr().out)["rope"][0]
    assert (entry["method"], entry["rope_type"], entry["params"], entry["effective_ctx"]) == \
        ("slow-share", "slow_share", {"share": 0.25}, 4096)
    assert entry["untouched"] == 12 and entry["interpolated"] == 4  # 16 pairs, the slowest quarter as PI
    dynamic = RopeSpec("slow-share-dynamic", head_dim=HEAD, original_ctx=1024, factor=4.0)
    report = inspect_config({"num_attention_heads": 4, "max_position_embeddings": 4096,
                             "yarnlab_rope": dynamic.to_dict()})
    assert report["rope"][0]["method"] == "slow-share-dynamic"
    assert report["rope"][0]["effective_ctx"] == "grows with the input: s = max(1, l/1024)"
    assert report["rope"][0]["transformers_native"] is False
