"""Fault injection through the admin client: throttling, HTTP 500, named run failures."""

from __future__ import annotations

import uuid

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from airflow_sfn_etl_sandbox.client import SandboxClient, SandboxError


@pytest.fixture
def admin(sandbox_env):
    client = SandboxClient(sandbox_env.endpoint_url)
    client.clear_faults()
    yield client
    client.clear_faults()


def test_throttle_then_success_with_botocore_retries(sandbox_env, admin):
    admin.throttle("athena", rate=1.0, count=2, operations=["ListWorkGroups"])
    before = admin.faults()["injected"]
    retrying = sandbox_env.client(
        "athena", config=Config(retries={"mode": "standard", "total_max_attempts": 5})
    )
    names = [w["Name"] for w in retrying.list_work_groups()["WorkGroups"]]
    assert "primary" in names
    assert admin.faults()["injected"] == before + 2
    # Without retries the client sees the throttling error itself.
    admin.throttle("athena", count=1, operations=["ListWorkGroups"])
    once = sandbox_env.client("athena", config=Config(retries={"total_max_attempts": 1}))
    with pytest.raises(ClientError) as err:
        once.list_work_groups()
    assert err.value.response["Error"]["Code"] == "ThrottlingException"


def test_http_500_fault(sandbox_env, admin):
    admin.error500("s3", count=1, operations=["ListBuckets"])
    once = sandbox_env.client("s3", config=Config(retries={"total_max_attempts": 1}))
    with pytest.raises(ClientError) as err:
        once.list_buckets()
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert "Buckets" in once.list_buckets()  # count exhausted: the next call succeeds


def test_rules_are_listed_validated_and_cleared(admin):
    rule = admin.fail_glue_job("se2_job0", "boom")
    assert rule["kind"] == "fail" and rule["target"] == "glue_job" and rule["name"] == "se2_job0"
    admin.delay("crawler", "c1", seconds=2)
    admin.throttle("glue", rate=0.5, count=3, operations=["GetJobRun"])
    listed = admin.faults()
    assert [(r["target"], r["name"]) for r in listed["run_rules"]] == [
        ("glue_job", "se2_job0"),
        ("crawler", "c1"),
    ]
    assert listed["run_rules"][0]["message"] == "boom"
    assert listed["call_rules"][0]["operations"] == ["GetJobRun"] and listed["call_rules"][0]["rate"] == 0.5
    with pytest.raises(SandboxError, match="400"):
        admin.add_fault(kind="explode")
    with pytest.raises(SandboxError, match="needs 'seconds'"):
        admin.add_fault(kind="delay", target="glue_job", name="x")
    admin.clear_faults()
    assert admin.faults()["call_rules"] == [] and admin.faults()["run_rules"] == []


def test_run_fault_matches_athena_query_text(sandbox_env, admin):
    s3, athena = sandbox_env.client("s3"), sandbox_env.client("athena")
    bucket = f"faults-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    admin.fail("athena_query", pattern=r"FROM\s+doomed", message="injected failure")
    qid = athena.start_query_execution(
        QueryString="SELECT * FROM doomed", ResultConfiguration={"OutputLocation": f"s3://{bucket}/"}
    )["QueryExecutionId"]
    import time

    for _ in range(100):
        status = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if status["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        time.sleep(0.05)
    assert status["State"] == "FAILED" and status["StateChangeReason"] == "injected failure"
