"""Two loads feed a report, and one of them also feeds an export: the "N" shape (orders >> report,
customers >> [report, export]) is not series-parallel. It compiles with one added dependency
(orders >> export, reported as a warning), or is refused with ``strict_shape``."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_sfn_etl.operators.athena import AthenaQueryOperator
from airflow_sfn_etl.operators.glue import GlueJobOperator

with DAG(dag_id="corpus_crossed_dependencies", schedule=None, start_date=datetime(2026, 1, 1)):
    orders = GlueJobOperator(task_id="load_orders", job_name="load_orders")
    customers = GlueJobOperator(task_id="load_customers", job_name="load_customers")
    report = AthenaQueryOperator(
        task_id="report",
        query="CREATE TABLE corpus_db.report AS SELECT * FROM corpus_db.orders JOIN corpus_db.customers USING (id)",
        output_location="s3://corpus-results/",
    )
    export = GlueJobOperator(task_id="export_customers", job_name="export_customers")
    orders >> report
    customers >> [report, export]
