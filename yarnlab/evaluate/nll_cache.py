"""A content-addressed store of per-token NLL, so that evaluations that run the same forward pass
(the temperature sweep at m = 1 and NTK-by-parts' perplexity at sL, a sliding-window baseline and the
per-position profile at L, ...) compute it once.

Off unless the environment variable ``YARNLAB_NLL_CACHE`` names a folder (the workflow sets it when
its config has ``nll_cache: true``). An entry holds the NLL of every position of one row of token
ids, ``nll_p = -log p(x_p | x_0 .. x_{p-1})`` for p = 1 .. n-1, and is keyed by

- the model's weights (SHA-256 over every parameter, computed once per model object),
- what its rotary modules compute: theta'_d and the attention factor m of a static yarnlab spec, or
  the ``inv_freq`` buffer and ``attention_scaling`` of a transformers rotary module, so two methods
  that give the same frequencies and m share an entry whatever their names,
- the token ids of the row.

Dynamic methods (theta'_d depends on the forward's length) are never cached. A request for the last
k positions of a cached row reads the tail of the entry. Entries are written to a temporary file and
renamed, so a killed run leaves no partial entry.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

ENV = "YARNLAB_NLL_CACHE"
_WEIGHTS = "_yarnlab_weights_sha"


def cache_dir() -> Path | None:
    value = os.environ.get(ENV)
    return Path(value) if value else None


def weights_digest(model) -> str:
    """SHA-256 over the model's parameters (names, dtypes, shapes, bytes); memoised on the model."""
    digest = getattr(model, _WEIGHTS, None)
    if digest is None:
        import torch

        h = hashlib.sha256()
        for name, p in model.named_parameters():
            t = p.detach().cpu().contiguous()
            h.update(f"{name}|{t.dtype}|{tuple(t.shape)}".encode())
            h.update(t.view(-1).view(dtype=torch.uint8).numpy().tobytes())
        digest = h.hexdigest()
        object.__setattr__(model, _WEIGHTS, digest)
    return digest


def rotary_digest(model) -> str | None:
    """What the model's rotary modules compute, or None when one is dynamic (not cacheable)."""
    from yarnlab.model.rotary import YarnlabRotaryEmbedding

    h = hashlib.sha256()
    found = False
    for name, module in model.named_modules():
        if isinstance(module, YarnlabRotaryEmbedding):
            if module.spec.is_dynamic:
                return None
            r = module.current
            h.update(f"{name}|yarnlab|{float(r.attention_factor)!r}|".encode())
            h.update(np.ascontiguousarray(r.inv_freq, dtype=np.float64).tobytes())
            found = True
        elif type(module).__name__.endswith("RotaryEmbedding"):
            if "dynamic" in str(getattr(module, "rope_type", "")):
                return None
            h.update(f"{name}|hf|{float(getattr(module, 'attention_scaling', 1.0))!r}|".encode())
            for bname, buf in module.named_buffers(recurse=False):
                h.update(bname.encode())
                h.update(buf.detach().cpu().double().contiguous().numpy().tobytes())
            found = True
    return h.hexdigest() if found else None


def row_keys(model, input_ids) -> list[str] | None:
    """Entry names of the rows of ``input_ids`` (B, n) under ``model``, or None when not cacheable."""
    rope = rotary_digest(model)
    if rope is None:
        return None
    prefix = f"{weights_digest(model)}|{rope}|".encode()
    ids = np.ascontiguousarray(np.asarray(input_ids.detach().cpu() if hasattr(input_ids, "detach") else input_ids,
                                          dtype=np.int64).reshape(len(input_ids), -1))
    out = []
    for row in ids:
        h = hashlib.sha256(prefix + f"{row.size}|".encode())
        h.update(row.tobytes())
        out.append(h.hexdigest())
    return out


def load(folder: Path, key: str) -> np.ndarray | None:
    path = folder / key[:2] / f"{key}.npy"
    if not path.exists():
        return None
    return np.load(path)


def store(folder: Path, key: str, nll: np.ndarray) -> None:
    from yarnlab.io import atomic_path

    path = folder / key[:2] / f"{key}.npy"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.save(fh, np.asarray(nll, dtype=np.float64))
