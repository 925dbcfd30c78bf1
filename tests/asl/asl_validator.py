"""npm's asl-validator, installed by ``make asl-validator-deps`` (scripts/install-asl-validator.sh)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ASL_VALIDATOR = ROOT / ".tools" / "node_modules" / ".bin" / "asl-validator"


def asl_validator() -> Path:
    """The asl-validator executable; fails the test, saying how to install it, when it is missing."""
    if not ASL_VALIDATOR.is_file():
        pytest.fail(
            f"{ASL_VALIDATOR} is missing: run `make asl-validator-deps` (scripts/install-asl-validator.sh, "
            "needs npm) to install npm's asl-validator into .tools/"
        )
    return ASL_VALIDATOR


def run_asl_validator(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run asl-validator on one definition file."""
    return subprocess.run(
        [str(asl_validator()), "--json-path", str(path), *extra],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def assert_aws_accepts(document: dict[str, Any], tmp_path: Path) -> None:
    """asl-validator accepts ``document`` (written to a file under ``tmp_path``)."""
    path = tmp_path / "definition.asl.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = run_asl_validator(path)
    assert result.returncode == 0, result.stdout + result.stderr
