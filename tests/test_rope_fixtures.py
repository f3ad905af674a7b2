"""The rope doctor on released models' config.json files (tests/fixtures/hf_configs).

Each folder holds a config.json, a README naming the model and the source, and expected.json with
values derived by hand from the formulas (yarn m = 0.1 ln s + 1, LongRoPE m = sqrt(1 + ln s / ln L),
DeepSeek's softmax factor mscale(s, mscale_all_dim)^2), not from yarnlab. For every model
transformers supports, yarnlab's frequencies and attention factor are compared with transformers'
own rotary module built from the same config (and DeepSeek's logit scale with its attention module).
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from yarnlab.cli import main
from yarnlab.rope.hf_read import read_hf_rope

ROOT = Path(__file__).parent / "fixtures" / "hf_configs"
FOLDERS = sorted(p.name for p in ROOT.iterdir() if (p / "config.json").is_file())
KEYS = ("layer_types", "method", "rope_type", "head_dim", "rotary_dim", "base", "original_ctx", "factor",
        "max_position_embeddings", "max_position_source", "attention_factor", "logit_scale", "layout",
        "transformers_native")


def load(folder: str) -> dict:
    return json.loads((ROOT / folder / "config.json").read_text())


def expected(folder: str) -> dict:
    return json.loads((ROOT / folder / "expected.json").read_text())


def test_the_library_has_twenty_released_models_each_with_a_readme():
    assert len(FOLDERS) >= 20
    for folder in FOLDERS:
        readme = (ROOT / folder / "README.md").read_text()
        assert "Model: `" in readme and "Source:" in readme, folder
        assert (ROOT / folder / "expected.json").is_file(), folder


@pytest.mark.parametrize("folder", FOLDERS)
def test_inspect_json_gives_the_expected_entries(folder, capsys):
    rc = main(["inspect", "--json", str(ROOT / folder / "config.json")])
    out, err = capsys.readouterr()
    want = expected(folder)
    assert "Traceback" not in err
    if "refused" in want:
        assert rc == 2 and want["refused"] in err and out == ""
        return
    assert rc == 0, err
    report = json.loads(out)
    assert len(report["rope"]) == len(want["rope"])
    for got, exp in zip(report["rope"], want["rope"]):
        for key in KEYS:
            if isinstance(exp[key], float):
                assert got[key] == pytest.approx(exp[key], rel=1e-12), (folder, key)
            else:
                assert got[key] == exp[key], (folder, key)
    for text in want["warnings_contain"]:
        assert any(text in w for w in report["warnings"]), (folder, text, report["warnings"])
    if want.get("no_other_warnings"):  # no false warning: each one is expected
        assert all(any(t in w for t in want["warnings_contain"]) for w in report["warnings"]), report["warnings"]
    assert report["nope_layers"] == want.get("nope_layers", []), folder
    scales = want.get("attention_scales", [])
    assert [sc["rule"] for sc in report["attention_scales"]] == [sc["rule"] for sc in scales], folder
    for got, exp in zip(report["attention_scales"], scales):
        at = list(got["at"].values())
        assert [v["q_scale"] for v in at] == pytest.approx(exp["q_scale_at"], rel=1e-12), folder
        assert [v["logit_scale"] for v in at] == pytest.approx(exp["logit_scale_at"], rel=1e-12), folder


@pytest.mark.parametrize("folder", FOLDERS)
def test_human_form_and_model_show_agree_with_json(folder, capsys):
    path = str(ROOT / folder / "config.json")
    if "refused" in expected(folder):
        assert main(["model", "show", path]) == 2
        assert "has no rotary position embedding" in capsys.readouterr().err
        return
    main(["inspect", "--json", path])
    report = json.loads(capsys.readouterr().out)
    assert main(["inspect", path]) == 0
    text = capsys.readouterr().out
    for e in report["rope"]:
        assert f"-> method: {e['method']}" in text and f"rotary dim {e['rotary_dim']}," in text
        assert f"L (original context): {e['original_ctx']}   s: {e['factor']:g}" in text
        assert f"logit scale: {e['logit_scale']:.6g}" in text
    if report["nope_layers"]:
        assert f"NoPE layers (no positional encoding, nothing to extend): {len(report['nope_layers'])} of " in text
        assert ", ".join(map(str, report["nope_layers"])) in text
    for sc in report["attention_scales"]:
        assert f"length-dependent logit scale ({sc['rule']}" in text and sc["formula"] in text
    assert main(["model", "show", "--json", path]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["rope"] == report["rope"] and shown["warnings"] == report["warnings"]


@pytest.mark.slow
def test_closed_pipe_ends_quietly():
    cmd = (f"{sys.executable} -m yarnlab inspect --table {ROOT / 'gemma-3-4b-it-transformers5' / 'config.json'}"
           f" | head -1; {sys.executable} -m yarnlab freqs --method yarn --factor 8 --head-dim 4096 --json | head -1")
    done = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert done.stdout.splitlines() == ["config: " + str(ROOT / "gemma-3-4b-it-transformers5" / "config.json"), "{"]
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr


# ---- parity with transformers' own modules ---------------------------------------------------

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")
from transformers.models.auto.configuration_auto import CONFIG_MAPPING, model_type_to_module_name  # noqa: E402

NATIVE = [f for f in FOLDERS if "refused" not in expected(f) and expected(f)["rope"][0]["transformers_native"]]


# model types without a transformers class whose repositories ship another type's modeling code
SHIPPED_CODE = {"kimi_k2": "deepseek_v3"}


def hf_config(raw: dict):
    """transformers' config for the model type (or for the code it ships); Llama's for a type it has
    no class for (its rope types are computed by the same functions)."""
    mt = SHIPPED_CODE.get(raw["model_type"], raw["model_type"])
    cls = CONFIG_MAPPING[mt if mt in CONFIG_MAPPING else "llama"]
    return cls.from_dict({k: v for k, v in raw.items() if k != "model_type"}).get_text_config()


def modeling(config):
    name = model_type_to_module_name(config.model_type)
    try:
        return importlib.import_module(f"transformers.models.{name}.modeling_{name}")
    except ModuleNotFoundError:  # text configs of multimodal models live with their parent
        parent = model_type_to_module_name(config.model_type.removesuffix("_text"))
        return importlib.import_module(f"transformers.models.{parent}.modeling_{parent}")


def rotary_module(config):
    mod = modeling(config)
    names = [n for n in dir(mod) if n.endswith("RotaryEmbedding") and "Vision" not in n]
    return getattr(mod, sorted(names, key=len)[0])(config)


def hf_inv_freq(rot, config, seq_len: int, layer: str | None):
    """inv_freq and m after transformers' forward at positions 0..seq_len-1."""
    x = torch.zeros(1, seq_len, 8)
    pos = torch.arange(seq_len)[None]
    if config.model_type == "qwen2_vl":
        pos = pos[None].expand(3, 1, seq_len)
    kwargs = {"layer_type": layer} if layer else {}
    with torch.no_grad():
        out = rot(x, pos, **kwargs)
    cos = out[0] if isinstance(out, tuple) else out.real  # DeepSeek-V2: complex m e^(i p theta)
    prefix = f"{layer}_" if layer else ""
    inv = getattr(rot, f"{prefix}inv_freq").double().numpy()
    m = getattr(rot, f"{prefix}attention_scaling", getattr(rot, "attention_scaling", 1.0))
    return inv, float(m), cos


