"""Start a Glue job without waiting, wait for it with the provider's sensor, check the load with
Athena, then tell the team on SNS: the amazon provider's operators only."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.amazon.aws.operators.athena import AthenaOperator
from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
from airflow.providers.amazon.aws.operators.sns import SnsPublishOperator
from airflow.providers.amazon.aws.sensors.glue import GlueJobSensor
from airflow.sdk import DAG

with DAG(
    dag_id="corpus_stock_glue_sensor",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={
        "bucket": "corpus-bucket",
        "job": "corpus_loader",
        "topic_arn": "arn:aws:sns:us-east-1:123456789012:corpus-loads",
    },
    tags=["corpus", "stock"],
):
    submit_load = GlueJobOperator(
        task_id="submit_load",
        job_name="{{ params.job }}",
        script_args={"--table": "orders", "--bucket": "{{ params.bucket }}"},
        wait_for_completion=False,
    )
    wait = GlueJobSensor(
        task_id="wait_for_load",
        job_name="{{ params.job }}",
        run_id=submit_load.output,
        poke_interval=2,
    )
    check_load = AthenaOperator(
        task_id="check_load",
        query="SELECT 'orders' AS loaded_table",
        output_location="s3://{{ params.bucket }}/athena/",
    )
    notify = SnsPublishOperator(
        task_id="notify",
        target_arn="{{ params.topic_arn }}",
        message="orders loaded",
        subject="Load finished",
    )
    submit_load >> wait >> check_load >> notify
