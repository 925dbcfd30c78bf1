"""Two DAGs with trigger rules that compile to Catch paths: a cleanup that runs whether the job
succeeded or failed (all_done), and an alert that runs only when the load failed (one_failed)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_sfn_etl.operators.athena import AthenaQueryOperator
from airflow_sfn_etl.operators.glue import GlueJobOperator
from airflow_sfn_etl.operators.sns import SnsPublishOperator

with DAG(dag_id="corpus_all_done", schedule=None, start_date=datetime(2026, 1, 1)):
    job = GlueJobOperator(task_id="transform", job_name="corpus_job")
    cleanup = AthenaQueryOperator(
        task_id="drop_staging", query="DROP TABLE IF EXISTS corpus_db.staging", trigger_rule="all_done"
    )
    report = SnsPublishOperator(task_id="report", target="corpus-topic", message="cleanup done")
    job >> cleanup >> report

with DAG(dag_id="corpus_on_failure", schedule=None, start_date=datetime(2026, 1, 1)):
    extract = GlueJobOperator(task_id="extract", job_name="extract_job")
    load = GlueJobOperator(task_id="load", job_name="load_job")
    alert = SnsPublishOperator(
        task_id="alert", target="corpus-alerts", message="the load failed", trigger_rule="one_failed"
    )
    extract >> load >> alert
