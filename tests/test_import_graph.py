"""The provider's import graph: no cycles, no imports of the other distributions, and the
compiler loaded only where a DAG is compiled or a definition validated.

Module-level imports are read with :mod:`ast` (statements that run when the module is imported:
top level, ``if``/``try`` blocks and class bodies; not function bodies, not ``if TYPE_CHECKING``).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "airflow_sfn_etl"
OTHER_DISTRIBUTIONS = ("airflow_sfn_etl_sandbox", "airflow_sfn_etl_flows", "benchmarks")
COMPILER = f"{PACKAGE}.asl"
#: Packages whose modules DAG files and workers import: none may load the compiler.
RUNTIME_PACKAGES = ("operators", "sensors", "triggers", "links", "utils")


def module_files(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every module of ``package`` under ``root``."""
    out = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(body: list[ast.stmt], *, module_level: bool) -> list[ast.Import | ast.ImportFrom]:
    """Import statements of ``body``; with ``module_level`` only those that run at import time."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if not module_level:
                found += _import_nodes(node.body, module_level=False)
        elif isinstance(node, ast.If) and module_level and _is_type_checking(node.test):
            found += _import_nodes(node.orelse, module_level=True)
        else:
            for field in ("body", "orelse", "finalbody", "handlers"):
                children = getattr(node, field, None) or []
                for child in children:
                    inner = child.body if isinstance(child, ast.ExceptHandler) else [child]
                    found += _import_nodes(inner, module_level=module_level)
    return found


def imported_names(name: str, path: Path, known: set[str], *, module_level: bool = True) -> set[str]:
    """Absolute names of what module ``name`` imports: a module of ``known`` when the target is one."""
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8")).body, module_level=module_level):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
            continue
        base = node.module or ""
        if node.level:
            anchor = name.split(".") if is_package else name.split(".")[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, *([base] if base else [])])
        for alias in node.names:
            candidate = f"{base}.{alias.name}"
            out.add(candidate if candidate in known else base)
    return out


def import_graph(root: Path, package: str, *, module_level: bool = True) -> dict[str, set[str]]:
    """Module -> the package's modules it imports."""
    files = module_files(root, package)
    known = set(files)
    return {
        name: {target for target in imported_names(name, path, known, module_level=module_level) if target in known}
        for name, path in files.items()
    }


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        for nxt in graph[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def assert_acyclic(graph: dict[str, set[str]]) -> None:
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as error:
        pytest.fail("import cycle: " + " -> ".join(error.args[1]))


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(ROOT, PACKAGE)


def test_the_walker_sees_the_package_and_its_imports(graph):
    assert len(graph) > 50
    assert f"{PACKAGE}.utils.sfn_definition" in graph[f"{PACKAGE}.operators.step_function_deploy"]
    assert f"{PACKAGE}.asl.fragments.registry" in graph[f"{PACKAGE}.asl.builder"]
    assert f"{PACKAGE}.operators.step_function_run" in graph[f"{PACKAGE}.operators.step_function"]
    # The compiler is imported inside the functions that compile or validate: not at module level.
    assert graph[f"{PACKAGE}.utils.sfn_definition"] == set()
    everywhere = import_graph(ROOT, PACKAGE, module_level=False)
    assert {COMPILER, f"{COMPILER}.loader"} <= everywhere[f"{PACKAGE}.utils.sfn_definition"]


def test_the_walker_finds_a_cycle(tmp_path):
    pkg = tmp_path / "cyc"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from .b import B\n")
    (pkg / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from cyc import c\n"
                              "from cyc.sub import b\n")
    (pkg / "sub" / "b.py").write_text("class B:\n    from .. import a\n")
    (pkg / "c.py").write_text("def f():\n    from cyc import a\n")
    found = import_graph(tmp_path, "cyc")
    assert found["cyc.a"] == {"cyc.sub.b"}
    assert found["cyc.sub"] == {"cyc.sub.b"}
    assert found["cyc.sub.b"] == {"cyc.a"}
    assert found["cyc.c"] == set()
    assert import_graph(tmp_path, "cyc", module_level=False)["cyc.c"] == {"cyc.a"}
    with pytest.raises(pytest.fail.Exception, match="import cycle"):
        assert_acyclic(found)


def test_no_import_cycle_in_the_package(graph):
    assert_acyclic(graph)


def test_the_package_never_imports_the_other_distributions():
    files = module_files(ROOT, PACKAGE)
    for name, path in files.items():
        imported = imported_names(name, path, set(files), module_level=False)
        bad = {m for m in imported if m.split(".")[0] in OTHER_DISTRIBUTIONS}
        assert not bad, f"{name} imports {sorted(bad)}"


def test_the_compiler_never_imports_an_operator_sensor_or_trigger_module():
    files = module_files(ROOT, PACKAGE)
    for name, path in files.items():
        if name == COMPILER or name.startswith(COMPILER + "."):
            imported = imported_names(name, path, set(files), module_level=False)
            bad = {m for m in imported if m.split(".")[:2] in (
                [PACKAGE, "operators"], [PACKAGE, "sensors"], [PACKAGE, "triggers"]
            )}
            assert not bad, f"{name} imports {sorted(bad)}"


def test_runtime_modules_do_not_reach_the_compiler_at_module_level(graph):
    for name in graph:
        if name.split(".")[1:2] and name.split(".")[1] in RUNTIME_PACKAGES:
            compiler = {m for m in reachable(graph, name) if m == COMPILER or m.startswith(COMPILER + ".")}
            assert not compiler, f"importing {name} imports {sorted(compiler)}"


_PROBE = """
import importlib, json, sys
import airflow_sfn_etl
out = {"package": airflow_sfn_etl.__file__, "loaded": {}}
for name in sys.argv[1:]:
    importlib.import_module(name)
    out["loaded"][name] = sorted(m for m in sys.modules if m.split(".")[:2] == ["airflow_sfn_etl", "asl"])
print(json.dumps(out))
"""


def test_importing_operator_sensor_trigger_link_and_util_modules_does_not_load_the_compiler(graph):
    modules = sorted(n for n in graph if n.split(".")[1:2] and n.split(".")[1] in RUNTIME_PACKAGES)
    assert f"{PACKAGE}.operators.athena" in modules and f"{PACKAGE}.operators.step_function" in modules
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *modules], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(out["package"]).resolve().is_relative_to(ROOT)
    assert list(out["loaded"]) == modules
    for name, compiler in out["loaded"].items():
        assert compiler == [], f"importing {name} loaded {compiler}"


def test_the_probe_sees_the_compiler_when_it_is_loaded():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, f"{PACKAGE}.asl.loader"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])["loaded"][f"{PACKAGE}.asl.loader"]
    assert {COMPILER, f"{COMPILER}.loader", f"{COMPILER}.fragments.registry"} <= set(loaded)
