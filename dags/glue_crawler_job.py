"""Glue crawler -> poll -> Glue job, on the Airflow engine.

Crawler ``se2_in0`` catalogs the access log under ``s3://<bucket>/se2/in0/`` as table
``se2.se2_in0``; a deferrable sensor polls it every ``wait_time`` seconds, at most
``max_polls`` times, failing with the crawl's own reason when it FAILED or was CANCELLED;
then Glue job ``se2_job0`` turns the table into Parquet under ``se2/out0/``.
The same graph compiles to a Step Functions state machine (``glue_crawler_job_sfn``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, Param

from airflow_sfn_etl.flows.settings import CrawlerJobSettings
from airflow_sfn_etl.operators.glue import GlueJobOperator
from airflow_sfn_etl.operators.glue_crawler import GlueCrawlerOperator
from airflow_sfn_etl.sensors.glue_crawler import GlueCrawlerSensor

DEFAULTS = CrawlerJobSettings()
NAME = r"^[A-Za-z0-9_.-]{1,255}$"
BUCKET = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"

with DAG(
    dag_id="glue_crawler_job",
    description="Glue crawler se2_in0 -> poll -> Glue job se2_job0 (CSV access log to Parquet)",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=4,
    params={
        "crawler": Param(DEFAULTS.crawler, type="string", pattern=NAME, title="Glue crawler",
                         description="Crawler that catalogs the access log."),
        "job": Param(DEFAULTS.job, type="string", pattern=NAME, title="Glue job",
                     description="Job that writes the catalog table as Parquet."),
        "bucket": Param(DEFAULTS.bucket, type="string", pattern=BUCKET, title="Data bucket",
                        description="Bucket holding se2/in0/ (input) and se2/out0/ (output)."),
        "output_prefix": Param(DEFAULTS.output_prefix, type="string", pattern=r"^[A-Za-z0-9_./=-]+/$",
                               title="Output prefix", description="Key prefix the job writes Parquet under."),
        "wait_time": Param(60, type="integer", minimum=1, maximum=3600, title="Seconds between polls",
                           description="How long to wait between two looks at the crawler."),
    },
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
        script_args={"--output_path": "s3://{{ params.bucket }}/{{ params.output_prefix }}"},
    )
    start_crawler >> wait_for_crawler >> run_job
