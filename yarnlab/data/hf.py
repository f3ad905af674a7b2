"""Long-document data sets for GPU boxes through Hugging Face ``datasets`` (the ``[gpu]`` extra).

``datasets`` is imported only inside :func:`load_hf_documents`. The registry below names the
hub repositories the YaRN evaluation and fine-tuning used (paper Sections 4.1, 4.3) and the
field holding each document's text:

- ``pg19``: PG19 books (fine-tuning data, paper Section 4.1), field ``text``.
- ``proof-pile``: Proof-pile (perplexity, Table 1/2: 10 test documents of >= 128k tokens), ``text``.
- ``govreport``: GovReport reports (Table 4: 50 documents of >= 16k tokens), field ``report``.

``source`` replaces the hub repository with a local one: a ``datasets.Dataset``, a file or list
of files (``.json``/``.jsonl``/``.parquet``/``.csv``) or a directory ``datasets`` can load. Tests use
that path, so nothing is downloaded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os

from yarnlab.errors import UsageError

HF_DATASETS = {
    "pg19": {"path": "emozilla/pg19", "name": None, "field": "text"},
    "proof-pile": {"path": "hoskinson-center/proof-pile", "name": None, "field": "text"},
    "govreport": {"path": "ccdv/govreport-summarization", "name": None, "field": "report"},
}

_FILE_BUILDERS = {".json": "json", ".jsonl": "json", ".parquet": "parquet", ".csv": "csv"}


@dataclasses.dataclass(frozen=True)
class TextDocument:
    """One in-memory document: ``name`` is ``<dataset>/<split>/<row index>``."""

    name: str
    text: str

    @property
    def data(self) -> bytes:
        return self.text.encode("utf-8")

    def manifest_row(self) -> dict:
        data = self.data
        return {"file": self.name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _open(source, split: str, entry: dict, cache_dir: str | None = None):
    try:
        import datasets
    except ModuleNotFoundError as exc:
        raise UsageError("hub data sets need the [gpu] extra: pip install 'yarnlab[gpu]'") from exc
    if source is None:
        return datasets.load_dataset(entry["path"], entry["name"], split=split, cache_dir=cache_dir)
    if isinstance(source, datasets.Dataset):
        return source
    if isinstance(source, datasets.DatasetDict):
        return source[split]
    files = [os.fspath(s) for s in source] if isinstance(source, list | tuple) else [os.fspath(source)]
    missing = [f for f in files if not os.path.exists(f)]
    if missing:
        raise UsageError(f"source: no such file or folder {missing}")
    ext = os.path.splitext(files[0])[1].lower()
    if ext in _FILE_BUILDERS:
        return datasets.load_dataset(_FILE_BUILDERS[ext], data_files={split: files}, split=split,
                                     cache_dir=cache_dir)
    return datasets.load_dataset(files[0], split=split, cache_dir=cache_dir)


def load_hf_documents(name: str, split: str = "test", source=None, field: str | None = None,
                      min_bytes: int = 0, max_docs: int | None = None,
                      cache_dir: str | None = None) -> list[TextDocument]:
    """Documents of data set ``name`` (a key of ``HF_DATASETS``) in row order.

    Keeps documents with at least ``min_bytes`` UTF-8 bytes (the paper selects documents by
    token length; with the byte tokenizer tokens are bytes), at most ``max_docs`` of them.
    """
    if name not in HF_DATASETS:
        raise UsageError(f"dataset: must be one of {sorted(HF_DATASETS)} (got {name!r})")
    if min_bytes < 0:
        raise UsageError(f"min_bytes: must be >= 0 (got {min_bytes})")
    if max_docs is not None and max_docs < 1:
        raise UsageError(f"max_docs: must be >= 1 (got {max_docs})")
    entry = HF_DATASETS[name]
    field = field or entry["field"]
    ds = _open(source, split, entry, cache_dir)
    if field not in ds.column_names:
        raise UsageError(f"field: {field!r} is not a column of {name} (columns: {ds.column_names})")
    docs = []
    for i, row in enumerate(ds):
        text = row[field]
        if len(text.encode("utf-8")) >= min_bytes:
            docs.append(TextDocument(f"{name}/{split}/{i}", text))
            if max_docs is not None and len(docs) >= max_docs:
                break
    return docs


def export_documents(docs: list[TextDocument], out_dir: str | os.PathLike) -> dict:
    """Write each document as ``<out_dir>/<dataset>__<split>__<row>.txt`` (atomically) and a
    ``manifest.json`` (file, bytes, sha256); the folder is then an ordinary directory corpus."""
    from pathlib import Path

    from yarnlab.io import atomic_write_bytes, write_json

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for doc in docs:
        path = out / (doc.name.replace("/", "__") + ".txt")
        atomic_write_bytes(path, doc.data)
        rows.append({**doc.manifest_row(), "file": path.name, "source": doc.name})
    manifest = {"documents": rows}
    write_json(out / "manifest.json", manifest, sort_keys=True, indent=1)
    return manifest
