"""A Lambda function prepares each source (mapped over a literal list of payloads), then another
function publishes the catalog."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from airflow.providers.amazon.aws.operators.lambda_function import LambdaInvokeFunctionOperator
from airflow.sdk import DAG

SOURCES = ["crm", "erp", "web"]

with DAG(
    dag_id="corpus_lambda_fanout",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    default_args={"retries": 2, "retry_delay": timedelta(seconds=20), "execution_timeout": timedelta(minutes=5)},
):
    prepare = LambdaInvokeFunctionOperator.partial(
        task_id="prepare_source", function_name="prepare-source"
    ).expand(payload=[json.dumps({"source": s}) for s in SOURCES])
    publish_catalog = LambdaInvokeFunctionOperator(
        task_id="publish_catalog", function_name="publish-catalog", payload=json.dumps({"sources": SOURCES})
    )
    prepare >> publish_catalog
