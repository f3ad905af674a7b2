"""docs/architecture.md's import graph is the package's: computed from the source, compared line by line."""

from __future__ import annotations

import ast
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
    (``from yarnlab.a import b`` counts ``yarnlab.a.b`` when b is a module, else ``yarnlab.a``), and
    ``yarnlab.cli``'s command modules, which it imports by name."""
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
    from yarnlab.cli import COMMAND_MODULES  # loaded by name (importlib), an import all the same

    graph["yarnlab.cli"] |= set(COMMAND_MODULES)
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
    """Module by module (imports inside functions too, and the command modules ``yarnlab.cli`` loads by
    name): no circle, so, e.g., the Hugging Face reader and writer import one way (hf -> hf_read ->
    hf_write) and the ``yarnlab eval`` command modules share the evaluation session, not each other."""
    graph = module_graph()
    assert "yarnlab.rope.hf_write" in graph["yarnlab.rope.hf_read"]
    assert not graph["yarnlab.rope.hf_write"] & {"yarnlab.rope.hf", "yarnlab.rope.hf_read"}
    assert cycles(graph) == []


def test_no_module_imports_the_command_line_front_back():
    """``yarnlab.cli`` loads the area command modules; only the ``python -m yarnlab`` entry imports it
    (the helpers they share live in the leaf ``yarnlab.cli_support``)."""
    graph = module_graph()
    assert sorted(m for m, deps in graph.items() if "yarnlab.cli" in deps) == ["yarnlab.__main__"]
    assert graph["yarnlab.cli_support"] <= {"yarnlab.errors"}


def test_eval_commands_share_the_session_and_not_each_other():
    """``evaluate/cli`` registers its siblings' sub-commands; none of them imports another command module."""
    graph = module_graph()
    commands = {f"yarnlab.evaluate.{n}" for n in ("cli", "cli_regime", "cli_scaling", "cli_docs")}
    for name in commands - {"yarnlab.evaluate.cli"}:
        assert not graph[name] & commands, name
    for name in ("cli", "cli_regime", "cli_scaling"):
        assert "yarnlab.evaluate.session" in graph[f"yarnlab.evaluate.{name}"], name


def private_imports(root: Path = ROOT / "yarnlab") -> list[str]:
    """``file:line: name`` of every private name (``_x``, not ``__x__``) one module takes from another
    yarnlab module: ``from yarnlab.a import _x``, or ``m._x`` where ``m`` names a yarnlab module
    (``import yarnlab.a as m``, ``from yarnlab import a``, ``yarnlab.a._x``)."""
    def private(name: str) -> bool:
        return name.startswith("_") and not name.startswith("__")

    found = []
    for f in sorted(root.rglob("*.py")):
        tree = ast.parse(f.read_text())
        where = f.relative_to(root.parent)
        package = ".".join(where.with_suffix("").parts[:-1] if f.name != "__init__.py" else where.parent.parts)
        modules: set[str] = set()  # local names bound to yarnlab modules (or packages)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = node.module or ""
                if node.level:  # relative: resolved against this file's package
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join([*base, *([source] if source else [])])
                if source.split(".")[0] != "yarnlab":
                    continue
                for alias in node.names:
                    if private(alias.name):
                        found.append(f"{where}:{node.lineno}: from {source} import {alias.name}")
                    elif (root.parent / Path(*source.split("."), alias.name)).with_suffix(".py").exists() or \
                            (root.parent / Path(*source.split("."), alias.name)).is_dir():
                        modules.add(alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "yarnlab":
                        if any(private(part) for part in alias.name.split(".")):
                            found.append(f"{where}:{node.lineno}: import {alias.name}")
                        modules.add(alias.asname or "yarnlab")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and private(node.attr):
                chain = node.value
                while isinstance(chain, ast.Attribute):
                    chain = chain.value
                if isinstance(chain, ast.Name) and chain.id in modules:
                    found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_module_takes_a_private_name_from_another():
    """What modules share is public (no leading underscore), so a private name can change with its module."""
    assert private_imports() == []


def test_the_private_import_finder_finds_each_form(tmp_path):
    pkg = tmp_path / "yarnlab"
    (pkg / "a").mkdir(parents=True)
    (pkg / "a" / "__init__.py").write_text("")
    (pkg / "a" / "b.py").write_text("def _hidden(): pass\n")
    (pkg / "c.py").write_text("import yarnlab.a.b as m\nfrom yarnlab.a import b\nfrom yarnlab.a.b import _hidden\n"
                              "from .a.b import _hidden as h\nfrom yarnlab.a.b import __doc__\n"
                              "def f():\n    return m._hidden, b._hidden, b.public, yarnlab_like._x\n")
    got = private_imports(pkg)
    assert got == ["yarnlab/c.py:3: from yarnlab.a.b import _hidden", "yarnlab/c.py:4: from yarnlab.a.b import _hidden",
                   "yarnlab/c.py:7: m._hidden", "yarnlab/c.py:7: b._hidden"]


def test_the_cycle_finder_finds_a_circle_through_a_function_level_import():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [("a", "b", "c")]
    assert cycles({"a": {"b"}, "b": set()}) == []
