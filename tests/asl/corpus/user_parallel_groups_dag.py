"""Two task groups load their tables side by side, a join marks both done, then one notice: a
fan-out/fan-in written with TaskGroups and an EmptyOperator."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.amazon.aws.operators.sns import SnsPublishOperator
from airflow.providers.amazon.aws.operators.sqs import SqsPublishOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, TaskGroup

from airflow_sfn_etl.operators.glue import GlueJobOperator

with DAG(
    dag_id="corpus_parallel_groups",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    params={
        "bucket": "corpus-bucket",
        "job": "corpus_loader",
        "queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/loads",
        "topic_arn": "arn:aws:sns:us-east-1:123456789012:corpus-loads",
    },
):
    with TaskGroup("sales") as sales:
        GlueJobOperator(
            task_id="load_orders",
            job_name="{{ params.job }}",
            script_args={"--table": "orders", "--bucket": "{{ params.bucket }}"},
            poll_interval=1,
        )
    with TaskGroup("crm") as crm:
        accounts = GlueJobOperator(
            task_id="load_accounts",
            job_name="{{ params.job }}",
            script_args={"--table": "accounts", "--bucket": "{{ params.bucket }}"},
            poll_interval=1,
        )
        tell_crm = SqsPublishOperator(
            task_id="tell_crm", sqs_queue="{{ params.queue_url }}", message_content="accounts loaded"
        )
        accounts >> tell_crm
    both_loaded = EmptyOperator(task_id="both_loaded")
    notify = SnsPublishOperator(task_id="notify", target_arn="{{ params.topic_arn }}", message="sales and crm loaded")
    [sales, crm] >> both_loaded >> notify
