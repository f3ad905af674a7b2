"""Glue shared by the workflow scripts: documents, models with a spec, tidy result tables.

Every script is a thin command line around one yarnlab library call; results are written with
:func:`yarnlab.io.write_table` (atomic CSV + ``.provenance.json`` sidecar).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def load_docs(path: str, min_tokens: int = 0, max_docs: int | None = None) -> list[np.ndarray]:
    """Token arrays saved by ``eval_docs.py`` (``doc0``, ``doc1``, ... in an .npz)."""
    return [d for _, d in load_docs_with_ids(path, min_tokens, max_docs)]


def load_docs_with_ids(path: str, min_tokens: int = 0, max_docs: int | None = None) -> list[tuple[str, np.ndarray]]:
    """``(id, tokens)`` of the documents saved by ``eval_docs.py``; the id is ``<work>@<offset>``
    (``doc<i>`` for files written without ids)."""
    with np.load(path) as z:
        keys = sorted((k for k in z.files if k.startswith("doc")), key=lambda k: int(k[3:]))
        ids = [str(x) for x in z["ids"]] if "ids" in z.files else keys
        docs = [(i, z[k]) for i, k in zip(ids, keys, strict=True)]
    docs = [(i, d) for i, d in docs if len(d) >= min_tokens]
    return docs[:max_docs] if max_docs else docs


def doc_ids(path: str, min_tokens: int = 0, max_docs: int | None = None) -> list[str]:
    """The ids of :func:`load_docs` (same selection, same order)."""
    return [i for i, _ in load_docs_with_ids(path, min_tokens, max_docs)]


def load(model_dir: str, method: str | None = None, factor: float | None = None, params: dict | None = None,
         temperature: str | None = None, threads: int = 1, device: str | None = None):
    """A checkpoint (its own saved spec restored), optionally re-extended with ``method`` at
    ``factor`` without fine-tuning. Returns ``(model, spec or None)``."""
    import torch

    from yarnlab.model import apply_scaling, load_model

    torch.set_num_threads(threads)
    model = load_model(model_dir)
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device).eval()
    spec = None
    if method:
        spec = spec_for(model_dir, method, factor, params, temperature)
        apply_scaling(model, spec)
    return model, spec


def spec_for(model_dir: str, method: str, factor: float | None = 1.0, params: dict | None = None,
             temperature: str | None = None):
    """The RopeSpec extending the checkpoint's own geometry with ``method`` at ``factor``."""
    from yarnlab.train.recipes import finetune_spec

    base_cfg = json.loads(Path(model_dir, "config.json").read_text())
    return finetune_spec(base_cfg, method, factor or 1.0, params or {}, temperature)


def write(path: str, rows: list[dict], params: dict) -> None:
    from yarnlab.io import write_table

    write_table(path, rows, params)
