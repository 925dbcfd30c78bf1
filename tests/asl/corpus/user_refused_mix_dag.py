"""What a first DAG often looks like: a marker file written with S3CreateObjectOperator, a branch in
Python, and a Glue sensor whose start retries. Each of these is refused, in one message."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
from airflow.providers.amazon.aws.operators.s3 import S3CreateObjectOperator
from airflow.providers.amazon.aws.sensors.glue import GlueJobSensor
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import BranchPythonOperator
from airflow.sdk import DAG


def _pick(**context):
    return "full_load" if context["logical_date"].day == 1 else "skip"


with DAG(
    dag_id="corpus_refused_mix",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
):
    write_marker = S3CreateObjectOperator(task_id="write_marker", s3_key="s3://corpus-bucket/_STARTED", data="started")
    pick_mode = BranchPythonOperator(task_id="pick_mode", python_callable=_pick)
    full_load = GlueJobOperator(task_id="full_load", job_name="corpus_loader", wait_for_completion=False)
    wait = GlueJobSensor(task_id="wait_full_load", job_name="corpus_loader", run_id=full_load.output)
    skip = EmptyOperator(task_id="skip")
    write_marker >> pick_mode >> [full_load, skip]
    full_load >> wait
