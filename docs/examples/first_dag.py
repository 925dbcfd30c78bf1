"""A first DAG with airflow-sfn-etl: crawl a CSV on S3, total it with Athena, send the totals to SNS.

``crawl_orders`` runs the Glue crawler that catalogs ``s3://<bucket>/orders/`` as the table
``<database>.orders`` and waits for the crawl (a failed crawl fails the task with Glue's reason);
``total_by_region`` runs an Athena query on that table, writes the result CSV under
``s3://<bucket>/athena-results/`` and pushes the rows to XCom; ``notify`` publishes those rows as
JSON to the SNS topic. Create the bucket, CSV, Glue database, crawler and topic first
(``first_dag_setup.py`` beside this file); every name is a param, editable in the trigger form.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag

from airflow_sfn_etl.operators.athena import AthenaQueryOperator
from airflow_sfn_etl.operators.glue_crawler import GlueCrawlerOperator
from airflow_sfn_etl.operators.sns import SnsPublishOperator


@dag(
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={
        "bucket": "my-first-dag",
        "database": "first_dag",
        "crawler": "first_dag_orders",
        "topic": "first-dag-totals",
    },
    tags=["example"],
    doc_md=__doc__,
)
def first_dag():
    crawl = GlueCrawlerOperator(
        task_id="crawl_orders",
        crawler_name="{{ params.crawler }}",
        poll_interval=2,
    )
    totals = AthenaQueryOperator(
        task_id="total_by_region",
        query="SELECT region, count(*) AS orders, sum(amount) AS total FROM orders GROUP BY region ORDER BY region",
        database="{{ params.database }}",
        output_location="s3://{{ params.bucket }}/athena-results/",
        result_to_xcom=True,
    )
    notify = SnsPublishOperator(
        task_id="notify",
        target="{{ params.topic }}",
        subject="Order totals by region",
        message="{{ ti.xcom_pull(task_ids='total_by_region', key='query_results') | tojson }}",
    )
    crawl >> totals >> notify


first_dag()
