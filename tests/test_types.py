"""The code base type-checks: mypy with the configuration in pyproject.toml ([tool.mypy]).

That configuration names the three distributions (the provider with its compiler, the sandbox
and the flows), so the bare command checks all of them, as it does from a shell in the
repository root.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout, result.stdout + result.stderr
