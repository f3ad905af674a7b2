"""Exceptions shared by every layer.

``UsageError`` is what the command line turns into exit code 2 with the message and no traceback.
"""

from __future__ import annotations


class UsageError(ValueError):
    """Bad input from a user: a field outside its allowed range, an unknown name, a missing file."""


class SpecError(UsageError):
    """A scaling spec failed validation. ``problems`` lists every problem found, one string each.

    Each problem names the field, the constraint and the value received, e.g.
    ``factor: must be >= 1 (got 0.5)``.
    """

    def __init__(self, problems: list[str], context: str = "RopeSpec"):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid {context} ({len(self.problems)} problem(s)):\n{lines}")


class StaleCheckpoint(UsageError):
    """``--resume`` found checkpoints written under other settings (they were left untouched).

    The command line exits with :attr:`exit_code` 3, distinct from every other usage error (2), so
    a caller may move the checkpoints aside (``--set-aside-stale``) on this signal and on no other.
    """

    exit_code = 3
