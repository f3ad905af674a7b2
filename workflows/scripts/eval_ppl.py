"""Per-document perplexity vs context length (paper protocol, Section 4.3): every document is
truncated to each length N and scored in one window of N tokens (``--window``: slide instead).

Rows: ``label, method, scale, finetuned, length, doc, nll`` (nll in nats per token)."""

from __future__ import annotations

import argparse
import json

from common import doc_ids, ints, load, load_docs, write


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--docs", required=True)
    p.add_argument("--lengths", required=True)
    p.add_argument("--label", required=True, help="model label in the table")
    p.add_argument("--family", required=True, help="method shown in figures (none, pi, ntk, yarn, ...)")
    p.add_argument("--scale", type=float, required=True, help="scale s the model was extended to")
    p.add_argument("--finetuned", type=int, default=1)
    p.add_argument("--method", default=None, help="extend the checkpoint without fine-tuning")
    p.add_argument("--factor", type=float, default=1.0)
    p.add_argument("--params", default="{}", help="method parameters as JSON")
    p.add_argument("--temperature", default=None)
    p.add_argument("--window", type=int, default=None)
    p.add_argument("--stride", type=int, default=256)
    p.add_argument("--max-docs", type=int, default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    from yarnlab.evaluate.perplexity import protocol_perplexity

    model, _ = load(a.model, a.method, a.factor, json.loads(a.params), a.temperature, a.threads)
    spec = json.loads(model.config.to_json_string()).get("rope_parameters")
    lengths = ints(a.lengths)
    docs = load_docs(a.docs, max(lengths), a.max_docs)
    ids = doc_ids(a.docs, max(lengths), a.max_docs)
    res = protocol_perplexity(model, docs, lengths, window=a.window, stride=a.stride)
    rows = [{"label": a.label, "method": a.family, "scale": a.scale, "finetuned": a.finetuned, "length": n,
             "doc": ids[i], "nll": float(v)} for n, r in res.items() for i, v in enumerate(r.doc_nll())]
    write(a.out, rows, {**vars(a), "rope_parameters": spec})


if __name__ == "__main__":
    main()
