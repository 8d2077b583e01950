"""The package's layers, read from its import statements (``ast``, nothing imported).

Each layer imports only the layers below it (``imu_monitor/<layer>/__init__.py`` says what it
may import); no import circle, not even one hidden in a function; bleak only in ``sources``,
Qt only in ``ui``, pylsl and pyxdf each in one module, and the Bumble test harness nowhere in
the package.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "imu_monitor"

CORE = {"model", "events", "exercises", "errors", "settings", "files"}
RANK = {
    "core": 0,
    "devices": 1,
    "processing": 1,
    "simulator": 2,
    "storage": 2,
    "sources": 3,
    "app": 4,
    "report": 4,
    "ui": 5,
    "cli": 6,
}
"""A module may import modules of a lower rank or of its own layer. Layers of equal rank do not
import each other."""
FACADES = {"imu_monitor", "imu_monitor.__main__"}
"""The package's public face (``import imu_monitor as im``; ``python -m imu_monitor``)."""
ONLY_IN = {
    "bleak": "sources",
    "PySide6": "ui",
    "pyqtgraph": "ui",
    "shiboken6": "ui",
    "matplotlib": "report",
}
ONLY_MODULE = {"pylsl": "imu_monitor.app.lsl", "pyxdf": "imu_monitor.storage.importers.xdf"}
"""Libraries one module wraps: the LSL outlets and the XDF importer."""
NEVER = {"bumble"}


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # a module of the package (the longest existing prefix of what is named)
    line: int
    in_function: bool


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports() -> tuple[list[Import], dict[str, set[str]]]:
    ours: set[Import] = set()
    external: dict[str, set[str]] = {}
    for mod, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        pkg = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        in_fn: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                in_fn.update(id(n) for n in ast.walk(node))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                # ``from pkg import submodule`` imports the submodule, ``from mod import x`` mod
                names = [
                    f"{module}.{a.name}" if f"{module}.{a.name}" in MODULES else module
                    for a in node.names
                ]
            for name in names:
                top = name.partition(".")[0]
                if top != "imu_monitor":
                    external.setdefault(mod, set()).add(top)
                    continue
                target = _resolve(name)
                if target is not None and target != mod:
                    ours.add(Import(mod, target, node.lineno, id(node) in in_fn))
    return sorted(ours, key=lambda i: (i.importer, i.line, i.target)), external


IMPORTS, EXTERNAL = _imports()


def layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in CORE or parts[1] == "__main__":
        return "core"
    return parts[1]


def test_every_module_belongs_to_a_known_layer():
    unknown = {m for m in MODULES if m not in FACADES and layer(m) not in RANK}
    assert not unknown, f"modules outside the layers: {sorted(unknown)}"


def test_each_layer_imports_only_layers_below():
    wrong = [
        f"{i.importer}:{i.line} imports {i.target}"
        for i in IMPORTS
        if i.importer not in FACADES
        and layer(i.importer) != layer(i.target)
        and RANK[layer(i.importer)] <= RANK[layer(i.target)]
    ]
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


def test_no_import_inside_a_function_except_the_lazy_ui():
    """Only the command line imports the UI inside a function, so that headless commands never
    load Qt."""
    wrong = [
        f"{i.importer}:{i.line} imports {i.target} inside a function"
        for i in IMPORTS
        if i.in_function
        and i.importer not in FACADES  # the Python API is loaded on first use
        and not (layer(i.importer) == "cli" and layer(i.target) == "ui")
    ]
    assert not wrong, "\n".join(wrong)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_no_import_circle():
    edges: dict[str, set[str]] = {}
    for i in IMPORTS:
        if i.importer not in FACADES:
            edges.setdefault(i.importer, set()).add(i.target)
    assert _cycles(edges) == []


def test_the_circle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("lib", sorted(ONLY_IN))
def test_libraries_stay_in_their_layer(lib):
    wrong = sorted(m for m, libs in EXTERNAL.items() if lib in libs and layer(m) != ONLY_IN[lib])
    assert not wrong, f"{lib} imported outside {ONLY_IN[lib]}/: {wrong}"


@pytest.mark.parametrize("lib", sorted(ONLY_MODULE))
def test_libraries_stay_in_their_module(lib):
    users = sorted(m for m, libs in EXTERNAL.items() if lib in libs)
    assert users == [ONLY_MODULE[lib]], f"{lib} imported outside {ONLY_MODULE[lib]}: {users}"


def test_no_test_harness_in_the_package():
    wrong = sorted(m for m, libs in EXTERNAL.items() if libs & NEVER)
    assert not wrong, f"imported in the package: {wrong}"


def test_each_layer_says_what_it_holds():
    for name in RANK:
        if name == "core":
            continue
        init = PACKAGE / name / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "import" in doc.lower(), (
            f"{init} needs a docstring saying what it may import"
        )
