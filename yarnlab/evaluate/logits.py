"""The spread of real pre-softmax attention logits, and the temperature it predicts.

The logits are those the model's attention uses: ``z_ij = q_i . k_j * scaling`` with q and k after
the rotary embedding (so a RoPE attention factor m, which multiplies cos and sin, is included:
logits scale by m^2, YaRN Eq. 21-22) and ``scaling = 1/sqrt(|D|)``. They are captured by routing
the model's attention through a registered attention function (``yarnlab_logits``) that records
each layer's q and k and then calls transformers' sdpa attention (causal), so the forward pass
computes what the model computes.

Spread of head h in layer l, over documents d and the queries ``i in [n/2, n)`` of one window of
``n = length`` tokens per document, each with its causal keys ``j <= i``:

    std_{d,i} = sqrt( mean_{j <= i} (z_ij - mean_{j' <= i} z_ij')^2 )      (population std)
    sigma     = sqrt( mean_{d, i} std_{d,i}^2 )                            (root mean square)

:func:`predict_temperature` feeds each head's measured sigma, unfitted, to the Gaussian-logit
entropy-invariance analysis of :mod:`yarnlab.theory.entropy`: m*(s) with
``H(s n keys, t*) = H(n keys, 1)``, ``m* = t*^(-1/2)``, for i.i.d. N(0, sigma^2) logits (Monte
Carlo at finite n; the large-n closed form ``m* = (1 + 2 ln s / sigma^2)^(1/4)`` alongside).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from yarnlab.errors import UsageError

ATTENTION_NAME = "yarnlab_logits"
_RECORDER: list = []  # the active recorder (one pass at a time)


def _recording_attention(module, query, key, value, attention_mask, scaling=None, **kwargs):
    recorder = _RECORDER[-1]
    recorder(module, query, key, scaling)
    return recorder.inner(module, query, key, value, attention_mask, scaling=scaling, **kwargs)


def _register() -> None:
    from transformers import AttentionInterface

    AttentionInterface.register(ATTENTION_NAME, _recording_attention)


class _Recorder:
    """Per layer, the (B, heads) sums of std^2 and std over queries [q0, n) of causal logits."""

    def __init__(self, inner, q0: int, query_block: int = 512):
        self.inner, self.q0, self.block = inner, q0, query_block
        self.sq: dict[int, np.ndarray] = {}
        self.sd: dict[int, np.ndarray] = {}
        self._order: dict[int, int] = {}

    def __call__(self, module, query, key, scaling) -> None:
        import torch

        layer = getattr(module, "layer_idx", None)
        if layer is None:
            layer = self._order.setdefault(id(module), len(self._order))
        groups = query.shape[1] // key.shape[1]
        k = key.double().repeat_interleave(groups, dim=1)  # (B, H, n, |D|), as repeat_kv
        q = query.double()
        n = q.shape[2]
        scale = float(scaling) if scaling is not None else 1.0 / math.sqrt(q.shape[-1])
        sq = torch.zeros(q.shape[:2], dtype=torch.float64, device=q.device)
        sd = torch.zeros_like(sq)
        for lo in range(self.q0, n, self.block):
            hi = min(lo + self.block, n)
            z = torch.matmul(q[:, :, lo:hi], k[:, :, :hi].transpose(2, 3)) * scale  # (B, H, b, hi)
            mask = torch.arange(hi, device=q.device)[None, :] <= torch.arange(lo, hi, device=q.device)[:, None]
            count = mask.sum(-1).double()  # keys of each query: i + 1
            zm = torch.where(mask, z, 0.0)
            mean = zm.sum(-1) / count
            var = (torch.where(mask, z - mean[..., None], 0.0) ** 2).sum(-1) / count
            sq += var.sum(-1)
            sd += var.sqrt().sum(-1)
        self.sq[layer] = sq.cpu().numpy()
        self.sd[layer] = sd.cpu().numpy()


@dataclass
class LogitSpread:
    """Spread of the attention logits per document, layer and head (module docstring).

    ``mean_sq[d, l, h]``: mean over the document's queries of std^2; ``mean_std[d, l, h]``: mean of
    std; ``n_queries`` per document (``length - length // 2``)."""

    length: int
    doc_ids: list[int]
    mean_sq: np.ndarray
    mean_std: np.ndarray
    n_queries: int

    @property
    def sigma(self) -> np.ndarray:
        """(layers, heads) root mean square of std over queries and documents."""
        return np.sqrt(self.mean_sq.mean(axis=0))

    def rows(self) -> list[dict]:
        """Rows ``layer, head, length, sigma, mean_std, sigma_doc_sd, n_docs, n_queries``:
        ``mean_std`` is the plain mean of std; ``sigma_doc_sd`` the standard deviation over documents
        of each document's own RMS std (ddof 1; NaN for one document)."""
        per_doc = np.sqrt(self.mean_sq)
        n_docs = len(self.doc_ids)
        spread = per_doc.std(axis=0, ddof=1) if n_docs > 1 else np.full(per_doc.shape[1:], np.nan)
        sigma, mean_std = self.sigma, self.mean_std.mean(axis=0)
        return [{"layer": layer, "head": h, "length": self.length, "sigma": float(sigma[layer, h]),
                 "mean_std": float(mean_std[layer, h]), "sigma_doc_sd": float(spread[layer, h]),
                 "n_docs": n_docs, "n_queries": n_docs * self.n_queries}
                for layer in range(sigma.shape[0]) for h in range(sigma.shape[1])]

    def doc_rows(self) -> list[dict]:
        """Rows ``doc, layer, head, length, rms_std, mean_std, n_queries`` (one per document)."""
        return [{"doc": doc, "layer": layer, "head": h, "length": self.length,
                 "rms_std": float(np.sqrt(self.mean_sq[d, layer, h])), "mean_std": float(self.mean_std[d, layer, h]),
                 "n_queries": self.n_queries}
                for d, doc in enumerate(self.doc_ids) for layer in range(self.mean_sq.shape[1])
                for h in range(self.mean_sq.shape[2])]


def attention_logit_spread(model, docs: Sequence, length: int, bos_id: int | None = None,
                           query_block: int = 512) -> LogitSpread:
    """Spread sigma of the pre-softmax attention logits per layer and head (module docstring), from
    one forward pass per document over ``doc[:length]`` (``[BOS] + doc[:length - 1]`` with
    ``bos_id``); documents shorter than that are skipped. Logits are formed in float64 from the
    model's q and k, ``query_block`` queries at a time."""
    import torch

    from yarnlab.evaluate.positions import long_enough_documents, window_inputs

    if length < 2:
        raise UsageError(f"length: must be >= 2 (got {length})")
    if query_block < 1:
        raise UsageError(f"query_block: must be >= 1 (got {query_block})")
    chosen, ids = long_enough_documents(docs, length - (bos_id is not None))
    x = window_inputs(chosen, length, bos_id)
    # a custom attention name gets no mask from transformers, so the pass itself runs through sdpa
    # with is_causal (whatever the model's own setting, restored afterwards)
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    _register()
    previous = model.config._attn_implementation
    recorder = _Recorder(sdpa_attention_forward, length // 2, query_block)
    device = next(model.parameters()).device
    sq, sd = [], []
    model.set_attn_implementation(ATTENTION_NAME)
    _RECORDER.append(recorder)
    try:
        with torch.inference_mode():
            for d in range(len(chosen)):
                recorder.sq.clear()
                recorder.sd.clear()
                model(input_ids=x[d:d + 1].to(device), use_cache=False)
                if not recorder.sq:
                    raise UsageError(f"model: {type(model).__name__} does not dispatch attention through "
                                     "transformers' attention interface")
                layers = sorted(recorder.sq)
                sq.append(np.stack([recorder.sq[la][0] for la in layers]))
                sd.append(np.stack([recorder.sd[la][0] for la in layers]))
    finally:
        _RECORDER.remove(recorder)
        model.set_attn_implementation(previous)
    n_q = length - length // 2
    return LogitSpread(length, ids, np.stack(sq) / n_q, np.stack(sd) / n_q, n_q)


def predict_temperature(sigmas: Sequence[float] | np.ndarray, scales: Sequence[float], n: int,
                        seed: int = 0, budget: int = 1 << 18) -> tuple[list[dict], list[dict]]:
    """Entropy-invariant m* at each scale s for each measured sigma (no fitted sigma).

    For each sigma (one per head) and s, ``m* = gaussian_invariant_m_mc(s, n, sigma)`` of
    :mod:`yarnlab.theory.entropy`: the m = sqrt(1/t) with H(s n i.i.d. N(0, sigma^2) logits, t) =
    H(n logits, 1). Returns ``(per_head, summary)``: per-head rows ``index, sigma, s, n,
    m_invariant, m_asymptotic`` and per-s rows ``s, n, n_heads, n_solved, m_median, m_q25, m_q75,
    sigma_rms, m_at_sigma_rms, m_asymptotic_at_sigma_rms, m_yarn_rule`` (quantiles of the per-head
    m*, linear interpolation; sigma_rms = sqrt(mean sigma^2); m_yarn_rule = 0.1 ln s + 1, Eq. 22).
    A Monte-Carlo m* outside the solver's range m in [0.1, 10] (a very small sigma) is NaN and left
    out of the quantiles (``n_solved`` counts the rest). ``budget`` bounds the Gaussian draws per
    Monte-Carlo estimate.
    """
    from yarnlab.theory.entropy import gaussian_invariant_m_asymptotic, gaussian_invariant_m_mc

    sig = np.asarray(sigmas, dtype=np.float64).ravel()
    if sig.size == 0 or not np.all(np.isfinite(sig)) or not np.all(sig > 0):
        raise UsageError(f"sigmas: need one or more finite values > 0 (got {sig.tolist()})")
    scales = [float(s) for s in scales]
    if not scales or not all(math.isfinite(s) and s >= 1 for s in scales):
        raise UsageError(f"scales: need one or more values >= 1 (got {scales})")
    if n < 2:
        raise UsageError(f"n: must be >= 2 (got {n})")
    per_head, summary = [], []
    rms = float(np.sqrt(np.mean(sig**2)))
    def m_mc(s: float, x: float) -> float:
        try:
            return gaussian_invariant_m_mc(s, n, x, seed=seed, budget=budget)
        except UsageError:  # m* outside the solver's range t in [1e-2, 1e2], i.e. m in [0.1, 10]
            return float("nan")

    for s in scales:
        ms = np.array([m_mc(s, float(x)) for x in sig])
        per_head += [{"index": i, "sigma": float(x), "s": s, "n": n, "m_invariant": float(m),
                      "m_asymptotic": float(gaussian_invariant_m_asymptotic(s, float(x)))}
                     for i, (x, m) in enumerate(zip(sig, ms))]
        solved = ms[np.isfinite(ms)]
        q25, q50, q75 = np.quantile(solved, [0.25, 0.5, 0.75]) if solved.size else (float("nan"),) * 3
        summary.append({"s": s, "n": n, "n_heads": int(sig.size), "n_solved": int(solved.size),
                        "m_median": float(q50), "m_q25": float(q25), "m_q75": float(q75), "sigma_rms": rms,
                        "m_at_sigma_rms": m_mc(s, rms),
                        "m_asymptotic_at_sigma_rms": float(gaussian_invariant_m_asymptotic(s, rms)),
                        "m_yarn_rule": 0.1 * math.log(s) + 1.0})
    return per_head, summary
