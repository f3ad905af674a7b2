"""Synthetic documents that reward in-context copying: repeated random-letter spans.

An induction head (Olsson et al. 2022, "In-context Learning and Induction Heads") completes
``... A B ... A -> B``: it finds the previous occurrence of the current token and copies the token
that followed it. A span of random letters carries no information of its own (each letter costs
ln 26 = 3.26 nats), so its *second* copy can only be predicted by copying from the first; text made
of such repeats is the cleanest signal for the circuit to form (the control task of the induction
diagnostic, :mod:`yarnlab.evaluate.induction`).

:func:`copy_document` is ``A + G + A`` (bytes) with ``A`` a span of ``span`` random lowercase
letters and ``G`` an optional gap of other random letters, so the second copy sits ``span + gap``
tokens after the first. Document i of :func:`copy_documents` is drawn from ``(seed, 17, i)``.

The source of a copy document (:data:`COPY_SOURCES`) is an alphabet of :data:`ALPHABETS`,
``letters`` (the 26 lowercase letters, the induction diagnostic's own) or ``printable`` (the 95
printable ASCII bytes 32..126: letters of both cases, digits, space and punctuation), so that the
copying learnt on these documents is not confined to lowercase letters (a passkey is digits; a
speaker's name in a play is capitalised); or ``prose``: ``A`` and ``G`` are slices of the training
text itself, so the circuit is rewarded for copying on the kind of text it is judged on (a head
trained on random spans alone can ignore repeated prose); or ``mixed``: each document draws one of
the three at random, with equal probability.
"""

from __future__ import annotations

import numpy as np

from yarnlab.errors import UsageError

LETTERS = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype=np.uint8).astype(np.int64)
ALPHABETS = {"letters": LETTERS, "printable": np.arange(32, 127, dtype=np.int64)}
#: Where a copy document's spans come from: an alphabet, the training text, or one of the three per document.
COPY_SOURCES = (*ALPHABETS, "prose", "mixed")


def check_source(name: str) -> str:
    if name not in COPY_SOURCES:
        raise UsageError(f"copy_alphabet: must be one of {list(COPY_SOURCES)} (got {name!r})")
    return name


def alphabet(name: str) -> np.ndarray:
    if name not in ALPHABETS:
        raise UsageError(f"copy_alphabet: must be one of {sorted(ALPHABETS)} (got {name!r})")
    return ALPHABETS[name]


def text_slice(rng: np.random.Generator, text: np.ndarray, n: int) -> np.ndarray:
    """``n`` consecutive tokens of ``text`` at a uniformly drawn offset (``text`` must hold >= n)."""
    if n == 0:
        return text[:0].copy()
    if len(text) < n:
        raise UsageError(f"copy documents: the training text has {len(text)} tokens, fewer than a span of {n}")
    o = int(rng.integers(0, len(text) - n + 1))
    return np.asarray(text[o:o + n], dtype=np.int64).copy()


def random_letters(rng: np.random.Generator, n: int, symbols: np.ndarray = LETTERS) -> np.ndarray:
    """``n`` byte ids drawn uniformly from ``symbols`` (default: the lowercase letters)."""
    return symbols[rng.integers(0, len(symbols), size=n)]


def copy_document(rng: np.random.Generator, span: int, gap: int = 0, symbols: np.ndarray = LETTERS) -> np.ndarray:
    """Byte ids of ``A + G + A``: ``span`` random symbols, ``gap`` other random symbols, ``A`` again."""
    if span < 1:
        raise UsageError(f"span: must be >= 1 (got {span})")
    if gap < 0:
        raise UsageError(f"gap: must be >= 0 (got {gap})")
    a = random_letters(rng, span, symbols)
    return np.concatenate([a, random_letters(rng, gap, symbols), a])


def copy_documents(n_docs: int, max_tokens: int, seed: int, min_span: int = 8,
                   gap_share: float = 0.5, copy_alphabet: str = "letters",
                   text: np.ndarray | None = None) -> list[np.ndarray]:
    """``n_docs`` copy documents of at most ``max_tokens`` tokens each.

    Span uniform in [min_span, max_tokens // 2]; a share ``gap_share`` of the documents (each with
    probability ``gap_share``) separates the copies by a gap uniform in [0, max_tokens - 2 span], so
    the copy distance covers [min_span, max_tokens - span]; in the others the copies are adjacent.
    ``copy_alphabet`` names the source (:data:`COPY_SOURCES`); ``prose`` and ``mixed`` cut their
    spans from ``text`` (the training stream's tokens), which they need."""
    if max_tokens < 2 * min_span:
        raise UsageError(f"copy documents: seq_len must be >= {2 * min_span} (got {max_tokens})")
    if not 0.0 <= gap_share <= 1.0:
        raise UsageError(f"gap_share: must be in [0, 1] (got {gap_share})")
    check_source(copy_alphabet)
    if copy_alphabet in ("prose", "mixed") and text is None:
        raise UsageError(f"copy_alphabet: {copy_alphabet!r} cuts spans from the training text; pass text")
    kinds = ("letters", "printable", "prose")
    out = []
    for i in range(n_docs):
        rng = np.random.default_rng([seed, 17, i])
        span = int(rng.integers(min_span, max_tokens // 2 + 1))
        gapped = rng.random() < gap_share
        gap = int(rng.integers(0, max_tokens - 2 * span + 1)) if gapped else 0
        kind = kinds[int(rng.integers(0, 3))] if copy_alphabet == "mixed" else copy_alphabet
        if kind == "prose":
            a = text_slice(rng, text, span)
            out.append(np.concatenate([a, text_slice(rng, text, gap), a]))
        else:
            out.append(copy_document(rng, span, gap, ALPHABETS[kind]))
    return out
