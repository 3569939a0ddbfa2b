"""Which way imports point: the import-linter contracts in pyproject.toml, and no cycles between modules.

A broken contract fails with import-linter's report: each offending import, its file and line.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).parent.parent
PYPROJECT = ROOT / "pyproject.toml"
# import-linter's own command, in its own process: it configures logging for the whole process.
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONTRACTS = [c["id"] for c in tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One grimp cache for the module's runs: the graph is built once."""
    return str(tmp_path_factory.mktemp("import-linter-cache"))


@pytest.mark.parametrize("contract", CONTRACTS)
def test_contract_holds(contract: str, cache_dir: str) -> None:
    command = [LINT_IMPORTS, PYPROJECT, "--contract", contract, "--cache-dir", cache_dir, "--no-logo"]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("strides", cache_dir=None)


def test_the_symlinked_folders_are_in_the_graph(graph: grimp.ImportGraph) -> None:
    for folder in ("flows", "rules", "integrations"):
        modules = {f"strides.{folder}.{p.stem}" for p in (ROOT / folder).glob("*.py") if p.stem != "__init__"}
        assert modules and modules <= graph.modules, folder


def test_the_package_root_holds_only_the_version() -> None:
    graph = grimp.build_graph("strides", cache_dir=None, include_external_packages=True)
    assert graph.find_modules_directly_imported_by("strides") == set()


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The import cycles among modules: each strongly connected set of two or more (Tarjan)."""
    imports = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in imports[module]:
            if imported not in index:
                visit(imported)
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
            if len(component) > 1:
                found.append(sorted(component))

    for module in imports:
        if module not in index:
            visit(module)
    return sorted(found)


def test_no_import_cycles_between_modules(graph: grimp.ImportGraph) -> None:
    """Every import counts, inside functions and under TYPE_CHECKING too; a package's __init__ is a module
    (which the acyclic_siblings contract, looking at siblings only, does not see)."""
    cycles = _cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(
        "  " + " <-> ".join(cycle) + "".join(_lines(graph, cycle)) for cycle in cycles
    )


def _lines(graph: grimp.ImportGraph, cycle: list[str]) -> list[str]:
    members = set(cycle)
    return [
        f"\n      {detail['importer']}:{detail['line_number']} {detail['line_contents']}"
        for importer in cycle
        for imported in sorted(graph.find_modules_directly_imported_by(importer) & members)
        for detail in graph.get_import_details(importer=importer, imported=imported)
    ]


def test_the_cycle_finder_finds_a_cycle_and_its_lines() -> None:
    graph = grimp.ImportGraph()
    graph.add_import(importer="p.a", imported="p.b", line_number=3, line_contents="from p import b")
    graph.add_import(importer="p.b", imported="p", line_number=4, line_contents="import p")
    graph.add_import(importer="p", imported="p.a", line_number=1, line_contents="from p import a")
    graph.add_import(importer="p.c", imported="p.a", line_number=2, line_contents="from p import a")
    assert _cycles(graph) == [["p", "p.a", "p.b"]]
    assert "p.b:4 import p" in "".join(_lines(graph, ["p", "p.a", "p.b"]))
