"""Training-step throughput of the pretraining loop's forward settings: fp32 eager (the baseline), bf16
autocast eager, fp32 compiled and bf16 autocast compiled (``TrainConfig.precision`` / ``compile``).

    python benchmarks/bench_train_speed.py --preset small --threads 2

One training step = the loop's forward (:func:`yarnlab.train.loop.training_forward`), the next-token loss,
backward, gradient clipping and an AdamW step, on a fixed batch of random byte ids (B x T, the pretraining
shape 16 x 256 by default). Each variant has its own model (same initial weights); compiled variants are
warmed up (compiled) before timing. Steps are interleaved (one of each variant per round) so that drifts in
machine load hit every variant alike; reported: tokens/s per variant (median over rounds) and the median of
the per-round ratios variant / fp32-eager with their quartiles. bf16 pays where the CPU multiplies bf16 in
hardware (AMX or AVX-512 BF16; ``lscpu`` flags ``amx_bf16`` / ``avx512_bf16``); elsewhere it can be slower.
"""

from __future__ import annotations

import argparse
import statistics

import torch
from _common import interleaved, report


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="small")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--reps", type=int, default=12)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-compile", action="store_true", help="time the eager variants only")
    args = ap.parse_args()
    from yarnlab import cpu

    cpu.configure(args.threads)  # as the training command does
    from yarnlab.model.tiny import build_model
    from yarnlab.train.config import TrainConfig
    from yarnlab.train.loop import next_token_loss, training_forward

    ids = torch.randint(0, 256, (args.batch, args.seq))
    variants = {"fp32": ("fp32", False), "bf16": ("bf16", False)}
    if not args.no_compile:
        variants.update({"fp32-compiled": ("fp32", True), "bf16-compiled": ("bf16", True)})

    def stepper(precision, compiled):
        model = build_model(args.preset, seed=0).train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), foreach=False)
        cfg = TrainConfig(seq_len=args.seq, precision=precision, compile=compiled)
        forward = training_forward(model, cfg)

        def step():
            loss = next_token_loss(forward(ids), ids)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        return step

    steps = {k: stepper(*v) for k, v in variants.items()}
    for f in steps.values():  # compile and warm up each variant
        for _ in range(3):
            f()
    t = interleaved(steps, args.reps)
    tokens = args.batch * args.seq
    out = {"preset": args.preset, "batch": args.batch, "seq": args.seq, "reps": args.reps,
           "tokens_per_s": {k: round(tokens / statistics.median(v)) for k, v in t.items()}}
    for k in steps:
        if k == "fp32":
            continue
        r = [b / v for b, v in zip(t["fp32"], t[k])]
        q = statistics.quantiles(r, n=4)
        out[f"speedup_{k}"] = {"median": round(statistics.median(r), 3), "q1": round(q[0], 3), "q3": round(q[2], 3)}
    report("train_speed", out)


if __name__ == "__main__":
    main()
