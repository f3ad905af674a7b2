"""Forward throughput of a model patched by ``apply_scaling`` vs the unpatched model.

The paper's "zero overhead" claim (Section 3.4): YaRN only changes the cos/sin tables, so a
static spec must cost nothing per forward. Target: patched / unpatched throughput >= 0.99.

    flock /tmp/yarnlab-heavy.lock python benchmarks/bench_patch_overhead.py

Same weights, same inputs; calls are interleaved (unpatched, patched, dynamic, repeat) and the
median of the per-round ratios unpatched_time / patched_time is reported with its quartiles.
Dynamic-YaRN (tables recomputed per forward) is reported alongside. On a shared machine the
end-to-end ratio is noise-limited, so the script also times the rotary module alone (Hugging Face's
vs yarnlab's, same positions) and reports the implied bound
forward_time / (forward_time + extra rotary time per forward).
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
    ap.add_argument("--reps", type=int, default=60)
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

    def paired(variant):
        r = [u / p for u, p in zip(t["unpatched"], t[variant])]
        q = statistics.quantiles(r, n=4)
        return statistics.median(r), q[0], q[2]

    tokens = args.batch * args.seq
    x = torch.randn(args.batch, args.seq, base.config.hidden_size)
    pos = torch.arange(args.seq)[None].expand(args.batch, -1)
    rot = {"unpatched": base.model.rotary_emb, "patched": patched.model.rotary_emb}
    for m in rot.values():
        m(x, pos)
    rt = interleaved({k: (lambda m=m: m(x, pos)) for k, m in rot.items()}, 200)
    rot_ms = {k: 1e3 * statistics.median(v) for k, v in rt.items()}
    extra = max(0.0, rot_ms["patched"] - rot_ms["unpatched"]) / 1e3
    report("patch_overhead", {
        "preset": args.preset, "batch": args.batch, "seq": args.seq, "reps": args.reps,
        "spec": f"yarn s={spec.factor:g}",
        "tokens_per_s_unpatched": tokens / med["unpatched"], "tokens_per_s_patched": tokens / med["patched"],
        "throughput_ratio_paired_median_q1_q3": paired("patched"),
        "throughput_ratio_of_medians": med["unpatched"] / med["patched"],
        "throughput_ratio_of_minima": min(t["unpatched"]) / min(t["patched"]),
        "dynamic_ratio_paired_median_q1_q3": paired("dynamic"),
        "rotary_ms_unpatched": rot_ms["unpatched"], "rotary_ms_patched": rot_ms["patched"],
        "throughput_ratio_bound_from_rotary": med["unpatched"] / (med["unpatched"] + extra),
        "target": ">= 0.99",
    })


if __name__ == "__main__":
    main()
