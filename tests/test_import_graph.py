"""The import graph of the two packages: no cycle, and the library never reaches up into data_fetch.

``data_fetch`` builds on ``didan_lite`` (manifests, errors, folders); no module of ``didan_lite`` imports it, not even
inside a function or by name (``importlib.import_module``): the command line's ``--task`` finds data_fetch's
function through an entry point (``didan_lite.cli.TASK_ENTRY_POINT``).
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

PACKAGES = ("didan_lite", "data_fetch")


BY_NAME = ("import_module", "__import__")
"""Calls that import a module named by a string."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, top_level_only: bool, modules: set[str]) -> set[str]:
    """Modules of the two packages that ``path`` imports (every import, or only those run when it is imported);
    ``from package import module`` imports the module, not the package's own names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module for a in node.names}
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) in BY_NAME \
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            found.add(node.args[0].value)
    return {name for name in found if name.split(".")[0] in PACKAGES}


def _graph(top_level_only: bool) -> dict[str, set[str]]:
    paths = {_module_name(path): path for package in PACKAGES for path in (REPO / package).rglob("*.py")}
    return {name: {target for target in _imports(path, top_level_only, set(paths)) if target in paths and target != name}
            for name, path in paths.items()}


def test_the_library_never_imports_data_fetch():
    reaching_up = {name: sorted(t for t in targets if t.startswith("data_fetch"))
                   for name, targets in _graph(top_level_only=False).items() if name.startswith("didan_lite.")}
    offenders = {name: targets for name, targets in reaching_up.items() if targets}
    assert not offenders, f"didan_lite imports data_fetch: {offenders}"


def test_no_import_cycle_between_modules():
    graph = _graph(top_level_only=True)
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                cycle = trail[trail.index(target):] + [target] if target in trail else [name, target]
                raise AssertionError(f"import cycle: {' -> '.join(cycle)}")
            if target not in state:
                visit(target, [*trail, target])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
