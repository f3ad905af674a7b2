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


def module_graph() -> dict[str, set[str]]:
    """{yarnlab module: the yarnlab modules it imports}, imports inside functions included
    (``from yarnlab.a import b`` counts ``yarnlab.a.b`` when b is a module, else ``yarnlab.a``)."""
    pkg_root = ROOT / "yarnlab"
    files = {".".join(f.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): f
             for f in pkg_root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, f in files.items():
        found = set()
        for source, names in re.findall(r"^\s*from (yarnlab(?:\.\w+)*) import (\([^)]*\)|[^\n]+)", f.read_text(), re.M):
            subs = {f"{source}.{n}" for n in re.findall(r"\w+", names)} & set(files)
            found |= subs or ({source} & set(files))
        graph[name] = found - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[tuple[str, ...]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while (w := stack.pop()) != v:
                comp.append(w)
            if comp:
                out.append(tuple(sorted([v, *comp])))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def test_modules_import_in_no_circle():
    """Module by module (imports inside functions too): no circle, so, e.g., the Hugging Face reader
    and writer import one way (hf -> hf_read -> hf_write) and the ``yarnlab eval`` command modules
    share the evaluation session, not each other."""
    graph = module_graph()
    assert "yarnlab.rope.hf_write" in graph["yarnlab.rope.hf_read"]
    assert not graph["yarnlab.rope.hf_write"] & {"yarnlab.rope.hf", "yarnlab.rope.hf_read"}
    assert cycles(graph) == []


def test_eval_commands_share_the_session_and_not_each_other():
    """``evaluate/cli`` registers its siblings' sub-commands; none of them imports another command module."""
    graph = module_graph()
    commands = {f"yarnlab.evaluate.{n}" for n in ("cli", "cli_regime", "cli_scaling", "cli_docs")}
    for name in commands - {"yarnlab.evaluate.cli"}:
        assert not graph[name] & commands, name
    for name in ("cli", "cli_regime", "cli_scaling"):
        assert "yarnlab.evaluate.session" in graph[f"yarnlab.evaluate.{name}"], name


def test_the_cycle_finder_finds_a_circle_through_a_function_level_import():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [("a", "b", "c")]
    assert cycles({"a": {"b"}, "b": set()}) == []
