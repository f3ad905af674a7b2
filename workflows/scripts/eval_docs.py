"""Evaluation documents: held-out text cut into ``--n-docs`` pieces of ``--tokens`` tokens.

Built-in corpora (``prose``, ``code``, a directory) use the same document split as training
(split seed 0, ``--heldout-fraction``) and the byte tokenizer, or ``--tokenizer`` (a real
model's own, e.g. a GGUF base); ``--hf-dataset`` reads a Hugging
Face data set (``pg19``, ``proof-pile``, ``govreport``) and tokenizes with ``--tokenizer``.
Pieces are taken round-robin over works (one edition each) so that every held-out work contributes
equally; each piece has a stable id ``<work>@<offset>`` (the npz's ``ids`` array).
"""

from __future__ import annotations

import argparse

import numpy as np


def _encoder(tokenizer: str | None):
    """Bytes -> token ids: the byte tokenizer, or a Hugging Face tokenizer folder (a real model's BPE)."""
    if tokenizer is None:
        return lambda data: np.frombuffer(data, dtype=np.uint8).astype(np.int64)
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tokenizer)
    return lambda data: np.asarray(tok(data.decode("utf-8", errors="replace"), add_special_tokens=False)["input_ids"],
                                   dtype=np.int64)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--corpus", default="prose")
    p.add_argument("--hf-dataset", default=None)
    p.add_argument("--hf-split", default="test")
    p.add_argument("--tokenizer", default=None, help="HF tokenizer folder (default: bytes for --corpus)")
    p.add_argument("--heldout-fraction", type=float, default=0.1)
    p.add_argument("--tokens", type=int, required=True)
    p.add_argument("--n-docs", type=int, required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()

    if a.hf_dataset:
        from transformers import AutoTokenizer

        from yarnlab.data.hf import load_hf_documents

        tok = AutoTokenizer.from_pretrained(a.tokenizer)
        texts = [d.text for d in load_hf_documents(a.hf_dataset, a.hf_split, min_bytes=a.tokens)]
        streams = [(f"{a.hf_dataset}{i}", np.asarray(tok(t, add_special_tokens=False)["input_ids"], dtype=np.int64))
                   for i, t in enumerate(texts)]
        source = {"hf_dataset": a.hf_dataset, "split": a.hf_split, "tokenizer": a.tokenizer}
    else:
        from yarnlab.data.corpus import load_corpus, split_corpus

        split = split_corpus(load_corpus(a.corpus), a.heldout_fraction, 0)
        encode = _encoder(a.tokenizer)
        # one document per work (group): two editions of a play would be near-duplicate pieces
        first = {}
        for d in split.heldout:
            first.setdefault(d.group, d)
        streams = [(g, encode(d.read_bytes())) for g, d in sorted(first.items())]
        source = {"corpus": a.corpus, "tokenizer": a.tokenizer or "bytes", "heldout": split.manifest(),
                  "works": sorted(first)}
    # whole pieces only, one piece per work per round, until n_docs pieces; a piece's id is
    # "<work>@<token offset>" (stable whatever n_docs), its work the unit of the claims' bootstrap
    pieces, ids, k = [], [], 0
    while len(pieces) < a.n_docs:
        added = False
        for work, s in streams:
            if (k + 1) * a.tokens <= len(s) and len(pieces) < a.n_docs:
                pieces.append(s[k * a.tokens:(k + 1) * a.tokens])
                ids.append(f"{work}@{k * a.tokens}")
                added = True
        if not added:
            break
        k += 1
    if len(pieces) < a.n_docs:
        raise SystemExit(f"n_docs: only {len(pieces)} pieces of {a.tokens} tokens are available")
    from yarnlab.io import atomic_path, provenance, write_json

    with atomic_path(a.out, suffix=".npz") as tmp:  # np.savez appends .npz to other names
        np.savez(tmp, ids=np.array(ids), **{f"doc{i}": d for i, d in enumerate(pieces)})

    write_json(a.out + ".provenance.json", provenance(vars(a), source=source, n_docs=len(pieces)))


if __name__ == "__main__":
    main()
