"""Training windows at random offsets of one continuous token stream: no position artifacts.

The paper's bookended chunks (:mod:`yarnlab.data.chunks`: ``[BOS] + T-2 tokens + [EOS]``, always
T long) teach a small model that "the text ends at position T-1": an interpolated position near
sL then looks like T-1 and the model predicts EOS. :class:`WindowStream` removes that cue:

- the documents are concatenated once, in an order drawn from ``seed``, into one stream
  ``doc_0 [EOS] doc_1 [EOS] ...``: EOS stands where a document really ends, nowhere else; no BOS;
- optional synthetic key-retrieval documents (:func:`retrieval_documents`, the passkey format of
  :mod:`yarnlab.data.passkey` at lengths <= T, answer included) are inserted after random line
  breaks of the stream, a fraction ``retrieval_fraction`` of its tokens, so a base model can learn to
  retrieve within its context;
- optional copy documents (:func:`yarnlab.data.synthetic.copy_documents`: a random-letter span
  repeated, <= T long), a fraction ``copy_fraction`` of the tokens, inserted the same way: the
  signal an induction head forms on (byte-level streams only);
- with ``place_whole`` (the default) a window that would cut a synthetic document is moved, within
  the offsets whose window holds that document whole, so a passkey's answer and a copy's source are
  always inside the window they are trained in (random offsets cut most of them);
- training item k is the window ``stream[o_k : o_k + T]`` with o_k uniform over the stream, drawn
  from (seed, k): every token position 0..T-1 sees every kind of content.

Global step k uses items [k*B, (k+1)*B); rank r of w takes the r-th of w equal slices, so resuming
needs no sampler state (as in :class:`~yarnlab.data.chunks.ChunkStream`). Held-out evaluation uses
the non-overlapping windows ``stream[j*T : (j+1)*T]`` of the held-out stream (fixed). Every target
is scored (no padding). Shapes: ``input_ids`` and ``labels`` are (B, T) int64 and equal.
"""

from __future__ import annotations

import numpy as np

from yarnlab.data.tokenizer import EOS_ID
from yarnlab.errors import UsageError

NEWLINE = 10  # byte id of "\n": retrieval documents are inserted after line breaks


def retrieval_documents(n_docs: int, max_tokens: int, seed: int, encode=None, digits: int = 5) -> list[np.ndarray]:
    """``n_docs`` passkey documents (prompt + `` <key>.``) of random length <= ``max_tokens``.

    Each is a :func:`~yarnlab.data.passkey.make_passkey_prompt` at a length uniform in
    [shortest possible, max_tokens - answer], with the task preamble in half of them (it alone
    is ~150 bytes), a random key and depth, followed by its answer: the model learns to copy the
    key after "The pass key is". Document i is seeded by (seed, i)."""
    from yarnlab.data.passkey import make_passkey_prompt, shortest_prompt

    out = []
    for i in range(n_docs):
        rng = np.random.default_rng([seed, 7, i])
        task = bool(rng.integers(0, 2))
        lo = shortest_prompt(digits, task=task, encode=encode)
        hi = max_tokens - (digits + 2)
        if hi < lo:
            task, lo = False, shortest_prompt(digits, task=False, encode=encode)
        if hi < lo:
            raise UsageError(f"retrieval documents: seq_len must be >= {lo + digits + 2} (got {max_tokens})")
        n = int(rng.integers(lo, hi + 1))
        p = make_passkey_prompt(n, rng, digits, task=task, encode=encode)
        end = np.asarray((encode or (lambda t: list(t.encode())))("."), dtype=np.int64)
        out.append(np.concatenate([p.ids, p.answer_ids, end]))
    return out


