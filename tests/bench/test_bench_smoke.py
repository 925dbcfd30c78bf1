"""The benchmark harness end to end at tiny sizes: every section is produced, with numbers.

No timing assertions: this only proves ``make bench`` works (the real figures need the full run).
The Airflow-stack section (orchestration overhead) is left out here: starting four Airflow
processes takes longer than this test may; ``make bench`` runs it.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow]

EXPECTED = {"waiting", "waiting-restart", "parse", "compile", "scale-compile", "scale-athena", "density"}


def test_smoke_profile_produces_every_section_with_numbers(tmp_path: Path, monkeypatch) -> None:
    from benchmarks import cli
    from benchmarks.profiles import PROFILES
    from benchmarks.report import render

    sections = cli.run_all(PROFILES["smoke"], only={"waiting", "parse", "scale", "density"})
    by_key = {s.key: s for s in sections}
    assert set(by_key) == EXPECTED, {k: s.error for k, s in by_key.items()}
    for key, section in by_key.items():
        assert section.error is None, (key, section.error)
        assert section.rows, key
        numbers = section.numbers()
        assert numbers and all(math.isfinite(n) for n in numbers), key
    text = render(sections, profile=PROFILES["smoke"], argv=["bench"], seconds=1.0)
    for section in sections:
        assert section.title in text
    assert "## Machine and versions" in text and "apache-airflow" in text


def test_markdown_cli_writes_the_report(tmp_path: Path) -> None:
    from benchmarks import cli

    out = tmp_path / "BENCHMARKS.md"
    assert cli.main(["--profile", "smoke", "--only", "parse", "--out", str(out)]) == 0
    text = out.read_text()
    assert "3a. DAG file parse time" in text and "3b. Compile time" in text
