"""``airflow-sfn-etl asl compile`` and ``asl validate``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_sfn_etl.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
DAG_FILE = """
from tests.asl.flows import glue_crawler_job_dag, sales_marketing_dag
crawler = glue_crawler_job_dag()
sales = sales_marketing_dag()
"""
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def dag_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(ROOT))
    path = tmp_path / "two_dags.py"
    path.write_text(DAG_FILE)
    return path


def test_compile_json_matches_golden(dag_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["asl", "compile", str(dag_file), "--dag-id", "glue_crawler_job_asl_test"]) == 0
    out = capsys.readouterr().out
    assert out == (Path(__file__).parent / "golden" / "glue_crawler_job.asl.json").read_text()


def test_compile_needs_dag_id_when_several(dag_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["asl", "compile", str(dag_file)]) == 1
    assert "defines 2 DAGs" in capsys.readouterr().err


def test_compile_mermaid_and_iam(dag_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "asl",
                "compile",
                str(dag_file),
                "--dag-id",
                "sales_marketing_refresh_asl_test",
                "--format",
                "mermaid",
            ]
        )
        == 0
    )
    assert "subgraph" in capsys.readouterr().out
    assert (
        main(
            [
                "asl",
                "compile",
                str(dag_file),
                "--dag-id",
                "sales_marketing_refresh_asl_test",
                "--format",
                "iam",
                "--region",
                "eu-west-1",
                "--account",
                "123456789012",
                "--param",
                "topic=alerts",
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    policy = json.loads(captured.out)
    assert "arn:aws:sns:eu-west-1:123456789012:alerts" in json.dumps(policy)
    assert "note:" in captured.err
    assert (
        main(
            [
                "asl",
                "compile",
                str(dag_file),
                "--dag-id",
                "sales_marketing_refresh_asl_test",
                "--format",
                "iam",
            ]
        )
        == 2
    )


def test_compile_the_shipped_sales_dag(capsys: pytest.CaptureFixture[str]) -> None:
    dag = ROOT / "dags" / "sales_marketing_refresh.py"
    assert main(["asl", "compile", str(dag)]) == 0
    doc = json.loads(capsys.readouterr().out)
    parallels = [s for s in doc["States"].values() if s["Type"] == "Parallel"]
    assert len(parallels) == 1
    assert [len(b["States"]) for b in parallels[0]["Branches"]] == [4, 4]
    assert len([s for s in doc["States"].values() if s["Type"] == "Task"]) == 3


def test_compile_warns_of_added_dependencies_and_strict_shape_refuses(capsys: pytest.CaptureFixture[str]) -> None:
    dag = Path(__file__).parent / "corpus" / "crossed_dependencies_dag.py"
    assert main(["asl", "compile", str(dag)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["StartAt"] == "Parallel: load_customers | load_orders"
    warnings = [line for line in captured.err.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1 and "(load_orders >> export_customers)" in warnings[0]
    assert main(["asl", "compile", str(dag), "--strict-shape"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "do not form a series-parallel graph" in captured.err and "warning:" not in captured.err


def test_validate_ok_and_failing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["asl", "validate", str(FIXTURES / "reference_crawler_job.json")]) == 0
    assert "valid" in capsys.readouterr().out
    bad = json.loads((FIXTURES / "reference_crawler_job.json").read_text())
    bad["States"]["Chk Count"]["Default"] = "Nowhere"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    assert main(["asl", "validate", str(path)]) == 1
    assert "State 'Chk Count': Default 'Nowhere' is not a state" in capsys.readouterr().err
