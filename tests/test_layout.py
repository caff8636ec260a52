"""The layout shows the pipeline (README.md, the table of folders): data flows down, never back up.

Read from the source with `ast`, not by importing: the modules of `pipeline/` import one
another at module level without a cycle (an import inside a function, which runs only when
called, is how a stage reaches a later one on purpose, e.g. `check/validate.py` starting
the shards), and every module says in its docstring what it is for."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pipeline"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _top_level_imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The pipeline modules a module imports when it is loaded (statements at module level,
    also inside `try` and `if`, but not under `if TYPE_CHECKING`), other than the packages
    it is in."""
    found: set[str] = set()
    package = _module_name(path) if path.name == "__init__.py" \
        else _module_name(path).rpartition(".")[0]

    def visit(statements) -> None:
        for node in statements:
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                # a name that is a module is that module; any other, the module it is in
                found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                             for a in node.names)
            elif isinstance(node, ast.If):
                if "TYPE_CHECKING" not in ast.unparse(node.test):
                    visit(node.body)
                    visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    own = _module_name(path)
    # (a module's own packages are loaded before it whatever it imports: not an edge)
    return {name for name in found
            if name in modules and name != own and not own.startswith(name + ".")}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := walk(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := walk(node)):
            return found
    return None


def test_the_module_level_imports_of_the_pipeline_have_no_cycle():
    modules = _modules()
    graph = {name: _top_level_imports(path, modules) for name, path in modules.items()}
    assert graph["pipeline.shards.run"] >= {"pipeline.shards.cache", "pipeline.shards.model"}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_a_cycle_is_found_where_there_is_one():
    """The check itself: a graph with a cycle three steps long is reported."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert _cycle(graph) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_every_module_says_what_it_is_for():
    missing = [name for name, path in _modules().items()
               if not ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
               and path.stat().st_size > 0]
    assert not missing, missing
