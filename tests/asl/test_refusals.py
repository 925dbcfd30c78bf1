"""One error names every task the compiler refuses, with its reason and what would compile instead."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import BaseOperator, task

from airflow_sfn_etl.asl import UnsupportedTasksError, compile_dag, definition, validate
from airflow_sfn_etl.operators.athena import AthenaQueryOperator
from airflow_sfn_etl.operators.glue import GlueJobOperator
from airflow_sfn_etl.operators.sns import SnsPublishOperator
from tests.asl.conftest import make_dag


def _refused(dag: Any) -> str:
    with pytest.raises(UnsupportedTasksError) as info:
        compile_dag(dag)
    return str(info.value)


def _line(message: str, task_id: str) -> str:
    lines = [line for line in message.splitlines() if line.startswith(f"- Task '{task_id}' ")]
    assert lines, f"no line for {task_id!r} in:\n{message}"
    return "\n".join(lines)


def test_every_offending_task_is_listed_with_its_reason() -> None:
    with make_dag() as dag:

        @task
        def prep() -> list[str]:
            return ["a", "b"]

        mapped = GlueJobOperator.partial(task_id="per_table").expand(job_name=prep())
        shell = BashOperator(task_id="shell", bash_command="echo")
        query = AthenaQueryOperator(task_id="rows", query="SELECT 1", result_to_xcom=True)
        mapped >> shell >> query
    message = _refused(dag)
    assert message.startswith("DAG 't' cannot be compiled to Step Functions: 4 task(s) cannot compile (")
    assert (
        "Instead: put the code in an AWS Lambda function and call it with "
        "airflow.providers.amazon.aws.operators.lambda_function.LambdaInvokeFunctionOperator(function_name="
    ) in _line(message, "prep")
    assert "@task" in _line(message, "prep") and "runs Python code" in _line(message, "prep")
    assert "it maps over XCom from task(s) prep" in _line(message, "per_table")
    assert "mapped airflow_sfn_etl.operators.glue.GlueJobOperator" in _line(message, "per_table")
    assert "BashOperator" in _line(message, "shell") and "no Step Functions mapping" in _line(message, "shell")
    assert "result_to_xcom=True" in _line(message, "rows")


def test_supported_operators_are_named_by_full_class_path() -> None:
    with make_dag() as dag:
        BashOperator(task_id="shell", bash_command="echo")
    message = _refused(dag)
    for name in ("GlueJobOperator", "AthenaQueryOperator", "SnsPublishOperator", "GlueCrawlerOperator"):
        bare = len(re.findall(rf"\b{name}\b", message))
        qualified = len(re.findall(rf"[a-z_.]+\.{name}\b", message))
        assert bare == qualified >= 1, name


def test_branching_is_refused() -> None:
    with make_dag() as dag:

        @task.branch
        def choose() -> str:
            return "a"

        choose() >> GlueJobOperator(task_id="a", job_name="j")
    assert "branching (choosing downstream tasks at run time) is not supported" in _line(_refused(dag), "choose")


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"region_name": "eu-west-1"}, "region_name='eu-west-1'"),
        ({"allowed_output_buckets": ["b"]}, "allowed_output_buckets=['b']"),
        ({"on_failure_callback": print}, "on_failure_callback="),
        ({"depends_on_past": True}, "depends_on_past=True"),
        ({"email": "ops@example.com"}, "email='ops@example.com'"),
    ],
)
def test_arguments_the_state_does_not_carry_are_refused_by_name(kwargs: dict[str, Any], named: str) -> None:
    with make_dag() as dag:
        AthenaQueryOperator(task_id="q", query="SELECT 1", **kwargs)
    assert named in _line(_refused(dag), "q")


def test_arguments_that_only_tune_the_worker_compile() -> None:
    with make_dag() as dag:
        GlueJobOperator(
            task_id="j", job_name="x", poll_interval=1, deferrable=True, verbose=True, aws_conn_id="other",
            execution_timeout=timedelta(minutes=5),
        )
    state = definition(compile_dag(dag))["States"]["j"]
    assert state["TimeoutSeconds"] == 300
    assert state["Parameters"] == {"JobName": "x"}


def test_a_lone_template_error_keeps_its_own_type_and_two_are_listed() -> None:
    from airflow_sfn_etl.asl import TemplateMappingError

    with make_dag() as dag:
        SnsPublishOperator(task_id="a", target="t", message="{{ ds }}")
    with pytest.raises(TemplateMappingError):
        compile_dag(dag)
    with make_dag() as dag:
        SnsPublishOperator(task_id="a", target="t", message="{{ ds }}")
        SnsPublishOperator(task_id="b", target="t", message="{{ ti.xcom_pull('a') }}")
    message = _refused(dag)
    assert "'{{ ds }}'" in _line(message, "a") and "xcom_pull" in _line(message, "b")


def test_an_operator_without_mapping_and_a_shape_error_are_both_reported() -> None:
    class Mystery(BaseOperator):
        def execute(self, context: Any) -> None:
            return None

    with make_dag() as dag:
        a, b, c, d = (GlueJobOperator(task_id=x, job_name="j") for x in "abcd")
        a >> c
        b >> [c, d]
        Mystery(task_id="m")
    with pytest.raises(UnsupportedTasksError) as info:
        compile_dag(dag, strict_shape=True)
    message = str(info.value)
    assert "Task 'm'" in message and "Besides:" in message and "b >> c" in message


def test_compiled_definitions_of_accepted_dags_stay_valid() -> None:
    with make_dag() as dag:
        GlueJobOperator(task_id="j", job_name="x", retries=2, retry_delay=timedelta(seconds=30))
    assert validate(definition(compile_dag(dag))) == []


def test_sensor_timeout_soft_fail_and_a_loop_timeout_are_refused() -> None:
    from airflow_sfn_etl.operators.glue_crawler import GlueCrawlerOperator
    from airflow_sfn_etl.sensors.glue_crawler import GlueCrawlerSensor

    with make_dag() as dag:
        GlueCrawlerSensor(task_id="wait", crawler_name="c", timeout=600, soft_fail=True)
        GlueCrawlerOperator(task_id="crawl", crawler_name="c", execution_timeout=timedelta(minutes=5))
    message = _refused(dag)
    assert "timeout=600" in _line(message, "wait") and "max_polls" in _line(message, "wait")
    assert "soft_fail=True" in _line(message, "wait")
    assert "execution_timeout=0:05:00" in _line(message, "crawl")


def test_a_crawler_start_without_waiting_keeps_its_timeout() -> None:
    from airflow_sfn_etl.operators.glue_crawler import GlueCrawlerOperator

    with make_dag() as dag:
        GlueCrawlerOperator(
            task_id="crawl", crawler_name="c", wait_for_completion=False, execution_timeout=timedelta(seconds=90)
        )
    assert definition(compile_dag(dag))["States"]["crawl"]["TimeoutSeconds"] == 90


def test_outlets_compile_with_a_note_naming_the_assets_and_where_to_declare_them() -> None:
    from airflow.sdk import Asset

    summary = Asset(name="summary", uri="s3://bucket/summary")
    with make_dag() as dag:
        AthenaQueryOperator(task_id="summarise", query="SELECT 1", outlets=[summary])
    machine = compile_dag(dag)
    [note] = [n for n in machine.notes if "outlets" in n]
    assert note.startswith("Task 'summarise' has outlets s3://bucket/summary: the state machine emits no Airflow")
    assert "StepFunctionRunOperator" in note
    assert validate(definition(machine)) == []
