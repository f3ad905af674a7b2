"""``yarnlab eval ppl|sweep|passkey|entropy`` (and ``positions|context-use|logit-spread`` from
:mod:`~yarnlab.evaluate.cli_regime`): evaluation commands writing tidy CSV + provenance.

Standard library only at module level; torch and transformers enter inside the handlers.

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

import argparse
import sys


def _int_list(text: str) -> list[int]:
    """``2048,4096`` or ``a:b:step`` (inclusive)."""
    try:
        if ":" in text:
            a, b, step = (int(x) for x in text.split(":"))
            if step <= 0 or b < a:
                raise ValueError
            return list(range(a, b + 1, step))
        return [int(x) for x in text.split(",") if x]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N,N,... or start:stop:step (got {text!r})") from None


def _float_list(text: str) -> list[float]:
    try:
        if ":" in text:
            from yarnlab.evaluate.sweep import m_grid

            return m_grid(*(float(x) for x in text.split(":"))).tolist()
        return [float(x) for x in text.split(",") if x]
    except (ValueError, TypeError):
        raise argparse.ArgumentTypeError(f"expected X,X,... or start:stop:step (got {text!r})") from None


# ---------------------------------------------------------------- shared setup


def _common(p: argparse.ArgumentParser, corpus: bool = True,
            out_help: str = "output directory for the CSV tables and provenance") -> None:
    from yarnlab.rope.cli import add_spec_arguments

    p.add_argument("--model", required=True, help="checkpoint directory (Hugging Face format)")
    p.add_argument("--out", required=True, help=out_help)
    if corpus:
        g = p.add_argument_group("documents")
        g.add_argument("--corpus", help="prose | code | a directory of text files")
        g.add_argument("--split", choices=("test", "train", "all"), default="test",
                       help="documents of --corpus (test = held-out groups; default test)")
        g.add_argument("--heldout-fraction", type=float, default=0.1, help="held-out fraction (default 0.1)")
        g.add_argument("--docs", help="a text file (one document), a directory of text files, or an .npz of "
                       "token arrays doc0, doc1, ... (yarnlab eval docs)")
        g.add_argument("--max-docs", type=int, help="use at most this many documents")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--device", default=None, help="torch device (default: cuda if available, else cpu)")
    p.add_argument("--dtype", choices=("float32", "bfloat16", "float16", "float64"), default="float32")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--batch-tokens", type=int, default=4096, help="tokens per forward batch (default 4096)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                   help="a constant column in front of every row (repeatable; numbers stay numbers)")
    add_spec_arguments(p)
    p.set_defaults(method=None, factor=None)


def _setup(args):
    """(model, spec, tokenizer-encode, record) from the common options."""
    import torch

    from yarnlab.cli_support import key_values
    from yarnlab.errors import UsageError
    from yarnlab.model import apply_scaling, load_model, model_spec

    key_values(args.tag, "--tag")  # a malformed tag fails before any model is loaded
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    try:
        model = load_model(args.model)
    except OSError as exc:
        raise UsageError(f"--model: cannot load a checkpoint from {args.model!r} ({exc})") from None
    model = model.to(device=device, dtype=getattr(torch, args.dtype)).eval()
    from yarnlab.rope.cli import given_scaling_options, spec_from_args

    if args.method is None:
        given = given_scaling_options(args)
        if given:
            raise UsageError(f"--method: required with scaling options ({', '.join(given)})")
        spec = model_spec(model)
    else:

        if args.factor is None:
            args.factor = 1.0
        unscaled = unscaled_spec(model)
        spec = spec_from_args(args, head_dim=unscaled.head_dim, base=unscaled.base,
                              original_ctx=unscaled.original_ctx, rotary_dim=unscaled.rotary_dim)
        apply_scaling(model, spec)
    encode, tokenizer_name = _tokenizer(args.model)
    from yarnlab.io import provenance

    record = provenance(_params(args), model=str(args.model), spec=spec.to_dict(), seed=args.seed,
                        tokenizer=tokenizer_name, torch=torch.__version__, device=str(device))
    return model, spec, encode, record


def unscaled_spec(model):
    """The checkpoint's own geometry before any scaling, as a RopeSpec (method none)."""
    from yarnlab.model.patch import original_config
    from yarnlab.rope.hf import read_hf_config

    unscaled, _ = read_hf_config({k: v for k, v in original_config(model).items() if k != "yarnlab_rope"})
    return unscaled


