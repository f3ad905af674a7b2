"""``yarnlab eval dynamic|ablation``: scaling studies on a base model without fine-tuning.

Standard library only at module level. The shared options (``--model``, documents, ``--tag``,
``--device``, ...), the model set-up and the output are the evaluation session's
(:mod:`yarnlab.evaluate.session`); ``--out`` is the CSV file itself (a ``.provenance.json`` sidecar
beside it); ``doc`` is the document's stable id for an .npz of ``yarnlab eval docs``, else its index.

- ``dynamic`` (paper Section 3.3, Appendix B.3, Fig. 5): each method in turn on the checkpoint's
  own geometry, documents truncated to each length N and scored in one window, so a dynamic
  method runs at s = max(1, N / L). ``METHOD:RULE`` sets the temperature rule (e.g.
  ``dynamic-yarn:none``). Rows ``method, length, doc, nll``.
- ``ablation`` (Section 3.2, Eq. 18): YaRN at ``--factor`` s with every alpha < beta of the grids
  and each ramp form (``paper``: linear in r; ``index``: the reference code's linear in the pair
  index), perplexity at length sL per document. Rows ``alpha, beta, ramp, s, doc, nll``.
"""

from __future__ import annotations

from yarnlab.evaluate.session import OUT_FILE_HELP, EvalSession, add_session_arguments, float_list, int_list, name_list


def _method_list(text: str) -> list[str]:
    import argparse

    from yarnlab.rope.methods import METHODS

    out = name_list(text)
    bad = [e for e in out if e.partition(":")[0] not in METHODS]
    if not out or bad:
        raise argparse.ArgumentTypeError(f"expected METHOD[:RULE],... with METHOD one of {sorted(METHODS)} "
                                          f"(got {bad or text!r})")
    return out


def _cmd_dynamic(args) -> int:
    from yarnlab.errors import UsageError
    from yarnlab.evaluate.perplexity import protocol_perplexity
    from yarnlab.model import apply_scaling

    if args.method is not None:
        raise UsageError("--method: not used by `eval dynamic` (give the methods with --methods)")
    s = EvalSession.open(args)
    base = s.unscaled
    kept = s.long_enough(max(args.lengths))
    rows = []
    for entry in args.methods:
        # dynamic methods take s from the sequence length; factor 1 is their floor
        method, _, rule = entry.partition(":")
        apply_scaling(s.model, base.replace(method=method, factor=1.0, params={}, temperature=rule or None))
        res = protocol_perplexity(s.model, s.docs, args.lengths, batch_tokens=args.batch_tokens, progress=s.progress)
        for n, r in res.items():
            rows += [{"method": entry, "length": n, "doc": kept[i], "nll": float(v)} for i, v in enumerate(r.doc_nll())]
            print(f"{entry} at {n}: mean nll {float(r.doc_nll().mean()):.4f} over {len(kept)} docs")
    s.write(rows)
    return 0


def _cmd_ablation(args) -> int:
    from yarnlab.errors import UsageError
    from yarnlab.evaluate.perplexity import sliding_window_nll
    from yarnlab.model import apply_scaling

    if args.method not in (None, "yarn"):
        raise UsageError(f"--method: `eval ablation` varies YaRN's ramp; leave it out or give yarn (got {args.method})")
    if args.factor is None or args.factor <= 1:
        raise UsageError(f"--factor: the scale s must be > 1 (got {args.factor})")
    pairs = [(a, b) for a in args.alphas for b in args.betas if b > a]
    if not pairs:
        raise UsageError(f"--alphas/--betas: no pair with alpha < beta (alphas {args.alphas}, betas {args.betas})")
    args.method = "yarn"
    s = EvalSession.open(args)
    spec = s.spec
    n = int(round(spec.factor * spec.original_ctx))
    kept = s.long_enough(n)
    if not kept:
        raise UsageError(f"documents: none has sL = {n} tokens")
    chosen = [s.docs[i][:n] for i in kept]
    rows = []
    for ramp in args.ramps:
        for alpha, beta in pairs:
            apply_scaling(s.model, spec.replace(params={**spec.params, "alpha": alpha, "beta": beta, "ramp": ramp}))
            nll = sliding_window_nll(s.model, chosen, window=n, stride=n, batch_tokens=args.batch_tokens).doc_nll()
            rows += [{"alpha": alpha, "beta": beta, "ramp": ramp, "s": spec.factor, "doc": kept[i], "nll": float(v)}
                     for i, v in enumerate(nll)]
            print(f"ramp {ramp}, alpha {alpha:g}, beta {beta:g}: mean nll {float(nll.mean()):.4f}")
    s.write(rows)
    return 0


def register_scaling(sub) -> None:
    """Add ``dynamic`` and ``ablation`` to the ``yarnlab eval`` sub-parsers."""
    dy = sub.add_parser("dynamic", help="dynamic scaling without fine-tuning: perplexity vs length per method "
                        "(paper Fig. 5)")
    add_session_arguments(dy, out_help=OUT_FILE_HELP)
    dy.add_argument("--methods", type=_method_list, required=True,
                    help="METHOD[:RULE],... e.g. none,dynamic-ntk,dynamic-yarn,dynamic-yarn:none")
    dy.add_argument("--lengths", type=int_list, required=True, help="lengths N,N or a:b:step")
    dy.set_defaults(func=_cmd_dynamic)

    ab = sub.add_parser("ablation", help="YaRN's ramp (alpha, beta, ramp form) without fine-tuning at length sL "
                        "(paper Eq. 18)")
    add_session_arguments(ab, out_help=OUT_FILE_HELP)
    ab.add_argument("--alphas", type=float_list, required=True, help="alpha values X,X")
    ab.add_argument("--betas", type=float_list, required=True, help="beta values X,X (pairs with alpha < beta)")
    ab.add_argument("--ramps", type=name_list, default=["paper", "index"],
                    help="ramp forms (default paper,index)")
    ab.set_defaults(func=_cmd_ablation)
