"""Sliding-window perplexity (Press et al. 2022), as used by YaRN Section 4.3.

Shape symbols: D documents, W window (tokens per forward pass), S stride, B windows per batch.

A document x_0 .. x_{n-1} is cut into windows [b, e) with b = 0, S, 2S, ... and e = min(b + W, n);
the walk stops at the first window with e = n. Window k scores the targets that no earlier window
scored, [e_{k-1}, e_k), so every token is scored exactly once, with as much left context as its
window allows (at least W - S tokens once the first window is full). Token 0 has no left context
and is scored only when a BOS token is prepended (``bos_id``). With S = W the windows are
non-overlapping chunks, and the first token of each chunk is then unscored unless a BOS is used.

Per-token negative log-likelihood ``nll_p = -log p(x_p | x_b .. x_{p-1})``. Two aggregations:

- token-weighted (default): ``PPL = exp(sum_p nll_p / #scored)`` over all scored tokens of all
  documents;
- window-weighted (the reference code, ``eval/perplexity.py`` of jquesnelle/yarn):
  ``PPL = exp(mean_k mean_{p in window k} nll_p)``, i.e. exp of the mean of per-window mean NLL.
  The two agree only when every window scores the same number of tokens.

The reference code's ``--truncate`` option is ambiguous: it truncates each document to the
evaluation length ``max_length`` AND sets the stride to ``max_length``, so every document is
exactly one window and nothing ever slides, although the paper describes a sliding window with
S = 256. The paper's protocol (Proof-pile: documents of >= N tokens truncated to each
evaluation length) is :func:`protocol_perplexity`; with its default ``window=None`` (window =
evaluation length) it reproduces the reference's one-window-per-document numbers, and with a
smaller ``window`` it really slides. The reference loop also yields NaN for a window with no
target (a one-token tail chunk when S = W); here such a window is simply not planned.

Windows of equal length and equal scored count are batched together (so a dynamic scaling method
sees the same sequence length as in a per-window loop), and only the logits of scored positions
are computed (``logits_to_keep``). :func:`naive_perplexity` is the plain per-window loop the
batched evaluator is tested and benchmarked against.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from yarnlab.errors import UsageError

WEIGHTINGS = ("token", "window")


def plan_windows(n_tokens: int, window: int, stride: int = 256, bos: bool = False) -> list[tuple[int, int, int]]:
    """Windows ``(begin, end, target_begin)`` of one document of ``n_tokens`` tokens.

    Inputs are tokens ``[begin, end)``; scored targets are ``[target_begin, end)``. Without a BOS
    token the first input token of a window cannot be a target.
    """
    if window < 1:
        raise UsageError(f"window: must be >= 1 (got {window})")
    if not 1 <= stride <= window:
        raise UsageError(f"stride: must be in [1, window={window}] (got {stride})")
    if window < 2 and not bos:
        raise UsageError(f"window: must be >= 2 without a BOS token (got {window})")
    plan = []
    prev_end = 0
    for begin in range(0, n_tokens, stride):
        end = min(begin + window, n_tokens)
        target_begin = prev_end if bos else max(prev_end, begin + 1)
        if end > target_begin:
            plan.append((begin, end, target_begin))
        prev_end = end
        if end == n_tokens:
            break
    return plan


@dataclass
class PerplexityResult:
    """Per-token NLL of every document plus the window plan that produced it.

    ``token_nll[d][p]`` is the NLL (nats) of token p of document d, NaN where unscored.
    ``windows`` rows are ``(doc, begin, end, target_begin, nll_sum, n_scored)``.
    """

    window: int
    stride: int
    bos: bool
    token_nll: list[np.ndarray]
    windows: list[tuple[int, int, int, int, float, int]] = field(default_factory=list)

    def mean_nll(self, weighting: str = "token") -> float:
        """Token-weighted mean NLL, or the mean over windows of per-window mean NLL."""
        if weighting not in WEIGHTINGS:
            raise UsageError(f"weighting: must be one of {WEIGHTINGS} (got {weighting!r})")
        if weighting == "token":
            total = sum(float(np.nansum(a)) for a in self.token_nll)
            count = sum(int(np.count_nonzero(~np.isnan(a))) for a in self.token_nll)
            return total / count
        return float(np.mean([s / n for (_, _, _, _, s, n) in self.windows]))

    def perplexity(self, weighting: str = "token") -> float:
        return math.exp(self.mean_nll(weighting))

    def doc_nll(self) -> np.ndarray:
        """(D,) token-weighted mean NLL of each document."""
        return np.array([float(np.nanmean(a)) for a in self.token_nll])

    def segment_nll(self, segment: int, length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Mean NLL per document and position segment ``[g*segment, (g+1)*segment)``.

        Returns ``(nll (D, G), counts (D, G))``; NaN where a segment has no scored token.
        ``length`` fixes G = ceil(length / segment) (default: the longest document).
        """
        if segment < 1:
            raise UsageError(f"segment: must be >= 1 (got {segment})")
        length = length or max(len(a) for a in self.token_nll)
        n_seg = -(-length // segment)
        nll = np.full((len(self.token_nll), n_seg), np.nan)
        counts = np.zeros((len(self.token_nll), n_seg), dtype=np.int64)
        for d, a in enumerate(self.token_nll):
            a = a[:length]
            pad = np.full(n_seg * segment - len(a), np.nan)
            blocks = np.concatenate([a, pad]).reshape(n_seg, segment)
            counts[d] = np.count_nonzero(~np.isnan(blocks), axis=1)
            with np.errstate(invalid="ignore"):
                nll[d] = np.where(counts[d] > 0, np.nansum(blocks, axis=1) / np.maximum(counts[d], 1), np.nan)
        return nll, counts


def _forward_scored(model, input_ids, n_keep: int):
    """Logits of the last ``n_keep`` positions, shape (B, n_keep, V), at least float32."""
    import torch

    try:
        logits = model(input_ids=input_ids, use_cache=False, logits_to_keep=n_keep).logits
    except TypeError:  # a model without logits_to_keep
        logits = model(input_ids=input_ids, use_cache=False).logits
    logits = logits[:, -n_keep:]
    return logits if logits.dtype == torch.float64 else logits.to(torch.float32)


# causal LMs whose logits are exactly ``get_output_embeddings()(base_model(...).last_hidden_state)``
# (no logit scale or soft-capping): their scored positions can be projected in chunks
_PLAIN_HEAD = {"LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM",
               "GPTNeoXForCausalLM", "Phi3ForCausalLM", "SmolLM3ForCausalLM"}
LOGIT_CHUNK = 1024


def scored_nll(model, input_ids, n_scored: int, logit_chunk: int = LOGIT_CHUNK):
    """Per-token NLL (B, n_scored), float64 numpy, of the last ``n_scored`` tokens of ``input_ids``
    (each predicted from all tokens before it in its row).

    The vocabulary projection and the loss run over at most ``logit_chunk`` positions at a time, from
    the final hidden states of one forward pass, so memory does not grow with ``n_scored x V`` (a
    16k-token window of a 49k-vocabulary model would hold 3.2 GB of logits, twice over in the loss).
    Same numbers as projecting every position at once; models outside ``_PLAIN_HEAD`` (a logit scale,
    soft-capping) are scored the one-shot way.

    With ``YARNLAB_NLL_CACHE`` set (:mod:`yarnlab.evaluate.nll_cache`), a model in eval mode without
    gradients scores every position of each row once and later calls read the stored row."""
    import torch

    if logit_chunk < 1:
        raise UsageError(f"logit_chunk: must be >= 1 (got {logit_chunk})")
    from yarnlab.evaluate import nll_cache

    folder = nll_cache.cache_dir()
    if folder is not None and not torch.is_grad_enabled() and not model.training:
        keys = nll_cache.row_keys(model, input_ids)
        if keys is not None:
            rows = [nll_cache.load(folder, k) for k in keys]
            if any(r is None for r in rows):  # score every position once, keep the whole row
                full = _scored_nll_uncached(model, input_ids, input_ids.shape[1] - 1, logit_chunk)
                for k, r in zip(keys, full):
                    nll_cache.store(folder, k, r)
                rows = list(full)
            return np.stack([r[len(r) - n_scored:] for r in rows])
    return _scored_nll_uncached(model, input_ids, n_scored, logit_chunk)


def _scored_nll_uncached(model, input_ids, n_scored: int, logit_chunk: int):
    import torch
    import torch.nn.functional as F

    def nll(logits, targets):  # logits at positions p predict targets at p + 1
        logits = logits if logits.dtype == torch.float64 else logits.to(torch.float32)
        return F.cross_entropy(logits.transpose(1, 2), targets, reduction="none").double().cpu().numpy()

    n = input_ids.shape[1]
    if n_scored + 1 <= logit_chunk or type(model).__name__ not in _PLAIN_HEAD:
        # the last logit predicts beyond the window: keep n_scored + 1 and drop it
        return nll(_forward_scored(model, input_ids, n_scored + 1)[:, :-1], input_ids[:, n - n_scored:])
    hidden = model.base_model(input_ids=input_ids, use_cache=False).last_hidden_state
    head = model.get_output_embeddings()
    return np.concatenate([nll(head(hidden[:, a:min(a + logit_chunk, n - 1)]),
                               input_ids[:, a + 1:min(a + logit_chunk, n - 1) + 1])
                           for a in range(n - n_scored - 1, n - 1, logit_chunk)], axis=1)


def sliding_window_nll(
    model,
    docs: Sequence,
    window: int,
    stride: int = 256,
    bos_id: int | None = None,
    batch_tokens: int = 4096,
    progress: bool = False,
    logit_chunk: int = LOGIT_CHUNK,
) -> PerplexityResult:
    """Per-token NLL of ``docs`` (1-D token-id arrays/tensors) under ``model`` (module docstring).

    ``logit_chunk``: scored positions projected to the vocabulary at a time (:func:`scored_nll`).

    ``batch_tokens`` bounds B * W per forward pass (on CPU, a few thousand tokens keep the
    activations in cache; larger batches were slower in ``benchmarks/bench_sliding_window.py``).
    The model is used as is (no grad; eval mode is the caller's choice); its device is taken from
    its first parameter.
    """
    import torch

    docs = [torch.as_tensor(np.asarray(d), dtype=torch.long) for d in docs]
    if not docs:
        raise UsageError("docs: need at least one document")
    device = next(model.parameters()).device
    bos = bos_id is not None
    token_nll = [np.full(len(d), np.nan) for d in docs]
    groups: dict[tuple[int, int], list[tuple[int, int, int, int]]] = defaultdict(list)
    for i, d in enumerate(docs):
        for begin, end, tb in plan_windows(len(d), window, stride, bos):
            groups[(end - begin, end - tb)].append((i, begin, end, tb))
    total = sum(len(g) for g in groups.values())
    if total == 0:
        raise UsageError("docs: no token to score (documents need >= 2 tokens, or 1 with a BOS token)")
    windows = []
    bar = progress_bar(total, progress, "windows")
    with torch.inference_mode():
        for (length, n_scored), members in groups.items():
            per_batch = max(1, batch_tokens // (length + bos))
            for k in range(0, len(members), per_batch):
                chunk = members[k : k + per_batch]
                rows = [docs[i][b:e] for (i, b, e, _) in chunk]
                ids = torch.stack(rows)
                if bos:
                    ids = torch.cat([torch.full((len(rows), 1), bos_id, dtype=torch.long), ids], dim=1)
                nll = scored_nll(model, ids.to(device), n_scored, logit_chunk)
                for row, (i, b, e, tb) in enumerate(chunk):
                    token_nll[i][tb:e] = nll[row]
                    windows.append((i, b, e, tb, float(nll[row].sum()), e - tb))
                bar.update(len(chunk))
    bar.close()
    windows.sort()
    return PerplexityResult(window, stride, bos, token_nll, windows)


def naive_perplexity(model, docs: Sequence, window: int, stride: int = 256, bos_id: int | None = None):
    """The plain per-window loop of the reference code: one forward pass per window, full logits,
    loss from ``labels`` with unscored targets set to -100. Returns ``(token_ppl, window_ppl)``."""
    import torch

    sums, counts, means = [], [], []
    with torch.inference_mode():
        for d in docs:
            d = torch.as_tensor(np.asarray(d), dtype=torch.long)
            for begin, end, tb in plan_windows(len(d), window, stride, bos_id is not None):
                ids = d[begin:end][None]
                if bos_id is not None:
                    ids = torch.cat([torch.tensor([[bos_id]]), ids], dim=1)
                labels = ids.clone()
                labels[:, : ids.shape[1] - (end - tb)] = -100
                dev = next(model.parameters()).device
                loss = float(model(input_ids=ids.to(dev), labels=labels.to(dev), use_cache=False).loss)
                sums.append(loss * (end - tb))
                counts.append(end - tb)
                means.append(loss)
    return math.exp(sum(sums) / sum(counts)), math.exp(float(np.mean(means)))


def select_documents(docs: Sequence, min_tokens: int, max_docs: int | None = None) -> list:
    """Documents with at least ``min_tokens`` tokens, in order, at most ``max_docs`` of them."""
    chosen = [d for d in docs if len(d) >= min_tokens]
    if not chosen:
        longest = max((len(d) for d in docs), default=0)
        raise UsageError(f"min_tokens: no document has >= {min_tokens} tokens (longest has {longest})")
    return chosen[:max_docs] if max_docs else chosen


def protocol_perplexity(
    model,
    docs: Sequence,
    lengths: Sequence[int],
    min_tokens: int | None = None,
    max_docs: int | None = None,
    window: int | None = None,
    stride: int = 256,
    bos_id: int | None = None,
    batch_tokens: int = 4096,
    progress: bool = False,
) -> dict[int, PerplexityResult]:
    """The paper's protocol (Section 4.3): keep documents of >= ``min_tokens`` tokens (default
    ``max(lengths)``), truncate each to every evaluation length L, and evaluate with window
    ``min(window, L)`` (default L: one window per document, as the reference code with
    ``--truncate``) and stride ``min(stride, window)``."""
    lengths = [int(n) for n in lengths]
    if not lengths or min(lengths) < 2:
        raise UsageError(f"lengths: need one or more lengths >= 2 (got {lengths})")
    chosen = select_documents(docs, min_tokens or max(lengths), max_docs)
    out = {}
    for n in lengths:
        w = min(window or n, n)
        out[n] = sliding_window_nll(
            model, [d[:n] for d in chosen], w, min(stride, w), bos_id, batch_tokens, progress
        )
    return out


def same_target_perplexity(
    model,
    docs: Sequence,
    lengths: Sequence[int],
    targets: int,
    max_docs: int | None = None,
    bos_id: int | None = None,
    batch_tokens: int = 4096,
    progress: bool = False,
    end: int | None = None,
    window: int | None = None,
    stride: int = 256,
) -> dict[int, PerplexityResult]:
    """Perplexity at each context length on the *same* target tokens, so only the context differs.

    Each document of at least ``E = end`` tokens (default ``max(lengths)``; ``E >= max(lengths)``) is
    cut to its first E tokens; its targets are the last ``T = targets`` of them, ``x_{E-T} .. x_{E-1}``.
    At length n the model reads the context ``x_{E-n} .. x_{E-1}`` and those T tokens are scored:

    - ``window`` None (or >= n): one window of n tokens (``bos_id`` prepended when given), target
      ``x_p`` predicted from ``x_{E-n} .. x_{p-1}``, i.e. from ``n - T`` to ``n - 1`` tokens;
    - ``window`` W < n: the sliding walk of :func:`sliding_window_nll` over the n context tokens (windows
      of W, stride ``min(stride, W)``), of which only the windows that score a target are run; each
      target sees at most W tokens (the sliding-window baseline on the same targets).

    So PPL(n) / PPL(n') on the same T tokens measures what the extra context is worth and nothing else.
    Under the paper's truncation protocol (:func:`protocol_perplexity`, the first n tokens) the scored
    tokens change with n, and the ratio also moves with what the later tokens are: a model whose loss
    ignores context gives ratio 1 here at every length, and generally not there. Needs
    ``T < min(lengths)`` (every target has a token of context; ``T <= min(lengths)`` with a BOS token).
    ``token_nll[d]`` has E entries, NaN outside ``[E - T, E)``; ``windows`` rows are in document
    coordinates, each counting only its targets."""
    import torch

    lengths = sorted({int(n) for n in lengths})
    bos = bos_id is not None
    if not lengths or lengths[0] < 2:
        raise UsageError(f"lengths: need one or more lengths >= 2 (got {lengths})")
    if not isinstance(targets, int) or isinstance(targets, bool) or not 1 <= targets <= lengths[0] - (not bos):
        raise UsageError(f"targets: must be an integer in [1, {lengths[0] - (not bos)}] (the shortest length"
                         f"{'' if bos else ' - 1'}; got {targets!r})")
    top = lengths[-1] if end is None else int(end)
    if top < lengths[-1]:
        raise UsageError(f"end: must be >= the longest length {lengths[-1]} (got {end})")
    if window is not None and window < 2:
        raise UsageError(f"window: must be >= 2 (got {window})")
    chosen = [torch.as_tensor(np.asarray(d[:top]), dtype=torch.long) for d in select_documents(docs, top, max_docs)]
    out = {}
    for n in lengths:
        if window is not None and window < n:
            out[n] = _same_targets_sliding(model, chosen, n, top, targets, window, min(stride, window), bos_id,
                                           batch_tokens, progress)
        else:
            out[n] = _same_targets_window(model, chosen, n, top, targets, bos_id, batch_tokens, progress)
    return out


def same_targets_from_truncation(res: PerplexityResult, targets: int) -> PerplexityResult:
    """The same-target reading at n = E from the truncation reading at E on the same documents.

    At n = E the same-target context ``x_0 .. x_{E-1}`` is the truncated document itself, read by the same
    windows (one window, or the same sliding plan from token 0), so the targets' NLL is the truncation
    reading's on its last ``targets`` tokens: no second forward. Windows keep only their targets."""
    token_nll, windows = [], []
    for a in res.token_nll:
        full = np.full(len(a), np.nan)
        full[len(a) - targets:] = a[len(a) - targets:]
        token_nll.append(full)
    for d, b, e, tb, _, _ in res.windows:
        top = len(token_nll[d])
        vals = token_nll[d][max(tb, top - targets):e]
        vals = vals[~np.isnan(vals)]
        if len(vals):
            windows.append((d, b, e, max(tb, top - targets), float(vals.sum()), len(vals)))
    return PerplexityResult(res.window, res.stride, res.bos, token_nll, windows)


def _same_targets_window(model, chosen, n, top, targets, bos_id, batch_tokens, progress) -> PerplexityResult:
    """One window ``x_{top-n} .. x_{top-1}`` per document, its last ``targets`` tokens scored."""
    import torch

    bos = bos_id is not None
    device = next(model.parameters()).device
    token_nll = [np.full(top, np.nan) for _ in chosen]
    windows = []
    per_batch = max(1, batch_tokens // (n + bos))
    bar = progress_bar(len(chosen), progress, "windows")
    with torch.inference_mode():
        for k in range(0, len(chosen), per_batch):
            rows = torch.stack([d[top - n:] for d in chosen[k:k + per_batch]])
            if bos:
                rows = torch.cat([torch.full((len(rows), 1), bos_id, dtype=torch.long), rows], dim=1)
            nll = scored_nll(model, rows.to(device), targets)
            for j, row in enumerate(nll):
                token_nll[k + j][top - targets:] = row
                windows.append((k + j, top - n, top, top - targets, float(row.sum()), targets))
            bar.update(len(rows))
    bar.close()
    return PerplexityResult(n, n, bos, token_nll, windows)


def _same_targets_sliding(model, chosen, n, top, targets, window, stride, bos_id, batch_tokens,
                          progress) -> PerplexityResult:
    """The sliding walk over ``x_{top-n} .. x_{top-1}``, from the first window that scores a target on.

    Window k of the walk reads ``[b_k, e_k)`` and scores ``[max(e_{k-1}, b_k + 1), e_k)`` (context
    coordinates); a walk started at ``b_{k0}`` runs the same windows from k0 on, so the targets, all at
    or after ``e_{k0-1}``, get the same inputs and the same NLL as in the whole walk."""
    bos = bos_id is not None
    plan = plan_windows(n, window, stride, bos)
    k0 = next(k for k, (_, e, _) in enumerate(plan) if e > n - targets)
    b0 = plan[k0][0]
    res = sliding_window_nll(model, [d[top - n + b0:] for d in chosen], window, stride, bos_id, batch_tokens,
                             progress)
    offset = top - n + b0  # context coordinates + offset = document coordinates
    token_nll = []
    for a in res.token_nll:
        full = np.full(top, np.nan)
        full[top - targets:] = a[len(a) - targets:]
        token_nll.append(full)
    windows = []
    for d, b, e, tb, _, _ in res.windows:
        lo = max(tb + offset, top - targets)
        vals = token_nll[d][lo:e + offset]
        vals = vals[~np.isnan(vals)]
        if len(vals):
            windows.append((d, b + offset, e + offset, lo, float(vals.sum()), len(vals)))
    return PerplexityResult(window, stride, bos, token_nll, windows)


def progress_bar(total: int, enabled: bool, unit: str):
    """A tqdm bar of ``total`` ``unit``s that disappears when done (``enabled`` False: silent);
    the evaluators' progress bars."""
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, unit=unit, leave=False)
