"""Every committed and golden definition passes npm's asl-validator (AWS's published ASL schema)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_sfn_etl_flows.artifacts import state_machines_dir
from tests.asl.asl_validator import run_asl_validator

GOLDEN = Path(__file__).parent / "golden"
FIXTURES = Path(__file__).parent / "fixtures"
DEFINITIONS = sorted(state_machines_dir().glob("*.asl.json")) + sorted(GOLDEN.glob("*.asl.json"))


def test_there_are_definitions_to_check() -> None:
    names = {p.name for p in DEFINITIONS}
    assert {"glue_crawler_job.asl.json", "sales_marketing_refresh.asl.json", "sales_marketing.asl.json"} <= names


@pytest.mark.parametrize("path", DEFINITIONS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_committed_and_golden_definitions_pass_asl_validator(path: Path) -> None:
    result = run_asl_validator(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is valid" in result.stdout


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.name)
def test_reference_definitions_pass_asl_validator_once_their_redacted_account_is_filled_in(
    path: Path, tmp_path: Path
) -> None:
    # The reference definitions write the account as "[AWSID]", which no ARN pattern accepts.
    copy = tmp_path / path.name
    copy.write_text(path.read_text().replace("[AWSID]", "123456789012"))
    result = run_asl_validator(copy)
    assert result.returncode == 0, result.stdout + result.stderr


def test_asl_validator_rejects_a_newline_escape_in_an_intrinsic(tmp_path: Path) -> None:
    # The escape the compiler no longer writes: asl-validator refuses it, so these tests can fail.
    document = {
        "StartAt": "q",
        "States": {
            "q": {
                "Type": "Task",
                "Resource": "arn:aws:states:::athena:startQueryExecution.sync",
                "Parameters": {"QueryString.$": "States.Format('SELECT 1\\nFROM {}', $.db)"},
                "End": True,
            }
        },
    }
    path = tmp_path / "bad.asl.json"
    path.write_text(json.dumps(document))
    result = run_asl_validator(path)
    assert result.returncode != 0
    assert "QueryString.$" in result.stdout + result.stderr
