"""Row 1: throttling bursts and HTTP 500s while starting and while waiting; each run starts once.

``when="before"`` faults reject a call before it runs; ``when="after"`` faults run the call and
then lose its response (HTTP 500), the dangerous case where a blind retry starts a second run.
"""

from __future__ import annotations

import pytest

from airflow_sfn_etl.operators.athena import AthenaQueryOperator
from airflow_sfn_etl.operators.databrew import DataBrewStartJobOperator
from airflow_sfn_etl.operators.glue import GlueJobOperator
from airflow_sfn_etl.operators.glue_crawler import GlueCrawlerOperator
from airflow_sfn_etl.operators.sns import SnsPublishOperator
from airflow_sfn_etl.operators.step_function import StepFunctionRunOperator
from airflow_sfn_etl.utils import start_once

from . import harness as h

MODES = [pytest.param(False, id="worker"), pytest.param(True, id="deferred")]


@pytest.fixture(autouse=True)
def fast_start_backoff(monkeypatch):
    monkeypatch.setattr(start_once, "START_BACKOFF", 0.1)


def _injected(admin) -> int:
    return admin.faults()["injected"]


@pytest.mark.parametrize("deferrable", MODES)
def test_glue_job_survives_throttling_and_lost_start_response(aws, admin, deferrable):
    admin.throttle("glue", count=2, operations=["StartJobRun"])
    admin.error500("glue", count=1, operations=["StartJobRun"], when="after")
    admin.error500("glue", count=2, operations=["GetJobRun"])
    admin.throttle("glue", count=1, operations=["GetJobRuns"])
    op = GlueJobOperator(
        task_id="glue_throttled", job_name=h.GLUE_JOB, poll_interval=0.2, deferrable=deferrable
    )
    run_id = h.run_task(op, h.context("glue_throttled"))
    runs = h.glue_runs(aws["glue"])
    assert [r["Id"] for r in runs] == [run_id]
    assert runs[0]["JobRunState"] == "SUCCEEDED"
    assert _injected(admin) == 6


@pytest.mark.parametrize("deferrable", MODES)
def test_crawler_survives_throttling_and_lost_start_response(aws, admin, deferrable):
    admin.delay("crawler", h.CRAWLER, seconds=1)
    admin.throttle("glue", count=2, operations=["StartCrawler"])
    admin.error500("glue", count=1, operations=["StartCrawler"], when="after")
    admin.throttle("glue", count=2, operations=["GetCrawler"])
    op = GlueCrawlerOperator(
        task_id="crawl_throttled", crawler_name=h.CRAWLER, poll_interval=0.2, deferrable=deferrable
    )
    assert h.run_task(op, h.context("crawl_throttled")) == h.CRAWLER
    history = h.crawls(aws["glue"])
    assert len(history) == 1 and history[0]["State"] == "COMPLETED"
    assert _injected(admin) >= 5


@pytest.mark.parametrize("deferrable", MODES)
def test_athena_survives_throttling_and_lost_start_response(aws, admin, deferrable):
    admin.throttle("athena", count=2, operations=["StartQueryExecution"])
    admin.error500("athena", count=1, operations=["StartQueryExecution"], when="after")
    admin.error500("athena", count=2, operations=["GetQueryExecution"])
    op = AthenaQueryOperator(
        task_id="q_throttled",
        query="SELECT 1 AS one",
        workgroup=h.WORKGROUP,
        poll_interval=0.2,
        deferrable=deferrable,
    )
    query_id = h.run_task(op, h.context("q_throttled"))
    assert h.athena_runs(aws["athena"]) == [query_id]
    state = aws["athena"].get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]["State"]
    assert state == "SUCCEEDED"
    assert _injected(admin) == 5


@pytest.mark.parametrize("deferrable", MODES)
def test_databrew_survives_throttling_and_lost_start_response(aws, admin, flows_databrew, deferrable):
    job = flows_databrew
    admin.throttle("databrew", count=2, operations=["StartJobRun"])
    admin.error500("databrew", count=1, operations=["StartJobRun"], when="after")
    admin.error500("databrew", count=2, operations=["DescribeJobRun"])
    op = DataBrewStartJobOperator(
        task_id="brew_throttled", job_name=job, poll_interval=0.2, deferrable=deferrable
    )
    run_id = h.run_task(op, h.context("brew_throttled"))
    runs = h.databrew_runs(aws["databrew"], job)
    assert [r["RunId"] for r in runs] == [run_id]
    assert runs[0]["State"] == "SUCCEEDED"
    assert _injected(admin) == 5


@pytest.mark.parametrize("deferrable", MODES)
def test_step_functions_survives_throttling_and_lost_start_response(aws, admin, deferrable):
    admin.throttle("stepfunctions", count=2, operations=["StartExecution"])
    admin.error500("stepfunctions", count=1, operations=["StartExecution"], when="after")
    admin.error500("stepfunctions", count=2, operations=["DescribeExecution"])
    op = StepFunctionRunOperator(
        task_id="sfn_throttled",
        state_machine_arn=aws["state_machine_arn"],
        input={"hold": 1},
        poll_interval=0.2,
        deferrable=deferrable,
    )
    arn = h.run_task(op, h.context("sfn_throttled"))
    runs = h.sfn_runs(aws["stepfunctions"], aws["state_machine_arn"])
    assert [r["executionArn"] for r in runs] == [arn]
    assert runs[0]["status"] == "SUCCEEDED"
    assert _injected(admin) == 5


def test_sns_publish_survives_throttling_and_500s(aws, admin):
    # Publish has no idempotency token on a standard topic: it relies on botocore's own (3) attempts.
    admin.throttle("sns", count=1, operations=["Publish"])
    admin.error500("sns", count=1, operations=["Publish"])
    admin.throttle("sns", count=1, operations=["ListTopics"])
    op = SnsPublishOperator(task_id="notify_throttled", target=h.TOPIC, message={"done": True})
    message_id = op.execute(h.context("notify_throttled"))
    messages = admin.sns_messages(h.TOPIC)
    assert len(messages) == 1
    assert message_id in str(messages[0])
    assert _injected(admin) == 3


def test_lost_start_response_is_a_real_hazard_for_a_blind_retry(aws, admin):
    """The "after" fault is real: a plain retrying boto3 client starts the Glue job twice."""
    admin.error500("glue", count=1, operations=["StartJobRun"], when="after")
    aws["glue"].start_job_run(JobName=h.GLUE_JOB)  # botocore retries the 500 by itself
    assert len(h.glue_runs(aws["glue"])) == 2
