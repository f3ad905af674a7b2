"""The two training scenarios: pretrain a tiny base model, fine-tune an extended one.

Both read a corpus (``prose``, ``code`` or a directory), split it by document
(:func:`yarnlab.data.corpus.split_corpus`), save the split's manifest beside the results
(``<out>/manifest.json``), and call the one loop :func:`yarnlab.train.loop.train`.
"""

from __future__ import annotations

import os
from pathlib import Path

from yarnlab.data.chunks import ChunkStream
from yarnlab.data.corpus import Split, load_corpus, split_corpus, write_manifest
from yarnlab.errors import UsageError
from yarnlab.io import write_json
from yarnlab.train.config import TrainConfig, pretrain_config


def corpus_streams(corpus: str, seq_len: int, seed: int, heldout_fraction: float,
                   split_seed: int = 0, tokenizer=None, data_format: str = "chunks",
                   retrieval_fraction: float = 0.0, copy_fraction: float = 0.0,
                   place_whole: bool = True,
                   copy_gap_share: float = 0.5,
                   copy_alphabet: str = "letters") -> tuple[Split, ChunkStream, ChunkStream]:
    """Split ``corpus`` by document (split seed fixed at 0 by default so every run of a corpus
    holds out the same documents) and build the training and held-out chunk streams.

    ``tokenizer``: None for the byte tokenizer, else a Hugging Face tokenizer (a full-size base
    model); documents are then decoded as UTF-8 and encoded without special tokens, and chunks are
    bookended with the tokenizer's own BOS/EOS."""
    split = split_corpus(load_corpus(corpus), heldout_fraction, split_seed)
    kw = {}
    if tokenizer is None:
        def encode(data):
            return data
    else:
        def encode(data):
            return tokenizer(data.decode("utf-8", errors="replace"), add_special_tokens=False)["input_ids"]
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        kw = {"bos_id": tokenizer.bos_token_id, "eos_id": tokenizer.eos_token_id, "pad_id": pad}
        if kw["bos_id"] is None or kw["eos_id"] is None:
            raise UsageError("tokenizer: needs BOS and EOS tokens to bookend chunks (paper Section 4.1)")
    if data_format == "windows":  # random windows of one stream: no position artifacts (data/windows.py)
        from yarnlab.data.windows import WindowStream

        wkw = {"eos_id": kw["eos_id"], "encode": lambda t: encode(t.encode())} if kw else {}
        train = WindowStream([encode(d.read_bytes()) for d in split.train], seq_len, seed=seed,
                             retrieval_fraction=retrieval_fraction, copy_fraction=copy_fraction,
                             place_whole=place_whole, copy_gap_share=copy_gap_share,
                             copy_alphabet=copy_alphabet, **wkw)
        held = WindowStream([encode(d.read_bytes()) for d in split.heldout], seq_len, seed=0, **wkw)
        return split, train, held
    train = ChunkStream([encode(d.read_bytes()) for d in split.train], seq_len, seed=seed, **kw)
    held = ChunkStream([encode(d.read_bytes()) for d in split.heldout], seq_len, seed=0, vary_offsets=False,
                       **kw)
    return split, train, held


def is_byte_level(config) -> bool:
    """A yarnlab tiny model (byte vocabulary) rather than a model with its own tokenizer."""
    from yarnlab.model.tiny import VOCAB_SIZE

    return getattr(config, "yarnlab_preset", None) is not None and config.vocab_size == VOCAB_SIZE


def pretrain(preset: str | dict, corpus: str, out: str | os.PathLike, cfg: TrainConfig | None = None,
             resume: bool = False, progress: bool = True, model_seed: int | None = None,
             set_aside_stale: bool = False, diagnostics=None) -> dict:
    """Pretrain a tiny byte-level Llama (:mod:`yarnlab.model.tiny`) from scratch. ``diagnostics``:
    see :func:`yarnlab.train.loop.train` (needed with ``cfg.induction_eval``)."""
    from yarnlab.model.tiny import build_model, tiny_config

    mcfg = tiny_config(preset)
    cfg = cfg or pretrain_config(lr=mcfg.yarnlab_pretrain_lr, seq_len=mcfg.max_position_embeddings)
    if cfg.seq_len > mcfg.max_position_embeddings:
        raise UsageError(f"seq_len: must be <= the model's trained context "
                         f"{mcfg.max_position_embeddings} for pretraining (got {cfg.seq_len})")
    split, train_s, held_s = corpus_streams(corpus, cfg.seq_len, cfg.seed, cfg.heldout_fraction,
                                            data_format=cfg.data_format,
                                            retrieval_fraction=cfg.retrieval_fraction,
                                            copy_fraction=cfg.copy_fraction, place_whole=cfg.place_whole,
                                            copy_gap_share=cfg.copy_gap_share, copy_alphabet=cfg.copy_alphabet)
    if cfg.warm_steps:  # curriculum: a copy-rich stream of the same training documents first
        from yarnlab.data.windows import PhasedStream

        _, warm, _ = corpus_streams(corpus, cfg.seq_len, cfg.seed, cfg.heldout_fraction, data_format="windows",
                                    copy_fraction=cfg.warm_copy_fraction, place_whole=cfg.place_whole,
                                    copy_gap_share=cfg.warm_copy_gap_share,
                                    copy_alphabet=cfg.warm_copy_alphabet or cfg.copy_alphabet)
        train_s = PhasedStream(warm, train_s, cfg.warm_steps)
    out = Path(out)
    model = build_model(mcfg, seed=cfg.seed if model_seed is None else model_seed)
    _write_inputs(out, split)
    meta = {"scenario": "pretrain", "preset": mcfg.yarnlab_preset, "corpus": corpus,
            "parameters": sum(p.numel() for p in model.parameters()), "manifest": "manifest.json"}
    return _run(model, train_s, held_s, cfg, out, resume, progress, meta, set_aside_stale, diagnostics)


