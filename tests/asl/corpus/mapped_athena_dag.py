"""An Athena query mapped over three statements (at most two at a time), then a notification."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_sfn_etl.operators.athena import AthenaQueryOperator
from airflow_sfn_etl.operators.sns import SnsPublishOperator

QUERIES = [
    "SELECT count(*) FROM orders",
    "SELECT region, sum(amount) FROM orders GROUP BY region",
    "SELECT o.id FROM orders o JOIN sales.customers c ON o.customer_id = c.id",
]

with DAG(
    dag_id="corpus_mapped_athena",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    params={"results": "s3://corpus-results/athena/"},
):
    queries = AthenaQueryOperator.partial(
        task_id="count_rows",
        database="sales",
        output_location="{{ params.results }}",
        retries=2,
        retry_delay=timedelta(seconds=20),
        max_active_tis_per_dagrun=2,
    ).expand(query=QUERIES)
    queries >> SnsPublishOperator(task_id="notify", target="corpus-topic", message="counted")
