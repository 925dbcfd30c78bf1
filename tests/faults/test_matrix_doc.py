"""docs/reliability.md's fault matrix and tests/faults/ name the same tests."""

from __future__ import annotations

import ast
import re
from pathlib import Path

HERE = Path(__file__).parent
DOC = HERE.parents[1] / "docs" / "reliability.md"
DEPLOYMENT_TESTS = HERE.parent / "deploy" / "test_deployment.py"


def _tests_in_folder(paths: list[Path] | None = None) -> set[str]:
    names = set()
    for path in paths if paths is not None else sorted(HERE.glob("test_*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                names.add(f"{path.stem}::{node.name}")
    return names


def _tests_in_doc(section: str = "## Fault matrix") -> set[str]:
    text = DOC.read_text()
    matrix = text.split(section, 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`(test_\w+::test_\w+)`", matrix))


def test_every_matrix_test_exists_and_every_test_is_in_the_matrix():
    in_doc, in_folder = _tests_in_doc(), _tests_in_folder()
    assert in_doc, "the matrix names no tests"
    assert in_doc - in_folder == set(), "named in docs/reliability.md but missing in tests/faults/"
    assert in_folder - in_doc == set(), "in tests/faults/ but missing from docs/reliability.md's matrix"


def test_the_deployment_table_names_every_deployment_test():
    in_doc = _tests_in_doc("## On the compose deployment")
    in_file = _tests_in_folder([DEPLOYMENT_TESTS])
    assert in_doc, "the deployment table names no tests"
    assert in_doc == in_file, (sorted(in_doc - in_file), sorted(in_file - in_doc))
