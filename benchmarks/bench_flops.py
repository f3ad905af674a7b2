"""Achieved forward GFLOP/s of a tiny Llama as a fraction of a large matmul's GFLOP/s.

    flock /tmp/yarnlab-heavy.lock python benchmarks/bench_flops.py

Forward FLOPs per token (PaLM appendix B convention, forward = 1/3 of 6N + 12 L d T):
2 N + 4 L d T, with N the parameters of every matmul (attention and MLP projections, the output
head; not the embedding lookup), L layers, d the hidden size and T the sequence length. The
reference is a float32 (n x n) @ (n x n) matmul (2 n^3 FLOPs) in the same process and threads.
Target on CPU: >= 40%.
"""

from __future__ import annotations

import argparse
import statistics

import torch
from _common import interleaved, report


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="medium")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--matmul", type=int, default=2048)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from yarnlab.model.tiny import build_model

    model = build_model(args.preset).eval()
    cfg = model.config
    n_matmul = sum(p.numel() for name, p in model.named_parameters()
                   if p.dim() == 2 and "embed_tokens" not in name)
    tokens = args.batch * args.seq
    flops_fwd = tokens * (2 * n_matmul + 4 * cfg.num_hidden_layers * cfg.hidden_size * args.seq)
    ids = torch.randint(0, 256, (args.batch, args.seq))
    a, b = torch.randn(args.matmul, args.matmul), torch.randn(args.matmul, args.matmul)

    def fwd():
        with torch.inference_mode():
            model(input_ids=ids, use_cache=False)

    def mm():
        torch.mm(a, b)

    fwd(), mm()
    t = interleaved({"forward": fwd, "matmul": mm}, args.reps)
    gf_fwd = flops_fwd / statistics.median(t["forward"]) / 1e9
    gf_mm = 2 * args.matmul**3 / statistics.median(t["matmul"]) / 1e9
    report("flops", {
        "preset": args.preset, "batch": args.batch, "seq": args.seq, "matmul_params": n_matmul,
        "gflop_per_forward": flops_fwd / 1e9, "gflops_forward": gf_fwd, "gflops_matmul": gf_mm,
        "fraction": gf_fwd / gf_mm, "target": ">= 0.40",
    })


if __name__ == "__main__":
    main()