def long_enough(docs, n: int) -> list[int]:
    """Indices of the documents with at least ``n`` tokens (those a length-n evaluation scores)."""
    return [i for i, d in enumerate(docs) if len(d) >= n]


def _params(args) -> dict:
    return {k: v for k, v in vars(args).items() if k != "func" and not callable(v)}


def _tokenizer(model_dir: str):
    from pathlib import Path

    if any((Path(model_dir) / f).exists() for f in ("tokenizer.json", "tokenizer.model", "tokenizer_config.json")):
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(model_dir)
        return (lambda text: tok(text, add_special_tokens=False)["input_ids"]), type(tok).__name__
    from yarnlab.data.tokenizer import ByteTokenizer

    return ByteTokenizer().encode, "bytes"


def _documents(args, encode) -> tuple[list, dict]:
    """(token-id arrays, data manifest) from --corpus/--split or --docs."""
    import hashlib
    from pathlib import Path

    import numpy as np

    from yarnlab.errors import UsageError

    if bool(args.corpus) == bool(args.docs):
        raise UsageError("documents: give exactly one of --corpus or --docs")
    if args.corpus:
        from yarnlab.data.corpus import load_corpus, split_corpus

        corpus = load_corpus(args.corpus)
        if args.split == "all":
            chosen = list(corpus.documents)
        else:
            split = split_corpus(corpus, args.heldout_fraction, 0)
            chosen = list(split.heldout if args.split == "test" else split.train)
        named = [(d.name, d.read_bytes()) for d in chosen]
        manifest = {"corpus": corpus.name, "split": args.split, "heldout_fraction": args.heldout_fraction,
                    "split_seed": 0}
    else:
        root = Path(args.docs)
        if root.is_file() and root.suffix == ".npz":
            return _npz_documents(args, root)
        if root.is_file():
            named = [(root.name, root.read_bytes())]
        elif root.is_dir():
            from yarnlab.data.corpus import load_directory

            named = [(d.name, d.read_bytes()) for d in load_directory(root).documents]
        else:
            raise UsageError(f"--docs: no such file or directory: {args.docs!r}")
        manifest = {"docs": root.name}
    if args.max_docs is not None:
        if args.max_docs < 1:
            raise UsageError(f"--max-docs: must be >= 1 (got {args.max_docs})")
        named = named[: args.max_docs]
    docs = [np.asarray(encode(data.decode("utf-8", errors="replace")), dtype=np.int64) for _, data in named]
    manifest["documents"] = [{"file": n, "sha256": hashlib.sha256(data).hexdigest(), "tokens": len(t)}
                             for (n, data), t in zip(named, docs)]
    return docs, manifest


def _npz_documents(args, root) -> tuple[list, dict]:
    """Token arrays ``doc0, doc1, ...`` of an .npz (already tokenized; ``doc`` = the key's number)."""
    import hashlib

    import numpy as np

    from yarnlab.errors import UsageError

    with np.load(root) as z:
        keys = sorted((k for k in z.files if k != "ids"), key=lambda k: (len(k), k))
        if [k for k in keys if not (k.startswith("doc") and k[3:].isdigit())] or \
                [int(k[3:]) for k in keys] != list(range(len(keys))):
            raise UsageError(f"--docs: {root.name} must hold arrays doc0 .. doc{{N-1}} (got {keys[:5]}...)")
        docs = [np.asarray(z[k], dtype=np.int64) for k in keys]
        # stable ids "<work>@<offset>" (yarnlab eval docs), else the key
        ids = [str(x) for x in z["ids"]] if "ids" in z.files else keys
    if args.max_docs is not None:
        if args.max_docs < 1:
            raise UsageError(f"--max-docs: must be >= 1 (got {args.max_docs})")
        docs = docs[: args.max_docs]
    manifest = {"docs": root.name, "sha256": hashlib.sha256(root.read_bytes()).hexdigest(),
                "documents": [{"file": f"doc{i}", "id": ids[i], "tokens": len(d)} for i, d in enumerate(docs)]}
    return docs, manifest


