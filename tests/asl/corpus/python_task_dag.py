"""A TaskFlow DAG mixing @task functions with a Glue job (refused: @task code runs in the worker)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task

from airflow_sfn_etl.operators.glue import GlueJobOperator


@dag(dag_id="corpus_python_tasks", schedule=None, start_date=datetime(2026, 1, 1))
def corpus_python_tasks():
    @task
    def list_files() -> list[str]:
        return ["a.csv", "b.csv"]

    @task
    def summarize() -> None:
        print("done")

    job = GlueJobOperator(task_id="convert", job_name="convert_job")
    list_files() >> job >> summarize()


corpus_python_tasks()
