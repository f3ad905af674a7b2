"""Documents -> fixed-length training chunks bookended by BOS/EOS, in a resumable order.

The paper (Section 4.1) chunks PG19 into segments of the training length, each bookended with
BOS and EOS. Here a chunk of length T is ``[BOS] + doc[start : start + T - 2] + [EOS]``; a
document's short tail (at least ``min_tail`` tokens) is kept and right-padded with PAD, whose
labels are -100 (ignored). A chunk never spans two documents. Documents are ``bytes`` (the byte
tokenizer: BOS/EOS/PAD = 256/257/258) or token-id sequences of another tokenizer, with its
``bos_id``/``eos_id``/``pad_id``.

Order: the stream is epoch 0's chunks, then epoch 1's, ... Each epoch cuts every document at a
phase ``start = offset + k * (T - 2)`` with an offset drawn from (seed, epoch, document index)
(0 in epoch 0 and with ``vary_offsets=False``), and shuffles the chunks with a NumPy generator
seeded by (seed, epoch). Global step k uses stream items [k*B, (k+1)*B); rank r of w takes the
r-th of w equal slices of them. Everything is a function of (seed, step), so resuming needs no
sampler state and a w-process run sees exactly the single-process batches.

Shapes: ``input_ids`` and ``labels`` are (B, T) int64.
"""

from __future__ import annotations

import numpy as np

from yarnlab.data.tokenizer import BOS_ID, EOS_ID, PAD_ID
from yarnlab.errors import UsageError

IGNORE = -100


class ChunkStream:
    """Deterministic stream of training chunks over in-memory documents (``bytes`` each)."""

    def __init__(self, documents: list, seq_len: int, seed: int = 0, shuffle: bool = True,
                 vary_offsets: bool = True, min_tail: int | None = None,
                 bos_id: int = BOS_ID, eos_id: int = EOS_ID, pad_id: int = PAD_ID):
        if seq_len < 3:
            raise UsageError(f"seq_len: must be >= 3 (got {seq_len})")
        # ``bytes`` documents are byte tokens; sequences of ints are another tokenizer's ids
        self.byte_level = all(isinstance(d, bytes | bytearray) for d in documents)
        self.docs = [np.frombuffer(bytes(d), dtype=np.uint8) if isinstance(d, bytes | bytearray)
                     else np.asarray(d, dtype=np.int64) for d in documents]
        self.bos_id, self.eos_id, self.pad_id = bos_id, eos_id, pad_id
        self.seq_len, self.seed, self.shuffle, self.vary = seq_len, seed, shuffle, vary_offsets
        self.piece = seq_len - 2
        self.min_tail = self.piece // 4 if min_tail is None else min_tail
        self._epochs: list[np.ndarray] = []  # per epoch: (n, 3) rows of (doc, start, length)
        if not self._epoch(0).shape[0]:
            raise UsageError(f"documents: none is long enough for one chunk of seq_len={seq_len}")

    def _epoch(self, e: int) -> np.ndarray:
        while len(self._epochs) <= e:
            k = len(self._epochs)
            rows = []
            rng = np.random.default_rng([self.seed, k, 1])
            offsets = rng.integers(0, self.piece, len(self.docs)) if (self.vary and k > 0) else None
            for i, doc in enumerate(self.docs):
                first = int(offsets[i]) if offsets is not None else 0
                n = len(doc)
                if first and first < self.min_tail:  # too short a head to keep: start at 0
                    first = 0
                starts = ([0] if first else []) + list(range(first, n, self.piece))
                for j, s in enumerate(starts):
                    end = first if (first and j == 0) else min(n, s + self.piece)
                    if end - s == self.piece or end - s >= max(1, self.min_tail):
                        rows.append((i, s, end - s))
            table = np.asarray(rows, dtype=np.int64).reshape(-1, 3)
            if self.shuffle:
                table = table[np.random.default_rng([self.seed, k, 2]).permutation(len(table))]
            self._epochs.append(table)
        return self._epochs[e]

    def __len__(self) -> int:
        """Chunks in epoch 0 (later epochs differ by a few, through the varying offsets)."""
        return int(self._epoch(0).shape[0])

    def items(self, start: int, count: int) -> np.ndarray:
        """Stream items [start, start + count) as (count, 3) rows of (doc, start, length)."""
        out, e, base = [], 0, 0
        while count > 0:
            table = self._epoch(e)
            if start < base + len(table):
                lo = max(start - base, 0)
                take = table[lo: lo + count]
                out.append(take)
                count -= len(take)
                start += len(take)
            base += len(table)
            e += 1
        return np.concatenate(out)

    def chunk(self, row) -> np.ndarray:
        doc, s, n = (int(x) for x in row)
        ids = np.full(self.seq_len, self.pad_id, dtype=np.int64)
        ids[0] = self.bos_id
        ids[1: 1 + n] = self.docs[doc][s: s + n]
        ids[1 + n] = self.eos_id
        return ids

    def _tensors(self, rows):
        """(input_ids, labels) for stream rows; labels are IGNORE after each chunk's EOS (PAD may
        equal EOS in other tokenizers, so the mask comes from the length, not the id)."""
        import torch

        ids = np.stack([self.chunk(r) for r in rows])
        labels = ids.copy()
        for i, r in enumerate(rows):
            labels[i, 2 + int(r[2]):] = IGNORE
        return torch.from_numpy(ids), torch.from_numpy(labels)

    def batch(self, step: int, batch_size: int, rank: int = 0, world_size: int = 1):
        """(input_ids, labels) as torch tensors (B/world_size, T) for one rank at global ``step``."""
        if batch_size % world_size:
            raise UsageError(f"batch_size: must be divisible by world_size={world_size} (got {batch_size})")
        per = batch_size // world_size
        return self._tensors(self.items(step * batch_size + rank * per, per))

    def eval_batches(self, n_batches: int, batch_size: int):
        """The first ``n_batches`` batches of epoch 0 (fixed whatever the training step)."""
        n = min(n_batches * batch_size, len(self))
        for lo in range(0, n, batch_size):
            yield self._tensors(self._epoch(0)[lo: min(n, lo + batch_size)])
