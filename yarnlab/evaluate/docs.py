"""Evaluation documents: held-out text cut into ``n_docs`` pieces of ``tokens`` tokens each.

The documents of the long-sequence perplexity evaluation (YaRN Section 4.3: documents of at
least N tokens, scored at the evaluation length), built from held-out text only:

- a built-in corpus (``prose``, ``code``, a directory; :func:`corpus_streams`) uses the training
  document split (split seed 0, ``heldout_fraction``) and keeps one document per held-out work
  (two editions of a play would give near-duplicate pieces), tokenized as bytes or with a
  Hugging Face tokenizer folder (a real model's own BPE, e.g. a GGUF base);
- a Hugging Face data set (``pg19``, ``proof-pile``, ``govreport``; :func:`hf_streams`) keeps its
  documents of at least ``tokens`` UTF-8 bytes, tokenized with the given tokenizer.

:func:`evaluation_pieces` cuts each work into whole aligned slots ``[k * tokens, (k + 1) * tokens)``
and takes them round-robin over the works, one slot per work per round, so that every held-out
work contributes equally. The order of a work's slots (``order``):

- ``balanced`` (the default): a seeded random permutation of slots ``1 .. K_w - 1`` followed by
  slot 0, the work's opening (title, cast list), which therefore enters a set only in the round
  that takes the work's last slot. With W works, every prefix of r * W pieces with r <= min_w K_w
  (the evaluation sets are prefixes, ``--max-docs``) then holds r pieces from each work, and an
  opening piece only of a work it takes whole (r = K_w). The permutation of work ``w`` is drawn from
  ``numpy.random.default_rng([seed, crc32(w)])``: it depends on the seed and the work's name only;
- ``sequential`` (the order before balancing): slot k in round k, so the first W pieces are every
  work's opening.

A piece's id ``<work>@<token offset>`` is stable whatever ``n_docs`` and names its work, the
resampling unit of the claims' bootstrap (:mod:`yarnlab.claims.stats`). :func:`write_eval_docs`
writes the ``.npz`` (arrays ``ids``, ``doc0``, ``doc1``, ...) atomically and its
``<file>.provenance.json`` sidecar; ``yarnlab eval docs`` (:mod:`yarnlab.evaluate.cli_docs`) is the
command line. numpy only at module level.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from yarnlab.errors import UsageError

Stream = tuple[str, np.ndarray]
"""``(work, token ids)``: one held-out document per work."""

PIECE_ORDERS = ("balanced", "sequential")
"""Orders of a work's slots in :func:`evaluation_pieces` (module docstring)."""


def _hf_tokenizer(path: str):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)


def _token_ids(tok, text: str) -> np.ndarray:
    return np.asarray(tok(text, add_special_tokens=False)["input_ids"], dtype=np.int64)


def encoder(tokenizer: str | None) -> Callable[[bytes], np.ndarray]:
    """Bytes -> int64 token ids: the byte tokenizer (``None``), or a Hugging Face tokenizer folder
    (the bytes decoded as UTF-8 with replacement, no special tokens)."""
    if tokenizer is None:
        return lambda data: np.frombuffer(data, dtype=np.uint8).astype(np.int64)
    tok = _hf_tokenizer(tokenizer)
    return lambda data: _token_ids(tok, data.decode("utf-8", errors="replace"))


def corpus_streams(corpus: str | os.PathLike, heldout_fraction: float = 0.1,
                   tokenizer: str | None = None) -> tuple[list[Stream], dict[str, Any]]:
    """``(streams, source)``: the first held-out document of each work of ``corpus`` (works sorted
    by name), tokenized; ``source`` records the corpus, tokenizer, split manifest and works."""
    from yarnlab.data.corpus import load_corpus, split_corpus

    split = split_corpus(load_corpus(corpus), heldout_fraction, 0)
    encode = encoder(tokenizer)
    first: dict[str, Any] = {}
    for d in split.heldout:
        first.setdefault(d.group, d)
    streams = [(g, encode(d.read_bytes())) for g, d in sorted(first.items())]
    source = {"corpus": str(corpus), "tokenizer": tokenizer or "bytes", "heldout": split.manifest(),
              "works": sorted(first)}
    return streams, source


def hf_streams(dataset: str, split: str, tokenizer: str, min_bytes: int = 0) -> tuple[list[Stream], dict[str, Any]]:
    """``(streams, source)``: the documents of Hugging Face data set ``dataset`` with at least
    ``min_bytes`` UTF-8 bytes, in row order, tokenized with ``tokenizer``; document ``i`` (of those
    kept) is work ``<dataset><i>``."""
    from yarnlab.data.hf import load_hf_documents

    if not tokenizer:
        raise UsageError("tokenizer: a Hugging Face data set needs a tokenizer folder (got none)")
    tok = _hf_tokenizer(tokenizer)
    texts = [d.text for d in load_hf_documents(dataset, split, min_bytes=min_bytes)]
    streams = [(f"{dataset}{i}", _token_ids(tok, t)) for i, t in enumerate(texts)]
    return streams, {"hf_dataset": dataset, "split": split, "tokenizer": tokenizer}


