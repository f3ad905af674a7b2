"""``yarnlab eval docs``: the evaluation documents, an .npz of held-out pieces with stable ids.

Standard library only at module level; the work is :mod:`yarnlab.evaluate.docs`. The documents
of the long-sequence evaluation (YaRN Section 4.3): held-out text cut into ``--n-docs`` pieces of
``--tokens`` tokens, taken round-robin over the held-out works (one piece per work per round,
whole aligned pieces only), each with the stable id ``<work>@<token offset>`` (the npz's ``ids``
array, the ``doc`` column of every later table). ``--pieces balanced`` (default) takes each work's
pieces in a random order drawn from ``--pieces-seed`` and the work's name, its opening piece last,
so every prefix of r pieces per work (below the shortest work's count) is balanced and free of
openings (title, cast list); ``--pieces sequential`` takes them from the start of each work (the
order before balancing). ``--corpus prose|code|DIR`` uses the training split (split seed 0,
``--heldout-fraction``) and the byte tokenizer or ``--tokenizer`` (a real model's own, e.g. a GGUF
base); ``--hf-dataset`` reads a Hugging Face data set and needs ``--tokenizer``.
``--out`` is written atomically with a ``<out>.provenance.json`` sidecar; bad input is a usage
error (exit 2) before anything is read or written.
"""

from __future__ import annotations

import sys


def _check(args) -> None:
    from yarnlab.errors import UsageError

    if args.tokens < 1:
        raise UsageError(f"--tokens: must be an integer >= 1 (got {args.tokens})")
    if args.n_docs < 1:
        raise UsageError(f"--n-docs: must be an integer >= 1 (got {args.n_docs})")
    if not 0 < args.heldout_fraction < 1:
        raise UsageError(f"--heldout-fraction: must be in (0, 1) (got {args.heldout_fraction})")
    if args.pieces_seed < 0:
        raise UsageError(f"--pieces-seed: must be an integer >= 0 (got {args.pieces_seed})")
    if args.hf_dataset and not args.tokenizer:
        raise UsageError("--tokenizer: required with --hf-dataset (a Hugging Face tokenizer folder)")


def _cmd_docs(args) -> int:
    from yarnlab.errors import UsageError
    from yarnlab.evaluate.docs import available_pieces, corpus_streams, evaluation_pieces, hf_streams, write_eval_docs

    _check(args)
    # the provenance parameters: the options by name, in a fixed order
    params = {k: getattr(args, k) for k in ("corpus", "hf_dataset", "hf_split", "tokenizer", "heldout_fraction",
                                            "tokens", "n_docs", "pieces", "pieces_seed", "out")}
    if args.hf_dataset:
        streams, source = hf_streams(args.hf_dataset, args.hf_split, args.tokenizer, min_bytes=args.tokens)
    else:
        streams, source = corpus_streams(args.corpus, args.heldout_fraction, args.tokenizer)
    have = available_pieces(streams, args.tokens)
    if args.n_docs > have:
        raise UsageError(f"--n-docs: must be in [1, {have}]: only {have} pieces of {args.tokens} tokens are "
                         f"available from {len(streams)} works (got {args.n_docs}; lower --n-docs or --tokens)")
    pieces, ids = evaluation_pieces(streams, args.tokens, args.n_docs, args.pieces, args.pieces_seed)
    write_eval_docs(args.out, pieces, ids, params, source)
    works = len({i.rsplit("@", 1)[0] for i in ids})
    openings = sum(i.endswith("@0") for i in ids)
    print(f"wrote {args.out}: {len(pieces)} pieces of {args.tokens} tokens from {works} works ({args.pieces} "
          f"order, {openings} opening pieces)", file=sys.stderr)
    return 0


def register_docs(sub) -> None:
    """Add ``docs`` to the ``yarnlab eval`` sub-parsers."""
    p = sub.add_parser("docs", help="evaluation documents: held-out pieces of --tokens tokens with stable ids (.npz)",
                       description="Evaluation documents (YaRN Section 4.3): held-out text cut into --n-docs "
                       "pieces of --tokens tokens, one piece per held-out work per round (whole aligned pieces "
                       "only), each with the stable id <work>@<token offset>; written to --out atomically with a "
                       ".provenance.json sidecar.")
    src = p.add_argument_group("source (one of)").add_mutually_exclusive_group()
    src.add_argument("--corpus", default="prose", help="prose | code | a directory of text files (default prose)")
    src.add_argument("--hf-dataset", metavar="NAME", help="a Hugging Face data set: pg19, proof-pile, govreport "
                     "(needs --tokenizer)")
    p.add_argument("--hf-split", default="test", help="split of --hf-dataset (default test)")
    p.add_argument("--tokenizer", metavar="DIR", help="Hugging Face tokenizer folder (default for --corpus: bytes)")
    p.add_argument("--heldout-fraction", type=float, default=0.1,
                   help="held-out fraction of --corpus, split seed 0 (in (0, 1); default 0.1)")
    p.add_argument("--tokens", type=int, required=True, help="tokens per piece (>= 1)")
    p.add_argument("--n-docs", type=int, required=True, help="number of pieces (>= 1)")
    p.add_argument("--pieces", choices=("balanced", "sequential"), default="balanced",
                   help="order of each work's pieces: balanced = seeded random order, the work's opening piece "
                        "last (every prefix of r pieces per work is balanced); sequential = from the start of "
                        "each work (default balanced)")
    p.add_argument("--pieces-seed", type=int, default=0, help="seed of the balanced order (>= 0; default 0)")
    p.add_argument("--out", required=True, metavar="FILE.npz",
                   help="output .npz (arrays ids, doc0, doc1, ...; a .provenance.json sidecar beside it)")
    p.set_defaults(func=_cmd_docs)
