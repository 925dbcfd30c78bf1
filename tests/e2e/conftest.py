"""Fixtures for end-to-end runs of the flows on the sandbox: provisioned resources, DAG runs."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from airflow_sfn_etl_flows.settings import DAGS_FOLDER, CrawlerJobSettings, SalesMarketingSettings

from .expected import SEED, WORKSHOP


@pytest.fixture
def flows(sandbox_env, airflow_db) -> dict[str, Any]:
    """A clean sandbox with both flows' resources provisioned; returns their references."""
    from airflow_sfn_etl_flows.provision import provision_crawler_job, provision_sales_marketing

    sandbox_env.reset()
    session = boto3.Session(region_name="us-east-1")
    refs = provision_sales_marketing(session, WORKSHOP, endpoint_url=sandbox_env.endpoint_url)
    refs.update(provision_crawler_job(session, SEED, endpoint_url=sandbox_env.endpoint_url))
    return {"session": session, "endpoint_url": sandbox_env.endpoint_url, "sandbox": sandbox_env,
            "sales": SalesMarketingSettings(), "crawl": CrawlerJobSettings(), **refs}


@pytest.fixture(scope="session")
def dagbag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(str(DAGS_FOLDER))


def run_dag(dagbag, dag_id: str, conf: dict[str, Any] | None = None, *, retry_delay: float | None = None):
    """Run a DAG with dag.test(); return the DagRun and {task_id: state}.

    ``retry_delay`` (seconds) replaces the tasks' own for this run: a failure path then still
    makes every retry, without waiting the DAG's 30 s between them.
    """
    dag = dagbag.get_dag(dag_id)
    assert dag is not None, f"{dag_id} not loaded: {dagbag.import_errors}"
    if retry_delay is not None:
        dag = copy.deepcopy(dag)
        for task in dag.tasks:
            task.retry_delay = timedelta(seconds=retry_delay)
    run = dag.test(run_conf=conf or {})
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    return run, states


def dags_folder() -> Path:
    return DAGS_FOLDER


def job_output(flows: dict[str, Any], prefix: str) -> tuple[list[str], dict[str, dict[str, str]]]:
    """The keys under ``prefix`` in the crawler flow's bucket, and the Parquet schema of each part file."""
    import io

    import pyarrow.parquet as pq

    s3 = flows["session"].client("s3", endpoint_url=flows["endpoint_url"])
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=flows["crawl"].bucket, Prefix=prefix).get("Contents", [])]
    schemas = {}
    for key in keys:
        body = s3.get_object(Bucket=flows["crawl"].bucket, Key=key)["Body"].read()
        schemas[key] = {f.name: str(f.type) for f in pq.read_schema(io.BytesIO(body))}
    return keys, schemas
