"""Peak memory of one forward pass vs context length, SDPA (and eager for contrast).

    flock /tmp/yarnlab-heavy.lock python benchmarks/bench_memory.py

Each (attention, length) point runs in a fresh subprocess: the peak resident set size
(``ru_maxrss``) after the forward minus the one after loading the model is the forward's peak
extra memory. The log-log slope between the two longest lengths is ~1 when memory is linear in
the context (SDPA's fused kernel never forms the n x n matrix) and ~2 when quadratic (eager).
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys

from _common import report

CHILD = """
import resource, sys, torch
torch.set_num_threads(1)
from yarnlab.model.tiny import build_model
from yarnlab.model import apply_scaling, model_spec
attn, n, preset = sys.argv[1], int(sys.argv[2]), sys.argv[3]
model = build_model(preset).eval()
model.set_attn_implementation(attn)
apply_scaling(model, model_spec(model).replace(method="yarn", factor=max(1.0, n / 256)))
ids = torch.randint(0, 256, (1, n))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with torch.inference_mode():
    model(input_ids=ids, use_cache=False, logits_to_keep=1)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) / 1024)
"""


def peak_mib(attn: str, n: int, preset: str) -> float:
    out = subprocess.run([sys.executable, "-c", CHILD, attn, str(n), preset], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--lengths", default="2048,4096,8192,16384")
    ap.add_argument("--eager-max", type=int, default=8192, help="longest eager length (quadratic memory)")
    args = ap.parse_args()
    lengths = [int(x) for x in args.lengths.split(",")]
    rows = {"sdpa": {n: peak_mib("sdpa", n, args.preset) for n in lengths},
            "eager": {n: peak_mib("eager", n, args.preset) for n in lengths if n <= args.eager_max}}

    def slope(d):
        (n1, m1), (n2, m2) = sorted(d.items())[-2:]
        return math.log(m2 / m1) / math.log(n2 / n1)

    report("memory", {"preset": args.preset, "child_threads": 1, "peak_extra_mib": rows,
                      "loglog_slope_sdpa": slope(rows["sdpa"]), "loglog_slope_eager": slope(rows["eager"]),
                      "target": "sdpa slope ~1 (linear)"})


if __name__ == "__main__":
    main()
