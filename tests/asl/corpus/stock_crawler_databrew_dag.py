"""Crawl the raw zone and wait with the provider's crawler sensor, clean it with a DataBrew job,
then count with Athena and the provider's Athena sensor."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.amazon.aws.operators.athena import AthenaOperator
from airflow.providers.amazon.aws.operators.glue_crawler import GlueCrawlerRunOperator
from airflow.providers.amazon.aws.operators.glue_databrew import GlueDataBrewStartJobOperator
from airflow.providers.amazon.aws.sensors.athena import AthenaSensor
from airflow.providers.amazon.aws.sensors.glue_crawler import GlueCrawlerSensor
from airflow.sdk import DAG

with DAG(
    dag_id="corpus_crawler_databrew",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=2)},
):
    crawl_raw = GlueCrawlerRunOperator(task_id="crawl_raw", crawler_name="raw_zone", wait_for_completion=False)
    crawled = GlueCrawlerSensor(task_id="raw_crawled", crawler_name="raw_zone", poke_interval=30)
    clean_raw = GlueDataBrewStartJobOperator(task_id="clean_raw", job_name="clean-raw-orders", deferrable=True)
    count_clean = AthenaOperator(
        task_id="count_clean",
        query="SELECT count(*) FROM clean_raw.orders",
        database="clean",
        output_location="s3://corpus-results/athena/",
        execution_timeout=timedelta(minutes=10),
    )
    counted = AthenaSensor(task_id="count_done", query_execution_id=count_clean.output)
    crawl_raw >> crawled >> clean_raw >> count_clean >> counted