class WindowStream:
    """Deterministic stream of T-token windows at random offsets of the concatenated documents."""

    def __init__(self, documents: list, seq_len: int, seed: int = 0, retrieval_fraction: float = 0.0,
                 eos_id: int = EOS_ID, encode=None, copy_fraction: float = 0.0, place_whole: bool = True,
                 copy_gap_share: float = 0.5, copy_alphabet: str = "letters"):
        if seq_len < 2:
            raise UsageError(f"seq_len: must be >= 2 (got {seq_len})")
        if not 0.0 <= retrieval_fraction < 0.5:
            raise UsageError(f"retrieval_fraction: must be in [0, 0.5) (got {retrieval_fraction})")
        if not 0.0 <= copy_fraction <= 0.95:
            raise UsageError(f"copy_fraction: must be in [0, 0.95] (got {copy_fraction})")
        if copy_fraction > 0 and encode is not None:
            raise UsageError("copy_fraction: copy documents are byte-level; must be 0 with a tokenizer")
        if retrieval_fraction + copy_fraction > 0.95:
            raise UsageError(f"retrieval_fraction + copy_fraction: must be <= 0.95 "
                             f"(got {retrieval_fraction} + {copy_fraction})")
        self.byte_level = all(isinstance(d, bytes | bytearray) for d in documents)
        docs = [np.frombuffer(bytes(d), dtype=np.uint8).astype(np.int64) if isinstance(d, bytes | bytearray)
                else np.asarray(d, dtype=np.int64) for d in documents]
        if not docs:
            raise UsageError("documents: need at least one document")
        self.seq_len, self.seed, self.eos_id, self.copy_gap_share = seq_len, seed, eos_id, copy_gap_share
        self.copy_alphabet = copy_alphabet
        rng = np.random.default_rng([seed, 11])
        order = rng.permutation(len(docs))
        eos = np.array([eos_id], dtype=np.int64)
        stream = np.concatenate([x for i in order for x in (docs[i], eos)])
        self.retrieval_tokens = self.copy_tokens = 0
        self.place_whole = bool(place_whole)
        self._syn_start = self._syn_end = np.zeros(0, dtype=np.int64)
        if retrieval_fraction > 0 or copy_fraction > 0:
            stream = self._insert_synthetic(stream, retrieval_fraction, copy_fraction, rng, encode)
        self.stream = stream
        if len(stream) < seq_len + 1:
            raise UsageError(f"documents: {len(stream)} tokens in all, fewer than one window of "
                             f"seq_len={seq_len} + 1")

    def _insert_synthetic(self, stream: np.ndarray, retrieval: float, copy: float, rng, encode) -> np.ndarray:
        """Insert retrieval and copy documents after random line breaks so that they make up the
        shares ``retrieval`` and ``copy`` of the final stream's tokens (each followed by a newline);
        record where each one lies (``_syn_start``, ``_syn_end``) for whole placement."""
        from yarnlab.data.synthetic import copy_documents

        mean_len = 0.75 * self.seq_len  # both kinds: length roughly uniform over [L/2, L] on average
        prose = len(stream)
        prose_text = stream[stream != self.eos_id]  # the training text, for copy documents cut from it
        docs, kinds = [], []
        for share, make, kind in ((retrieval, lambda n: retrieval_documents(n, self.seq_len, self.seed, encode), 0),
                                  (copy, lambda n: copy_documents(n, self.seq_len, self.seed,
                                                                  gap_share=self.copy_gap_share,
                                                                  copy_alphabet=self.copy_alphabet,
                                                                  text=prose_text), 1)):
            if share > 0:
                n = max(1, int(round(share * prose / ((1 - retrieval - copy) * mean_len))))
                made = make(n)
                docs += made
                kinds += [kind] * len(made)
        order = rng.permutation(len(docs))
        docs, kinds = [docs[i] for i in order], [kinds[i] for i in order]
        breaks = np.flatnonzero(stream == NEWLINE) + 1
        if len(breaks) == 0:
            breaks = np.arange(1, len(stream))
        at = np.sort(rng.choice(breaks, size=len(docs), replace=len(breaks) < len(docs)))
        pieces, prev, pos, starts, ends = [], 0, 0, [], []
        for cut, doc in zip(at, docs):
            pieces.append(stream[prev:cut])
            pos += cut - prev
            starts.append(pos)
            ends.append(pos + len(doc))
            pieces += [doc, np.array([NEWLINE], dtype=np.int64)]
            pos += len(doc) + 1
            prev = cut
        pieces.append(stream[prev:])
        sizes = np.array([len(d) + 1 for d in docs])
        kinds = np.array(kinds)
        self.retrieval_tokens = int(sizes[kinds == 0].sum())
        self.copy_tokens = int(sizes[kinds == 1].sum())
        self._syn_start, self._syn_end = np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)
        return np.concatenate(pieces)

    def __len__(self) -> int:
        """Non-overlapping windows in the stream (one 'epoch' of tokens)."""
        return (len(self.stream) - 1) // self.seq_len

    def offsets(self, start: int, count: int) -> np.ndarray:
        """Window offsets of stream items [start, start + count); item k from (seed, k) alone."""
        hi = len(self.stream) - self.seq_len + 1
        out = np.empty(count, dtype=np.int64)
        for i, k in enumerate(range(start, start + count)):
            rng = np.random.default_rng([self.seed, 13, k])
            out[i] = self._whole(int(rng.integers(0, hi)), rng) if self.place_whole else rng.integers(0, hi)
        return out

    def _whole(self, o: int, rng) -> int:
        """Move a window that cuts a synthetic document at its left edge (else its right edge) to an
        offset drawn uniformly among those whose window holds that document whole; other windows
        keep their offset. Item k's offset still depends on (seed, k) alone."""
        if not len(self._syn_start):
            return o
        t, hi = self.seq_len, len(self.stream) - self.seq_len
        for edge in (o, o + t):
            i = int(np.searchsorted(self._syn_start, edge, side="right")) - 1
            if i >= 0 and self._syn_start[i] < edge < self._syn_end[i]:
                s, e = int(self._syn_start[i]), int(self._syn_end[i])
                lo_o, hi_o = max(0, e - t), min(s, hi)
                return int(rng.integers(lo_o, hi_o + 1)) if lo_o <= hi_o else o
        return o

    def _tensors(self, offsets):
        import torch

        ids = np.stack([self.stream[o: o + self.seq_len] for o in offsets])
        t = torch.from_numpy(ids)
        return t, t.clone()

    def batch(self, step: int, batch_size: int, rank: int = 0, world_size: int = 1):
        """(input_ids, labels) as torch tensors (B/world_size, T) for one rank at global ``step``."""
        if batch_size % world_size:
            raise UsageError(f"batch_size: must be divisible by world_size={world_size} (got {batch_size})")
        per = batch_size // world_size
        return self._tensors(self.offsets(step * batch_size + rank * per, per))

    def eval_batches(self, n_batches: int, batch_size: int):
        """The first ``n_batches`` batches of non-overlapping windows (fixed whatever the step)."""
        n = min(n_batches * batch_size, len(self))
        starts = np.arange(n, dtype=np.int64) * self.seq_len
        for lo in range(0, n, batch_size):
            yield self._tensors(starts[lo: min(n, lo + batch_size)])


class PhasedStream:
    """A curriculum of two streams: global step k < ``switch`` draws from ``first``, later steps from
    ``then`` (item indices unchanged, so resuming needs no state). Both must share ``seq_len``."""

    def __init__(self, first, then, switch: int):
        if first.seq_len != then.seq_len:
            raise UsageError(f"curriculum: streams differ in seq_len ({first.seq_len} vs {then.seq_len})")
        if switch < 0:
            raise UsageError(f"switch: must be >= 0 (got {switch})")
        self.first, self.then, self.switch = first, then, int(switch)
        self.seq_len, self.byte_level = then.seq_len, then.byte_level and first.byte_level

    def batch(self, step: int, batch_size: int, rank: int = 0, world_size: int = 1):
        return (self.first if step < self.switch else self.then).batch(step, batch_size, rank, world_size)

    def eval_batches(self, n_batches: int, batch_size: int):
        return self.then.eval_batches(n_batches, batch_size)

    def __len__(self) -> int:
        return len(self.then)