@pytest.mark.parametrize("folder", NATIVE)
def test_frequencies_and_attention_factor_equal_transformers_rotary_module(folder):
    raw = load(folder)
    config = hf_config(raw)
    entries = read_hf_rope(raw).entries
    if config.model_type == "gptj":  # GPT-J keeps a sin/cos table of its rotary channels
        table = rotary_module(config).embed_positions[:4096 // 2]
        spec = entries[0].spec
        ang = np.arange(table.shape[0])[:, None] * spec.compute().inv_freq[None]
        np.testing.assert_allclose(table[:, spec.dim // 2:].double().numpy(), np.cos(ang), atol=2e-4)
        return
    rot = rotary_module(config)
    for entry in entries:
        layer = entry.layer_types[0] if entry.layer_types else None
        spec = entry.spec
        lengths = {spec.original_ctx // 2, spec.original_ctx + 1, 2 * spec.original_ctx}
        for seq_len in sorted(n if spec.is_dynamic else min(n, 9000) for n in lengths):
            ref_inv, ref_m, cos = hf_inv_freq(rot, config, seq_len, layer)
            res = spec.compute(seq_len if spec.is_dynamic else None)
            np.testing.assert_allclose(res.inv_freq, ref_inv, rtol=2e-6, err_msg=f"{folder} {layer} {seq_len}")
            assert res.attention_factor == pytest.approx(ref_m, rel=1e-6)
            # the cos table the model uses: m cos(p theta'_d), half layout
            ours = res.attention_factor * np.cos(np.arange(seq_len)[:, None] * res.inv_freq[None])
            table = cos[0, 0] if config.model_type == "qwen2_vl" else cos[0]
            # [cos, cos] for most types; Cohere's rotary module repeats each pair's cos twice in a row
            step = 2 if config.model_type in ("cohere", "cohere2") else 1
            got = table.double().numpy()[..., : spec.dim // 2 * step: step]
            np.testing.assert_allclose(got[-64:], ours[-64:], atol=5e-3)


@pytest.mark.parametrize("folder", [f for f in NATIVE if load(f).get("qk_rope_head_dim")])
def test_mla_logit_scale_equals_transformers_attention_scaling(folder):
    raw = load(folder)
    config = hf_config(raw)
    entry = read_hf_rope(raw).entries[0]
    mod = modeling(config)
    attention = getattr(mod, next(n for n in dir(mod) if n.endswith("Attention") and "Flash" not in n))
    with torch.device("meta"):
        module = attention(config, layer_idx=0)
    qk_head_dim = raw["qk_nope_head_dim"] + raw["qk_rope_head_dim"]
    softmax_factor = module.scaling * qk_head_dim ** 0.5
    m = entry.spec.compute().attention_factor
    assert softmax_factor == pytest.approx(entry.softmax_factor, rel=1e-9)
    assert entry.summary()["logit_scale"] == pytest.approx(m * m * softmax_factor, rel=1e-12)


def test_the_legacy_su_config_reads_as_transformers_longrope():
    """yarnlab reads Phi-3's legacy ``type: su`` as LongRoPE. transformers up to 5.24 refused that config
    (a KeyError naming original_max_position_embeddings) and accepted it renamed to longrope; later
    versions accept it as it is. Either way, every form transformers accepts computes yarnlab's frequencies."""
    raw = load("phi-3-vision-128k-instruct-text")
    renamed = {**raw, "rope_scaling": {**raw["rope_scaling"], "type": "longrope"}}
    accepted = [renamed]
    try:
        hf_config(raw)
        accepted.append(raw)
    except KeyError as exc:
        assert "original_max_position_embeddings" in str(exc)
    spec = read_hf_rope(raw).entries[0].spec
    for cfg in accepted:
        rot = rotary_module(hf_config(cfg))
        inv, m, _ = hf_inv_freq(rot, hf_config(cfg), 4097, None)
        np.testing.assert_allclose(spec.compute(4097).inv_freq, inv, rtol=2e-6)
        assert spec.compute().attention_factor == pytest.approx(m, rel=1e-12)
