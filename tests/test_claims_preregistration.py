"""Where the thresholds were fixed (yarnlab.claims.preregistration): amendments parsed from the file's
comments, the adding commit read from git, and the lines CLAIMS.md prints."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from yarnlab.claims.preregistration import amendments, lines, record

TEXT = """# Pre-registration of something.
#
# Amendment 1 (before any run): the first reason,
#   continued here.
#
registered: 2026-01-02
thresholds:
  a: 1
  # Amendment 2 (later): a second reason
  # on two lines
  b: 2
"""


def test_amendments_are_comment_paragraphs():
    assert amendments(TEXT) == ["Amendment 1 (before any run): the first reason, continued here.",
                                "Amendment 2 (later): a second reason on two lines"]
    assert amendments("thresholds: {a: 1}\n# no amendment here\n") == []


def _git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True,
                   capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_record_names_the_commit_that_added_the_file(tmp_path):
    f = tmp_path / "prereg.yaml"
    f.write_text(TEXT)
    assert record(f)["git_note"].startswith("git could not")  # not a checkout yet
    _git(tmp_path, "init", "-q")
    assert record(f)["git_note"] == "the file is not committed"
    _git(tmp_path, "add", "prereg.yaml")
    _git(tmp_path, "commit", "-q", "-m", "register")
    first = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=tmp_path, capture_output=True,
                           text=True).stdout.strip()
    f.write_text(TEXT + "  c: 3\n")
    _git(tmp_path, "commit", "-q", "-am", "amend it")
    rec = record(f)
    assert rec["registered_commit"] == first and rec["registered"] == "2026-01-02"
    assert [c.split(" ", 2)[2] for c in rec["commits"]] == ["register", "amend it"] and "git_note" not in rec
    text = "\n".join(lines(rec))
    assert f"added in commit {first} (registered 2026-01-02)" in text
    assert "- Amendment 2 (later): a second reason on two lines" in text and "amend it" in text
    f.write_text(TEXT)
    assert record(f)["git_note"] == "the file has uncommitted changes"


def test_missing_file_and_no_preregistration(tmp_path):
    with pytest.raises(FileNotFoundError, match="preregistration: no such file"):
        record(tmp_path / "nope.yaml")
    assert lines(None) == []
