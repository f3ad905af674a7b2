"""Peak memory of scoring one long window: every logit at once vs the chunked projection.

    python benchmarks/bench_scoring_memory.py [--source smollm2-135m] [--length 16384] [--threads 1]

Scores the last ``length - 1`` targets of one window of random token ids (what the temperature
sweep does at stride = window) two ways, each in a fresh subprocess so that ``ru_maxrss`` is its
own: ``all-logits`` (``model(..., logits_to_keep=n)`` then the loss, the scoring before
``yarnlab.evaluate.perplexity.scored_nll``) and ``chunked`` (``scored_nll``, ``LOGIT_CHUNK``
positions per projection). Reports each one's peak resident set size after the forward minus the one
after loading the model, its wall time and its mean NLL (the two must agree), with the machine's
single-thread matmul GFLOP/s. ``--source`` is a GGUF source (``yarnlab data fetch smollm2``) or a
Hugging Face checkpoint folder; ``--preset`` instead builds an untrained yarnlab tiny model (seconds).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from _common import report

CHILD = """
import json, resource, sys, time, torch
mode, source, preset, n, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
import torch.nn.functional as F
from yarnlab.evaluate.perplexity import _forward_scored, scored_nll
if preset:
    from yarnlab.model.tiny import build_model
    model = build_model(preset).eval()
elif source.endswith(".gguf") or "/" not in source:
    from yarnlab.model.gguf import load_gguf
    model = load_gguf(source).model.eval()
else:
    from yarnlab.model import load_model
    model = load_model(source).eval()
vocab = model.get_output_embeddings().weight.shape[0]
ids = torch.randint(0, vocab, (1, n), generator=torch.Generator().manual_seed(0))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
with torch.inference_mode():
    if mode == "all-logits":
        logits = _forward_scored(model, ids, n)[:, :-1]
        nll = F.cross_entropy(logits.transpose(1, 2), ids[:, 1:], reduction="none").double().mean().item()
    else:
        nll = float(scored_nll(model, ids, n - 1).mean())
secs = time.perf_counter() - t0
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"peak_extra_mib": (after - before) / 1024, "peak_total_mib": after / 1024, "seconds": secs,
                  "mean_nll": nll, "vocab": vocab}))
"""


def run(mode: str, a) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, mode, a.source, a.preset or "", str(a.length), str(a.threads)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default="smollm2-135m")
    ap.add_argument("--preset", default=None, help="an untrained yarnlab preset instead of --source")
    ap.add_argument("--length", type=int, default=16384)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    from matmul_gflops import matmul_gflops

    rows = {m: run(m, a) for m in ("all-logits", "chunked")}
    report("scoring_memory", {"source": a.preset or a.source, "length": a.length, "child_threads": a.threads,
                              "matmul": matmul_gflops(), **rows,
                              "memory_ratio": rows["all-logits"]["peak_extra_mib"] / rows["chunked"]["peak_extra_mib"],
                              "nll_abs_diff": abs(rows["all-logits"]["mean_nll"] - rows["chunked"]["mean_nll"])})


if __name__ == "__main__":
    main()