def _tagged(rows: list[dict], record: dict, tags=()) -> list[dict]:
    """``rows`` with the ``--tag`` columns in front and, for documents of an .npz with stable ids,
    the id in the ``doc`` column instead of the index."""
    ids = [d.get("id") for d in record.get("data_manifest", {}).get("documents", [])]
    if ids and all(ids):
        rows = [{**r, "doc": ids[r["doc"]]} if "doc" in r else r for r in rows]
    from yarnlab.cli_support import key_values
    from yarnlab.io import parse_cell

    tags = {k: parse_cell(v) for k, v in key_values(list(tags), "--tag").items()}
    clash = sorted(set(tags) & set(rows[0])) if rows else []
    if clash:
        from yarnlab.errors import UsageError

        raise UsageError(f"--tag: {clash} would replace columns of the table (choose other keys)")
    return [{**tags, **r} for r in rows]


def _to_file(args) -> bool:
    """``--out`` names the main table itself (a .csv file) rather than a directory."""
    return str(args.out).endswith(".csv")


def _write(out_dir, name: str | None, rows: list[dict], record: dict, tags=()) -> str:
    """Write one table into ``out_dir`` (``name`` None: ``out_dir`` is the file itself)."""
    from pathlib import Path

    from yarnlab.io import write_table

    path = Path(out_dir) / name if name else Path(out_dir)
    write_table(path, _tagged(rows, record, tags), record["parameters"], record=record)
    return str(path)


def _say(*paths: str) -> None:
    for p in paths:
        print(f"wrote {p}", file=sys.stderr)


# ---------------------------------------------------------------- commands


def _cmd_ppl(args) -> int:
    import numpy as np

    from yarnlab.errors import UsageError

    model, spec, encode, record = _setup(args)
    docs, manifest = _documents(args, encode)
    record["data_manifest"] = manifest
    bos = None
    if args.bos:
        bos = getattr(model.config, "bos_token_id", None)
        if bos is None:
            raise UsageError("--bos: the model config has no bos_token_id")
    readings, ids = _ppl_readings(args, model, docs, bos)
    segment = args.segment or spec.original_ctx
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
    if _to_file(args):
        _say(_write(args.out, None, per_doc, record, args.tag))
    else:
        _say(_write(args.out, "ppl.csv", summary, record, args.tag),
             _write(args.out, "ppl_docs.csv", per_doc, record, args.tag),
             _write(args.out, "ppl_segments.csv", per_seg, record, args.tag))
    for row in summary:
        print(f"length {row['length']} ({row['reading']}): ppl {row['ppl_token']:.4f} (token-weighted), "
              f"{row['ppl_window']:.4f} (window-weighted), {row['docs']} docs, {row['tokens']} tokens")
    return 0


def _ppl_readings(args, model, docs, bos) -> tuple[dict, list[int]]:
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

    progress = not args.no_progress
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
        return out, long_enough(docs, end)
    if args.lengths:
        return ({"truncation": protocol_perplexity(model, docs, args.lengths, args.min_tokens, None, args.window,
                                                   args.stride, bos, args.batch_tokens, progress)},
                long_enough(docs, args.min_tokens or max(args.lengths)))
    if args.window is None:
        raise UsageError("--window: required without --lengths (window of the sliding evaluation)")
    chosen = select_documents(docs, args.min_tokens or 2)
    return ({"sliding": {0: sliding_window_nll(model, chosen, args.window, min(args.stride, args.window), bos,
                                               args.batch_tokens, progress)}},
            long_enough(docs, args.min_tokens or 2))


