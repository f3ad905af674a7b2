"""Forward throughput of a model patched by ``apply_scaling`` vs the unpatched model.

The paper's "zero overhead" claim (Section 3.4): YaRN only changes the cos/sin tables, so a
static spec must cost nothing per forward. Target: patched / unpatched throughput >= 0.99.

    flock /tmp/yarnlab-heavy.lock python benchmarks/bench_patch_overhead.py

Same weights, same inputs; calls are interleaved and the ratio of median (and of minimum) call
times is reported. Dynamic-YaRN (tables recomputed per forward) is reported alongside.
"""

from __future__ import annotations

import argparse
import copy
import statistics

import torch
from _common import interleaved, report


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="small")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from yarnlab.model import apply_scaling, model_spec
    from yarnlab.model.tiny import build_model

    base = build_model(args.preset).eval()
    spec = model_spec(base).replace(method="yarn", factor=args.seq / base.config.max_position_embeddings)
    patched = copy.deepcopy(base)
    apply_scaling(patched, spec)
    dynamic = copy.deepcopy(base)
    apply_scaling(dynamic, spec.replace(method="dynamic-yarn"))
    ids = torch.randint(0, 256, (args.batch, args.seq))

    def fwd(model):
        def run():
            with torch.inference_mode():
                model(input_ids=ids, use_cache=False)
        return run

    for m in (base, patched, dynamic):  # warm-up
        fwd(m)()
    t = interleaved({"unpatched": fwd(base), "patched": fwd(patched), "dynamic": fwd(dynamic)}, args.reps)
    med = {k: statistics.median(v) for k, v in t.items()}
    best = {k: min(v) for k, v in t.items()}
    tokens = args.batch * args.seq
    report("patch_overhead", {
        "preset": args.preset, "batch": args.batch, "seq": args.seq, "reps": args.reps,
        "spec": f"yarn s={spec.factor:g}",
        "tokens_per_s_unpatched": tokens / med["unpatched"], "tokens_per_s_patched": tokens / med["patched"],
        "throughput_ratio_median": med["unpatched"] / med["patched"],
        "throughput_ratio_min": best["unpatched"] / best["patched"],
        "throughput_ratio_dynamic_median": med["unpatched"] / med["dynamic"],
        "target": ">= 0.99",
    })


if __name__ == "__main__":
    main()
