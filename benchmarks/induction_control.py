"""Minimal control for induction-head formation: a plain ``LlamaForCausalLM`` and a bare loop.

It shares nothing with ``yarnlab.train`` but the copy documents and the evaluation: each training
sequence is ``seq_len`` bytes of copy documents (a random-letter span of 8..seq_len/2 letters, then the
same span), one after another with a newline between them; AdamW (0.9, 0.95), a linear warmup then a
constant learning rate, no weight decay, gradient clipping at 1. Every ``--eval-every`` steps it logs
:func:`yarnlab.evaluate.induction.training_diagnostics` (span 32, 16 sequences per distance), so the
phase change of Olsson et al. (2022) shows as a jump of the gain from ~0 to ~3 nats.

    python benchmarks/induction_control.py --steps 3000 --out control.jsonl [--rope-base 1e4] [--data stream]

Used to tell a defect of the project's loop from a property of the task: the same shape and task
through ``yarnlab train pretrain --copy-fraction 0.9`` should form the circuit at a similar step.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def copy_sequence(rng: np.random.Generator, seq_len: int) -> np.ndarray:
    from yarnlab.data.synthetic import copy_document

    parts, n = [], 0
    while n < seq_len:
        span = int(rng.integers(8, seq_len // 2 + 1))
        doc = np.concatenate([copy_document(rng, span), [10]])
        parts.append(doc)
        n += len(doc)
    return np.concatenate(parts)[:seq_len]


def main(argv=None) -> int:
    import torch
    import torch.nn.functional as F

    from yarnlab.evaluate.induction import training_diagnostics
    from yarnlab.model.tiny import build_model

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--seq-len", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--rope-base", type=float, default=1e4)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", choices=["packed", "stream"], default="packed",
                    help="packed: each sequence copy documents from position 0 (default); stream: the windows "
                         "yarnlab train draws (WindowStream of the prose training works with --copy-fraction)")
    ap.add_argument("--copy-fraction", type=float, default=0.95, help="stream: share of copy documents")
    ap.add_argument("--copy-gap-share", type=float, default=0.0, help="stream: share of copy documents with a gap")
    ap.add_argument("--out", required=True, help="metrics JSON lines")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = build_model({"preset": args.preset, "rope_theta": args.rope_base}, seed=args.seed)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / args.warmup))
    stream = None
    if args.data == "stream":
        from yarnlab.train.recipes import corpus_streams

        _, stream, _ = corpus_streams("prose", args.seq_len, args.seed, 0.2, data_format="windows",
                                      copy_fraction=args.copy_fraction, copy_gap_share=args.copy_gap_share)
    t0 = time.perf_counter()
    with open(args.out, "w") as fh:
        for step in range(1, args.steps + 1):
            if stream is not None:
                x = stream.batch(step - 1, args.batch_size)[0]
            else:
                rng = np.random.default_rng([args.seed, 23, step])
                x = torch.from_numpy(np.stack([copy_sequence(rng, args.seq_len) for _ in range(args.batch_size)]))
            logits = model(input_ids=x).logits
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            if step % args.eval_every == 0 or step == args.steps:
                row = {"step": step, "tokens": step * args.batch_size * args.seq_len, "loss": float(loss),
                       **training_diagnostics(model, args.seq_len, seed=1), "elapsed_s": time.perf_counter() - t0}
                fh.write(json.dumps(row) + "\n")
                fh.flush()
                print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
