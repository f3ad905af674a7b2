"""Helpers shared by the figure modules: matplotlib set-up, atomic PNG/PDF and table writing,
reading result tables, and the method colours."""

from __future__ import annotations

import json
from pathlib import Path

from yarnlab.errors import UsageError
from yarnlab.io import atomic_path, read_table

PAPER_NUMBERS = Path(__file__).with_name("paper_llama2.csv")
METHOD_STYLE = {
    "none": ("black", "RoPE (no scaling)"),
    "pi": ("tab:blue", "PI"),
    "ntk": ("tab:orange", "NTK-aware"),
    "yarn": ("tab:green", "YaRN"),
    "ntk-by-parts": ("tab:olive", "NTK-by-parts"),
    "dynamic-pi": ("tab:cyan", "Dynamic-PI"),
    "dynamic-ntk": ("tab:red", "Dynamic-NTK"),
    "dynamic-yarn": ("tab:purple", "Dynamic-YaRN"),
    "dynamic-yarn:none": ("tab:pink", "Dynamic-YaRN, m = 1"),
    "sliding": ("tab:gray", "RoPE, sliding window of L"),
}


def plt_():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, out: str) -> list[str]:
    """PNG (dpi 110, small enough to commit) and PDF, each written atomically."""
    written = []
    fig.tight_layout()
    for ext in ("png", "pdf"):
        with atomic_path(f"{out}.{ext}", suffix=f".{ext}") as tmp:
            fig.savefig(tmp, dpi=110, bbox_inches="tight", format=ext)
        written.append(f"{out}.{ext}")
    plt_().close(fig)
    return written


def table(rows: list[dict], out: str, inputs: list[str], note: str = "") -> list[str]:
    """CSV (+ provenance) and a Markdown rendering of the same rows."""
    from yarnlab.io import write_table_with_markdown

    write_table_with_markdown(rows, f"{out}.csv", {"inputs": [str(p) for p in inputs]}, note)
    return [f"{out}.csv", f"{out}.md"]


def rows_of(inputs: list[str]) -> list[dict]:
    rows = []
    for p in inputs:
        rows += read_table(p)
    if not rows:
        raise UsageError(f"inputs: no rows in {inputs}")
    return rows


def jsonl(path: str) -> list[dict]:
    return [json.loads(ln) for ln in Path(path).read_text().splitlines() if ln.strip()]


def options(name: str, given: dict, allowed: dict) -> dict:
    """The figure's options: ``allowed`` (name -> default) updated by ``given``; unknown keys raise."""
    bad = sorted(set(given) - set(allowed))
    if bad:
        raise UsageError(f"--set: unknown option(s) {bad} for figure {name}; allowed: {sorted(allowed) or 'none'}")
    return {**allowed, **given}
