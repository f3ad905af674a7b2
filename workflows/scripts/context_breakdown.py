"""Where a base model's context use comes from, in two readings of held-out prose.

1. The context-use gain (NLL of a target with only the last ``visible`` tokens seen minus with the
   whole window, targets at [L/2, L) of windows at offsets 0, 1024, ... of each piece) split by
   whether the target is *copy-predictable*: its ``k`` preceding tokens occurred earlier in the
   window, outside the visible part, followed by the same token. An induction head that works on
   prose gains most on those targets.
2. Repeated prose: a span of ``span`` tokens of a piece, ``gap`` tokens of the same piece from
   elsewhere, then the span again; the mean NLL of the first copy minus that of the second (its
   first 16 tokens left out on both, where the repeat is not yet recognisable). A model that copies
   prose scores the second copy far below the first, as it does on random-letter repeats.

    python workflows/scripts/context_breakdown.py --model results/models/base-seed0 \
        --docs results/data/eval_docs.npz

Prints one JSON object. A diagnostic of a trained base, not one of the regime checks.
"""

from __future__ import annotations

import argparse
import json

import numpy as np


def copy_predictable(x: np.ndarray, q: int, k: int, visible: int) -> bool:
    """Whether x[q - k:q] occurred at some p <= q - visible - 1 (its continuation outside the last
    ``visible`` tokens before q) followed by x[q]."""
    ctx = x[q - k:q]
    for p in range(k, q - visible):
        if x[p] == x[q] and np.array_equal(x[p - k:p], ctx):
            return True
    return False


def breakdown(model, docs, length: int = 256, visible: int = 32, k: int = 4, stride: int = 1024,
              span: int = 96, gap: int = 32, seed: int = 0) -> dict:
    import torch

    from yarnlab.evaluate.positions import _token_nll

    qs = np.arange(length // 2, length)
    hit, miss = [], []
    with torch.inference_mode():
        for d in docs:
            for off in range(0, len(d) - length + 1, stride):
                x = np.asarray(d[off:off + length], dtype=np.int64)
                full = _token_nll(model, torch.as_tensor(x[None]), length)[0]  # positions 1 .. length-1
                win = torch.as_tensor(np.stack([x[q - visible:q + 1] for q in qs]))
                trunc = _token_nll(model, win, 2)[:, 0]
                for j, q in enumerate(qs):
                    (hit if copy_predictable(x, q, k, visible) else miss).append(trunc[j] - full[q - 1])
        rng = np.random.default_rng(seed)
        rep = []
        for d in docs:
            a = int(rng.integers(0, len(d) - span - gap - 1))
            b = (a + len(d) // 2) % (len(d) - gap)
            x = np.concatenate([d[a:a + span], d[b:b + gap], d[a:a + span]]).astype(np.int64)
            nll = _token_nll(model, torch.as_tensor(x[None]), len(x))[0]  # position p at index p - 1
            first = nll[16 - 1:span - 1].mean()
            second = nll[span + gap + 16 - 1:2 * span + gap - 1].mean()
            rep.append(first - second)
    hit, miss, rep = np.array(hit), np.array(miss), np.array(rep)
    allg = np.concatenate([hit, miss])
    return {"context_use_gain": float(allg.mean()), "targets": int(len(allg)),
            "copy_predictable_share": float(len(hit) / len(allg)),
            "gain_copy_predictable": float(hit.mean()) if len(hit) else None,
            "gain_other": float(miss.mean()),
            "repeated_prose_gain": float(rep.mean()), "repeated_prose_se": float(rep.std(ddof=1) / np.sqrt(len(rep))),
            "settings": {"length": length, "visible": visible, "k": k, "stride": stride, "span": span, "gap": gap,
                         "pieces": len(docs)}}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True)
    p.add_argument("--docs", required=True, help="an .npz of yarnlab eval docs")
    p.add_argument("--length", type=int, default=256)
    p.add_argument("--visible", type=int, default=32)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    from yarnlab import cpu
    from yarnlab.evaluate.docs import read_eval_docs
    from yarnlab.model.patch import load_model

    cpu.configure(args.threads)
    model = load_model(args.model).eval()
    docs, _ = read_eval_docs(args.docs)
    print(json.dumps(breakdown(model, docs, args.length, args.visible), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
