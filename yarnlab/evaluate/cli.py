"""``yarnlab eval ppl|sweep|passkey|entropy`` (and, registered here, ``positions|context-use|logit-spread|induction``
from :mod:`~yarnlab.evaluate.cli_regime`, ``dynamic|ablation`` from :mod:`~yarnlab.evaluate.cli_scaling`, ``docs``
from :mod:`~yarnlab.evaluate.cli_docs`): evaluation commands writing tidy CSV + provenance.

Standard library only at module level; torch and transformers enter inside the handlers. The
options, set-up, documents and output every command shares are the evaluation session's
(:class:`~yarnlab.evaluate.session.EvalSession`).

Every command takes a checkpoint directory (``--model``), optionally a scaling method (the
shared spec options; without ``--method`` the checkpoint's own spec is used), and writes its
tables into ``--out`` atomically, each with a ``.provenance.json`` sidecar (model, spec, data
manifest, seed, package version, git revision). Documents come from ``--corpus prose|code|DIR``
with ``--split test|train|all`` (the training split rule: document groups, held-out fraction,
split seed 0) or from ``--docs FILE|DIR``; they are tokenized with the checkpoint's tokenizer
when it has one, else as bytes (the tiny models' byte tokenizer). A ``doc`` column indexes the
``data_manifest.documents`` list of the provenance sidecar, or holds the document's stable id
(``<work>@<offset>``) for an .npz of ``yarnlab eval docs``. Every ``ppl`` row names its ``reading``:
``truncation`` (``--lengths``: the first n tokens of each document), ``same-targets`` (``--same-targets``:
the same last T tokens at every length; ``--also-truncation`` adds the truncation rows on the same
documents) or ``sliding`` (``--window`` alone).

``--out`` is a directory (every table of the command) or, for ``ppl``, ``sweep`` and ``passkey``, a
``.csv`` file: the per-document (per-trial) table alone, the one the workflow's figures and claims
read. ``--tag KEY=VALUE`` (repeatable) puts constant columns in front of every row, so tables of
several runs concatenate (e.g. ``--tag label=yarn-s4 --tag finetuned=1``).
"""

from __future__ import annotations

from yarnlab.evaluate.session import EvalSession, add_session_arguments, float_list, int_list, name_list


def _cmd_ppl(args) -> int:
    import numpy as np

    s = EvalSession.open(args)
    readings, ids = _ppl_readings(s)
    segment = args.segment or s.spec.original_ctx
    summary, per_doc, per_seg = [], [], []
    for reading, results in readings.items():
        for length, res in results.items():
            n_tok = sum(int((~np.isnan(a)).sum()) for a in res.token_nll)
            summary.append({"length": length, "reading": reading, "window": res.window, "stride": res.stride,
                            "docs": len(res.token_nll),
                            "windows": len(res.windows), "tokens": n_tok, "nll_token": res.mean_nll("token"),
                            "ppl_token": res.perplexity("token"), "nll_window": res.mean_nll("window"),
                            "ppl_window": res.perplexity("window")})
            for d, nll in enumerate(res.doc_nll()):
                per_doc.append({"length": length, "reading": reading, "doc": ids[d],
                                "tokens": len(res.token_nll[d]), "nll": float(nll)})
            seg_nll, counts = res.segment_nll(segment)
            for d in range(seg_nll.shape[0]):
                for g in range(seg_nll.shape[1]):
                    per_seg.append({"length": length, "reading": reading, "doc": ids[d], "segment": g,
                                    "seg_lo": g * segment, "seg_hi": (g + 1) * segment, "tokens": int(counts[d, g]),
                                    "nll": float(seg_nll[d, g])})
    if s.to_file:
        s.write(per_doc)
    else:
        s.write_tables({"ppl.csv": summary, "ppl_docs.csv": per_doc, "ppl_segments.csv": per_seg})
    for row in summary:
        print(f"length {row['length']} ({row['reading']}): ppl {row['ppl_token']:.4f} (token-weighted), "
              f"{row['ppl_window']:.4f} (window-weighted), {row['docs']} docs, {row['tokens']} tokens")
    return 0


