"""A Glue job mapped over the tables a Python task lists at run time (refused: XCom)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task

from airflow_sfn_etl.operators.glue import GlueJobOperator


@dag(dag_id="corpus_mapped_xcom", schedule=None, start_date=datetime(2026, 1, 1))
def corpus_mapped_xcom():
    @task
    def list_tables() -> list[str]:
        return ["orders", "customers"]

    GlueJobOperator.partial(task_id="load_table").expand(job_name=list_tables())


corpus_mapped_xcom()
