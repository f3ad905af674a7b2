"""Batched sliding-window evaluator vs the plain per-window loop, at identical numbers.

    flock /tmp/yarnlab-heavy.lock python benchmarks/bench_sliding_window.py

``sliding_window_nll`` (windows of equal shape batched, logits only at scored positions) against
``naive_perplexity`` (one forward per window, full logits, HF loss), on the same model and
documents. Reports both perplexities, their relative difference and the speed-up (target >= 1.5).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _common import report, timed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="small")
    ap.add_argument("--docs", type=int, default=4)
    ap.add_argument("--tokens", type=int, default=2048)
    ap.add_argument("--window", type=int, default=256)
    ap.add_argument("--stride", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from yarnlab.evaluate.perplexity import naive_perplexity, plan_windows, sliding_window_nll
    from yarnlab.model.tiny import build_model

    model = build_model(args.preset).eval()
    rng = np.random.default_rng(0)
    docs = [rng.integers(0, 256, args.tokens) for _ in range(args.docs)]
    sliding_window_nll(model, docs[:1], args.window, args.stride)  # warm-up
    out = {}
    t_batched = timed(lambda: out.setdefault("b", sliding_window_nll(model, docs, args.window, args.stride)))
    t_naive = timed(lambda: out.setdefault("n", naive_perplexity(model, docs, args.window, args.stride)))
    b, (n_tok, n_win) = out["b"], out["n"]
    report("sliding_window", {
        "preset": args.preset, "docs": args.docs, "tokens_per_doc": args.tokens, "window": args.window,
        "stride": args.stride, "windows": sum(len(plan_windows(len(d), args.window, args.stride)) for d in docs),
        "ppl_token_batched": b.perplexity("token"), "ppl_token_naive": n_tok,
        "ppl_window_batched": b.perplexity("window"), "ppl_window_naive": n_win,
        "max_rel_diff": max(abs(b.perplexity("token") / n_tok - 1), abs(b.perplexity("window") / n_win - 1)),
        "seconds_batched": t_batched, "seconds_naive": t_naive, "speedup": t_naive / t_batched,
        "target": ">= 1.5",
    })


if __name__ == "__main__":
    main()
