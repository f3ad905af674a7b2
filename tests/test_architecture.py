"""docs/architecture.md's import graph is the package's: computed from the source, compared line by line."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measured() -> dict[str, set[str]]:
    """{package or package/cli: yarnlab packages it imports (itself excluded)}."""
    deps: dict[str, set[str]] = defaultdict(set)
    pkg_root = ROOT / "yarnlab"
    for f in pkg_root.rglob("*.py"):
        parts = f.relative_to(pkg_root).parts
        pkg = parts[0].removesuffix(".py")
        if pkg == "__main__":
            continue
        node = f"{pkg}/cli" if len(parts) > 1 and parts[-1] == "cli.py" else pkg
        deps[node] |= {m for m in re.findall(r"^\s*(?:from|import) yarnlab\.(\w+)", f.read_text(), re.M)
                       if m != pkg}
    return {k: v for k, v in deps.items() if v}


def documented() -> dict[str, set[str]]:
    text = (ROOT / "docs" / "architecture.md").read_text()
    block = re.search(r"```imports\n(.*?)```", text, re.S).group(1)
    return {k.strip(): {x.strip() for x in v.split(",")} for k, v in
            (line.split(":", 1) for line in block.strip().splitlines())}


def test_documented_import_graph_is_the_measured_one():
    got, doc = measured(), documented()
    assert sorted(got) == sorted(doc), "nodes differ"
    for node in got:
        assert got[node] == doc[node], f"{node}: imports {sorted(got[node])}, documented {sorted(doc[node])}"
