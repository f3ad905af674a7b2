"""Where a run's regime thresholds were fixed: the pre-registration file a workflow config names, the
commit that added it, its later commits and the amendments it records.

:func:`record` is read by the workflow's ``claims_settings`` and printed by CLAIMS.md above the regime
table, so a reader sees when the thresholds were fixed and every change since, each with its reason
(the file's ``# Amendment N (...)`` comment paragraphs). Standard library and PyYAML only.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

AMENDMENT = re.compile(r"^\s*#\s*(Amendment \d+\b.*)$")


def amendments(text: str) -> list[str]:
    """Each ``# Amendment N ...`` comment paragraph of a pre-registration file, joined into one line
    (a paragraph ends at the first line that is not a comment or is a bare ``#``)."""
    out, cur = [], None
    for line in text.splitlines():
        m = AMENDMENT.match(line)
        if m:
            if cur is not None:
                out.append(cur)
            cur = m.group(1).strip()
            continue
        body = line.strip()
        if cur is not None and body.startswith("#") and body.lstrip("#").strip():
            cur += " " + body.lstrip("#").strip()
        elif cur is not None:
            out.append(cur)
            cur = None
    if cur is not None:
        out.append(cur)
    return out


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def record(path: str | Path) -> dict:
    """``{path, registered, registered_commit, commits, amendments}`` of a pre-registration file.

    ``registered``: its ``registered:`` date; ``registered_commit``: the commit that added the file;
    ``commits``: every commit that changed it, oldest first, as ``"<short hash> <ISO date> <subject>"``
    (``git_note`` says why when git cannot tell: no git, not a checkout, an uncommitted file)."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"preregistration: no such file {str(path)!r}")
    text = p.read_text()
    doc = yaml.safe_load(text) or {}
    out = {"path": str(path), "registered": str(doc.get("registered", "")) or None,
           "registered_commit": None, "commits": [], "amendments": amendments(text)}
    where = p.resolve().parent
    if _git(["rev-parse", "--is-inside-work-tree"], where) != "true":
        out["git_note"] = "git could not read the file's history (no git, or not a checkout)"
        return out
    log = _git(["log", "--follow", "--format=%h %ad %s", "--date=short", "--", p.name], where)
    if not log:  # no commit yet, or none with this file
        out["git_note"] = "the file is not committed"
        return out
    commits = log.splitlines()[::-1]
    out["commits"] = [c if len(c) <= 140 else c[:137] + "..." for c in commits]
    out["registered_commit"] = commits[0].split(" ", 1)[0]
    dirty = _git(["status", "--porcelain", "--", p.name], where)
    if dirty:
        out["git_note"] = "the file has uncommitted changes"
    return out


def lines(rec: dict | None) -> list[str]:
    """The Markdown lines CLAIMS.md prints for ``rec`` (nothing without a pre-registration)."""
    if not rec:
        return []
    head = f"Thresholds pre-registered in `{rec['path']}`"
    if rec.get("registered_commit"):
        head += f", added in commit {rec['registered_commit']}"
    if rec.get("registered"):
        head += f" (registered {rec['registered']})"
    out = [head + "." + (f" {rec['git_note'].capitalize()}." if rec.get("git_note") else ""), ""]
    if len(rec.get("commits", [])) > 1:
        out += ["Later commits to it:", ""] + [f"- {c}" for c in rec["commits"][1:]] + [""]
    if rec.get("amendments"):
        out += ["Amendments it records, each with its reason:", ""] + [f"- {a}" for a in rec["amendments"]] + [""]
    return out
