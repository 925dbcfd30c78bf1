"""The committed ``state_machines/`` artefacts match what the compiler makes of the shipped DAGs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_sfn_etl.asl import validate
from airflow_sfn_etl.cli import main
from airflow_sfn_etl_flows.artifacts import (
    FLOW_DAG_FILES,
    render_artefacts,
    stale_artefacts,
    state_machines_dir,
)
from airflow_sfn_etl_flows.settings import DAGS_FOLDER


def test_committed_artefacts_are_up_to_date() -> None:
    artefacts = render_artefacts()
    assert sorted(a.name for a in artefacts) == sorted(
        f"{dag_id}{ext}" for dag_id in FLOW_DAG_FILES for ext in (".asl.json", ".mmd", ".iam.json")
    )
    stale = stale_artefacts(state_machines_dir(), artefacts)
    assert stale == [], f"stale: {stale}; run `airflow-sfn-etl build-state-machines` and commit state_machines/"


def test_state_machines_dir_is_beside_dags() -> None:
    assert state_machines_dir() == DAGS_FOLDER.parent / "state_machines"


@pytest.mark.parametrize("dag_id", sorted(FLOW_DAG_FILES))
def test_committed_definitions_are_valid_and_account_free(dag_id: str) -> None:
    text = (state_machines_dir() / f"{dag_id}.asl.json").read_text()
    assert validate(json.loads(text)) == []
    assert "123456789012" not in text and "us-east-1" not in text
    assert "lambda" not in text.lower()


def test_check_flags_a_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build-state-machines", "--out", str(tmp_path)]) == 0
    assert main(["build-state-machines", "--out", str(tmp_path), "--check"]) == 0
    (tmp_path / "glue_crawler_job.mmd").write_text("flowchart TD\n")
    capsys.readouterr()
    assert main(["build-state-machines", "--out", str(tmp_path), "--check"]) == 1
    err = capsys.readouterr().err
    assert "glue_crawler_job.mmd: stale or missing" in err and "build-state-machines" in err


def test_artefacts_ignore_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFN_ETL_CRAWLER", "someone_elses_crawler")
    assert stale_artefacts(state_machines_dir(), render_artefacts()) == []