def _ppl_readings(s: EvalSession) -> tuple[dict, list[int]]:
    """``({reading: {length: PerplexityResult}}, document indices)`` of ``yarnlab eval ppl``: the
    same-target reading (``--same-targets``) and, with ``--also-truncation``, the paper's truncation on
    the same documents; the truncation alone (``--lengths``); or one sliding evaluation."""
    from yarnlab.errors import UsageError
    from yarnlab.evaluate.perplexity import (
        protocol_perplexity,
        same_target_perplexity,
        same_targets_from_truncation,
        select_documents,
        sliding_window_nll,
    )

    args, model, docs, bos, progress = s.args, s.model, s.docs, s.bos, s.progress
    if args.same_targets is None:
        given = [o for o, v in (("--target-end", args.target_end), ("--also-truncation", args.also_truncation)) if v]
        if given:
            raise UsageError(f"{', '.join(given)}: only with --same-targets (the same-target reading)")
    if args.same_targets is not None:
        if not args.lengths or args.min_tokens is not None:
            raise UsageError("--same-targets: needs --lengths, and takes no --min-tokens (the documents are those "
                             "of at least --target-end tokens)")
        shortest, end = min(args.lengths), args.target_end or max(args.lengths)
        low = shortest - (bos is None)
        if not 1 <= args.same_targets <= low:
            raise UsageError(f"--same-targets: must be an integer in [1, {low}] (below the shortest of --lengths, "
                             f"{shortest}, so every target has context; got {args.same_targets})")
        if end < max(args.lengths):
            raise UsageError(f"--target-end: must be >= the longest of --lengths, {max(args.lengths)} (got {end})")
        trunc = None
        if args.also_truncation:  # the same documents: those of at least `end` tokens
            trunc = protocol_perplexity(model, docs, args.lengths, end, None, args.window, args.stride, bos,
                                        args.batch_tokens, progress)
        rest = [n for n in args.lengths if trunc is None or n != end]  # at n = end both read the same windows
        same = same_target_perplexity(model, docs, rest, args.same_targets, None, bos, args.batch_tokens, progress,
                                      end=end, window=args.window, stride=args.stride) if rest else {}
        if trunc is not None and end in trunc:
            same[end] = same_targets_from_truncation(trunc[end], args.same_targets)
        out = {"same-targets": dict(sorted(same.items()))}
        if trunc is not None:
            out["truncation"] = trunc
        return out, s.long_enough(end)
    if args.lengths:
        return ({"truncation": protocol_perplexity(model, docs, args.lengths, args.min_tokens, None, args.window,
                                                   args.stride, bos, args.batch_tokens, progress)},
                s.long_enough(args.min_tokens or max(args.lengths)))
    if args.window is None:
        raise UsageError("--window: required without --lengths (window of the sliding evaluation)")
    chosen = select_documents(docs, args.min_tokens or 2)
    return ({"sliding": {0: sliding_window_nll(model, chosen, args.window, min(args.stride, args.window), bos,
                                               args.batch_tokens, progress)}},
            s.long_enough(args.min_tokens or 2))


