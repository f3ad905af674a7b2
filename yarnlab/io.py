"""Result files: one atomic primitive, one file mode, one provenance schema (numpy only).

Every result the package writes goes through this module:

- :func:`atomic_path` yields a temporary path beside the target; on success the temporary is
  given :data:`FILE_MODE` and renamed over the target with ``os.replace`` (atomic on POSIX, so a
  reader sees the old file or the new one, never half of one); on error it is removed.
  :func:`atomic_write_text` / :func:`atomic_write_bytes` are the one-call forms. A directory
  (e.g. a Hugging Face ``save_pretrained`` folder) may be produced at the temporary path too: it
  is renamed as a whole (and must not exist yet at the target). :func:`atomic_files` moves the
  files of a temporary folder one by one into an existing folder.
- :func:`provenance` is the record saved beside every result: package, version, git revision,
  ``git_dirty`` (separate boolean: uncommitted changes to tracked files of the package checkout),
  python / numpy versions (torch / transformers when already imported), the parameters, the UTC
  time, and any extra fields.
- :func:`write_json`, :func:`write_table` (CSV + ``<file>.provenance.json`` sidecar) and
  :func:`read_table` (numeric cells back to int / float).

A table is a list of dicts (one per row, same keys).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import io as _io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from yarnlab import __version__
from yarnlab.errors import UsageError

FILE_MODE = 0o644
"""Mode of every result file: readable by everyone (``mkstemp`` alone would leave 0600)."""

DIR_MODE = 0o755
"""Mode of a directory produced through :func:`atomic_path` (``mkdtemp`` alone would leave 0700)."""


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path in ``path``'s folder; rename it to ``path`` when the block succeeds.

    The caller writes a file (or creates a directory) at the yielded path. On success the result
    gets :data:`FILE_MODE` (a directory :data:`DIR_MODE`) and is ``os.replace``-d onto ``path``;
    if the block raises, whatever was written there is removed and the target is left untouched.
    ``suffix`` ends the temporary name (e.g. ``".npz"`` for writers that append their own).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()  # the caller creates it (as a file or a directory)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"{path.name}: nothing was written to the temporary path {tmp.name}")
        os.chmod(tmp, DIR_MODE if tmp.is_dir() else FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_files(folder: str | os.PathLike) -> Iterator[Path]:
    """Yield a fresh temporary folder inside ``folder``; on success move each file written there
    into ``folder`` (each one by one ``os.replace``, mode :data:`FILE_MODE`), then remove it.

    For writers that produce several files at once into a folder that already holds others
    (``save_pretrained`` into a training run's folder). On error nothing is moved."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder, prefix=".files.", suffix=".tmp"))
    try:
        yield tmp
        for f in sorted(tmp.iterdir()):
            if f.is_dir():
                raise IsADirectoryError(f"atomic_files: {f.name}: only files can be moved")
            os.chmod(f, FILE_MODE)
            os.replace(f, folder / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (mode :data:`FILE_MODE`); return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically; return the path."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    return Path(path)


def plain(v: Any) -> Any:
    """``v`` with numpy scalars / arrays turned into Python numbers / lists (recursively)."""
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [plain(x) for x in v]
    return v


def _head_from_files(here: Path) -> str | None:
    """The commit HEAD names, read from the ``.git`` folder above ``here`` without running git
    (which refuses a checkout owned by another user)."""
    for d in (here, *here.parents):
        git = d / ".git"
        if git.is_file():  # a worktree or submodule: "gitdir: <path>"
            text = git.read_text().strip()
            git = (d / text.split(":", 1)[1].strip()) if text.startswith("gitdir:") else git
        if not git.is_dir():
            continue
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref:"):
            return head or None
        ref = head.split(":", 1)[1].strip()
        common = git / "commondir"
        roots = [git] + ([(git / common.read_text().strip()).resolve()] if common.is_file() else [])
        for root in roots:
            if (root / ref).is_file():
                return (root / ref).read_text().strip() or None
            packed = root / "packed-refs"
            if packed.is_file():
                for line in packed.read_text().splitlines():
                    if line.endswith(" " + ref):
                        return line.split(" ", 1)[0]
        return None
    return None


def git_state() -> tuple[str | None, bool | None, str | None]:
    """``(revision, dirty, why)`` of the git checkout holding this package.

    ``dirty`` is True when tracked files under the package folder have uncommitted changes. When git
    cannot be run (not installed, or it refuses the checkout), the revision is read from the
    ``.git`` folder itself and ``dirty`` is None; ``why`` says what went wrong (None when git ran),
    and the revision is None only outside any checkout (an installed wheel)."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                             timeout=5, check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", str(here)],
                                cwd=here, capture_output=True, text=True, timeout=5, check=True).stdout
        if rev:
            return rev, bool(status.strip()), None
        why = "git rev-parse HEAD printed nothing"
    except subprocess.CalledProcessError as exc:
        why = "git: " + ((exc.stderr or "").strip().splitlines() or [f"exit {exc.returncode}"])[0]
    except (OSError, subprocess.SubprocessError) as exc:
        why = f"git could not run ({type(exc).__name__})"
    try:
        rev = _head_from_files(here)
    except OSError:
        rev = None
    if rev is None:
        return None, None, f"no git checkout above {here.name}/ could be read ({why})"
    return rev, None, f"revision read from .git without git; working-tree state unknown ({why})"


def git_revision() -> str | None:
    """The revision of the checkout holding this package, or None (see :func:`git_state`)."""
    return git_state()[0]


def provenance(params: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The provenance record saved beside every result (one schema for the whole package).

    Keys: ``package``, ``version``, ``git_revision``, ``git_dirty`` (``git_note`` when git could not
    say, see :func:`git_state`), ``python``, ``numpy``,
    ``torch`` / ``transformers`` (only when the process has imported them, else absent),
    ``created_utc``, ``parameters`` (``params``), then ``extra`` (which may override none of the
    keys above except the library versions)."""
    rev, dirty, why = git_state()
    rec: dict[str, Any] = {"package": "yarnlab", "version": __version__, "git_revision": rev,
                           "git_dirty": dirty, "python": platform.python_version(), "numpy": np.__version__}
    if why is not None:
        rec["git_note"] = why
    for lib in ("torch", "transformers"):
        mod = sys.modules.get(lib)
        if mod is not None and hasattr(mod, "__version__"):
            rec[lib] = str(mod.__version__)
    rec["created_utc"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    rec["parameters"] = plain(params)
    clash = set(extra) & {"package", "version", "git_revision", "git_dirty", "git_note", "created_utc", "parameters"}
    if clash:
        raise UsageError(f"provenance: extra fields may not replace {sorted(clash)}")
    return {**rec, **plain(extra)}


def write_json(path: str | os.PathLike, obj: Any, *, sort_keys: bool = False, indent: int = 2) -> Path:
    """Write ``obj`` as JSON (numpy values made plain) to ``path`` atomically; return the path."""
    return atomic_write_text(path, json.dumps(plain(obj), indent=indent, sort_keys=sort_keys) + "\n")


def write_table(path: str | os.PathLike, rows: list[dict], params: dict[str, Any],
                record: dict | None = None) -> Path:
    """Write ``rows`` as CSV at ``path`` and its ``<name>.provenance.json`` sidecar, both atomically.

    The sidecar is ``record`` (default ``provenance(params)``) plus ``file`` and ``rows`` (count).
    Floats are written with ``repr`` so that :func:`read_table` reads back the same numbers."""
    path = Path(path)
    if not rows:
        raise UsageError(f"{path.name}: no rows to write")
    fields = list(rows[0])
    buf = _io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row[k]) for k in fields})
    atomic_write_text(path, buf.getvalue())
    rec = record if record is not None else provenance(params)
    write_json(path.with_name(path.name + ".provenance.json"), {**rec, "file": path.name, "rows": len(rows)})
    return path


