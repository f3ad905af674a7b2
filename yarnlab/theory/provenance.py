"""Result tables: atomic CSV/JSON writes, a JSON provenance sidecar per result, and CSV reading.

A table is a list of dicts (one per row, same keys). ``write_table(path, rows, params)`` writes
``path`` (CSV) and ``path + '.provenance.json'`` holding the package version, the git revision when
the package sits in a git checkout, the parameters, the row count and the UTC time.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import os
import platform
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from yarnlab import __version__
from yarnlab.errors import UsageError


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    return v


def git_revision() -> str | None:
    """``git rev-parse HEAD`` of the checkout holding this package (with ``-dirty``), or None."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                             timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", str(here)],
                               cwd=here, capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return rev + ("-dirty" if dirty else "") if rev else None


def provenance(params: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The provenance record: package, version, git revision, python/numpy versions, parameters, time."""
    return {"package": "yarnlab", "version": __version__, "git_revision": git_revision(),
            "python": platform.python_version(), "numpy": np.__version__,
            "created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "parameters": _plain(params), **_plain(extra)}


def write_json(path: str | Path, obj: Any) -> Path:
    path = Path(path)
    _atomic_write_text(path, json.dumps(_plain(obj), indent=2, sort_keys=False) + "\n")
    return path


def write_table(path: str | Path, rows: list[dict], params: dict[str, Any], record: dict | None = None) -> Path:
    """Write ``rows`` as CSV at ``path`` (atomically) and its ``.provenance.json`` sidecar."""
    path = Path(path)
    if not rows:
        raise UsageError(f"{path.name}: no rows to write")
    fields = list(rows[0])
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _fmt(row[k]) for k in fields})
    _atomic_write_text(path, buf.getvalue())
    rec = record if record is not None else provenance(params)
    write_json(path.with_name(path.name + ".provenance.json"), {**rec, "file": path.name, "rows": len(rows)})
    return path


def _fmt(v: Any) -> Any:
    v = _plain(v)
    if isinstance(v, float):
        return repr(v)
    return v


def _parse(v: str) -> Any:
    try:
        i = int(v)
        return i
    except ValueError:
        pass
    try:
        return float(v)
    except ValueError:
        return v


def read_table(path: str | Path) -> list[dict]:
    """Read a CSV written by :func:`write_table`; numeric cells become int or float."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"table: file not found: {path}")
    with open(path, newline="") as fh:
        return [{k: _parse(v) for k, v in row.items()} for row in csv.DictReader(fh)]