def _cmd_sweep(args) -> int:
    from yarnlab.errors import UsageError
    from yarnlab.evaluate.sweep import fig2_table, fig3_table, fig4_table, sweep_argmin, temperature_sweep

    if bool(args.rules) != bool(args.rules_out):
        raise UsageError("--rules-out: give it together with --rules (the named rules' table)")
    model, spec, encode, record = _setup(args)
    docs, manifest = _documents(args, encode)
    record["data_manifest"] = manifest
    length = args.length or int(round(spec.factor * spec.original_ctx))
    kept = long_enough(docs, length)  # the documents the sweep scores
    res = temperature_sweep(model, docs, spec, args.ms, length, args.segment, batch_tokens=args.batch_tokens,
                            progress=not args.no_progress)
    rows = [{**r, "doc": kept[r["doc"]]} for r in res.rows()]
    if args.rules:
        _say(_write(args.rules_out, None, _rule_rows(model, spec, [docs[i] for i in kept], kept, length, args),
                    record, args.tag))
    if _to_file(args):
        _say(_write(args.out, None, rows, record, args.tag))
        return 0
    best = sweep_argmin(res.ms, res.doc_nll, n_boot=args.n_boot, seed=args.seed)
    argmin = [{"method": spec.method, "factor": spec.factor, "length": length, **best.as_dict()}]
    written = [_write(args.out, "sweep.csv", rows, record, args.tag),
               _write(args.out, "sweep_fig2.csv", fig2_table(res), record, args.tag),
               _write(args.out, "sweep_fig4.csv", fig4_table(res), record, args.tag),
               _write(args.out, "sweep_argmin.csv", argmin, record, args.tag)]
    if any(abs(m - 1.0) < 1e-9 for m in res.ms):
        written.append(_write(args.out, "sweep_fig3.csv", fig3_table(res), record, args.tag))
    _say(*written)
    print(f"s = {spec.factor:g}, length {length}: argmin m = {best.m_refined:.4f} "
          f"(grid {best.m_grid:g}; bootstrap {best.boot_mean:.4f} +- {best.boot_std:.4f}, "
          f"{len(res.doc_nll[0])} samples)")
    return 0


def _rule_rows(model, spec, docs, ids, length: int, args) -> list[dict]:
    """Per-document NLL at ``length`` (one window) under each temperature rule of ``--rules``,
    the sweep's frequencies otherwise unchanged: rows ``rule, m, doc, nll``."""
    from yarnlab.evaluate.perplexity import sliding_window_nll
    from yarnlab.model import apply_scaling
    from yarnlab.rope.temperature import attention_factor

    rows = []
    for rule in args.rules:
        apply_scaling(model, spec.replace(temperature=rule))
        m = attention_factor(rule, spec.factor, original_ctx=spec.original_ctx, seq_len=length)
        nll = sliding_window_nll(model, [d[:length] for d in docs], window=length, stride=length,
                                 batch_tokens=args.batch_tokens).doc_nll()
        rows += [{"rule": rule, "m": float(m), "doc": ids[i], "nll": float(v)} for i, v in enumerate(nll)]
    apply_scaling(model, spec)
    return rows


def _cmd_passkey(args) -> int:
    from yarnlab.data.passkey import passkey_trials
    from yarnlab.evaluate.passkey import accuracy_by_depth, accuracy_by_length, paper_table, score_passkey

    model, spec, encode, record = _setup(args)
    trials = passkey_trials(args.lengths, args.trials, args.seed, args.digits, encode=encode)
    rows = score_passkey(model, trials, args.candidates, args.seed, encode=encode, progress=not args.no_progress)
    if _to_file(args):  # 0/1 rather than True/False: the table is summed and averaged
        _say(_write(args.out, None, [{**r, "exact": int(r["exact"]), "ranked": int(r["ranked"])} for r in rows],
                    record, args.tag))
        return 0
    acc = [{"length": n, "metric": m, "accuracy": a, "trials": args.trials}
           for m in ("exact", "ranked") for n, a in accuracy_by_length(rows, m).items()]
    depth = [{"metric": m, **r} for m in ("exact", "ranked") for r in accuracy_by_depth(rows, m, args.depth_bins)]
    table = [paper_table(rows, m) for m in ("exact", "ranked")]
    _say(_write(args.out, "passkey_trials.csv", rows, record, args.tag),
         _write(args.out, "passkey_accuracy.csv", acc, record, args.tag),
         _write(args.out, "passkey_depth.csv", depth, record, args.tag),
         _write(args.out, "passkey_table.csv", table, record, args.tag))
    for r in acc:
        print(f"length {r['length']}: {r['metric']} accuracy {r['accuracy']:.2f}")
    return 0


