"""Attention entropy of a real forward pass, per layer and head, at several context lengths.

For query i of a causal model the attention row p_i = softmax(q_i . k_j * m^2 / sqrt(|D|)) over
keys j <= i (YaRN Eq. 21 with m = sqrt(1/t)) has entropy

    H_i = -sum_{j <= i} p_ij ln p_ij   (nats),

at most ln(i + 1) (uniform attention). The argument for a length-dependent temperature (see
:mod:`yarnlab.theory.entropy`) is that H grows like ln n with the context, so these rows feed the
theory layer's comparison: per (length, document, layer, head, query-position bin) the mean H_i
and the mean ln(i + 1) of the same queries.

The attention probabilities come from the model's own eager attention: the model is switched to
``attn_implementation="eager"`` for the pass and back afterwards, and forward hooks on every
attention module reduce each layer's (B, heads, n, n) weights to entropies at once, so only one
layer's weights are alive at a time.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from yarnlab.errors import UsageError


def _attention_modules(model):
    return [(name, mod) for name, mod in model.named_modules()
            if name.endswith(("self_attn", "attention")) and not any(
                c for c in mod.children() if c.__class__.__name__.endswith("Attention"))]


def attention_entropy(model, docs: Sequence, lengths: Sequence[int], query_bins: int = 1,
                      progress: bool = False) -> list[dict]:
    """Rows ``length, doc, layer, head, query_lo, query_hi, entropy, uniform_entropy`` (nats).

    Each document (1-D token ids, at least ``max(lengths)`` long) is truncated to every length;
    queries are split into ``query_bins`` equal position bins [query_lo, query_hi).
    """
    import torch

    from yarnlab.evaluate.perplexity import progress_bar, select_documents

    lengths = sorted(int(n) for n in lengths)
    if not lengths or lengths[0] < 2:
        raise UsageError(f"lengths: need one or more lengths >= 2 (got {lengths})")
    if query_bins < 1:
        raise UsageError(f"query_bins: must be >= 1 (got {query_bins})")
    docs = select_documents(docs, lengths[-1])
    modules = _attention_modules(model)
    if not modules:
        raise UsageError(f"model: no attention modules found in {type(model).__name__}")
    captured: dict[int, torch.Tensor] = {}

    def hook_for(layer):
        def hook(_mod, _args, output):
            weights = output[1] if isinstance(output, tuple) and len(output) > 1 else None
            if weights is None:
                raise UsageError("model: attention module returned no weights (eager attention needed)")
            p = weights.double()
            captured[layer] = -torch.xlogy(p, p).sum(-1)[0]  # (heads, n)
        return hook

    previous = model.config._attn_implementation
    model.set_attn_implementation("eager")
    handles = [mod.register_forward_hook(hook_for(i)) for i, (_, mod) in enumerate(modules)]
    device = next(model.parameters()).device
    rows = []
    bar = progress_bar(len(lengths) * len(docs), progress, "pass")
    try:
        with torch.inference_mode():
            for n in lengths:
                edges = np.linspace(0, n, query_bins + 1).round().astype(int)
                uniform = np.log(np.arange(1, n + 1))
                for d, doc in enumerate(docs):
                    ids = torch.as_tensor(np.asarray(doc[:n]), dtype=torch.long, device=device)[None]
                    captured.clear()
                    model(input_ids=ids, use_cache=False)
                    for layer in sorted(captured):
                        h = captured[layer].cpu().numpy()
                        for head in range(h.shape[0]):
                            for lo, hi in zip(edges[:-1], edges[1:]):
                                rows.append({"length": n, "doc": d, "layer": layer, "head": head,
                                             "query_lo": int(lo), "query_hi": int(hi),
                                             "entropy": float(h[head, lo:hi].mean()),
                                             "uniform_entropy": float(uniform[lo:hi].mean())})
                    bar.update(1)
    finally:
        for h in handles:
            h.remove()
        model.set_attn_implementation(previous)
        bar.close()
    return rows


def layer_means(rows: Sequence[dict]) -> list[dict]:
    """Mean entropy per (length, layer) over documents, heads and query bins (query-weighted)."""
    acc: dict[tuple[int, int], list[float]] = {}
    for r in rows:
        w = r["query_hi"] - r["query_lo"]
        a = acc.setdefault((r["length"], r["layer"]), [0.0, 0.0, 0.0])
        a[0] += w * r["entropy"]
        a[1] += w * r["uniform_entropy"]
        a[2] += w
    return [{"length": n, "layer": layer, "entropy": a[0] / a[2], "uniform_entropy": a[1] / a[2]}
            for (n, layer), a in sorted(acc.items())]
