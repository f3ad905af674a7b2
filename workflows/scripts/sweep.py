"""Temperature sweep without fine-tuning (paper Appendix A.2): NTK-by-parts frequencies at scale s,
perplexity at length sL over a grid of m = sqrt(1/t), per document and position segment; then the
same documents under each named temperature rule (yarnlab.rope.temperature).

Outputs: ``--out`` rows ``s, m, doc, segment, nll, tokens`` (segment -1 = whole document) and
``--rules-out`` rows ``s, rule, m, doc, nll``."""

from __future__ import annotations

import argparse

from common import doc_ids, floats, load, load_docs, write


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--docs", required=True)
    p.add_argument("--scale", type=float, required=True)
    p.add_argument("--grid", required=True, help="start,stop,step of m")
    p.add_argument("--rules", default="none,yarn,log-n,longrope")
    p.add_argument("--max-docs", type=int, default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True)
    p.add_argument("--rules-out", required=True)
    a = p.parse_args()
    from yarnlab.evaluate.perplexity import sliding_window_nll
    from yarnlab.evaluate.sweep import m_grid, temperature_sweep
    from yarnlab.model import apply_scaling
    from yarnlab.rope.temperature import attention_factor

    model, spec = load(a.model, "ntk-by-parts", a.scale, threads=a.threads)
    length = int(round(a.scale * spec.original_ctx))
    docs = [d[:length] for d in load_docs(a.docs, length, a.max_docs)]
    ids = doc_ids(a.docs, length, a.max_docs)
    res = temperature_sweep(model, docs, spec, m_grid(*floats(a.grid)), length)
    write(
        a.out,
        [{"s": a.scale, **r, "doc": ids[r["doc"]]} for r in res.rows()],
        {**vars(a), "spec": spec.to_dict(), "length": length},
    )
    rows = []
    for rule in a.rules.split(","):
        rs = spec.replace(temperature=rule)
        apply_scaling(model, rs)
        m = attention_factor(rule, a.scale, original_ctx=spec.original_ctx, seq_len=length)
        nll = sliding_window_nll(model, docs, window=length, stride=length).doc_nll()
        rows += [{"s": a.scale, "rule": rule, "m": float(m), "doc": ids[i], "nll": float(v)} for i, v in enumerate(nll)]
    write(a.rules_out, rows, {**vars(a), "spec": spec.to_dict(), "length": length})


if __name__ == "__main__":
    main()
