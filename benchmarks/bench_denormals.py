"""Training-step speed of a trained model with subnormal floats flushed to zero or kept.

Attention probabilities underflow into subnormal floats as a model's attention sharpens, and x86 cores
compute with subnormals in microcode (yarnlab/cpu.py). This times one forward and backward pass
(fp32, eager, held-out prose) of a trained model and of an untrained one of the same shape, each in
its own process, since the flag must be set before the worker threads start: with flushing (what
every yarnlab command does) and without. Processes alternate (flush, keep, init-keep, ...) so that
drifts in machine load hit every variant alike. The share of subnormal attention probabilities is
counted once, with eager attention, in a process that keeps them.

    python benchmarks/bench_denormals.py --model results/models/base-seed0 --docs results/data/eval_docs.npz
    python benchmarks/bench_denormals.py --checkpoint RUN/checkpoints/step-0000950.pt --preset medium \\
        --rope-base 10000 --docs RUN/../../data/eval_docs.npz
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

VARIANTS = ("flush", "keep", "init-keep")


def _model(args, init: bool):
    import torch

    from yarnlab.model.tiny import build_model, preset_dict

    if args.model:
        from yarnlab.model.patch import load_model

        model = load_model(args.model)
        if init:
            model = build_model(model.config, seed=0)
        return model
    spec = preset_dict(args.preset)
    if args.rope_base:
        spec["rope_theta"] = args.rope_base
    model = build_model(spec, seed=0)
    if not init:
        state = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
    return model


def _subnormal_share(model, ids) -> float:
    """Share of the attention probabilities (eager attention, every layer) that are subnormal."""
    import torch
    import torch.nn.functional as F

    tiny = torch.finfo(torch.float32).tiny
    counts = [0, 0]
    softmax = F.softmax

    def counting(*a, **k):
        p = softmax(*a, **k)
        counts[0] += int(((p > 0) & (p < tiny)).sum())
        counts[1] += p.numel()
        return p

    impl = model.config._attn_implementation
    model.config._attn_implementation = "eager"
    F.softmax = counting
    try:
        with torch.no_grad():
            model(input_ids=ids)
    finally:
        F.softmax = softmax
        model.config._attn_implementation = impl
    return counts[0] / max(counts[1], 1)


def child(args) -> None:
    from yarnlab import cpu

    if args.child == "flush":
        cpu.configure(args.threads)
    else:
        import torch

        torch.set_num_threads(args.threads)
    import numpy as np
    import torch

    from yarnlab.evaluate.docs import read_eval_docs
    from yarnlab.train.loop import next_token_loss

    docs, _ = read_eval_docs(args.docs)
    if len(docs) < args.batch or min(len(d) for d in docs[:args.batch]) < args.seq:
        sys.exit(f"--docs: needs {args.batch} documents of at least {args.seq} tokens")
    ids = torch.as_tensor(np.stack([d[:args.seq] for d in docs[:args.batch]]))
    model = _model(args, init=args.child == "init-keep").train()
    out = {"variant": args.child, "workers_flush": cpu.workers_flush()}
    if args.child == "keep":
        out["subnormal_attention_share"] = _subnormal_share(model, ids)

    def step():
        model.zero_grad(set_to_none=True)
        next_token_loss(model(input_ids=ids).logits, ids).backward()

    step()  # warm-up
    times = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    out["seconds"] = times
    print(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="a trained model directory (Hugging Face layout)")
    src.add_argument("--checkpoint", help="a training checkpoint (.pt) of a tiny preset")
    ap.add_argument("--preset", default="tiny", help="with --checkpoint: the preset it trains")
    ap.add_argument("--rope-base", type=float, default=None, help="with --checkpoint: its RoPE base")
    ap.add_argument("--docs", required=True, help="held-out documents (.npz of token arrays, e.g. eval_docs.npz)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3, help="timed steps per process")
    ap.add_argument("--rounds", type=int, default=2, help="processes per variant, alternating")
    ap.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)

    argv = sys.argv[1:]
    runs = {v: [] for v in VARIANTS}
    share = None
    for _ in range(args.rounds):
        for v in VARIANTS:
            done = subprocess.run([sys.executable, __file__, *argv, "--child", v], capture_output=True, text=True)
            if done.returncode:
                sys.exit(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"{v}: failed")
            row = json.loads(done.stdout.strip().splitlines()[-1])
            runs[v] += row["seconds"]
            share = row.get("subnormal_attention_share", share)
            if v == "flush" and not row["workers_flush"]:
                sys.exit("flush: the worker threads do not flush (a CPU without flush-to-zero?)")
    med = {v: statistics.median(s) for v, s in runs.items()}
    tokens = args.batch * args.seq
    from _common import report

    report("denormals", {
        "source": args.model or args.checkpoint, "batch": args.batch, "seq": args.seq, "threads": args.threads,
        "steps_timed_each": len(runs["flush"]), "subnormal_attention_share": round(share, 4),
        "fwd_bwd_tokens_per_s": {v: round(tokens / m) for v, m in med.items()},
        "slowdown_keep_vs_flush": round(med["keep"] / med["flush"], 3),
        "slowdown_keep_vs_untrained": round(med["keep"] / med["init-keep"], 3)})


if __name__ == "__main__":
    main()