def _cmd_sweep(args) -> int:
    from yarnlab.errors import UsageError
    from yarnlab.evaluate.sweep import fig2_table, fig3_table, fig4_table, sweep_argmin, temperature_sweep

    if bool(args.rules) != bool(args.rules_out):
        raise UsageError("--rules-out: give it together with --rules (the named rules' table)")
    s = EvalSession.open(args)
    spec = s.spec
    length = args.length or int(round(spec.factor * spec.original_ctx))
    kept = s.long_enough(length)  # the documents the sweep scores
    res = temperature_sweep(s.model, s.docs, spec, args.ms, length, args.segment, batch_tokens=args.batch_tokens,
                            progress=s.progress)
    rows = [{**r, "doc": kept[r["doc"]]} for r in res.rows()]
    if args.rules:
        s.write(_rule_rows(s, [s.docs[i] for i in kept], kept, length), args.rules_out)
    if s.to_file:
        s.write(rows)
        return 0
    best = sweep_argmin(res.ms, res.doc_nll, n_boot=args.n_boot, seed=args.seed)
    argmin = [{"method": spec.method, "factor": spec.factor, "length": length, **best.as_dict()}]
    tables = {"sweep.csv": rows, "sweep_fig2.csv": fig2_table(res), "sweep_fig4.csv": fig4_table(res),
              "sweep_argmin.csv": argmin}
    if any(abs(m - 1.0) < 1e-9 for m in res.ms):
        tables["sweep_fig3.csv"] = fig3_table(res)
    s.write_tables(tables)
    print(f"s = {spec.factor:g}, length {length}: argmin m = {best.m_refined:.4f} "
          f"(grid {best.m_grid:g}; bootstrap {best.boot_mean:.4f} +- {best.boot_std:.4f}, "
          f"{len(res.doc_nll[0])} samples)")
    return 0


def _rule_rows(s: EvalSession, docs, ids, length: int) -> list[dict]:
    """Per-document NLL at ``length`` (one window) under each temperature rule of ``--rules``,
    the sweep's frequencies otherwise unchanged: rows ``rule, m, doc, nll``."""
    from yarnlab.evaluate.perplexity import sliding_window_nll
    from yarnlab.model import apply_scaling
    from yarnlab.rope.temperature import attention_factor

    rows, spec = [], s.spec
    for rule in s.args.rules:
        apply_scaling(s.model, spec.replace(temperature=rule))
        m = attention_factor(rule, spec.factor, original_ctx=spec.original_ctx, seq_len=length)
        nll = sliding_window_nll(s.model, [d[:length] for d in docs], window=length, stride=length,
                                 batch_tokens=s.args.batch_tokens).doc_nll()
        rows += [{"rule": rule, "m": float(m), "doc": ids[i], "nll": float(v)} for i, v in enumerate(nll)]
    apply_scaling(s.model, spec)
    return rows


def _cmd_passkey(args) -> int:
    from yarnlab.data.passkey import passkey_trials
    from yarnlab.evaluate.passkey import accuracy_by_depth, accuracy_by_length, paper_table, score_passkey

    s = EvalSession.open(args, documents=False)
    trials = passkey_trials(args.lengths, args.trials, args.seed, args.digits, encode=s.encode)
    rows = score_passkey(s.model, trials, args.candidates, args.seed, encode=s.encode, progress=s.progress)
    if s.to_file:  # 0/1 rather than True/False: the table is summed and averaged
        s.write([{**r, "exact": int(r["exact"]), "ranked": int(r["ranked"])} for r in rows])
        return 0
    acc = [{"length": n, "metric": m, "accuracy": a, "trials": args.trials}
           for m in ("exact", "ranked") for n, a in accuracy_by_length(rows, m).items()]
    depth = [{"metric": m, **r} for m in ("exact", "ranked") for r in accuracy_by_depth(rows, m, args.depth_bins)]
    table = [paper_table(rows, m) for m in ("exact", "ranked")]
    s.write_tables({"passkey_trials.csv": rows, "passkey_accuracy.csv": acc, "passkey_depth.csv": depth,
                    "passkey_table.csv": table})
    for r in acc:
        print(f"length {r['length']}: {r['metric']} accuracy {r['accuracy']:.2f}")
    return 0


