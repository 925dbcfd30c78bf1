"""The code base stays ruff-clean (the rules in pyproject.toml, including Airflow's AIR rules)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing():
    paths = ["airflow_sfn_etl", "packages", "dags", "tests", "benchmarks", "docs/examples"]
    result = subprocess.run([sys.executable, "-m", "ruff", "check", *paths], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
