"""XCom between supported operators: a crawler's name, an Athena query id and a Glue run id read by
later tasks (``.output`` as an argument, ``ti.xcom_pull`` in templates); and a DAG whose XCom reads
cannot compile (an SNS message id, a read from a task that is not upstream)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_sfn_etl.operators.athena import AthenaQueryOperator
from airflow_sfn_etl.operators.glue import GlueJobOperator
from airflow_sfn_etl.operators.glue_crawler import GlueCrawlerOperator
from airflow_sfn_etl.operators.sns import SnsPublishOperator

with DAG(
    dag_id="corpus_xcom",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    params={"crawler": "corpus_crawler"},
):
    crawl = GlueCrawlerOperator(task_id="crawl", crawler_name="{{ params.crawler }}")
    count = AthenaQueryOperator(
        task_id="count_rows", query="SELECT count(*) FROM corpus_db.orders", output_location="s3://corpus-results/"
    )
    export = GlueJobOperator(
        task_id="export",
        job_name="corpus_export",
        script_args={"--count_query": count.output, "--crawler": "{{ ti.xcom_pull(task_ids='crawl') }}"},
    )
    notify = SnsPublishOperator(
        task_id="notify",
        target="corpus-topic",
        message="export run {{ ti.xcom_pull(task_ids='export') }} after query "
        "{{ ti.xcom_pull(task_ids='count_rows') }}",
    )
    crawl >> count >> export >> notify

with DAG(dag_id="corpus_xcom_refused", schedule=None, start_date=datetime(2026, 1, 1)):
    alert = SnsPublishOperator(task_id="alert", target="corpus-topic", message="starting")
    job = GlueJobOperator(task_id="job", job_name="corpus_job")
    side = GlueJobOperator(task_id="side", job_name="corpus_side")
    audit = SnsPublishOperator(
        task_id="audit", target="corpus-topic", message="alert {{ ti.xcom_pull(task_ids='alert') }}"
    )
    late = SnsPublishOperator(task_id="late", target="corpus-topic", message="{{ ti.xcom_pull(task_ids='side') }}")
    alert >> audit >> job >> [side, late]
