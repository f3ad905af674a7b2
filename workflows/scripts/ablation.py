"""NTK-by-parts ramp ablation without fine-tuning (paper Section 3.2, Eq. 18: alpha, beta; and
the ramp's form, paper = linear in r vs index = the reference code's): YaRN at scale s on the base
model, perplexity at length sL per document.

Rows: ``alpha, beta, ramp, s, doc, nll``."""

from __future__ import annotations

import argparse

from common import doc_ids, floats, load, load_docs, write


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--docs", required=True)
    p.add_argument("--scale", type=float, required=True)
    p.add_argument("--alphas", required=True)
    p.add_argument("--betas", required=True)
    p.add_argument("--ramps", default="paper,index")
    p.add_argument("--max-docs", type=int, default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    from yarnlab.evaluate.perplexity import sliding_window_nll
    from yarnlab.model import apply_scaling

    model, spec = load(a.model, "yarn", a.scale, threads=a.threads)
    n = int(round(a.scale * spec.original_ctx))
    docs = [d[:n] for d in load_docs(a.docs, n, a.max_docs)]
    ids = doc_ids(a.docs, n, a.max_docs)
    rows = []
    for ramp in a.ramps.split(","):
        for alpha in floats(a.alphas):
            for beta in floats(a.betas):
                if beta <= alpha:
                    continue
                apply_scaling(model, spec.replace(params={**spec.params, "alpha": alpha, "beta": beta,
                                                          "ramp": ramp}))
                nll = sliding_window_nll(model, docs, window=n, stride=n).doc_nll()
                rows += [{"alpha": alpha, "beta": beta, "ramp": ramp, "s": a.scale, "doc": ids[i], "nll": float(v)}
                         for i, v in enumerate(nll)]
    write(a.out, rows, vars(a))


if __name__ == "__main__":
    main()