def _cell(v: Any) -> Any:
    v = plain(v)
    return repr(v) if isinstance(v, float) else v


def parse_cell(v: str) -> Any:
    """A CSV cell as int, else float, else the string itself."""
    for kind in (int, float):
        try:
            return kind(v)
        except ValueError:
            pass
    return v


def read_table(path: str | os.PathLike) -> list[dict]:
    """Read a CSV written by :func:`write_table`; numeric cells become int or float."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"table: file not found: {path}")
    with open(path, newline="", encoding="utf-8") as fh:
        return [{k: parse_cell(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def markdown_table(rows: list[dict], note: str = "") -> str:
    """The rows as a Markdown table (floats to 4 significant digits), the note in italics above."""
    keys = list(rows[0])

    def cell(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    lines = ([f"_{note}_", ""] if note else []) + ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(cell(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def write_table_with_markdown(rows: list[dict], out_csv: str | os.PathLike, params: dict[str, Any],
                              note: str = "") -> list[str]:
    """``out_csv`` (+ provenance, the note among its parameters) and its Markdown twin (same stem,
    ``.md``); no rows is an error and writes nothing."""
    if not rows:
        raise UsageError(f"summary {out_csv}: no rows")
    write_table(out_csv, rows, {**params, "note": note})
    md = str(out_csv).rsplit(".", 1)[0] + ".md"
    atomic_write_text(md, markdown_table(rows, note))
    return [str(out_csv), md]
