"""The training loop end to end on a tiny model: metrics, checkpoints, fine-tuning, CLI errors."""

import json

import pytest
import torch
from tiny_train import SMALL, TEXT

from yarnlab.data.chunks import ChunkStream
from yarnlab.errors import UsageError
from yarnlab.model.tiny import build_model
from yarnlab.train.config import TrainConfig
from yarnlab.train.loop import train


def _cfg(**kw):
    base = dict(steps=12, seq_len=32, batch_size=4, lr=3e-3, warmup_steps=2, eval_every=6, eval_batches=2,
                final_eval_chunks=8, checkpoint_every=5, log_every=3, seed=0)
    base.update(kw)
    return TrainConfig(**base)


def test_training_lowers_the_loss_and_writes_its_outputs(tmp_path):
    model = build_model(SMALL, seed=0)
    cfg = _cfg(steps=30, checkpoint_every=10, eval_every=10)
    stream = ChunkStream(TEXT[:6], 32, seed=0)
    summary = train(model, stream, ChunkStream(TEXT[6:], 32, vary_offsets=False), cfg, tmp_path, progress=False)
    rows = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    steps = [r["step"] for r in rows if not r.get("final")]
    assert steps == sorted(set(steps)) and steps[-1] == 30
    assert {"step", "loss", "lr", "tokens", "tokens_per_s"} <= set(rows[0])
    assert rows[0]["loss"] > rows[-2]["loss"]
    assert any("heldout_bpb" in r for r in rows[:-1])
    assert summary["tokens"] == sum(int((stream.batch(k, 4)[0] != 258).sum()) for k in range(30))
    assert 0 < summary["heldout_bpb"] < 8.5
    assert [p.name for p in sorted((tmp_path / "checkpoints").iterdir())] == ["step-0000020.pt", "step-0000030.pt"]
    assert (tmp_path / "model.safetensors").is_file()
    assert json.loads((tmp_path / "train_summary.json").read_text())["provenance"]["parameters"]["seed"] == 0
    with pytest.raises(UsageError, match="--resume"):
        train(build_model(SMALL), ChunkStream(TEXT, 32), None, cfg, tmp_path, progress=False)
    # --resume with nothing to resume from starts afresh (old metrics are not appended to)
    for p in (tmp_path / "checkpoints").iterdir():
        p.unlink()
    train(build_model(SMALL), ChunkStream(TEXT, 32), None, cfg.replace(steps=3, log_every=1), tmp_path,
          resume=True, progress=False)
    again = [json.loads(x)["step"] for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert again == [1, 2, 3, 3]


def test_in_process_resume_is_bit_identical(tmp_path):
    cfg = _cfg()
    full = build_model(SMALL, seed=1)
    train(full, ChunkStream(TEXT, 32, seed=0), None, cfg, tmp_path / "a", progress=False)
    part = build_model(SMALL, seed=1)
    out = train(part, ChunkStream(TEXT, 32, seed=0), None, cfg, tmp_path / "b", progress=False, stop_after=7)
    assert out["interrupted"] and not (tmp_path / "b" / "model.safetensors").exists()
    # the interrupted run left checkpoints at 5 and 7; remove 7 to resume from the middle
    (tmp_path / "b" / "checkpoints" / "step-0000007.pt").unlink()
    resumed = build_model(SMALL, seed=99)  # weights come from the checkpoint
    with pytest.raises(UsageError, match="steps"):
        train(resumed, ChunkStream(TEXT, 32), None, cfg.replace(steps=13), tmp_path / "b",
              resume=True, progress=False)
    train(resumed, ChunkStream(TEXT, 32, seed=0), None, cfg, tmp_path / "b", resume=True, progress=False)
    for (k, a), (_, b) in zip(full.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), k


def test_finetune_saves_a_model_vanilla_transformers_reloads(tmp_path, small_base, text_corpus):
    from transformers import LlamaForCausalLM

    from yarnlab.train.recipes import finetune

    cfg = TrainConfig(steps=3, seq_len=64, batch_size=2, lr=1e-3, eval_every=0, checkpoint_every=0,
                      final_eval_chunks=4, heldout_fraction=0.25)
    finetune(small_base, "yarn", 2.0, str(text_corpus), tmp_path / "ft", cfg, progress=False)
    saved = json.loads((tmp_path / "ft" / "config.json").read_text())
    rope = saved["rope_parameters"]
    assert rope["rope_type"] == "yarn" and rope["factor"] == 2.0
    assert json.loads((tmp_path / "ft" / "manifest.json").read_text())["heldout"]
    from yarnlab.model import load_model as yl_load

    ours = yl_load(str(tmp_path / "ft"))
    vanilla = LlamaForCausalLM.from_pretrained(tmp_path / "ft")
    ids = torch.randint(0, 256, (1, 64), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(vanilla(input_ids=ids).logits, ours(input_ids=ids).logits,
                                   rtol=1e-5, atol=1e-5)


def test_cli_bad_values_exit_2(tmp_path, capsys):
    from yarnlab.train.__main__ import main

    rc = main(["pretrain", "--preset", "micro", "--corpus", str(tmp_path), "--out", str(tmp_path / "o"),
               "--steps", "0"])
    assert rc == 2 and "steps" in capsys.readouterr().err


def test_finetune_a_model_with_its_own_tokenizer(tmp_path):
    """The full-size path: a non-byte model and tokenizer (built here, nothing downloaded)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, t in enumerate(TEXT):
        (corpus / f"d{i}.txt").write_bytes(t)
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train([str(p) for p in corpus.iterdir()], trainers.WordLevelTrainer(special_tokens=["<unk>", "<s>", "</s>"]))
    hf_tok = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<s>", eos_token="</s>")
    cfg = LlamaConfig(vocab_size=len(hf_tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                      num_attention_heads=2, head_dim=16, max_position_embeddings=16,
                      bos_token_id=hf_tok.bos_token_id, eos_token_id=hf_tok.eos_token_id)
    torch.manual_seed(0)
    LlamaForCausalLM(cfg).save_pretrained(tmp_path / "base")
    hf_tok.save_pretrained(tmp_path / "base")

    from yarnlab.train.recipes import finetune

    tcfg = TrainConfig(steps=2, seq_len=32, batch_size=2, lr=1e-3, eval_every=0, checkpoint_every=0,
                       final_eval_chunks=2, heldout_fraction=0.25)
    summary = finetune(tmp_path / "base", "pi", 2.0, str(corpus), tmp_path / "ft", tcfg, progress=False)
    assert summary["heldout_bpt"] > 0 and summary["heldout_tokens"] > 0
    assert (tmp_path / "ft" / "tokenizer.json").is_file()
    assert json.loads((tmp_path / "ft" / "config.json").read_text())["rope_parameters"]["factor"] == 2.0


def test_induction_diagnostics_are_logged_at_every_evaluation(tmp_path):
    from yarnlab.data.windows import WindowStream
    from yarnlab.evaluate.induction import training_diagnostics

    cfg = _cfg(steps=6, eval_every=3, data_format="windows", copy_fraction=0.3, induction_eval=True)
    stream = WindowStream(TEXT[:6], 32, seed=0, copy_fraction=0.3)
    train(build_model(SMALL, seed=0), stream, WindowStream(TEXT[6:], 32), cfg, tmp_path, progress=False,
          diagnostics=training_diagnostics)
    evals = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()
             if "heldout_bpb" in json.loads(x)]
    assert [r["step"] for r in evals if not r.get("final")] == [3, 6]
    for r in evals:  # span min(32, L/2) = 16 at L = 32: the one distance 16
        assert {"induction_gain", "induction_gain_d16", "icl", "icl_lo", "icl_hi"} <= set(r)
        assert r["icl_lo"] <= r["icl"] <= r["icl_hi"]
    with pytest.raises(UsageError, match="induction_eval: needs a diagnostics function"):
        train(build_model(SMALL), stream, None, cfg, tmp_path / "b", progress=False)


def test_the_warm_phase_draws_copy_documents_from_its_own_source(tmp_path, monkeypatch):
    """``warm_copy_alphabet`` reaches the warm stream only; without it the warm stream uses ``copy_alphabet``."""
    import yarnlab.train.recipes as recipes
    from yarnlab.train.config import TrainConfig

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(6):
        (corpus / f"d{i}.txt").write_bytes((f"Line {i} of a small corpus.\n" * 60).encode())
    seen = []
    real = recipes.corpus_streams

    def spy(*a, **kw):
        seen.append((kw.get("copy_fraction"), kw.get("copy_alphabet")))
        return real(*a, **kw)

    monkeypatch.setattr(recipes, "corpus_streams", spy)
    for warm_source, expect in (("letters", "letters"), (None, "mixed")):
        seen.clear()
        cfg = TrainConfig(steps=2, seq_len=64, batch_size=2, lr=1e-3, data_format="windows", copy_fraction=0.2,
                          copy_alphabet="mixed", warm_steps=1, warm_copy_fraction=0.9,
                          warm_copy_alphabet=warm_source, eval_every=0, final_eval_chunks=2,
                          checkpoint_every=0, heldout_fraction=0.34)
        recipes.pretrain("micro", str(corpus), tmp_path / f"o-{warm_source}", cfg, progress=False)
        assert seen == [(0.2, "mixed"), (0.9, expect)]


def test_cli_finetune_takes_every_method_and_rule_parameter(tmp_path, capsys, small_base, text_corpus):
    """`train finetune` shares the scaling options of `yarnlab freqs` and `yarnlab eval`: a llama3
    extension with its frequency factors and a temperature rule with its coefficient reach the spec."""
    from yarnlab.cli import main

    common = ["train", "finetune", "--base", str(small_base), "--corpus", str(text_corpus), "--seq-len", "64",
              "--steps", "2", "--batch-size", "2", "--heldout-fraction", "0.25", "--final-eval-chunks", "2",
              "--no-progress"]
    assert main([*common, "--out", str(tmp_path / "ft"), "--method", "llama3", "--factor", "2",
                 "--low-freq-factor", "2", "--high-freq-factor", "8",
                 "--temperature", "yarn", "--coefficient", "0.2"]) == 0
    spec = json.loads((tmp_path / "ft" / "rope_spec.json").read_text())
    assert spec["method"] == "llama3" and spec["params"] == {"low_freq_factor": 2.0, "high_freq_factor": 8.0}
    assert spec["temperature"] == "yarn" and spec["temperature_params"] == {"coefficient": 0.2}
    capsys.readouterr()
    assert main([*common, "--out", str(tmp_path / "x"), "--factor", "2"]) == 2
    assert "--method: required for fine-tuning" in capsys.readouterr().err
    assert main([*common, "--out", str(tmp_path / "y"), "--method", "pi", "--factor", "2", "--alpha", "2"]) == 2
    assert "alpha" in capsys.readouterr().err  # a parameter of another method is an error, not ignored


def test_bf16_training_runs_its_matrix_products_in_bfloat16_and_keeps_float32_state(tmp_path, monkeypatch):
    """precision bf16: the forward's matmuls see bfloat16 inputs (autocast), while weights, gradients,
    optimizer state, the loss and the held-out evaluation stay float32; the run still learns."""
    from yarnlab.train import loop

    seen = []
    real_linear = torch.nn.functional.linear

    def spy(x, w, b=None):
        seen.append((x.dtype, torch.is_autocast_enabled("cpu")))
        return real_linear(x, w, b)

    monkeypatch.setattr(torch.nn.functional, "linear", spy)
    model = build_model(SMALL, seed=0)
    fwd = loop.training_forward(model, _cfg(precision="bf16"))
    assert fwd(torch.randint(0, 256, (2, 16))).dtype == torch.bfloat16
    assert seen and all(autocast for _, autocast in seen)
    seen.clear()
    loop.training_forward(model, _cfg())(torch.randint(0, 256, (2, 16)))
    assert seen and not any(autocast for _, autocast in seen)
    monkeypatch.setattr(torch.nn.functional, "linear", real_linear)

    cfg = _cfg(steps=30, checkpoint_every=10, eval_every=10, precision="bf16")
    summary = train(model, ChunkStream(TEXT[:6], 32, seed=0), ChunkStream(TEXT[6:], 32, vary_offsets=False), cfg,
                    tmp_path, progress=False)
    rows = [r for r in map(json.loads, (tmp_path / "metrics.jsonl").read_text().splitlines()) if "loss" in r]
    assert rows[0]["loss"] > rows[-1]["loss"] + 0.5 and 0 < summary["heldout_bpb"] < 8.5
    assert all(p.dtype == torch.float32 for p in model.parameters())
    state = torch.load(sorted((tmp_path / "checkpoints").iterdir())[-1], weights_only=False)
    assert all(v["exp_avg"].dtype == torch.float32 for v in state["optimizer"]["state"].values())
    with pytest.raises(UsageError, match=r"precision: must be one of \('fp32', 'bf16'\) \(got 'fp16'\)"):
        _cfg(precision="fp16")
    # precision changes the weights, so a checkpoint written under fp32 is not resumed under bf16
    with pytest.raises(UsageError, match="precision"):
        train(build_model(SMALL), ChunkStream(TEXT, 32), None, cfg.replace(precision="fp32"), tmp_path,
              resume=True, progress=False)


@pytest.mark.slow
def test_compiled_training_forward_gives_the_eager_losses(tmp_path):
    """compile is a speed setting: the same run compiled and eager logs the same losses (float rounding)
    and may be switched between a run and its resumption."""
    pytest.importorskip("torch._inductor")
    def losses(out):
        return [r["loss"] for r in map(json.loads, (out / "metrics.jsonl").read_text().splitlines()) if "loss" in r]

    cfg = _cfg(steps=6, log_every=1)
    train(build_model(SMALL, seed=3), ChunkStream(TEXT, 32, seed=0), None, cfg, tmp_path / "eager", progress=False)
    # compiled for 3 steps, interrupted, then resumed eager
    train(build_model(SMALL, seed=3), ChunkStream(TEXT, 32, seed=0), None, cfg.replace(compile=True),
          tmp_path / "mixed", progress=False, stop_after=3)
    train(build_model(SMALL), ChunkStream(TEXT, 32, seed=0), None, cfg, tmp_path / "mixed", resume=True,
          progress=False)
    assert len(losses(tmp_path / "eager")) == 6
    assert losses(tmp_path / "mixed") == pytest.approx(losses(tmp_path / "eager"), rel=1e-4)


def test_early_grid_logs_step_zero_and_paired_per_window_losses(tmp_path):
    """The early grid evaluates the model before training and every 2 steps through 4; every evaluation
    line carries each window's loss, whose token-weighted mean is the line's heldout_loss, and the same
    window fingerprint (the windows are fixed); changing the grid does not make a checkpoint stale."""
    cfg = _cfg(eval_early_every=2, eval_early_until=4, checkpoint_every=6)
    held = ChunkStream(TEXT[6:], 32, vary_offsets=False)
    train(build_model(SMALL, seed=0), ChunkStream(TEXT[:6], 32, seed=0), held, cfg, tmp_path, progress=False,
          stop_after=6)
    train(build_model(SMALL, seed=0), ChunkStream(TEXT[:6], 32, seed=0), held,
          cfg.replace(eval_early_every=0, eval_early_until=0), tmp_path, resume=True, progress=False)
    rows = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in rows if "heldout_loss" in r and not r.get("final")]
    assert [r["step"] for r in evals] == [0, 2, 4, 6, 12]
    assert evals[0]["tokens"] == 0 and evals[0]["heldout_loss"] > evals[-1]["heldout_loss"]
    n_windows = cfg.eval_batches * cfg.batch_size
    for r in evals:
        loss, tok = r["heldout_unit_loss"], r["heldout_unit_tokens"]
        assert len(loss) == len(tok) == n_windows and all(t > 0 for t in tok)
        assert sum(a * b for a, b in zip(loss, tok)) / sum(tok) == pytest.approx(r["heldout_loss"], abs=1e-5)
    assert len({r["heldout_units"] for r in evals}) == 1
    assert "heldout_unit_loss" not in rows[-1] and rows[-1]["final"]
