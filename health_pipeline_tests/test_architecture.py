"""The layering holds: import-linter's contracts (pyproject.toml) are kept, no module takes part in an
import cycle (deferred imports included), no module of ours is imported inside a function, and every
top-level module sits in a layer."""

import ast
import tomllib
from pathlib import Path

import grimp
import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "health_pipeline"
# Third-party modules imported inside a function on purpose: slow to import and rarely needed.
LAZY = {("health_pipeline/sources/fitbit_takeout/clock.py", "pandas")}


def import_cycles(package: str) -> list[list[str]]:
    """Every set of modules of `package` that import each other, directly or in a ring (Tarjan's strongly
    connected components over grimp's graph, which sees imports inside functions and TYPE_CHECKING blocks too)."""
    graph = grimp.build_graph(package, cache_dir=None)
    modules = sorted(graph.modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(module: str) -> None:  # iterative forms read worse; the graph is a few hundred modules deep at most
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                connect(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1 or module in graph.find_modules_directly_imported_by(module):
                found.append(sorted(component))

    for module in modules:
        if module not in index:
            connect(module)
    return found


def test_the_import_contracts_are_kept() -> None:
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0


def test_no_module_takes_part_in_an_import_cycle() -> None:
    assert import_cycles("health_pipeline") == []


def test_the_cycle_check_finds_a_cycle_closed_inside_a_function(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "ringed"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from ringed import b\n")
    (package / "b.py").write_text("def later():\n    from ringed import c\n")
    (package / "c.py").write_text("def later():\n    import ringed.a\n")
    (package / "d.py").write_text("from ringed import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles("ringed") == [["ringed.a", "ringed.b", "ringed.c"]]


def test_no_module_of_ours_is_imported_inside_a_function() -> None:
    deferred = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for inner in ast.walk(node):
                names = ([inner.module or ""] if isinstance(inner, ast.ImportFrom) else
                         [a.name for a in inner.names] if isinstance(inner, ast.Import) else [])
                for name in names:
                    where = str(path.relative_to(ROOT))
                    if name.startswith("health_pipeline") or (where, name.split(".")[0]) not in LAZY:
                        deferred.append(f"{where}:{inner.lineno} {name}")
    assert deferred == []


def test_every_top_level_module_sits_in_a_layer() -> None:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    [layers] = [c["layers"] for c in contracts if c["type"] == "layers"]
    named = {name.strip() for layer in layers for name in layer.replace("|", ":").split(":")}
    top = {f"health_pipeline.{p.stem}" for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    top |= {f"health_pipeline.{p.parent.name}" for p in PACKAGE.glob("*/__init__.py")}
    assert top - named == {"health_pipeline.defs"}  # Dagster's autoloaded folder: whatever a user scaffolds
