"""Glue crawler -> poll -> Glue job, on the Airflow engine.

Crawler ``se2_in0`` catalogs the access log under ``s3://<bucket>/se2/in0/`` as table
``se2.se2_in0``; a deferrable sensor polls it every ``wait_time`` seconds, at most
``max_polls`` times, failing with the crawl's own reason when it FAILED or was CANCELLED;
then Glue job ``se2_job0`` (the seed's PySpark script, a ``glueetl`` job) turns the table
into Parquet under ``se2/out0/<run id>/``. Glue's Spark sink appends part files to what the
path holds, so each run writes a prefix of its own (``run_id`` here, the execution name on
Step Functions): a run's output is exactly its job's rows, and concurrent runs do not mix.
The job's outlet is the Asset ``s3://<bucket>/se2/out0``, the folder of every run's output.
The same graph compiles to a Step Functions state machine (``glue_crawler_job_sfn``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_sfn_etl.operators.glue import GlueJobOperator
from airflow_sfn_etl.operators.glue_crawler import GlueCrawlerOperator
from airflow_sfn_etl.sensors.glue_crawler import GlueCrawlerSensor
from airflow_sfn_etl_flows.assets import crawler_job_output
from airflow_sfn_etl_flows.params import glue_crawler_job_params

with DAG(
    dag_id="glue_crawler_job",
    description="Glue crawler se2_in0 -> poll -> Glue job se2_job0 (CSV access log to Parquet)",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=4,
    params=glue_crawler_job_params(),
    default_args={
        "retries": 3,
        "retry_delay": timedelta(seconds=1),
        "retry_exponential_backoff": True,
        "deferrable": True,
    },
    tags=["sfn-etl", "glue"],
    doc_md=__doc__,
) as dag:
    start_crawler = GlueCrawlerOperator(
        task_id="submit_crawler_job", task_display_name="Submit Crawler Job",
        crawler_name="{{ params.crawler }}", wait_for_completion=False,
        retry_delay=timedelta(seconds=120),
    )
    wait_for_crawler = GlueCrawlerSensor(
        task_id="wait_for_crawler", task_display_name="Wait for Crawler",
        crawler_name="{{ params.crawler }}", wait_time="{{ params.wait_time }}", max_polls=3,
    )
    run_job = GlueJobOperator(
        task_id="run_final_glue_job", task_display_name="Run Final Glue Job",
        job_name="{{ params.job }}",
        script_args={"--output_path": "s3://{{ params.bucket }}/{{ params.output_prefix }}{{ run_id }}/"},
        outlets=[crawler_job_output()],
    )
    start_crawler >> wait_for_crawler >> run_job
