"""Archive yesterday's landing files (one mapped copy per file), then delete the originals."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.amazon.aws.operators.s3 import S3CopyObjectOperator, S3DeleteObjectsOperator
from airflow.sdk import DAG

FILES = ["landing/orders.csv", "landing/customers.csv", "landing/items 2026.csv"]

with DAG(
    dag_id="corpus_s3_housekeeping",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
):
    archive = S3CopyObjectOperator.partial(
        task_id="archive", source_bucket_name="corpus-housekeeping", dest_bucket_name="corpus-housekeeping"
    ).expand_kwargs(
        [{"source_bucket_key": key, "dest_bucket_key": key.replace("landing/", "archive/")} for key in FILES]
    )
    clean_landing = S3DeleteObjectsOperator(task_id="clean_landing", bucket="corpus-housekeeping", keys=FILES)
    archive >> clean_landing
