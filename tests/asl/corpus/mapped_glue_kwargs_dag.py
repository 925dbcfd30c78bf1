"""The amazon provider's Glue job mapped with expand_kwargs over a list of argument dicts."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
from airflow.sdk import DAG

with DAG(dag_id="corpus_mapped_glue_kwargs", schedule=None, start_date=datetime(2026, 1, 1)):
    GlueJobOperator.partial(task_id="load", job_name="corpus_loader").expand_kwargs(
        [
            {"script_args": {"--table": "orders", "--mode": "full"}},
            {"script_args": {"--table": "customers", "--mode": "full"}},
            {"script_args": {"--table": "items", "--mode": "delta"}},
        ]
    )