def _cmd_entropy(args) -> int:
    from yarnlab.evaluate.entropy import attention_entropy, layer_means

    model, spec, encode, record = _setup(args)
    docs, manifest = _documents(args, encode)
    record["data_manifest"] = manifest
    rows = attention_entropy(model, docs, args.lengths, args.query_bins, progress=not args.no_progress)
    means = layer_means(rows)
    _say(_write(args.out, "entropy.csv", rows, record, args.tag),
         _write(args.out, "entropy_layers.csv", means, record, args.tag))
    for r in means:
        print(f"length {r['length']} layer {r['layer']}: H = {r['entropy']:.4f} nats "
              f"(uniform {r['uniform_entropy']:.4f})")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("eval", help="perplexity, temperature sweeps, passkey retrieval, attention entropy",
                              description="Evaluate a checkpoint; tables go to --out with provenance sidecars.")
    sub = p.add_subparsers(dest="eval_command", required=True)

    ppl = sub.add_parser("ppl", help="sliding-window perplexity (Press et al.; the paper's protocol with --lengths)")
    _common(ppl)
    ppl.add_argument("--lengths", type=_int_list, help="evaluation lengths N,N or a:b:step: documents of "
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
    _common(sw)
    sw.add_argument("--ms", type=_float_list, default=_float_list("0.9:1.5:0.05"),
                    help="m grid X,X or start:stop:step (1.0 added when in range; default 0.9:1.5:0.05)")
    sw.add_argument("--length", type=int, help="evaluation length (default sL)")
    sw.add_argument("--segment", type=int, help="position segment for Figs. 3-4 (default L)")
    sw.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples for the argmin (default 1000)")
    sw.add_argument("--rules", type=lambda t: [r for r in t.split(",") if r],
                    help="temperature rules scored at the same frequencies, e.g. none,yarn,log-n (with --rules-out)")
    sw.add_argument("--rules-out", help="CSV file of the --rules table (rows rule, m, doc, nll)")
    sw.set_defaults(func=_cmd_sweep)

    pk = sub.add_parser("passkey", help="passkey retrieval: exact greedy match and candidate ranking")
    _common(pk, corpus=False)
    pk.add_argument("--lengths", type=_int_list, required=True, help="prompt lengths in tokens N,N or a:b:step")
    pk.add_argument("--trials", type=int, default=10, help="trials per length (default 10)")
    pk.add_argument("--digits", type=int, default=5, help="key digits (default 5)")
    pk.add_argument("--candidates", type=int, default=10, help="keys ranked per trial, the true one included "
                    "(default 10)")
    pk.add_argument("--depth-bins", type=int, default=5, help="depth bins for passkey_depth.csv (default 5)")
    pk.set_defaults(func=_cmd_passkey)

    en = sub.add_parser("entropy", help="per-layer attention entropy at several lengths (eager attention)")
    _common(en)
    en.add_argument("--lengths", type=_int_list, required=True, help="lengths N,N or a:b:step")
    en.add_argument("--query-bins", type=int, default=4, help="query-position bins (default 4)")
    en.set_defaults(func=_cmd_entropy)

    from yarnlab.evaluate.cli_docs import register_docs
    from yarnlab.evaluate.cli_regime import register_regime
    from yarnlab.evaluate.cli_scaling import register_scaling

    register_regime(sub)
    register_scaling(sub)
    register_docs(sub)
