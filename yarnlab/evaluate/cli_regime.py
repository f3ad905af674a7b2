"""``yarnlab eval positions|context-use|logit-spread|induction``: the regime checks' evaluations.

Standard library only at module level. The shared options (``--model``, documents, the scaling
spec, ``--device``, ``--dtype``, ...), the model set-up and the output are the evaluation session's
(:mod:`yarnlab.evaluate.session`); here ``--out`` is the CSV file itself, written atomically with a
``.provenance.json`` sidecar.
The ``doc`` column is the document's stable id (``<work>@<offset>`` of an .npz from ``yarnlab eval docs``) or its index.

- ``positions``: :func:`yarnlab.evaluate.positions.position_profile`; rows ``method, factor,
  length, doc, position, nll`` or, with ``--bins K``, ``method, factor, length, doc, bin, pos_lo,
  pos_hi, tokens, nll``.
- ``context-use``: :func:`yarnlab.evaluate.positions.context_use`; rows ``method, factor, doc,
  length, visible, n_tokens, nll_full, nll_truncated``.
- ``logit-spread``: :func:`yarnlab.evaluate.logits.attention_logit_spread` (rows ``layer, head,
  length, sigma, mean_std, sigma_doc_sd, n_docs, n_queries``) and, with ``--prediction-out``,
  :func:`yarnlab.evaluate.logits.predict_temperature` per s (``--heads-out``: per head and s).
- ``induction``: :func:`yarnlab.evaluate.induction.induction_gain` (rows ``method, factor, length,
  distance, span, seq, nll_first, nll_second, gain``); ``--summary-out``: rows ``measure, distance,
  span, n, nll_a, nll_b, value, lo, hi``, one per distance (``induction_gain``: value = first - second
  copy) and, with documents, the in-context-learning score of every L-window (``icl``: value = late -
  early positions).
"""

from __future__ import annotations

from yarnlab.evaluate.session import OUT_FILE_HELP, EvalSession, add_session_arguments, float_list, int_list


def _open(args) -> EvalSession:
    """The session of a regime command with its documents, ``--length`` and ``--batch-tokens`` checked first."""
    for name in ("length", "batch_tokens"):
        _positive(args, name)
    return EvalSession.open(args)


def _positive(args, name: str, low: int = 1) -> None:
    from yarnlab.errors import UsageError

    value = getattr(args, name, None)
    if value is not None and value < low:
        raise UsageError(f"--{name.replace('_', '-')}: must be >= {low} (got {value})")


