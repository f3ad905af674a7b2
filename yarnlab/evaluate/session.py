"""The evaluation session every ``yarnlab eval`` command shares: options, set-up, documents, output.

Standard library only at module level; torch, transformers and numpy enter inside the functions.

- :func:`add_session_arguments` adds the options every evaluation command takes (``--model``,
  ``--out``, the documents, ``--seed``, ``--device``, ``--dtype``, ``--threads``, ``--batch-tokens``,
  ``--no-progress``, ``--tag`` and the scaling spec); :func:`int_list`, :func:`float_list` and
  :func:`name_list` are the list types of the commands' own options.
- :meth:`EvalSession.open` turns those options into one session: the checkpoint loaded (and scaled
  when ``--method`` is given; without it the checkpoint's own spec), the tokenizer's encoder (the
  checkpoint's tokenizer when it has one, else bytes), the documents of ``--corpus`` or ``--docs``
  tokenized, and the provenance record (model, spec, data manifest, seed, package version, git
  revision) that every table's sidecar carries.
- :meth:`EvalSession.write` (one table, ``--out`` a file) and :meth:`EvalSession.write_tables`
  (several, ``--out`` a directory) write tables atomically with that record, the ``--tag`` columns
  in front and, for documents of an .npz with stable ids, the id in the ``doc`` column.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from yarnlab.rope.spec import RopeSpec

OUT_FILE_HELP = "output CSV file (a .provenance.json sidecar is written beside it)"


def int_list(text: str) -> list[int]:
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


def float_list(text: str) -> list[float]:
    """``0.9,1.0`` or ``start:stop:step`` (the sweep's m grid, 1.0 added when in range)."""
    try:
        if ":" in text:
            from yarnlab.evaluate.sweep import m_grid

            return m_grid(*(float(x) for x in text.split(":"))).tolist()
        return [float(x) for x in text.split(",") if x]
    except (ValueError, TypeError):
        raise argparse.ArgumentTypeError(f"expected X,X,... or start:stop:step (got {text!r})") from None


def name_list(text: str) -> list[str]:
    """``a,b,c`` -> ``["a", "b", "c"]`` (empty entries dropped)."""
    return [r for r in text.split(",") if r]


def add_session_arguments(p: argparse.ArgumentParser, corpus: bool = True,
                          out_help: str = "output directory for the CSV tables and provenance") -> None:
    """The options of every evaluation command (``corpus=False``: no document options)."""
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


def unscaled_spec(model) -> RopeSpec:
    """The checkpoint's own geometry before any scaling, as a RopeSpec (method none)."""
    from yarnlab.model.patch import original_config
    from yarnlab.rope.hf import read_hf_config

    unscaled, _ = read_hf_config({k: v for k, v in original_config(model).items() if k != "yarnlab_rope"})
    return unscaled


@dataclass
class EvalSession:
    """One evaluation: the parsed options, the model (scaled by ``spec``), the encoder, the documents
    (token-id arrays; empty when the command reads none) and the provenance record of its tables."""

    args: argparse.Namespace
    model: Any
    spec: RopeSpec | None = None
    encode: Callable[[str], list[int]] | None = None
    record: dict = field(default_factory=dict)
    docs: list = field(default_factory=list)

    @classmethod
    def open(cls, args: argparse.Namespace, documents: bool = True) -> EvalSession:
        """Load, scale and describe the model of ``args``; with ``documents``, read and tokenize the
        documents of ``--corpus`` / ``--docs`` into ``docs`` and the record's ``data_manifest``."""
        import torch

        from yarnlab import cpu
        from yarnlab.cli_support import key_values
        from yarnlab.errors import UsageError
        from yarnlab.io import provenance
        from yarnlab.model import apply_scaling, load_model, model_spec
        from yarnlab.rope.cli import given_scaling_options, spec_from_args

        key_values(args.tag, "--tag")  # a malformed tag fails before any model is loaded
        cpu.configure(args.threads)  # subnormals flushed; threads set when given
        torch.manual_seed(args.seed)
        device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            model = load_model(args.model)
        except OSError as exc:
            raise UsageError(f"--model: cannot load a checkpoint from {args.model!r} ({exc})") from None
        model = model.to(device=device, dtype=getattr(torch, args.dtype)).eval()
        session = cls(args, model)
        if args.method is None:
            given = given_scaling_options(args)
            if given:
                raise UsageError(f"--method: required with scaling options ({', '.join(given)})")
            session.spec = model_spec(model)
        else:
            if args.factor is None:
                args.factor = 1.0
            unscaled = session.unscaled
            session.spec = spec_from_args(args, head_dim=unscaled.head_dim, base=unscaled.base,
                                          original_ctx=unscaled.original_ctx, rotary_dim=unscaled.rotary_dim)
            apply_scaling(model, session.spec)
        session.encode, tokenizer_name = _tokenizer(args.model)
        params = {k: v for k, v in vars(args).items() if k != "func" and not callable(v)}
        session.record = provenance(params, model=str(args.model), spec=session.spec.to_dict(), seed=args.seed,
                                    tokenizer=tokenizer_name, torch=torch.__version__, device=str(device))
        if documents:
            session.docs, session.record["data_manifest"] = read_documents(args, session.encode)
        return session

    @cached_property
    def unscaled(self) -> RopeSpec:
        """The checkpoint's own spec before any scaling (:func:`unscaled_spec`), read once."""
        return unscaled_spec(self.model)

    @cached_property
    def bos(self) -> int | None:
        """The model's BOS token id with ``--bos``, else None; a config without one is a UsageError."""
        from yarnlab.errors import UsageError

        if not self.args.bos:
            return None
        bos = getattr(self.model.config, "bos_token_id", None)
        if bos is None:
            raise UsageError("--bos: the model config has no bos_token_id")
        return int(bos)

    @property
    def progress(self) -> bool:
        """Progress bars unless ``--no-progress``."""
        return not self.args.no_progress

    @property
    def to_file(self) -> bool:
        """``--out`` names the main table itself (a .csv file) rather than a directory."""
        return str(self.args.out).endswith(".csv")

    def long_enough(self, n: int) -> list[int]:
        """Indices of the documents with at least ``n`` tokens (those a length-n evaluation scores)."""
        return [i for i, d in enumerate(self.docs) if len(d) >= n]

    def write(self, rows: list[dict], path: str | None = None, tagged: bool = True) -> None:
        """Write one table to ``path`` (default ``--out``, a file), with the ``--tag`` columns unless
        ``tagged`` is False; then name the file written."""
        from pathlib import Path

        self._write_all([(Path(self.args.out if path is None else path), rows)], tagged)

    def write_tables(self, tables: dict[str, list[dict]]) -> None:
        """Write ``{file name: rows}`` into the ``--out`` directory, with the ``--tag`` columns; then
        name every file written."""
        from pathlib import Path

        self._write_all([(Path(self.args.out) / name, rows) for name, rows in tables.items()], True)

    def _write_all(self, tables: list, tagged: bool) -> None:
        from yarnlab.io import write_table

        for path, rows in tables:
            write_table(path, self._tagged(rows, self.args.tag if tagged else ()), self.record["parameters"],
                        record=self.record)
        for path, _ in tables:
            print(f"wrote {path}", file=sys.stderr)

    def _tagged(self, rows: list[dict], tags) -> list[dict]:
        """``rows`` with the ``--tag`` columns in front and, for documents of an .npz with stable ids,
        the id in the ``doc`` column instead of the index."""
        from yarnlab.cli_support import key_values
        from yarnlab.errors import UsageError
        from yarnlab.io import parse_cell

        ids = [d.get("id") for d in self.record.get("data_manifest", {}).get("documents", [])]
        if ids and all(ids):
            rows = [{**r, "doc": ids[r["doc"]]} if "doc" in r else r for r in rows]
        tags = {k: parse_cell(v) for k, v in key_values(list(tags), "--tag").items()}
        clash = sorted(set(tags) & set(rows[0])) if rows else []
        if clash:
            raise UsageError(f"--tag: {clash} would replace columns of the table (choose other keys)")
        return [{**tags, **r} for r in rows]


def _tokenizer(model_dir: str):
    """(encode, tokenizer name): the checkpoint's own tokenizer when it has one, else bytes."""
    from pathlib import Path

    if any((Path(model_dir) / f).exists() for f in ("tokenizer.json", "tokenizer.model", "tokenizer_config.json")):
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(model_dir)
        return (lambda text: tok(text, add_special_tokens=False)["input_ids"]), type(tok).__name__
    from yarnlab.data.tokenizer import ByteTokenizer

    return ByteTokenizer().encode, "bytes"


def read_documents(args: argparse.Namespace, encode) -> tuple[list, dict]:
    """(token-id arrays, data manifest) from ``--corpus``/``--split`` or ``--docs``."""
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
    named = _at_most(args, named)
    docs = [np.asarray(encode(data.decode("utf-8", errors="replace")), dtype=np.int64) for _, data in named]
    manifest["documents"] = [{"file": n, "sha256": hashlib.sha256(data).hexdigest(), "tokens": len(t)}
                             for (n, data), t in zip(named, docs)]
    return docs, manifest


def _npz_documents(args: argparse.Namespace, root) -> tuple[list, dict]:
    """Token arrays ``doc0, doc1, ...`` of an .npz (already tokenized; ``doc`` = the key's number)."""
    import hashlib

    from yarnlab.evaluate.docs import read_eval_docs

    docs, ids = read_eval_docs(root)
    docs = _at_most(args, docs)
    manifest = {"docs": root.name, "sha256": hashlib.sha256(root.read_bytes()).hexdigest(),
                "documents": [{"file": f"doc{i}", "id": ids[i], "tokens": len(d)} for i, d in enumerate(docs)]}
    return docs, manifest


def _at_most(args: argparse.Namespace, items: list) -> list:
    """The first ``--max-docs`` of ``items`` (all without it)."""
    from yarnlab.errors import UsageError

    if args.max_docs is None:
        return items
    if args.max_docs < 1:
        raise UsageError(f"--max-docs: must be >= 1 (got {args.max_docs})")
    return items[: args.max_docs]
