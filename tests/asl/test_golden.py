"""Golden files, shape and determinism of the two reference flows compiled from real operators."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from airflow_sfn_etl.asl import compile_dag, definition, render_iam_policy, render_json, validate
from tests.asl.flows import SALES_TASK_NAMES, glue_crawler_job_dag, sales_marketing_dag

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("ASL_UPDATE_GOLDEN") == "1"
FLOWS = {"sales_marketing": sales_marketing_dag, "glue_crawler_job": glue_crawler_job_dag}


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, (
        f"{name} changed; review and rerun with ASL_UPDATE_GOLDEN=1"
    )


@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_golden_asl(flow: str) -> None:
    check_golden(f"{flow}.asl.json", render_json(compile_dag(FLOWS[flow]())))


@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_golden_iam(flow: str) -> None:
    machine = compile_dag(FLOWS[flow]())
    check_golden(f"{flow}.iam.json", render_iam_policy(machine, region="eu-west-1", account="123456789012"))


@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_compiled_flow_is_valid_asl(flow: str) -> None:
    assert validate(definition(compile_dag(FLOWS[flow]()))) == []


@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_same_dag_gives_identical_bytes(flow: str) -> None:
    first = render_json(compile_dag(FLOWS[flow]())).encode()
    second = render_json(compile_dag(FLOWS[flow]())).encode()
    assert first == second


def test_sales_flow_has_one_parallel_with_two_four_state_branches() -> None:
    doc = definition(compile_dag(sales_marketing_dag()))
    top = doc["States"]
    parallels = [name for name, s in top.items() if s["Type"] == "Parallel"]
    assert parallels == ["Refresh Sales Marketing Data"]
    assert doc["StartAt"] == "Refresh Sales Marketing Data"
    par = top["Refresh Sales Marketing Data"]
    assert par["ResultPath"] is None and par["Next"] == "Drop Old Summarized Table"
    branches = par["Branches"]
    assert [len(b["States"]) for b in branches] == [4, 4]
    assert [b["StartAt"] for b in branches] == ["Marketing DataBrew ETL Job", "Sales DataBrew ETL Job"]
    tasks = {n for n, s in top.items() if s["Type"] == "Task"}
    tasks |= {n for b in branches for n, s in b["States"].items() if s["Type"] == "Task"}
    assert tasks == SALES_TASK_NAMES
    assert top["Drop Old Summarized Table"]["Next"] == "Create Summarized Output"
    assert top["Create Summarized Output"]["Next"] == "Notify Users"
    assert top["Notify Users"]["End"] is True
    sales = branches[1]["States"]
    assert sales["Sales DataBrew ETL Job"]["Resource"] == "arn:aws:states:::databrew:startJobRun.sync"
    assert sales["Sales DataBrew ETL Job"]["Parameters"] == {"Name.$": "$.sales_job"}
    assert sales["Load Sales Table Partitions"]["End"] is True


def test_sales_flow_matches_the_reference_task_states() -> None:
    reference = json.loads(
        (Path(__file__).parent / "fixtures" / "reference_sales_marketing.json").read_text()
    )
    compiled = definition(compile_dag(sales_marketing_dag()))

    def task_resources(doc: dict) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, state in doc["States"].items():
            if state["Type"] == "Task":
                out[name] = state["Resource"]
            for branch in state.get("Branches", []):
                out.update(task_resources(branch))
        return out

    assert task_resources(compiled) == task_resources(reference)


def test_sales_flow_params_flow_through_unchanged() -> None:
    doc = definition(compile_dag(sales_marketing_dag()))
    for state in doc["States"].values():
        assert state["ResultPath"] is None
    athena = doc["States"]["Create Summarized Output"]["Parameters"]
    assert athena["WorkGroup.$"] == "$.workgroup"
    assert athena["QueryExecutionContext"] == {"Catalog": "AwsDataCatalog", "Database.$": "$.database"}
    assert athena["ResultConfiguration"] == {
        "OutputLocation.$": "States.Format('s3://{}/', $.athena_query_bucket)"
    }
    assert "$$.Execution.Name" in athena["QueryString.$"]


def test_sales_flow_notes_sql_params() -> None:
    machine = compile_dag(sales_marketing_dag())
    assert any("Create Sales Table" in n and "database" in n for n in machine.notes)
    assert machine.params_used == (
        "athena_query_bucket",
        "database",
        "marketing_job",
        "sales_job",
        "topic",
        "transformed_bucket",
        "workgroup",
    )


def test_crawler_flow_has_no_lambda_and_a_bounded_poll_loop() -> None:
    text = render_json(compile_dag(glue_crawler_job_dag()))
    assert "lambda" not in text.lower()
    states = json.loads(text)["States"]
    start = states["Submit Crawler Job"]
    assert start["Resource"] == "arn:aws:states:::aws-sdk:glue:startCrawler"
    assert start["Parameters"] == {"Name.$": "$.crawler"}
    # A crawl already running is joined: the catch leads to the sensor's loop, like Next does.
    assert start["Next"] == "Wait for Crawler: Init Poll Count"
    assert start["Catch"] == [
        {
            "ErrorEquals": ["Glue.CrawlerRunningException"],
            "Next": "Wait for Crawler: Init Poll Count",
            "ResultPath": None,
        }
    ]
    assert start["Retry"][1] == {
        "ErrorEquals": ["States.ALL"], "IntervalSeconds": 120, "MaxAttempts": 3, "BackoffRate": 2.0
    }
    assert states["Wait for Crawler: Wait"]["SecondsPath"] == "$.wait_time"
    assert states["Wait for Crawler: Get State"]["Resource"] == "arn:aws:states:::aws-sdk:glue:getCrawler"
    assert "States.MathAdd" in json.dumps(states["Wait for Crawler: Count Poll"])
    assert states["Wait for Crawler: Poll Limit?"]["Choices"][0]["NumericGreaterThanEquals"] == 3
    assert states["Wait for Crawler: Timed Out"]["CausePath"] == (
        "States.Format('Crawler {} did not finish after 3 polls', $.crawler)"
    )
    assert states["Wait for Crawler: Succeeded?"]["Choices"][0]["Next"] == "Run Final Glue Job"
    assert states["Wait for Crawler: Crawl Failed"]["Type"] == "Fail"
    assert "LastCrawl" in states["Wait for Crawler: Crawl Failed"]["CausePath"]
    job = states["Run Final Glue Job"]
    assert job["Resource"] == "arn:aws:states:::glue:startJobRun.sync"
    assert job["Parameters"] == {
        "JobName.$": "$.job",
        "Arguments": {
            "--output_path.$": "States.Format('s3://{}/{}{}/', $.bucket, $.output_prefix, $$.Execution.Name)"
        },
    }
    assert job["End"] is True
    assert job["Retry"] == [
        {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2.0}
    ]


def test_crawler_flow_mirrors_the_shipped_dag() -> None:
    from airflow_sfn_etl.asl.loader import load_dags
    from airflow_sfn_etl_flows.settings import DAGS_FOLDER

    shipped = definition(compile_dag(load_dags(str(DAGS_FOLDER / "glue_crawler_job.py"))["glue_crawler_job"]))
    tested = definition(compile_dag(glue_crawler_job_dag()))
    assert shipped["States"] == tested["States"]
