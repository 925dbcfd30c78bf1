"""A nightly load with the retry and timeout settings a production DAG has: retries with exponential
backoff and a cap, a task timeout, a run timeout."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.amazon.aws.operators.sqs import SqsPublishOperator
from airflow.sdk import DAG

from airflow_sfn_etl.operators.glue import GlueJobOperator

default_args = {
    "owner": "data-eng",
    "retries": 3,
    "retry_delay": timedelta(seconds=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=5),
}

with DAG(
    dag_id="corpus_retries_timeouts",
    schedule="0 2 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    dagrun_timeout=timedelta(hours=2),
    default_args=default_args,
    params={
        "bucket": "corpus-bucket",
        "job": "corpus_loader",
        "queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/loads",
    },
):
    load = GlueJobOperator(
        task_id="load_customers",
        job_name="{{ params.job }}",
        script_args={"--table": "customers", "--bucket": "{{ params.bucket }}"},
        execution_timeout=timedelta(minutes=45),
        poll_interval=1,
    )
    announce = SqsPublishOperator(
        task_id="announce",
        sqs_queue="{{ params.queue_url }}",
        message_content="customers loaded",
        retries=0,
    )
    load >> announce
