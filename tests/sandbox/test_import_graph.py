"""The sandbox's imports: no cycles between its modules, and nothing from the provider or Airflow.

The import statements of every module are read with ``ast``. Module-level imports (those that
run when the module is imported: not in a function, not under ``if TYPE_CHECKING:``) must form
no cycle; neither may all imports together, function-local ones included, so that no cycle is
hidden by moving an import into a function. Importing a submodule imports its parent packages
first, so an import of ``pkg.sub.mod`` also counts as an import of ``pkg.sub`` (the root package
and the importer's own packages aside, being already under import).
"""

from __future__ import annotations

import ast
import graphlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import airflow_sfn_etl_sandbox

PACKAGE = airflow_sfn_etl_sandbox.__name__
ROOT = Path(airflow_sfn_etl_sandbox.__file__).parent
FORBIDDEN = ("airflow", "airflow_sfn_etl")  #: top-level packages the sandbox must not import


def sandbox_modules() -> dict[str, Path]:
    """Module name -> source file, for every module of the sandbox package."""
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = sandbox_modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def import_nodes(tree: ast.AST, module_level: bool) -> list[ast.Import | ast.ImportFrom]:
    """The import statements of a module; with ``module_level``, only those run at import time."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append(child)
            elif module_level and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            elif module_level and isinstance(child, ast.If) and _is_type_checking(child):
                for orelse in child.orelse:
                    visit_one(orelse)
            else:
                visit(child)

    def visit_one(node: ast.AST) -> None:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        else:
            visit(node)

    visit(tree)
    return found


def imported_modules(name: str, path: Path, module_level: bool) -> set[str]:
    """Absolute names of the modules ``name`` imports.

    ``from pkg import a, b`` imports the submodules among ``a``, ``b``, and ``pkg`` itself when a name
    comes from its namespace.
    """
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in import_nodes(ast.parse(path.read_text(), str(path)), module_level):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
            continue
        if node.level:
            base = name.split(".") if is_package else name.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        submodules = {f"{target}.{alias.name}" for alias in node.names} & MODULES.keys()
        out.update(submodules)
        if len(submodules) < len(node.names):  # names from the module's (or package's) namespace
            out.add(target)
    return out


def import_graph(module_level: bool) -> dict[str, set[str]]:
    """Sandbox module -> the sandbox modules importing it makes Python import."""
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        own_packages = {name.rsplit(".", i)[0] for i in range(name.count(".") + 1)}
        edges: set[str] = set()
        for target in imported_modules(name, path, module_level):
            if target not in MODULES:
                continue
            edges.add(target)
            parts = target.split(".")
            edges.update(p for p in (".".join(parts[:i]) for i in range(2, len(parts))) if p not in own_packages)
        edges.discard(name)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as err:
        return list(err.args[1])
    return None


def test_the_cycle_check_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) is not None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_walker_tells_module_level_from_function_local_imports():
    module_level = import_graph(module_level=True)
    everything = import_graph(module_level=False)
    # faults is imported at module level by the WSGI layer; moto_patches only inside Sandbox.start().
    assert f"{PACKAGE}.faults" in module_level[f"{PACKAGE}.app"]
    assert f"{PACKAGE}.moto_patches" not in module_level[f"{PACKAGE}.server"]
    assert f"{PACKAGE}.moto_patches" in everything[f"{PACKAGE}.server"]
    # athena's SQL engine is under TYPE_CHECKING at module level and imported in functions.
    assert f"{PACKAGE}.sql" not in module_level[f"{PACKAGE}.athena"]
    assert f"{PACKAGE}.sql" in everything[f"{PACKAGE}.athena"]
    # Importing a package's submodule imports the package.
    assert f"{PACKAGE}.moto_patches" in everything[f"{PACKAGE}.server"]
    assert f"{PACKAGE}.glue_jobs.job_runs" in module_level[f"{PACKAGE}.glue_jobs"]


@pytest.mark.parametrize("module_level", [True, False], ids=["module-level", "all-imports"])
def test_no_import_cycles(module_level):
    cycle = find_cycle(import_graph(module_level))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_sandbox_source_never_imports_the_provider_or_airflow():
    offending = []
    for name, path in MODULES.items():
        for target in imported_modules(name, path, module_level=False):
            if target.split(".")[0] in FORBIDDEN:
                offending.append(f"{name} imports {target}")
    assert offending == []


def test_a_started_sandbox_has_not_loaded_the_provider_or_airflow():
    script = (
        "import importlib, json, pkgutil, sys\n"
        "import airflow_sfn_etl_sandbox as p\n"
        "for m in pkgutil.walk_packages(p.__path__, p.__name__ + '.'):\n"
        "    if not m.name.startswith(p.__name__ + '.glue_spark.lib'):  # the job-side awsglue library\n"
        "        importlib.import_module(m.name)\n"
        "with p.Sandbox() as sb:\n"
        "    sb.client('s3').list_buckets()\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    loaded = __import__("json").loads(done.stdout.strip().splitlines()[-1])
    assert f"{PACKAGE}.moto_patches" in loaded and f"{PACKAGE}.crawler.crawl" in loaded
    assert [m for m in loaded if m.split(".")[0] in FORBIDDEN] == []
