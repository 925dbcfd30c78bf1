"""Fixtures of the fault matrix: a clean sandbox with small resources, the admin client, clients."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from e2e.conftest import dagbag, flows  # noqa: F401 - the end-to-end fixtures, shared

from airflow_sfn_etl_sandbox.client import SandboxClient

from . import harness


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/faults/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.faults)


@pytest.fixture
def admin(sandbox_env) -> SandboxClient:
    return SandboxClient(sandbox_env.endpoint_url)


@pytest.fixture
def aws(sandbox_env) -> dict[str, Any]:
    """A reset sandbox with the fault tests' resources; boto3 clients (with retries) to read it."""
    sandbox_env.reset()
    session = boto3.Session(region_name="us-east-1")
    refs = harness.provision(session, sandbox_env.endpoint_url)
    clients = {
        name: session.client(name, endpoint_url=sandbox_env.endpoint_url)
        for name in ("glue", "athena", "databrew", "sns", "stepfunctions", "s3", "sqs")
    }
    return {"session": session, "endpoint_url": sandbox_env.endpoint_url, **refs, **clients}


@pytest.fixture
def flows_databrew(aws) -> str:
    """The marketing DataBrew job of the sales flow (1461 rows, so runs are quick); returns its name."""
    from airflow_sfn_etl_flows.provision import ensure_databrew_job
    from airflow_sfn_etl_flows.settings import shared_data_dir

    aws["s3"].upload_file(
        str(shared_data_dir() / "workshop" / "marketing_data.csv"), harness.BUCKET, "raw/marketing_data.csv"
    )
    ensure_databrew_job(
        aws["databrew"],
        job=harness.DATABREW_JOB,
        dataset="faults-marketing",
        bucket=harness.BUCKET,
        key="raw/marketing_data.csv",
        recipe="marketing-data-recipe",
        output_bucket=harness.BUCKET,
        output_prefix="marketing/",
        role_arn=harness.ROLE_ARN,
    )
    return harness.DATABREW_JOB
