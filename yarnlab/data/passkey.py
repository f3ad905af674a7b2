"""Passkey-retrieval prompts (YaRN Section 4.3; the task of Mohtashami & Jaggi's landmark attention).

A key of K digits is hidden at a uniformly random depth inside repeated filler text:

    <task> <filler, depth * F chars> The pass key is <KEY>. Remember it. <KEY> is the pass key.
    <filler, the rest> What is the pass key? The pass key is

and the model must continue with `` <KEY>``. Prompts are built from pieces that are tokenized one by
one and concatenated, so the key's token span is exact for any tokenizer (``encode`` maps a string
to token ids without special tokens; default: the byte tokenizer, where a prompt of n tokens is
exactly n ASCII characters). ``depth`` is the fraction of the filler placed before the key line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from yarnlab.errors import UsageError

TASK = ("There is an important info hidden inside a lot of irrelevant text. Find it and memorize it. "
        "I will quiz you about the important information there.")
FILLER = " The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."
KEY_PREFIX = " The pass key is "
KEY_SUFFIX = ". Remember it. {key} is the pass key."
QUESTION = " What is the pass key? The pass key is"


@dataclass(frozen=True)
class PasskeyPrompt:
    """One trial. ``text[key_char_start:key_char_end] == key`` and
    ``ids[key_token_start:key_token_end] == encode(key)``; ``answer_ids = encode(" " + key)`` is
    the expected continuation of ``ids``."""

    text: str
    ids: np.ndarray
    key: str
    depth: float
    key_char_start: int
    key_char_end: int
    key_token_start: int
    key_token_end: int
    answer_ids: np.ndarray


def byte_encode(text: str) -> list[int]:
    """``text`` as byte-tokenizer ids (the default encoder of the passkey prompts and their scoring)."""
    from yarnlab.data.tokenizer import ByteTokenizer

    return ByteTokenizer().encode(text)


def random_key(rng: np.random.Generator, digits: int = 5) -> str:
    """A uniformly random K-digit key without a leading zero."""
    if digits < 1:
        raise UsageError(f"digits: must be >= 1 (got {digits})")
    return str(int(rng.integers(10 ** (digits - 1), 10**digits)))


def shortest_prompt(digits: int = 5, task: bool = True, encode: Callable[[str], list[int]] | None = None) -> int:
    """Tokens of a prompt with no filler (the least ``n_tokens`` :func:`make_passkey_prompt` takes)."""
    encode = encode or byte_encode
    key = "1" * digits
    pieces = ([TASK] if task else []) + [KEY_PREFIX, key, KEY_SUFFIX.format(key=key), QUESTION]
    return sum(len(encode(p)) for p in pieces)


def make_passkey_prompt(n_tokens: int, rng: np.random.Generator | int = 0, digits: int = 5,
                        depth: float | None = None, key: str | None = None,
                        encode: Callable[[str], list[int]] | None = None, task: bool = True) -> PasskeyPrompt:
    """A prompt of about ``n_tokens`` tokens (exactly, for the byte tokenizer) with the key at
    ``depth`` (default: uniform in [0, 1]) of the filler; ``task=False`` leaves out the task
    preamble (the short retrieval documents mixed into pretraining)."""
    encode = encode or byte_encode
    rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    key = key if key is not None else random_key(rng, digits)
    depth = float(rng.uniform(0.0, 1.0)) if depth is None else float(depth)
    if not 0.0 <= depth <= 1.0:
        raise UsageError(f"depth: must be in [0, 1] (got {depth})")
    suffix = KEY_SUFFIX.format(key=key)
    head = TASK if task else ""
    fixed = [head, KEY_PREFIX, key, suffix, QUESTION]
    fixed_tokens = sum(len(encode(p)) for p in fixed)
    unit = FILLER * 16
    tokens_per_char = len(encode(unit)) / len(unit)
    filler_chars = int(round((n_tokens - fixed_tokens) / tokens_per_char))
    if filler_chars < 0:
        raise UsageError(f"n_tokens: must be >= {fixed_tokens} for a {len(key)}-digit key (got {n_tokens})")
    filler = (FILLER * (filler_chars // len(FILLER) + 1))[:filler_chars]
    cut = int(round(depth * filler_chars))
    pieces = [head, filler[:cut], KEY_PREFIX, key, suffix, filler[cut:], QUESTION]
    encoded = [encode(p) for p in pieces]
    starts_char = np.cumsum([0] + [len(p) for p in pieces])
    starts_tok = np.cumsum([0] + [len(e) for e in encoded])
    ids = np.array([t for e in encoded for t in e], dtype=np.int64)
    return PasskeyPrompt(
        text="".join(pieces), ids=ids, key=key, depth=depth,
        key_char_start=int(starts_char[3]), key_char_end=int(starts_char[4]),
        key_token_start=int(starts_tok[3]), key_token_end=int(starts_tok[4]),
        answer_ids=np.array(encode(" " + key), dtype=np.int64),
    )


def passkey_trials(lengths: Sequence[int], n_trials: int = 10, seed: int = 0, digits: int = 5,
                   encode: Callable[[str], list[int]] | None = None) -> list[tuple[int, int, PasskeyPrompt]]:
    """``(length, trial, prompt)`` for every length and trial; trial j of length n is seeded by
    ``(seed, n, j)``, so adding lengths or trials never changes existing prompts."""
    if n_trials < 1:
        raise UsageError(f"n_trials: must be >= 1 (got {n_trials})")
    return [(int(n), j, make_passkey_prompt(int(n), np.random.default_rng([seed, int(n), j]), digits,
                                            encode=encode))
            for n in lengths for j in range(n_trials)]
