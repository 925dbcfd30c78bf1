"""The amazon provider's own operators: run a crawler, a Lambda function, a Glue job, an Athena query,
then notify by SNS."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.amazon.aws.operators.athena import AthenaOperator
from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
from airflow.providers.amazon.aws.operators.glue_crawler import GlueCrawlerRunOperator
from airflow.providers.amazon.aws.operators.lambda_function import LambdaInvokeFunctionOperator
from airflow.providers.amazon.aws.operators.sns import SnsPublishOperator
from airflow.sdk import DAG

with DAG(
    dag_id="corpus_stock_operators",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    params={"bucket": "corpus-bucket", "topic_arn": "arn:aws:sns:eu-west-1:123456789012:corpus"},
    default_args={"retries": 1, "retry_delay": timedelta(seconds=30)},
):
    crawl = GlueCrawlerRunOperator(task_id="crawl", crawler_name="corpus_crawler", poll_interval=10)
    prepare = LambdaInvokeFunctionOperator(
        task_id="prepare",
        function_name="arn:aws:lambda:us-east-1:123456789012:function:corpus-prepare",
        payload='{"bucket": "{{ params.bucket }}", "mode": "full"}',
    )
    transform = GlueJobOperator(
        task_id="transform",
        job_name="corpus_job",
        script_args={"--out": "s3://{{ params.bucket }}/out/"},
        run_job_kwargs={"WorkerType": "G.1X", "NumberOfWorkers": 2},
    )
    count_rows = AthenaOperator(
        task_id="count_rows",
        query="SELECT count(*) FROM corpus_db.events",
        database="corpus_db",
        output_location="s3://{{ params.bucket }}/athena/",
    )
    notify = SnsPublishOperator(
        task_id="notify", target_arn="{{ params.topic_arn }}", message="done", subject="Corpus"
    )
    crawl >> prepare >> transform >> count_rows >> notify