def available_pieces(streams: Sequence[Stream], tokens: int) -> int:
    """How many whole pieces of ``tokens`` tokens :func:`evaluation_pieces` can take at most."""
    if tokens < 1:
        raise UsageError(f"tokens: must be >= 1 (got {tokens})")
    return sum(len(s) // tokens for _, s in streams)


def slot_order(work: str, n_slots: int, order: str = "balanced", seed: int = 0) -> list[int]:
    """The order in which :func:`evaluation_pieces` takes the ``n_slots`` slots of ``work``:
    ``sequential`` 0, 1, ..., K - 1; ``balanced`` a permutation of 1 .. K - 1 drawn from
    ``default_rng([seed, crc32(work)])``, then 0 (the opening slot last)."""
    if order not in PIECE_ORDERS:
        raise UsageError(f"order: must be one of {list(PIECE_ORDERS)} (got {order!r})")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise UsageError(f"seed: must be an integer >= 0 (got {seed!r})")
    if order == "sequential" or n_slots < 2:
        return list(range(n_slots))
    rng = np.random.default_rng([seed, zlib.crc32(work.encode("utf-8"))])
    return [int(k) + 1 for k in rng.permutation(n_slots - 1)] + [0]


def evaluation_pieces(streams: Sequence[Stream], tokens: int, n_docs: int, order: str = "balanced",
                      seed: int = 0) -> tuple[list[np.ndarray], list[str]]:
    """``(pieces, ids)``: ``n_docs`` pieces of exactly ``tokens`` tokens, round-robin over ``streams``.

    Work w has ``K_w = len(w) // tokens`` whole slots, slot k being tokens ``[k * tokens, (k + 1) *
    tokens)``, taken in the order :func:`slot_order` gives (``order``, ``seed``). Round r takes the
    r-th slot of every work with more than r slots, in stream order, until ``n_docs`` pieces; piece
    ids are ``<work>@<k * tokens>``. With ``balanced`` every prefix of r * W pieces (r below every
    ``K_w``) has r pieces per work and no slot 0. Raises :class:`~yarnlab.errors.UsageError` unless
    ``1 <= n_docs <=`` :func:`available_pieces`."""
    if n_docs < 1:
        raise UsageError(f"n_docs: must be >= 1 (got {n_docs})")
    have = available_pieces(streams, tokens)
    if n_docs > have:
        raise UsageError(f"n_docs: must be in [1, {have}]: only {have} pieces of {tokens} tokens are "
                         f"available (got {n_docs})")
    orders = [slot_order(work, len(s) // tokens, order, seed) for work, s in streams]
    pieces: list[np.ndarray] = []
    ids: list[str] = []
    r = 0
    while len(pieces) < n_docs:
        for (work, s), slots in zip(streams, orders):
            if r < len(slots) and len(pieces) < n_docs:
                k = slots[r]
                pieces.append(s[k * tokens:(k + 1) * tokens])
                ids.append(f"{work}@{k * tokens}")
        r += 1
    return pieces, ids


def write_eval_docs(out: str | os.PathLike, pieces: Sequence[np.ndarray], ids: Sequence[str],
                    params: dict[str, Any], source: dict[str, Any]) -> Path:
    """Write ``out`` (an .npz of ``ids`` and ``doc0``, ``doc1``, ...) atomically, then its
    ``<out>.provenance.json`` (``provenance(params, source=source, n_docs=len(pieces))``)."""
    from yarnlab.io import atomic_path, provenance, write_json

    if len(pieces) != len(ids) or not pieces:
        raise UsageError(f"pieces: need as many ids as pieces, at least one (got {len(pieces)} and {len(ids)})")
    with atomic_path(out, suffix=".npz") as tmp:  # np.savez appends .npz to other names
        np.savez(tmp, ids=np.array(ids), **{f"doc{i}": d for i, d in enumerate(pieces)})
    write_json(os.fspath(out) + ".provenance.json", provenance(params, source=source, n_docs=len(pieces)))
    return Path(out)


def read_eval_docs(path: str | os.PathLike, field: str = "--docs") -> tuple[list[np.ndarray], list[str]]:
    """The pieces (int64 arrays ``doc0 .. doc{N-1}``, in order) and ids of an .npz that
    :func:`write_eval_docs` wrote; ids fall back to the array names when it has no ``ids``. Other
    array names raise :class:`UsageError` naming ``field``."""
    with np.load(path) as z:
        keys = sorted((k for k in z.files if k != "ids"), key=lambda k: (len(k), k))
        if [k for k in keys if not (k.startswith("doc") and k[3:].isdigit())] or \
                [int(k[3:]) for k in keys] != list(range(len(keys))):
            raise UsageError(f"{field}: {Path(path).name} must hold arrays doc0 .. doc{{N-1}} (got {keys[:5]}...)")
        docs = [np.asarray(z[k], dtype=np.int64) for k in keys]
        # stable ids "<work>@<offset>" (yarnlab eval docs), else the key
        ids = [str(x) for x in z["ids"]] if "ids" in z.files else keys
    return docs, ids