def _cmd_positions(args) -> int:
    import numpy as np

    from yarnlab.evaluate.positions import position_profile

    s = _open(args)
    docs = all_windows(s.docs, args.length, s.record) if args.all_windows else s.docs
    prof = position_profile(s.model, docs, args.length, s.bos, args.batch_tokens)
    body = prof.binned(args.bins) if args.bins is not None else prof.rows()
    head = {"method": s.spec.method, "factor": s.spec.factor, "length": args.length}
    s.write([{**head, **r} for r in body])
    tail = max(1, args.length // 16)
    print(f"length {args.length}: mean nll {np.nanmean(prof.nll):.4f} over {len(prof.doc_ids)} docs; "
          f"last {tail} positions {np.nanmean(prof.nll[:, -tail:]):.4f}")
    return 0


def all_windows(docs: list, length: int, record: dict) -> list:
    """Every consecutive window of ``length`` tokens of every document (a profile with 4096-token documents
    and L = 256 then averages 16 windows per document instead of 1); window k of document ``id`` is
    ``id+<k * length>``, so the claims still group windows by work."""
    entries = record.get("data_manifest", {}).get("documents", [])
    out, ids = [], []
    for i, d in enumerate(docs):
        name = (entries[i].get("id") if i < len(entries) else None) or str(i)
        for k in range(len(d) // length):
            out.append(d[k * length:(k + 1) * length])
            ids.append(f"{name}+{k * length}")
    record.setdefault("data_manifest", {})["documents"] = [{"id": x, "tokens": length} for x in ids]
    return out


def _cmd_context_use(args) -> int:
    from yarnlab.evaluate.positions import context_use

    _positive(args, "visible")
    s = _open(args)
    rows = context_use(s.model, s.docs, args.length, args.visible, s.bos, args.batch_tokens, args.targets)
    s.write([{"method": s.spec.method, "factor": s.spec.factor, **r} for r in rows])
    full = sum(r["nll_full"] for r in rows) / len(rows)
    trunc = sum(r["nll_truncated"] for r in rows) / len(rows)
    print(f"length {args.length}, visible {args.visible}: nll full {full:.4f}, truncated {trunc:.4f} "
          f"({len(rows)} docs)")
    return 0


def _cmd_logit_spread(args) -> int:
    from yarnlab.errors import UsageError
    from yarnlab.evaluate.logits import attention_logit_spread, predict_temperature

    if args.heads_out and not args.prediction_out:
        raise UsageError("--heads-out: needs --prediction-out")
    s = _open(args)
    res = attention_logit_spread(s.model, s.docs, args.length, s.bos)
    s.write(res.rows())
    if args.prediction_out:
        per_head, summary = predict_temperature(res.sigma.ravel(), args.scales, args.length, seed=args.seed)
        n_heads = res.sigma.shape[1]
        for r in per_head:
            r["layer"], r["head"] = divmod(r.pop("index"), n_heads)
        s.write(summary, args.prediction_out, tagged=False)
        if args.heads_out:
            s.write([{"layer": r["layer"], "head": r["head"], **r} for r in per_head], args.heads_out, tagged=False)
        for r in summary:
            print(f"s = {r['s']:g}: predicted m* median {r['m_median']:.4f} "
                  f"[{r['m_q25']:.4f}, {r['m_q75']:.4f}], at rms sigma {r['m_at_sigma_rms']:.4f}")
    print(f"length {args.length}: rms sigma {float((res.sigma ** 2).mean() ** 0.5):.4f} over "
          f"{res.sigma.size} heads, {len(res.doc_ids)} docs")
    return 0


def _cmd_induction(args) -> int:
    import numpy as np

    from yarnlab.errors import UsageError
    from yarnlab.evaluate.induction import icl_score, induction_gain, random_token_vocab, token_nll
    from yarnlab.model.tiny import VOCAB_SIZE

    for name in ("span", "n_seqs"):
        _positive(args, name, 2)
    with_docs = bool(args.corpus or args.docs)
    s = _open(args) if with_docs else EvalSession.open(args, documents=False)
    model, spec = s.model, s.spec
    length = args.length or int(spec.original_ctx)
    if args.length is not None:
        _positive(args, "length", 2 * args.span)
    vocab = None if model.config.vocab_size == VOCAB_SIZE else random_token_vocab(model.config.vocab_size)
    batch = max(1, args.batch_tokens // length)
    res = induction_gain(model, length, span=args.span, n_seqs=args.n_seqs, distances=args.distances,
                         seed=args.seed, batch=batch, vocab=vocab)
    head = {"method": spec.method, "factor": spec.factor, "length": length}
    s.write([{**head, **r} for r in res.rows])
    # one tidy summary table: measure, where (distance, or the ICL position ranges), n, the two mean losses
    # compared (first/second copy; early/late positions), value = their difference, and its interval
    summary = [{**head, "measure": "induction_gain", "distance": r["distance"], "span": r["span"], "n": r["n"],
                "nll_a": r["nll_first"], "nll_b": r["nll_second"], "value": r["gain"], "lo": r["gain_lo"],
                "hi": r["gain_hi"]} for r in res.summary]
    for r in res.summary:
        print(f"distance {r['distance']}: first copy {r['nll_first']:.3f}, second {r['nll_second']:.3f} nats; "
              f"gain {r['gain']:.3f} [{r['gain_lo']:.3f}, {r['gain_hi']:.3f}] ({r['n']} sequences)")
    if with_docs:
        windows = [d[k * length:(k + 1) * length] for d in s.docs for k in range(len(d) // length)]
        if len(windows) < 2:
            raise UsageError(f"documents: need >= 2 windows of --length {length} tokens for the "
                             f"in-context-learning score (got {len(windows)})")
        icl = icl_score(token_nll(model, np.stack(windows), batch))
        summary.append({**head, "measure": "icl", "distance": "", "span": "", "n": icl["n_windows"],
                        "nll_a": icl["nll_late"], "nll_b": icl["nll_early"], "value": icl["icl"], "lo": icl["icl_lo"],
                        "hi": icl["icl_hi"]})
        print(f"in-context learning (loss at [{icl['late'][0]}, {icl['late'][1]}) minus [{icl['early'][0]}, "
              f"{icl['early'][1]})): {icl['icl']:.3f} [{icl['icl_lo']:.3f}, {icl['icl_hi']:.3f}] nats "
              f"({icl['n_windows']} windows)")
    if args.summary_out:
        s.write(summary, args.summary_out)
    return 0


def register_regime(sub) -> None:
    """Add ``positions``, ``context-use`` and ``logit-spread`` to the ``yarnlab eval`` sub-parsers."""
    po = sub.add_parser("positions", help="per-position NLL of one window of --length tokens per document")
    add_session_arguments(po, out_help=OUT_FILE_HELP)
    po.add_argument("--length", type=int, required=True, help="window length in model positions")
    po.add_argument("--bins", type=int, help="K equal position bins: one row per document and bin "
                    "(default: one row per document and position)")
    po.add_argument("--bos", action="store_true", help="the model's BOS token at position 0 of every window")
    po.add_argument("--all-windows", action="store_true",
                    help="every consecutive --length window of each document (default: the first one)")
    po.set_defaults(func=_cmd_positions)

    cu = sub.add_parser("context-use", help="NLL of positions [L/2, L) with full context vs the last K tokens")
    add_session_arguments(cu, out_help=OUT_FILE_HELP)
    cu.add_argument("--length", type=int, required=True, help="window length L")
    cu.add_argument("--visible", type=int, required=True, help="tokens visible before each target (1..L/2)")
    cu.add_argument("--bos", action="store_true", help="the model's BOS token before every window")
    cu.add_argument("--targets", type=int, help="score this many evenly spaced targets of [L/2, L) per "
                    "document, 2..L/2 (default: all)")
    cu.set_defaults(func=_cmd_context_use)

    ls = sub.add_parser("logit-spread", help="spread of the pre-softmax attention logits per layer and head, "
                        "and the entropy-invariant m* it predicts")
    add_session_arguments(ls, out_help=OUT_FILE_HELP)
    ls.add_argument("--length", type=int, required=True, help="window length (queries [length/2, length))")
    ls.add_argument("--scales", type=float_list, default=[2.0, 4.0, 8.0, 16.0],
                    help="scale factors s for the prediction (default 2,4,8,16)")
    ls.add_argument("--prediction-out", help="CSV of the predicted m* per s (median, quartiles, at rms sigma)")
    ls.add_argument("--heads-out", help="CSV of the predicted m* per layer, head and s")
    ls.add_argument("--bos", action="store_true", help="the model's BOS token at position 0 of every window")
    ls.set_defaults(func=_cmd_logit_spread)

    ih = sub.add_parser("induction", help="induction gain on repeated random sequences at several distances, "
                        "and the in-context-learning score of held-out text (with --corpus or --docs)")
    add_session_arguments(ih, out_help=OUT_FILE_HELP + ": one row per distance and sequence")
    ih.add_argument("--length", type=int, help="longest sequence in tokens (default: the model's L)")
    ih.add_argument("--span", type=int, default=32, help="tokens in the repeated span (default 32)")
    ih.add_argument("--n-seqs", type=int, default=16, help="sequences per distance (default 16)")
    ih.add_argument("--distances", type=int_list, default=None,
                    help="copy distances (default span, 2 span, 4 span, ..., length - span)")
    ih.add_argument("--summary-out", help="CSV of the per-distance gains with intervals (and the ICL score)")
    ih.set_defaults(func=_cmd_induction)
