"""``yarnlab train pretrain|finetune``: the command line of :mod:`yarnlab.train.recipes`.

Standard library only at module level. Multi-process: launch the same command under
``torchrun --nproc-per-node N -m yarnlab train ...``.
"""

from __future__ import annotations

import argparse
import json


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", default="prose", help="prose | code | a directory of text files (default prose)")
    p.add_argument("--out", required=True, help="output folder: HF checkpoint, metrics.jsonl, manifest.json")
    p.add_argument("--steps", type=int, required=True, help="optimizer steps")
    p.add_argument("--seed", type=int, default=0, help="data order and initialisation seed (default 0)")
    p.add_argument("--lr", type=float, default=None, help="peak learning rate (default: per scenario)")
    p.add_argument("--batch-size", type=int, default=16, help="global batch in chunks (default 16)")
    p.add_argument("--warmup", type=int, default=None, help="linear warmup steps")
    p.add_argument("--schedule", choices=["constant", "cosine", "linear"], default=None)
    p.add_argument("--decay-start", type=int, default=None,
                   help="cosine/linear: hold the peak learning rate until this step, then decay (default 0)")
    p.add_argument("--weight-decay", type=float, default=None)
    p.add_argument("--grad-clip", type=float, default=1.0, help="max grad norm, 0 disables (default 1)")
    p.add_argument("--heldout-fraction", type=float, default=0.1, help="document groups held out (default 0.1)")
    p.add_argument("--eval-every", type=int, default=None, help="held-out evaluation every N steps")
    p.add_argument("--eval-early-every", type=int, default=None,
                   help="dense early evaluation: also before the first step and every N steps through "
                        "--eval-early-until (default 0: off); resolves how fast a run reaches a loss")
    p.add_argument("--eval-early-until", type=int, default=None,
                   help="last step of the dense early evaluation grid (>= --eval-early-every)")
    p.add_argument("--eval-batches", type=int, default=8, help="batches per periodic evaluation (default 8)")
    p.add_argument("--final-eval-chunks", type=int, default=1024, help="held-out chunks at the end (default 1024)")
    p.add_argument("--checkpoint-every", type=int, default=None, help="resumable checkpoint every N steps")
    p.add_argument("--checkpoint-minutes", type=float, default=None,
                   help="also a resumable checkpoint whenever this many minutes passed since the last (0: off)")
    p.add_argument("--log-every", type=int, default=10, help="metrics line every N steps (default 10)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--data-format", choices=["chunks", "windows"], default=None,
                   help="chunks: BOS/EOS-bookended chunks (paper 4.1, default) | windows: random windows of one "
                        "document stream, no position artifacts")
    p.add_argument("--retrieval-fraction", type=float, default=None,
                   help="windows: share of tokens in synthetic key-retrieval documents (default 0)")
    p.add_argument("--copy-fraction", type=float, default=None,
                   help="windows: share of tokens in repeated random-letter spans (copy documents, default 0)")
    p.add_argument("--copy-gap-share", type=float, default=None,
                   help="windows: share of copy documents with a random-letter gap between the copies (default 0.5)")
    p.add_argument("--copy-alphabet", default=None,
                   help="windows: source of the copy documents: a-z, printable ASCII 32..126, slices of the "
                        "training prose, or one of the three per document: letters | printable | prose | mixed "
                        "(default letters)")
    p.add_argument("--warm-steps", type=int, default=None,
                   help="windows curriculum: the first N steps draw from a copy-rich stream (default 0: none)")
    p.add_argument("--warm-copy-fraction", type=float, default=None,
                   help="copy-document share of the warm stream (default 0.9)")
    p.add_argument("--warm-copy-gap-share", type=float, default=None,
                   help="share of the warm stream's copy documents with a gap (default 0: adjacent copies)")
    p.add_argument("--warm-copy-alphabet", default=None,
                   help="source of the warm stream's copy documents (default: --copy-alphabet)")
    p.add_argument("--placement", choices=["whole", "random"], default=None,
                   help="windows: synthetic documents whole inside their training window (default) or cut "
                        "by random offsets")
    p.add_argument("--induction-eval", choices=["on", "off"], default=None,
                   help="byte-level: log the induction gain and in-context-learning score at every evaluation "
                        "(default: on for pretraining, off for fine-tuning)")
    p.add_argument("--precision", choices=["fp32", "bf16"], default=None,
                   help="training forward: fp32 (default) or bf16 autocast (bf16 matrix products; weights, "
                        "gradients, optimizer and loss in fp32; fast on CPUs with AMX or AVX-512 BF16). Not only "
                        "a speed setting: on the copying task the tiny model formed no induction head under bf16 "
                        "where fp32 did (paper_figs/induction_diagnostics)")
    p.add_argument("--compile", choices=["on", "off"], default=None,
                   help="torch.compile the training forward (default off; needs a C++ compiler on CPU)")
    p.add_argument("--strategy", choices=["ddp", "fsdp"], default="ddp", help="multi-process wrapping")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    p.add_argument("--set-aside-stale", action="store_true",
                   help="with --resume: move checkpoints written under other settings to "
                        "<out>/checkpoints.stale-<time> and start over (default: refuse, exit code 3)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _config(args, defaults: dict):
    from yarnlab.train.config import TrainConfig

    d = dict(defaults)
    given = {"steps": args.steps, "seed": args.seed, "lr": args.lr, "batch_size": args.batch_size,
             "warmup_steps": args.warmup, "schedule": args.schedule, "decay_start": args.decay_start,
             "weight_decay": args.weight_decay,
             "grad_clip": args.grad_clip, "heldout_fraction": args.heldout_fraction,
             "eval_every": args.eval_every, "eval_batches": args.eval_batches,
             "eval_early_every": args.eval_early_every, "eval_early_until": args.eval_early_until,
             "final_eval_chunks": args.final_eval_chunks, "checkpoint_every": args.checkpoint_every,
             "checkpoint_minutes": args.checkpoint_minutes,
             "log_every": args.log_every, "threads": args.threads, "strategy": args.strategy,
             "data_format": args.data_format, "retrieval_fraction": args.retrieval_fraction,
             "copy_fraction": args.copy_fraction, "copy_gap_share": args.copy_gap_share,
             "copy_alphabet": args.copy_alphabet,
             "warm_steps": args.warm_steps, "warm_copy_fraction": args.warm_copy_fraction,
             "warm_copy_gap_share": args.warm_copy_gap_share, "warm_copy_alphabet": args.warm_copy_alphabet,
             "place_whole": None if args.placement is None else args.placement == "whole",
             "induction_eval": None if args.induction_eval is None else args.induction_eval == "on",
             "precision": args.precision, "compile": None if args.compile is None else args.compile == "on"}
    d.update({k: v for k, v in given.items() if v is not None})
    return TrainConfig(**d)


def _report(summary: dict) -> int:
    from yarnlab.train import distributed

    if distributed.current().is_main:
        keys = ("steps", "tokens", "tokens_per_s_this_run", "final_train_loss", "heldout_bpb")
        print(json.dumps({k: summary.get(k) for k in keys}))
    return 0


def _diagnostics(cfg):
    """The evaluation layer's induction diagnostics when the config asks for them (the loop below takes
    them as a function and imports nothing from evaluate)."""
    if not cfg.induction_eval:
        return None
    from yarnlab.evaluate.induction import training_diagnostics

    return training_diagnostics


def _pretrain(args) -> int:
    from yarnlab import cpu

    cpu.configure(args.threads)  # before any torch work: the worker threads inherit the flushing
    from yarnlab.model.tiny import tiny_config
    from yarnlab.train import distributed, recipes
    from yarnlab.train.config import pretrain_config

    distributed.init_from_env()
    preset = args.preset if args.rope_base is None else {"preset": args.preset, "rope_theta": args.rope_base}
    mcfg = tiny_config(preset)
    seq_len = args.seq_len or mcfg.max_position_embeddings
    base = pretrain_config(lr=mcfg.yarnlab_pretrain_lr, seq_len=seq_len, steps=args.steps,
                           warmup_steps=min(100, max(1, args.steps // 10))).to_dict()
    base["eval_every"] = base["checkpoint_every"] = max(1, args.steps // 5)
    base["induction_eval"] = True  # the induction gain and ICL score at every evaluation (--induction-eval off)
    cfg = _config(args, base)
    return _report(recipes.pretrain(preset, args.corpus, args.out, cfg, resume=args.resume,
                                    progress=not args.no_progress, set_aside_stale=args.set_aside_stale,
                                    diagnostics=_diagnostics(cfg)))


def _finetune(args) -> int:
    from yarnlab import cpu

    cpu.configure(args.threads)  # before any torch work: the worker threads inherit the flushing
    from yarnlab.train import distributed, recipes
    from yarnlab.train.config import TrainConfig

    distributed.init_from_env()
    lr = args.lr
    if lr is None:  # the base model's own fine-tuning lr (tiny presets), else the paper's 2e-5
        try:
            with open(f"{args.base}/config.json") as fh:
                lr = json.load(fh).get("yarnlab_finetune_lr")
        except OSError:
            lr = None
    base = TrainConfig(seq_len=args.seq_len, steps=args.steps, lr=lr or 2e-5).to_dict()
    base["eval_every"] = base["checkpoint_every"] = max(1, args.steps // 5)
    cfg = _config(args, {**base, "lr": lr or 2e-5})
    from yarnlab.errors import UsageError
    from yarnlab.rope.cli import method_params, rule_params

    for flag in ("method", "factor"):
        if getattr(args, flag) is None:
            raise UsageError(f"--{flag}: required for fine-tuning")
    return _report(recipes.finetune(args.base, args.method, args.factor, args.corpus, args.out, cfg,
                                    params=method_params(args), temperature=args.temperature,
                                    temperature_params=rule_params(args), resume=args.resume,
                                    progress=not args.no_progress, set_aside_stale=args.set_aside_stale,
                                    diagnostics=_diagnostics(cfg)))


def _export_hf(args) -> int:
    from yarnlab.data.hf import export_documents, load_hf_documents

    docs = load_hf_documents(args.dataset, split=args.split, source=args.source, min_bytes=args.min_bytes,
                             max_docs=args.max_docs)
    manifest = export_documents(docs, args.out)
    print(json.dumps({"documents": len(manifest["documents"]),
                      "bytes": sum(r["bytes"] for r in manifest["documents"]), "out": args.out}))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("train", help="pretrain a tiny model or fine-tune an extended one")
    sub = p.add_subparsers(dest="train_command", required=True)

    pre = sub.add_parser("pretrain", help="pretrain a tiny byte-level Llama from scratch")
    pre.add_argument("--preset", default="tiny", help="micro | tiny | small | medium (default tiny)")
    pre.add_argument("--rope-base", type=float, default=None,
                     help="RoPE base b of the new model (default: the preset's, 300); a toy-geometry axis")
    pre.add_argument("--seq-len", type=int, default=None, help="chunk length (default: the preset's L)")
    _common(pre)
    pre.set_defaults(func=_pretrain)

    ft = sub.add_parser("finetune", help="extend a base checkpoint's context and fine-tune it (paper recipe)")
    ft.add_argument("--base", required=True, help="base model checkpoint folder")
    ft.add_argument("--seq-len", type=int, required=True, help="fine-tuning chunk length")
    _common(ft)
    from yarnlab.rope.cli import add_spec_arguments  # every method's and rule's parameters, from the registries

    add_spec_arguments(ft)
    ft.set_defaults(func=_finetune, method=None, factor=None)

    ex = sub.add_parser("export-hf", help="write PG19 / Proof-pile / GovReport documents as a text-file corpus "
                                          "(needs the [gpu] extra)")
    ex.add_argument("--dataset", required=True, help="pg19 | proof-pile | govreport")
    ex.add_argument("--split", default="test", help="data-set split (default test)")
    ex.add_argument("--source", default=None, help="local file(s) or folder instead of the hub repository")
    ex.add_argument("--min-bytes", type=int, default=0, help="keep documents of at least N UTF-8 bytes")
    ex.add_argument("--max-docs", type=int, default=None, help="keep at most N documents")
    ex.add_argument("--out", required=True, help="output folder (a directory corpus)")
    ex.set_defaults(func=_export_hf)
