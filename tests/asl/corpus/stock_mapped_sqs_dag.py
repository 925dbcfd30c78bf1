"""One SQS message per table (dynamic task mapping over a literal list), then a cleanup that runs
whether the messages went out or not."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.amazon.aws.operators.s3 import S3DeleteObjectsOperator
from airflow.providers.amazon.aws.operators.sqs import SqsPublishOperator
from airflow.sdk import DAG

TABLES = ["orders", "customers", "items"]

with DAG(
    dag_id="corpus_mapped_sqs",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    params={"queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/tables", "bucket": "corpus-bucket"},
):
    announce = SqsPublishOperator.partial(
        task_id="announce_table", sqs_queue="{{ params.queue_url }}", max_active_tis_per_dagrun=2
    ).expand(message_content=[f"table {name} ready" for name in TABLES])
    drop_markers = S3DeleteObjectsOperator(
        task_id="drop_markers",
        bucket="{{ params.bucket }}",
        keys=[f"markers/{name}.ready" for name in TABLES],
        trigger_rule="all_done",
    )
    announce >> drop_markers