def _cmd_entropy(args) -> int:
    from yarnlab.evaluate.entropy import attention_entropy, layer_means

    s = EvalSession.open(args)
    rows = attention_entropy(s.model, s.docs, args.lengths, args.query_bins, progress=s.progress)
    means = layer_means(rows)
    s.write_tables({"entropy.csv": rows, "entropy_layers.csv": means})
    for r in means:
        print(f"length {r['length']} layer {r['layer']}: H = {r['entropy']:.4f} nats "
              f"(uniform {r['uniform_entropy']:.4f})")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("eval", help="perplexity, temperature sweeps, passkey retrieval, attention entropy",
                              description="Evaluate a checkpoint; tables go to --out with provenance sidecars.")
    sub = p.add_subparsers(dest="eval_command", required=True)

    ppl = sub.add_parser("ppl", help="sliding-window perplexity (Press et al.; the paper's protocol with --lengths)")
    add_session_arguments(ppl)
    ppl.add_argument("--lengths", type=int_list, help="evaluation lengths N,N or a:b:step: documents of "
                     ">= --min-tokens are truncated to each (the paper's protocol)")
    ppl.add_argument("--min-tokens", type=int, help="keep documents with at least this many tokens "
                     "(default: max of --lengths)")
    ppl.add_argument("--window", type=int, help="window W (default with --lengths: the length itself)")
    ppl.add_argument("--stride", type=int, default=256, help="stride S (default 256)")
    ppl.add_argument("--segment", type=int, help="position-segment size for ppl_segments.csv (default: L)")
    ppl.add_argument("--bos", action="store_true", help="prepend the model's BOS token to every window")
    ppl.add_argument("--same-targets", type=int, metavar="T",
                     help="with --lengths: score the same last T tokens of each document's first --target-end "
                          "tokens at every length n, read with the n - T tokens before them, so only the context "
                          "differs (T in [1, min(lengths) - 1]; with --window: a sliding walk of that window over "
                          "the n tokens; default: the paper's truncation, the first n tokens)")
    ppl.add_argument("--target-end", type=int, metavar="E",
                     help="with --same-targets: the targets end at token E of each document, documents shorter "
                          "are dropped (>= max of --lengths; default max of --lengths)")
    ppl.add_argument("--also-truncation", action="store_true",
                     help="with --same-targets: also the paper's truncation reading on the same documents; "
                          "every row names its reading (column reading)")
    ppl.set_defaults(func=_cmd_ppl)

    sw = sub.add_parser("sweep", help="perplexity at length sL over a grid of attention factors m = sqrt(1/t)")
    add_session_arguments(sw)
    sw.add_argument("--ms", type=float_list, default=float_list("0.9:1.5:0.05"),
                    help="m grid X,X or start:stop:step (1.0 added when in range; default 0.9:1.5:0.05)")
    sw.add_argument("--length", type=int, help="evaluation length (default sL)")
    sw.add_argument("--segment", type=int, help="position segment for Figs. 3-4 (default L)")
    sw.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples for the argmin (default 1000)")
    sw.add_argument("--rules", type=name_list,
                    help="temperature rules scored at the same frequencies, e.g. none,yarn,log-n (with --rules-out)")
    sw.add_argument("--rules-out", help="CSV file of the --rules table (rows rule, m, doc, nll)")
    sw.set_defaults(func=_cmd_sweep)

    pk = sub.add_parser("passkey", help="passkey retrieval: exact greedy match and candidate ranking")
    add_session_arguments(pk, corpus=False)
    pk.add_argument("--lengths", type=int_list, required=True, help="prompt lengths in tokens N,N or a:b:step")
    pk.add_argument("--trials", type=int, default=10, help="trials per length (default 10)")
    pk.add_argument("--digits", type=int, default=5, help="key digits (default 5)")
    pk.add_argument("--candidates", type=int, default=10, help="keys ranked per trial, the true one included "
                    "(default 10)")
    pk.add_argument("--depth-bins", type=int, default=5, help="depth bins for passkey_depth.csv (default 5)")
    pk.set_defaults(func=_cmd_passkey)

    en = sub.add_parser("entropy", help="per-layer attention entropy at several lengths (eager attention)")
    add_session_arguments(en)
    en.add_argument("--lengths", type=int_list, required=True, help="lengths N,N or a:b:step")
    en.add_argument("--query-bins", type=int, default=4, help="query-position bins (default 4)")
    en.set_defaults(func=_cmd_entropy)

    from yarnlab.evaluate.cli_docs import register_docs
    from yarnlab.evaluate.cli_regime import register_regime
    from yarnlab.evaluate.cli_scaling import register_scaling

    register_regime(sub)
    register_scaling(sub)
    register_docs(sub)
