"""Per-operator fragments: resources and parameters of each integration."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_sfn_etl.asl import AslCompileError, compile_dag, definition, validate
from airflow_sfn_etl.operators.athena import AthenaQueryOperator
from airflow_sfn_etl.operators.databrew import DataBrewStartJobOperator
from airflow_sfn_etl.operators.glue import GlueJobOperator
from airflow_sfn_etl.operators.glue_crawler import GlueCrawlerOperator
from airflow_sfn_etl.operators.sns import SnsPublishOperator
from tests.asl.conftest import make_dag


def _single(op_factory: Any, **dag_kwargs: Any) -> dict[str, Any]:
    with make_dag(**dag_kwargs) as dag:
        op_factory()
    doc = definition(compile_dag(dag))
    assert validate(doc) == []
    return doc


def test_glue_job_sync_and_arguments() -> None:
    doc = _single(
        lambda: GlueJobOperator(
            task_id="g", job_name="etl", script_args={"--day": "{{ params.day }}", "--n": 3}
        )
    )
    state = doc["States"]["g"]
    assert state["Resource"] == "arn:aws:states:::glue:startJobRun.sync"
    assert state["Parameters"] == {"JobName": "etl", "Arguments": {"--day.$": "$.day", "--n": "3"}}
    assert state["ResultPath"] is None


def test_glue_job_arguments_without_dashes_are_refused_as_the_operator_fails_on_them() -> None:
    from airflow_sfn_etl.operators.glue import validate_script_args

    with pytest.raises(ValueError, match="must start with '--'"):
        validate_script_args({"n": 3})  # what the task does when it runs
    with pytest.raises(AslCompileError, match=r"script_args 'n' do not start with '--'.*Name them '--n'"):
        _single(lambda: GlueJobOperator(task_id="g", job_name="etl", script_args={"--day": "1", "n": 3}))


def test_request_response_without_wait() -> None:
    doc = _single(lambda: GlueJobOperator(task_id="g", job_name="etl", wait_for_completion=False))
    assert doc["States"]["g"]["Resource"] == "arn:aws:states:::glue:startJobRun"
    doc = _single(lambda: DataBrewStartJobOperator(task_id="d", job_name="brew", wait_for_completion=False))
    assert doc["States"]["d"]["Resource"] == "arn:aws:states:::databrew:startJobRun"


def test_databrew_sync() -> None:
    doc = _single(lambda: DataBrewStartJobOperator(task_id="d", job_name="{{ params.job }}"))
    assert doc["States"]["d"]["Resource"] == "arn:aws:states:::databrew:startJobRun.sync"
    assert doc["States"]["d"]["Parameters"] == {"Name.$": "$.job"}


def test_athena_parameters() -> None:
    doc = _single(
        lambda: AthenaQueryOperator(
            task_id="a", query="SELECT 1", database="db", workgroup="wg", output_location="s3://results/x/"
        )
    )
    state = doc["States"]["a"]
    assert state["Resource"] == "arn:aws:states:::athena:startQueryExecution.sync"
    assert state["Parameters"] == {
        "QueryString": "SELECT 1",
        "WorkGroup": "wg",
        "QueryExecutionContext": {"Database": "db", "Catalog": "AwsDataCatalog"},
        "ResultConfiguration": {"OutputLocation": "s3://results/x/"},
    }


def test_athena_without_output_location_uses_the_workgroup() -> None:
    doc = _single(lambda: AthenaQueryOperator(task_id="a", query="SELECT 1"))
    params = doc["States"]["a"]["Parameters"]
    assert "ResultConfiguration" not in params
    assert params["QueryExecutionContext"] == {"Catalog": "AwsDataCatalog"}
    assert params["WorkGroup"] == "primary"


def test_sns_topic_name_becomes_arn() -> None:
    doc = _single(
        lambda: SnsPublishOperator(
            task_id="n",
            target="topic-a",
            message="hi",
            subject="S",
            message_attributes={"kind": "etl", "n": 2},
        )
    )
    params = doc["States"]["n"]["Parameters"]
    assert doc["States"]["n"]["Resource"] == "arn:aws:states:::sns:publish"
    assert params["TopicArn.$"] == (
        "States.Format('arn:aws:sns:{}:{}:topic-a', "
        "States.ArrayGetItem(States.StringSplit($$.StateMachine.Id, ':'), 3), "
        "States.ArrayGetItem(States.StringSplit($$.StateMachine.Id, ':'), 4))"
    )
    assert params["Message"] == "hi" and params["Subject"] == "S"
    assert params["MessageAttributes"] == {
        "kind": {"DataType": "String", "StringValue": "etl"},
        "n": {"DataType": "Number", "StringValue": "2"},
    }


def test_sns_literal_arn_with_region_and_account_given() -> None:
    with make_dag() as dag:
        SnsPublishOperator(task_id="n", target="t", message={"b": 1, "a": "{{ params.x }}"})
    params = definition(compile_dag(dag, region="eu-west-1", account="123456789012"))["States"]["n"][
        "Parameters"
    ]
    assert params["TopicArn"] == "arn:aws:sns:eu-west-1:123456789012:t"
    assert params["Message.$"] == 'States.Format(\'\\{"a": "{}", "b": 1\\}\', $.x)'


def test_sns_param_holding_an_arn_is_used_as_is() -> None:
    doc = _single(
        lambda: SnsPublishOperator(task_id="n", target="{{ params.topic }}", message="m"),
        params={"topic": "arn:aws:sns:us-east-1:123456789012:x"},
    )
    assert doc["States"]["n"]["Parameters"]["TopicArn.$"] == "$.topic"


def test_crawler_literal_seconds_and_unbounded_loop() -> None:
    doc = _single(lambda: GlueCrawlerOperator(task_id="c", crawler_name="cr", poll_interval=15))
    states = doc["States"]
    assert states["c"]["Next"] == "c: Wait"
    assert states["c: Wait"]["Seconds"] == 15
    assert states["c: Ready?"]["Default"] == "c: Wait"
    assert "c: Count Poll" not in states
    # A crawler at the end finishes through a Succeed state.
    assert states["c: Succeeded?"]["Choices"][0]["Next"] == "c: Done"
    assert states["c: Done"] == {"Type": "Succeed"}
    assert states["c: Get State"]["ResultSelector"] == {"State.$": "$.Crawler.State"}
    assert states["c: Get Last Crawl"]["ResultSelector"] == {
        "Status.$": "$.Crawler.LastCrawl.Status",
        "Detail.$": "States.JsonToString($.Crawler.LastCrawl)",
    }
    assert "lambda" not in json.dumps(doc)


def test_crawler_without_wait_only_starts_and_joins_a_running_crawl() -> None:
    doc = _single(lambda: GlueCrawlerOperator(task_id="c", crawler_name="cr", wait_for_completion=False))
    assert set(doc["States"]) == {"c", "c: Done"}
    assert doc["States"]["c"]["Catch"][0]["Next"] == "c: Done"
    assert doc["States"]["c"]["End"] is True
