"""Dynamic scaling without fine-tuning (paper Section 3.3, Appendix B.3 / Fig. 5): the base model
with each method, documents truncated to each length N and scored in one window, so a dynamic
method runs at s = max(1, N/L).

Rows: ``method, length, doc, nll``."""

from __future__ import annotations

import argparse

from common import doc_ids, ints, load, load_docs, spec_for, write


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--docs", required=True)
    p.add_argument(
        "--methods",
        required=True,
        help="comma-separated, e.g. none,dynamic-ntk,dynamic-yarn,dynamic-yarn:none "
        "(':rule' sets the temperature rule)",
    )
    p.add_argument("--lengths", required=True)
    p.add_argument("--max-docs", type=int, default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    from yarnlab.evaluate.perplexity import protocol_perplexity
    from yarnlab.model import apply_scaling

    lengths = ints(a.lengths)
    model, _ = load(a.model, threads=a.threads)
    docs = load_docs(a.docs, max(lengths), a.max_docs)
    ids = doc_ids(a.docs, max(lengths), a.max_docs)
    rows = []
    for entry in a.methods.split(","):
        # "<method>:<temperature rule>" overrides the method's rule (e.g. dynamic-yarn:none);
        # dynamic methods take s from the sequence length; factor 1 is their floor
        method, _, rule = entry.partition(":")
        apply_scaling(model, spec_for(a.model, method, 1.0, temperature=rule or None))
        for n, r in protocol_perplexity(model, docs, lengths).items():
            rows += [{"method": entry, "length": n, "doc": ids[i], "nll": float(v)} for i, v in enumerate(r.doc_nll())]
    write(a.out, rows, vars(a))


if __name__ == "__main__":
    main()
