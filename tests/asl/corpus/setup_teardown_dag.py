"""A setup task creates a staging table, the work loads and transforms it, and a teardown drops the
table whether the work succeeded or failed; the run's result is the work's."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_sfn_etl.operators.athena import AthenaQueryOperator
from airflow_sfn_etl.operators.glue import GlueJobOperator

with DAG(dag_id="corpus_setup_teardown", schedule=None, start_date=datetime(2026, 1, 1)):
    create = AthenaQueryOperator(
        task_id="create_staging",
        query="CREATE EXTERNAL TABLE corpus_db.staging (id int) LOCATION 's3://corpus-bucket/staging/'",
        output_location="s3://corpus-results/",
    )
    load = GlueJobOperator(task_id="load", job_name="corpus_load")
    transform = GlueJobOperator(task_id="transform", job_name="corpus_transform")
    drop = AthenaQueryOperator(
        task_id="drop_staging", query="DROP TABLE IF EXISTS corpus_db.staging", output_location="s3://corpus-results/"
    )
    create >> load >> transform >> drop.as_teardown(setups=create)
