"""The amazon provider's operators compile to the same states as ours where they mean the same."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
from airflow.providers.amazon.aws.operators.athena import AthenaOperator
from airflow.providers.amazon.aws.operators.glue import GlueJobOperator as StockGlueJobOperator
from airflow.providers.amazon.aws.operators.glue_crawler import GlueCrawlerOperator as StockCrawlerOperator
from airflow.providers.amazon.aws.operators.glue_crawler import GlueCrawlerRunOperator
from airflow.providers.amazon.aws.operators.glue_databrew import GlueDataBrewStartJobOperator
from airflow.providers.amazon.aws.operators.s3 import (
    S3CopyObjectOperator,
    S3CreateObjectOperator,
    S3DeleteObjectsOperator,
)
from airflow.providers.amazon.aws.operators.sns import SnsPublishOperator as StockSnsPublishOperator
from airflow.providers.amazon.aws.operators.sqs import SqsPublishOperator
from airflow.providers.amazon.aws.operators.step_function import StepFunctionStartExecutionOperator
from airflow.providers.amazon.aws.sensors.athena import AthenaSensor
from airflow.providers.amazon.aws.sensors.glue import GlueJobSensor
from airflow.providers.amazon.aws.sensors.glue_crawler import GlueCrawlerSensor as StockGlueCrawlerSensor
from airflow.providers.amazon.aws.sensors.step_function import StepFunctionExecutionSensor
from airflow.providers.standard.operators.empty import EmptyOperator

from airflow_sfn_etl.asl import AslCompileError, UnsupportedTasksError, compile_dag, definition, validate
from airflow_sfn_etl.asl.fragments.glue_crawler import CRAWLER_RUNNING
from airflow_sfn_etl.operators.athena import AthenaQueryOperator
from airflow_sfn_etl.operators.databrew import DataBrewStartJobOperator
from airflow_sfn_etl.operators.glue_crawler import GlueCrawlerOperator
from airflow_sfn_etl.operators.sns import SnsPublishOperator
from airflow_sfn_etl.sensors.glue_crawler import GlueCrawlerSensor
from tests.asl.asl_validator import assert_aws_accepts
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


# --------------------------------------------------------------------------- more stock operators

CHILD = "arn:aws:states:eu-west-1:123456789012:stateMachine:child"
QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/orders-events"


def _document(dag: Any, tmp_path: Any = None) -> dict[str, Any]:
    document = definition(compile_dag(dag))
    assert validate(document) == []
    if tmp_path is not None:
        assert_aws_accepts(document, tmp_path)
    return document


@pytest.mark.parametrize(
    ("kwargs", "resource"),
    [
        ({}, "arn:aws:states:::databrew:startJobRun.sync"),
        ({"wait_for_completion": False}, "arn:aws:states:::databrew:startJobRun"),
        # deferrable=True defers on the run whatever wait_for_completion says (the operator's execute)
        ({"wait_for_completion": False, "deferrable": True}, "arn:aws:states:::databrew:startJobRun.sync"),
    ],
)
def test_stock_databrew_job_compiles_like_ours(kwargs: dict[str, Any], resource: str) -> None:
    with make_dag() as stock:
        GlueDataBrewStartJobOperator(task_id="b", job_name="{{ params.job }}", waiter_delay=5, **kwargs)
    with make_dag() as ours:
        DataBrewStartJobOperator(
            task_id="b", job_name="{{ params.job }}", wait_for_completion=resource.endswith(".sync")
        )
    assert _state(stock, "b") == _state(ours, "b")
    assert _state(stock, "b")["Resource"] == resource


def test_stock_start_execution_starts_the_child_with_the_input_object(tmp_path: Any) -> None:
    with make_dag(params={"day": "2026-01-01"}) as dag:
        StepFunctionStartExecutionOperator(
            task_id="child", state_machine_arn=CHILD, name="run-{{ params.day }}",
            state_machine_input={"day": "{{ params.day }}", "n": 3},
        )
    state = _document(dag, tmp_path)["States"]["child"]
    # Not deferrable: the operator returns once the execution started.
    assert state["Resource"] == "arn:aws:states:::states:startExecution"
    assert state["Parameters"] == {
        "StateMachineArn": CHILD, "Name.$": "States.Format('run-{}', $.day)", "Input": {"day.$": "$.day", "n": 3}
    }


def test_stock_start_execution_with_json_text_input_and_deferrable_waits_for_the_child() -> None:
    text = json.dumps({"tables": ["a", "b"]})
    with make_dag() as dag:
        StepFunctionStartExecutionOperator(
            task_id="child", state_machine_arn=CHILD, state_machine_input=text, deferrable=True
        )
    state = _state(dag, "child")
    assert state["Resource"] == "arn:aws:states:::states:startExecution.sync:2"
    # The hook sends the text as it is: the same JSON document as the Input object.
    assert state["Parameters"]["Input"] == json.loads(text)


def test_stock_start_execution_redrive_and_non_json_input_are_refused() -> None:
    with make_dag() as dag:
        StepFunctionStartExecutionOperator(
            task_id="child", state_machine_arn=CHILD, name="x", is_redrive_execution=True
        )
    with pytest.raises(UnsupportedTasksError, match="is_redrive_execution=True: the state starts a new execution"):
        compile_dag(dag)
    with make_dag() as dag:
        StepFunctionStartExecutionOperator(task_id="child", state_machine_arn=CHILD, state_machine_input="not json")
    with pytest.raises(AslCompileError, match="state_machine_input='not json' is not JSON text"):
        compile_dag(dag)


def test_stock_sqs_publish_sends_the_message_with_its_options(tmp_path: Any) -> None:
    attributes = {"kind": {"DataType": "String", "StringValue": "orders"}}
    with make_dag(params={"day": "d1"}) as dag:
        SqsPublishOperator(
            task_id="tell", sqs_queue=QUEUE, message_content="loaded {{ params.day }}", delay_seconds=5,
            message_attributes=attributes,
        )
    state = _document(dag, tmp_path)["States"]["tell"]
    assert state["Resource"] == "arn:aws:states:::sqs:sendMessage"
    assert state["Parameters"] == {
        "QueueUrl": QUEUE, "MessageBody.$": "States.Format('loaded {}', $.day)", "DelaySeconds": 5,
        "MessageAttributes": attributes,
    }
    with make_dag() as fifo:
        SqsPublishOperator(task_id="tell", sqs_queue=QUEUE + ".fifo", message_content="m", message_group_id="g",
                           message_deduplication_id="d")
    params = _state(fifo, "tell")["Parameters"]
    assert params["MessageGroupId"] == "g" and params["MessageDeduplicationId"] == "d"
    assert "DelaySeconds" not in params  # 0 is SendMessage's default


def test_s3_create_object_is_refused_as_put_object_writes_json_text() -> None:
    with make_dag() as dag:
        S3CreateObjectOperator(task_id="marker", s3_key="s3://lake/_READY", data="a,b\n1,2\n")
    with pytest.raises(UnsupportedTasksError) as info:
        compile_dag(dag)
    (refusal,) = info.value.refusals
    assert refusal.reason.startswith("Step Functions' aws-sdk:s3:putObject sends a text Body as JSON")
    assert "S3CopyObjectOperator" in refusal.instead


def test_s3_copy_object_sends_the_encoded_source_and_the_hooks_default_acl(tmp_path: Any) -> None:
    with make_dag() as dag:
        copy = S3CopyObjectOperator(
            task_id="copy", source_bucket_key="s3://raw/in/day 1.csv", dest_bucket_key="s3://lake/in/day1.csv",
            source_version_id="v7",
        )
        copy >> S3CopyObjectOperator(
            task_id="copy_kms", source_bucket_name="raw", source_bucket_key="a.csv", dest_bucket_name="lake",
            dest_bucket_key="a.csv", acl_policy="no-acl", kms_key_id="alias/lake", kms_encryption_type="aws:kms",
            meta_data_directive="COPY",
        )
    states = _document(dag, tmp_path)["States"]
    assert states["copy"]["Resource"] == "arn:aws:states:::aws-sdk:s3:copyObject"
    assert states["copy"]["Parameters"] == {
        "CopySource": "raw/in/day%201.csv?versionId=v7", "Bucket": "lake", "Key": "in/day1.csv", "ACL": "private"
    }
    assert states["copy_kms"]["Parameters"] == {
        "CopySource": "raw/a.csv", "Bucket": "lake", "Key": "a.csv", "MetadataDirective": "COPY",
        "SSEKMSKeyId": "alias/lake", "ServerSideEncryption": "aws:kms",
    }


def test_s3_delete_objects_fails_the_machine_when_s3_answers_errors(tmp_path: Any) -> None:
    with make_dag() as dag:
        S3DeleteObjectsOperator(task_id="clean", bucket="lake", keys=["tmp/a", "tmp/b"])
    states = _document(dag, tmp_path)["States"]
    assert states["clean"]["Resource"] == "arn:aws:states:::aws-sdk:s3:deleteObjects"
    assert states["clean"]["Parameters"] == {
        "Bucket": "lake", "Delete": {"Objects": [{"Key": "tmp/a"}, {"Key": "tmp/b"}]}
    }
    check = states[states["clean"]["Next"]]
    assert check["Type"] == "Choice"
    (rule,) = check["Choices"]
    assert rule["Variable"] == "$.clean_deleted.Errors[0]" and rule["IsPresent"] is True
    assert states[rule["Next"]]["Type"] == "Fail"


def test_s3_delete_objects_by_prefix_is_refused_and_no_keys_is_a_pass() -> None:
    with make_dag() as dag:
        S3DeleteObjectsOperator(task_id="clean", bucket="lake", prefix="tmp/")
    with pytest.raises(UnsupportedTasksError, match="prefix='tmp/': the operator lists the bucket"):
        compile_dag(dag)
    with make_dag() as dag:
        S3DeleteObjectsOperator(task_id="clean", bucket="lake", keys=[])
    assert _state(dag, "clean")["Type"] == "Pass"


def test_stock_crawler_sensor_compiles_to_the_poll_loop_like_ours() -> None:
    with make_dag() as stock:
        StockGlueCrawlerSensor(task_id="s", crawler_name="cr", poke_interval=15)
    with make_dag() as ours:
        GlueCrawlerSensor(task_id="s", crawler_name="cr", poke_interval=15)
    assert definition(compile_dag(stock)) == definition(compile_dag(ours))


# --------------------------------------------------------------------------- a sensor after its start


def test_a_glue_job_sensor_after_its_start_becomes_the_sync_state(tmp_path: Any) -> None:
    with make_dag() as dag:
        start = StockGlueJobOperator(task_id="start", job_name="etl", wait_for_completion=False)
        wait = GlueJobSensor(task_id="wait", job_name="etl", run_id=start.output, timeout=600, poke_interval=5)
        notify = SnsPublishOperator(task_id="notify", target="t", message="done")
        start >> wait >> notify
    machine = compile_dag(dag)
    document = definition(machine)
    assert validate(document) == []
    assert_aws_accepts(document, tmp_path)
    assert set(document["States"]) == {"start", "notify"}
    start_state = document["States"]["start"]
    assert start_state["Resource"] == "arn:aws:states:::glue:startJobRun.sync"
    assert start_state["TimeoutSeconds"] == 600  # the sensor's timeout
    assert start_state["Next"] == "notify"
    assert any("Task 'wait' (GlueJobSensor)" in n and "compiled into the state of 'start'" in n for n in machine.notes)


def test_the_sensor_names_the_run_by_an_xcom_pull_template_too() -> None:
    with make_dag() as dag:
        start = StepFunctionStartExecutionOperator(task_id="start", state_machine_arn=CHILD)
        wait = StepFunctionExecutionSensor(task_id="wait", execution_arn="{{ ti.xcom_pull(task_ids='start') }}")
        start >> wait
    document = definition(compile_dag(dag))
    assert list(document["States"]) == ["start"]
    assert document["States"]["start"]["Resource"] == "arn:aws:states:::states:startExecution.sync:2"


def test_an_athena_sensor_after_the_query_adds_nothing_even_with_retries() -> None:
    with make_dag() as dag:
        query = AthenaOperator(task_id="query", query="SELECT 1", retries=2)
        AthenaSensor(task_id="wait", query_execution_id=query.output, retries=2).set_upstream(query)
    with make_dag() as alone:
        AthenaOperator(task_id="query", query="SELECT 1", retries=2)
    assert definition(compile_dag(dag))["States"] == definition(compile_dag(alone))["States"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("retries", "the start 'start' has retries=1: they retry the start call"),
        ("other_job", "job_name='other' differs from the start's job_name='etl'"),
        ("sibling", "tasks other than 'start' and this sensor are linked between them (side)"),
        ("not_xcom", "its run_id does not name the run of a airflow.providers.amazon.aws.operators.glue"),
        ("rule", "trigger_rule='all_done': the merged state runs right after the start"),
    ],
)
def test_a_sensor_that_cannot_merge_is_refused_saying_why(change: str, reason: str) -> None:
    with make_dag() as dag:
        start = StockGlueJobOperator(
            task_id="start", job_name="etl", wait_for_completion=False, retries=1 if change == "retries" else 0
        )
        wait = GlueJobSensor(
            task_id="wait", job_name="other" if change == "other_job" else "etl",
            run_id="jr_fixed" if change == "not_xcom" else start.output,
            trigger_rule="all_done" if change == "rule" else "all_success",
        )
        start >> wait
        if change == "sibling":
            start >> EmptyOperator(task_id="side")
    with pytest.raises(UnsupportedTasksError) as info:
        compile_dag(dag)
    by_task = {r.task_id: r for r in info.value.refusals}
    assert reason in by_task["wait"].reason
    assert by_task["wait"].what == "airflow.providers.amazon.aws.sensors.glue.GlueJobSensor"
