"""Batched sliding-window evaluator vs the plain per-window loop, at identical numbers.

    flock /tmp/yarnlab-heavy.lock python benchmarks/bench_sliding_window.py

``sliding_window_nll`` (windows of equal shape batched, logits only at scored positions) against
``naive_perplexity`` (one forward per window, full logits, HF loss), on the same model and
documents. Reports both perplexities, their relative difference and the speed-up (target >= 1.5):
the two are timed alternately ``--reps`` times and the median of the paired ratios is reported.
``--threads 0`` keeps torch's default (all cores).
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
import torch
from _common import report, timed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--batch-tokens", type=int, default=4096)
    ap.add_argument("--docs", type=int, default=4)
    ap.add_argument("--tokens", type=int, default=2048)
    ap.add_argument("--window", type=int, default=256)
    ap.add_argument("--stride", type=int, default=64)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from yarnlab.evaluate.perplexity import naive_perplexity, plan_windows, sliding_window_nll
    from yarnlab.model.tiny import build_model

    model = build_model(args.preset).eval()
    rng = np.random.default_rng(0)
    docs = [rng.integers(0, 256, args.tokens) for _ in range(args.docs)]
    sliding_window_nll(model, docs[:1], args.window, args.stride)  # warm-up
    out = {}

    def batched():
        out["b"] = sliding_window_nll(model, docs, args.window, args.stride, batch_tokens=args.batch_tokens)

    def naive():
        out["n"] = naive_perplexity(model, docs, args.window, args.stride)

    times = {"naive": [], "batched": []}
    for _ in range(args.reps):
        times["naive"].append(timed(naive))
        times["batched"].append(timed(batched))
    ratios = [n / b for n, b in zip(times["naive"], times["batched"])]
    b, (n_tok, n_win) = out["b"], out["n"]
    report("sliding_window", {
        "preset": args.preset, "docs": args.docs, "tokens_per_doc": args.tokens, "window": args.window,
        "stride": args.stride, "windows": sum(len(plan_windows(len(d), args.window, args.stride)) for d in docs),
        "ppl_token_batched": b.perplexity("token"), "ppl_token_naive": n_tok,
        "ppl_window_batched": b.perplexity("window"), "ppl_window_naive": n_win,
        "max_rel_diff": max(abs(b.perplexity("token") / n_tok - 1), abs(b.perplexity("window") / n_win - 1)),
        "batch_tokens": args.batch_tokens, "reps": args.reps,
        "seconds_batched_median": statistics.median(times["batched"]),
        "seconds_naive_median": statistics.median(times["naive"]),
        "speedup_median": statistics.median(ratios), "speedup_min": min(ratios), "speedup_max": max(ratios),
        "target": ">= 1.5",
    })


if __name__ == "__main__":
    main()
