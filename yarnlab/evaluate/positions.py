"""Regime checks on the loss itself: per-position profile, context use, the sliding-window baseline.

Shape symbols: D documents, n window length (model positions), K position bins.

Every function keeps only the documents long enough for its window and reports each under its
index in the ``docs`` given (``doc_ids``), so the rows of different evaluations of the same
document set line up and can be bootstrapped over documents.

Per-token negative log-likelihood ``nll_q = -log p(x_q | x_0 .. x_{q-1})`` (nats), x the model's
input sequence.

- :func:`position_profile`: one window of exactly ``length`` model positions per document,
  ``x = doc[:length]``, or ``x = [BOS] + doc[:length - 1]`` with ``bos_id`` (the BOS takes
  position 0, so the model never sees a position >= ``length`` either way). Positions
  ``q = 1 .. length - 1`` are scored; position 0 has no left context and stays NaN. Binned:
  ``nll_{d,k} = mean_{q in [lo_k, hi_k), q >= 1} nll_{d,q}`` with K equal bins of [0, length).
- :func:`context_use`: targets are positions ``q in [L/2, L)`` of the same ``L``-position window
  (``L/2`` is ``L // 2``). Full context: ``nll_full(q) = -log p(x_q | x_0 .. x_{q-1})`` from one
  pass over the window. Truncated: ``nll_trunc(q) = -log p(x_q | x_{q-V} .. x_{q-1})`` from a pass
  over only the ``V = visible`` tokens before the target (a BOS in front when ``bos_id`` is given,
  as in the full window). The truncated pass starts at position 0; for plain RoPE this is the same
  as keeping the original positions, since q.k depends only on the distance i - j. Per document:
  the means over the ``L - L/2`` targets, or over ``targets`` of them evenly spaced,
  ``q_j = L/2 + round(j (L - L/2 - 1) / (targets - 1))``, both NLLs on the same ``q_j`` (each
  truncated target costs a pass of ``V + 1`` tokens, so all ``L/2`` of them cost ``L/2 (V + 1)``).
- :func:`sliding_baseline`: plain RoPE scoring every token with at most L tokens of context:
  :func:`~yarnlab.evaluate.perplexity.protocol_perplexity` with windows of ``L`` and stride
  ``L/2`` at every evaluated length (``yarnlab eval ppl --lengths ... --window L --stride L/2``).
  Each window scores only its tokens no earlier window scored, so outside the first window every
  token ``p`` is scored by the window beginning at ``b = k L/2``, ``k = floor((p - L)/(L/2)) + 1``,
  and its context ``x_b .. x_{p-1}`` holds between ``L/2`` and ``L - 1`` tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from yarnlab.errors import UsageError


def long_enough_documents(docs: Sequence, n: int) -> tuple[list, list[int]]:
    """(documents with >= n tokens, their indices in ``docs``)."""
    if len(docs) == 0:
        raise UsageError("docs: need at least one document")
    ids = [i for i, d in enumerate(docs) if len(d) >= n]
    if not ids:
        longest = max(len(d) for d in docs)
        raise UsageError(f"docs: no document has >= {n} tokens (longest has {longest})")
    return [docs[i] for i in ids], ids


def window_inputs(docs: Sequence, n: int, bos_id: int | None):
    """(D, n) long tensor of model inputs: doc[:n], or [BOS] + doc[:n - 1]."""
    import torch

    rows = [torch.as_tensor(np.asarray(d[: n - (bos_id is not None)]), dtype=torch.long) for d in docs]
    ids = torch.stack(rows)
    if bos_id is not None:
        ids = torch.cat([torch.full((len(rows), 1), int(bos_id), dtype=torch.long), ids], dim=1)
    return ids


def _check_batch_tokens(batch_tokens: int) -> None:
    if batch_tokens < 1:
        raise UsageError(f"batch_tokens: must be >= 1 (got {batch_tokens})")


def _token_nll(model, ids, n_keep: int):
    """(B, n_keep - 1) NLL of ids[:, -(n_keep - 1):] (float64 numpy; :func:`scored_nll`)."""
    from yarnlab.evaluate.perplexity import scored_nll

    return scored_nll(model, ids.to(next(model.parameters()).device), n_keep - 1)


@dataclass
class PositionProfile:
    """Per-position NLL: ``nll[d, q]`` (nats) of model position q of document ``doc_ids[d]``;
    NaN at position 0 (no left context)."""

    length: int
    bos: bool
    doc_ids: list[int]
    nll: np.ndarray

    def rows(self) -> list[dict]:
        """Rows ``doc, position, nll`` for every scored position."""
        return [{"doc": doc, "position": q, "nll": float(self.nll[d, q])}
                for d, doc in enumerate(self.doc_ids) for q in range(1, self.length)]

    def binned(self, bins: int) -> list[dict]:
        """Rows ``doc, bin, pos_lo, pos_hi, tokens, nll``: the mean NLL of each document over each of
        ``bins`` equal position bins [pos_lo, pos_hi) of [0, length) (edges rounded; position 0 is
        never scored, so the first bin holds one token fewer)."""
        if not 1 <= bins <= self.length - 1:
            raise UsageError(f"bins: must be in [1, {self.length - 1}] for length {self.length} (got {bins})")
        edges = np.linspace(0, self.length, bins + 1).round().astype(int)
        out = []
        for d, doc in enumerate(self.doc_ids):
            for k, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
                block = self.nll[d, lo:hi]
                scored = block[~np.isnan(block)]
                out.append({"doc": doc, "bin": k, "pos_lo": int(lo), "pos_hi": int(hi), "tokens": int(scored.size),
                            "nll": float(scored.mean()) if scored.size else float("nan")})
        return out


def position_profile(model, docs: Sequence, length: int, bos_id: int | None = None,
                     batch_tokens: int = 4096) -> PositionProfile:
    """NLL at every position of one ``length``-position window per document (module docstring).

    Documents shorter than the window (``length`` tokens, ``length - 1`` with a BOS) are skipped.
    The model is used as is (no grad); a dynamic scaling method sees sequence length ``length``.
    """
    import torch

    if length < 2:
        raise UsageError(f"length: must be >= 2 (got {length})")
    _check_batch_tokens(batch_tokens)
    chosen, ids = long_enough_documents(docs, length - (bos_id is not None))
    x = window_inputs(chosen, length, bos_id)
    nll = np.full((len(chosen), length), np.nan)
    per_batch = max(1, batch_tokens // length)
    with torch.inference_mode():
        for k in range(0, len(chosen), per_batch):
            nll[k:k + per_batch, 1:] = _token_nll(model, x[k:k + per_batch], length)
    return PositionProfile(length, bos_id is not None, ids, nll)


def context_use(model, docs: Sequence, length: int, visible: int, bos_id: int | None = None,
                batch_tokens: int = 4096, targets: int | None = None) -> list[dict]:
    """Rows ``doc, length, visible, n_tokens, nll_full, nll_truncated`` (module docstring): mean NLL of
    positions [length/2, length) with the full causal context and with only ``visible`` tokens.

    ``visible`` must lie in [1, length/2] (without a BOS) or [1, length/2 - 1] (with one), so that
    every target has ``visible`` tokens of its own document before it. The truncated windows, one
    per target, are batched ``batch_tokens // (visible + 1)`` at a time. ``targets`` (in
    [2, length - length/2], default all) scores that many evenly spaced targets.
    """
    import torch

    if length < 4:
        raise UsageError(f"length: must be >= 4 (got {length})")
    bos = bos_id is not None
    half = length // 2
    if not 1 <= visible <= half - bos:
        raise UsageError(f"visible: must be in [1, {half - bos}] for length {length}"
                         f"{' with a BOS token' if bos else ''} (got {visible})")
    _check_batch_tokens(batch_tokens)
    n_all = length - half
    if targets is not None and not 2 <= targets <= n_all:
        raise UsageError(f"targets: must be in [2, {n_all}] for length {length} (got {targets})")
    pick = (np.arange(n_all) if targets is None
            else np.unique(np.floor(np.linspace(0, n_all - 1, targets) + 0.5).astype(int)))
    chosen, ids = long_enough_documents(docs, length - bos)
    x = window_inputs(chosen, length, bos_id)
    n_targets = len(pick)
    full = np.empty((len(chosen), n_all))
    trunc = np.empty((len(chosen), n_targets))
    per_full = max(1, batch_tokens // length)
    width = visible + bos + 1  # [BOS] + visible tokens + the target
    per_trunc = max(1, batch_tokens // width)
    with torch.inference_mode():
        for k in range(0, len(chosen), per_full):
            full[k:k + per_full] = _token_nll(model, x[k:k + per_full], n_all + 1)
        full = full[:, pick]
        # row (d, q): x[d, q - visible : q + 1]; flattened over documents and targets, then batched
        win = x.unfold(1, visible + 1, 1)[:, half - visible:]  # (D, n_all, visible + 1)
        win = win[:, torch.as_tensor(pick)].reshape(-1, visible + 1)
        if bos:
            win = torch.cat([torch.full((win.shape[0], 1), int(bos_id), dtype=torch.long), win], dim=1)
        flat = np.empty(win.shape[0])
        for k in range(0, win.shape[0], per_trunc):
            flat[k:k + per_trunc] = _token_nll(model, win[k:k + per_trunc], 2)[:, 0]
        trunc[:] = flat.reshape(len(chosen), n_targets)
    return [{"doc": doc, "length": length, "visible": visible, "n_tokens": n_targets,
             "nll_full": float(full[d].mean()), "nll_truncated": float(trunc[d].mean())}
            for d, doc in enumerate(ids)]


def sliding_baseline(model, docs: Sequence, lengths: Sequence[int], L: int, min_tokens: int | None = None,
                     bos_id: int | None = None, batch_tokens: int = 4096, progress: bool = False) -> dict:
    """The sliding-window baseline (module docstring): ``{n: PerplexityResult}`` for each length n,
    every document (>= ``min_tokens``, default ``max(lengths)``) truncated to n and scored with
    windows of ``min(L, n)`` tokens and stride ``L // 2``. Same rows as ``yarnlab eval ppl``."""
    from yarnlab.evaluate.perplexity import protocol_perplexity

    if L < 2:
        raise UsageError(f"L: must be >= 2 (got {L})")
    return protocol_perplexity(model, docs, lengths, min_tokens, None, window=L, stride=max(1, L // 2),
                               bos_id=bos_id, batch_tokens=batch_tokens, progress=progress)
