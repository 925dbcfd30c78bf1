"""Run an existing state machine for the day (its own nested workflow), wait for it with the
provider's sensor, then put a message on the downstream team's queue."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.amazon.aws.operators.sqs import SqsPublishOperator
from airflow.providers.amazon.aws.operators.step_function import StepFunctionStartExecutionOperator
from airflow.providers.amazon.aws.sensors.step_function import StepFunctionExecutionSensor
from airflow.sdk import dag


@dag(
    dag_id="corpus_nested_machine",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    params={
        "day": "2026-01-01",
        "child_arn": "arn:aws:states:us-east-1:123456789012:stateMachine:daily-export",
        "queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/exports",
    },
)
def corpus_nested_machine():
    start_export = StepFunctionStartExecutionOperator(
        task_id="start_export",
        state_machine_arn="{{ params.child_arn }}",
        state_machine_input={"day": "{{ params.day }}", "format": "csv"},
    )
    wait = StepFunctionExecutionSensor(task_id="wait_for_export", execution_arn=start_export.output, poke_interval=2)
    announce = SqsPublishOperator(
        task_id="announce",
        sqs_queue="{{ params.queue_url }}",
        message_content="export for {{ params.day }} is ready",
    )
    start_export >> wait >> announce


corpus_nested_machine()
