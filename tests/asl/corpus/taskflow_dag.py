"""A plain Airflow 3 ``@dag`` function, called without keeping the DAG in a global: Glue job, then
an Athena query over its output, then an SNS notice."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag

from airflow_sfn_etl.operators.athena import AthenaQueryOperator
from airflow_sfn_etl.operators.glue import GlueJobOperator
from airflow_sfn_etl.operators.sns import SnsPublishOperator


@dag(
    dag_id="corpus_taskflow",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    params={"bucket": "corpus-bucket", "database": "corpus_db"},
    default_args={"retries": 2, "retry_delay": timedelta(seconds=10)},
)
def corpus_taskflow():
    job = GlueJobOperator(
        task_id="transform",
        job_name="corpus_job",
        script_args={"--out": "s3://{{ params.bucket }}/out/"},
        execution_timeout=timedelta(minutes=30),
    )
    count = AthenaQueryOperator(
        task_id="count_rows",
        query="SELECT count(*) AS n FROM {{ params.database }}.events",
        output_location="s3://{{ params.bucket }}/athena/",
    )
    notify = SnsPublishOperator(task_id="notify", target="corpus-topic", message="Corpus flow finished")
    job >> count >> notify


corpus_taskflow()
