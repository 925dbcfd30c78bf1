"""The amazon provider's operators compile to the same states as ours where they mean the same."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from airflow.providers.amazon.aws.operators.athena import AthenaOperator
from airflow.providers.amazon.aws.operators.glue import GlueJobOperator as StockGlueJobOperator
from airflow.providers.amazon.aws.operators.glue_crawler import GlueCrawlerOperator as StockCrawlerOperator
from airflow.providers.amazon.aws.operators.glue_crawler import GlueCrawlerRunOperator
from airflow.providers.amazon.aws.operators.sns import SnsPublishOperator as StockSnsPublishOperator

from airflow_sfn_etl.asl import UnsupportedTasksError, compile_dag, definition, validate
from airflow_sfn_etl.asl.fragments.glue_crawler import CRAWLER_RUNNING
from airflow_sfn_etl.operators.athena import AthenaQueryOperator
from airflow_sfn_etl.operators.glue_crawler import GlueCrawlerOperator
from tests.asl.conftest import make_dag


def _state(dag: Any, name: str) -> dict[str, Any]:
    document = definition(compile_dag(dag))
    assert validate(document) == []
    return document["States"][name]


def test_stock_glue_job_passes_arguments_as_given_and_run_kwargs() -> None:
    with make_dag() as dag:
        StockGlueJobOperator(
            task_id="j", job_name="etl", script_args={"--day": 3, "plain": "x"},
            run_job_kwargs={"WorkerType": "G.1X", "NumberOfWorkers": 2},
        )
    state = _state(dag, "j")
    assert state["Resource"] == "arn:aws:states:::glue:startJobRun.sync"
    # StartJobRun gets the dict the stock operator passes to boto3 (values as strings, keys unchanged).
    assert state["Parameters"] == {
        "JobName": "etl", "Arguments": {"--day": "3", "plain": "x"}, "WorkerType": "G.1X", "NumberOfWorkers": 2
    }


def test_stock_glue_job_that_would_create_the_job_is_refused() -> None:
    with make_dag() as dag:
        StockGlueJobOperator(task_id="j", job_name="etl", script_location="s3://b/s.py", iam_role_name="r")
    with pytest.raises(UnsupportedTasksError) as info:
        compile_dag(dag)
    message = str(info.value)
    assert "script_location='s3://b/s.py'" in message and "iam_role_name='r'" in message
    assert "only starts an existing job" in message


def test_stock_athena_compiles_like_ours() -> None:
    kwargs = {"query": "SELECT 1", "database": "db", "output_location": "s3://b/r/", "workgroup": "wg"}
    with make_dag() as stock:
        AthenaOperator(task_id="q", **kwargs)
    with make_dag() as ours:
        AthenaQueryOperator(task_id="q", **kwargs)
    assert _state(stock, "q") == _state(ours, "q")


def test_stock_athena_poll_limit_is_refused_by_name() -> None:
    with make_dag() as dag:
        AthenaOperator(task_id="q", query="SELECT 1", max_polling_attempts=3)
    with pytest.raises(UnsupportedTasksError, match="max_polling_attempts=3"):
        compile_dag(dag)


def test_stock_sns_publishes_the_message_text_to_the_target_arn() -> None:
    arn = "arn:aws:sns:eu-west-1:123456789012:t.fifo"
    with make_dag() as dag:
        StockSnsPublishOperator(
            task_id="n", target_arn=arn, message="hi", subject="s", message_group_id="g",
            message_attributes={"n": 1},
        )
    assert _state(dag, "n")["Parameters"] == {
        "TopicArn": arn, "Message": "hi", "Subject": "s", "MessageGroupId": "g",
        "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "1"}},
    }


def test_stock_crawler_run_fails_on_a_running_crawl_unless_told_to_join_it() -> None:
    with make_dag() as stock:
        GlueCrawlerRunOperator(task_id="c", crawler_name="cr", poll_interval=7)
    start = _state(stock, "c")
    assert "Catch" not in start
    assert all(CRAWLER_RUNNING not in r["ErrorEquals"] for r in start.get("Retry", []))
    with make_dag() as joining:
        GlueCrawlerRunOperator(task_id="c", crawler_name="cr", poll_interval=7, fail_on_already_running=False)
    with make_dag() as ours:
        GlueCrawlerOperator(task_id="c", crawler_name="cr", poll_interval=7)
    assert definition(compile_dag(joining)) == definition(compile_dag(ours))


def test_stock_crawler_run_waits_when_deferrable() -> None:
    with make_dag() as dag:
        GlueCrawlerRunOperator(task_id="c", crawler_name="cr", wait_for_completion=False, deferrable=True)
    assert _state(dag, "c")["Next"] == "c: Wait"


def test_the_deprecated_stock_crawler_operator_is_refused() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with make_dag() as dag:
            StockCrawlerOperator(task_id="c", config={"Name": "cr", "Role": "r"})
    with pytest.raises(UnsupportedTasksError) as info:
        compile_dag(dag)
    assert "creates or updates the crawler from `config`" in str(info.value)
    assert "GlueCrawlerRunOperator" in str(info.value)
