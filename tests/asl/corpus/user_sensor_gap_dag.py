"""A notice sent while the job still runs (it hangs off the start, beside the sensor): the sensor
cannot be folded into the start without moving the notice after the job's end."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
from airflow.providers.amazon.aws.operators.sns import SnsPublishOperator
from airflow.providers.amazon.aws.sensors.glue import GlueJobSensor
from airflow.sdk import DAG

with DAG(dag_id="corpus_sensor_gap", schedule=None, start_date=datetime(2026, 1, 1)):
    start_job = GlueJobOperator(task_id="start_job", job_name="corpus_loader", wait_for_completion=False)
    tell_started = SnsPublishOperator(
        task_id="tell_started", target_arn="arn:aws:sns:us-east-1:123456789012:corpus-loads", message="started"
    )
    wait_job = GlueJobSensor(
        task_id="wait_job", job_name="corpus_loader", run_id="{{ ti.xcom_pull(task_ids='start_job') }}"
    )
    start_job >> [tell_started, wait_job]
