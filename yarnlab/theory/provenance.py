"""Moved to :mod:`yarnlab.io` (atomic files and provenance for the whole package).

This name re-exports it for modules not yet switched; import from :mod:`yarnlab.io` instead.
"""

from yarnlab.io import git_revision, provenance, read_table, write_json, write_table

__all__ = ["git_revision", "provenance", "read_table", "write_json", "write_table"]
