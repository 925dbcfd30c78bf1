"""Dynamic task mapping over literal lists: one Glue job run per table, one run of a job per day."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag

from airflow_sfn_etl.operators.glue import GlueJobOperator
from airflow_sfn_etl.operators.sns import SnsPublishOperator


@dag(dag_id="corpus_mapped", schedule=None, start_date=datetime(2026, 1, 1))
def corpus_mapped():
    per_table = GlueJobOperator.partial(task_id="load_table").expand(job_name=["orders", "customers", "items"])
    per_day = GlueJobOperator.partial(task_id="load_day", job_name="daily").expand(
        script_args=[{"--day": "1"}, {"--day": "2"}]
    )
    done = SnsPublishOperator(task_id="done", target="corpus-topic", message="loaded")
    [per_table, per_day] >> done


corpus_mapped()