def finetune_spec(base_config: dict, method: str, factor: float, params: dict | None = None,
                  temperature: str | None = None, temperature_params: dict | None = None):
    """The RopeSpec for extending a base model: its geometry (head size, base, L) with a new
    method, factor s, method parameters and temperature rule (with its parameters)."""
    from yarnlab.rope.hf import spec_from_hf_config

    base = spec_from_hf_config(base_config)
    return base.replace(method=method, factor=float(factor), params=dict(params or {}),
                        temperature=temperature, temperature_params=dict(temperature_params or {}))


def finetune(base: str | os.PathLike, method: str, factor: float, corpus: str, out: str | os.PathLike,
             cfg: TrainConfig, params: dict | None = None, temperature: str | None = None,
             temperature_params: dict | None = None, resume: bool = False, progress: bool = True,
             set_aside_stale: bool = False, diagnostics=None) -> dict:
    """Extend a base checkpoint with ``method`` at scale ``factor`` and fine-tune it (paper
    Section 4.1: only the RoPE frequencies change; every weight is trained)."""
    from yarnlab.model import apply_scaling, load_model
    from yarnlab.train import distributed

    if not Path(base, "config.json").is_file():
        raise UsageError(f"base: {str(base)!r} is not a checkpoint folder with a config.json")
    # yarnlab's loader restores a yarnlab-only spec, so an extended checkpoint can be the base
    # (the paper's s = 16 -> 32 transfer); the new spec replaces it
    from safetensors import SafetensorError

    try:
        model = load_model(str(base), attn_implementation="sdpa")
    except (OSError, RuntimeError, ValueError, SafetensorError) as exc:  # truncated / corrupt weights or config
        raise UsageError(f"base: cannot load the checkpoint in {str(base)!r} ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''}); its model.safetensors or "
                         "config.json is truncated or corrupt: retrain or re-download the base model "
                         "(in the workflow: remove its train_summary.json and rerun)") from exc
    spec = finetune_spec(model.config.to_dict(), method, factor, params, temperature, temperature_params)
    apply_scaling(model, spec)
    tokenizer = None
    if not is_byte_level(model.config):
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(base))
    split, train_s, held_s = corpus_streams(corpus, cfg.seq_len, cfg.seed, cfg.heldout_fraction,
                                            tokenizer=tokenizer, data_format=cfg.data_format,
                                            retrieval_fraction=cfg.retrieval_fraction,
                                            copy_fraction=cfg.copy_fraction, place_whole=cfg.place_whole,
                                            copy_gap_share=cfg.copy_gap_share, copy_alphabet=cfg.copy_alphabet)
    out = Path(out)
    _write_inputs(out, split)
    if tokenizer is not None and distributed.current().is_main:
        tokenizer.save_pretrained(str(out))
    write_json(out / "rope_spec.json", spec.to_dict(), sort_keys=True, indent=1)
    meta = {"scenario": "finetune", "base": str(base), "corpus": corpus, "spec": spec.to_dict(),
            "manifest": "manifest.json"}
    return _run(model, train_s, held_s, cfg, out, resume, progress, meta, set_aside_stale, diagnostics)


def _write_inputs(out: Path, split: Split) -> None:
    from yarnlab.train import distributed

    if distributed.current().is_main:
        out.mkdir(parents=True, exist_ok=True)
        write_manifest(split, out / "manifest.json")


def _run(model, train_s, held_s, cfg, out, resume, progress, meta, set_aside_stale=False, diagnostics=None):
    from yarnlab.train.loop import train

    return train(model, train_s, held_s, cfg, out, resume=resume, progress=progress, meta=meta,
                 set_aside_stale=set_aside_stale, diagnostics=diagnostics)
