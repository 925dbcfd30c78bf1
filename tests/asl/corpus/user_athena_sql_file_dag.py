"""The daily summary query lives in a .sql file next to the DAG (template_searchpath), with params."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from airflow.sdk import DAG

from airflow_sfn_etl.operators.athena import AthenaQueryOperator
from airflow_sfn_etl.operators.sns import SnsPublishOperator

with DAG(
    dag_id="corpus_athena_sql_file",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    template_searchpath=[str(Path(__file__).parent / "sql")],
    params={"database": "sales", "day": "2026-01-01", "results": "s3://corpus-results/summary/"},
):
    summary = AthenaQueryOperator(
        task_id="daily_summary",
        query="daily_summary.sql",
        output_location="{{ params.results }}",
        workgroup="reporting",
    )
    tell = SnsPublishOperator(task_id="tell", target="reports", message="daily summary ready", subject="Report")
    summary >> tell
