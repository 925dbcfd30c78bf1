"""The reference flows' deployed execution roles against the calls their machines make on the sandbox.

Each ``*_sfn`` DAG deploys its committed machine with a role holding the generated least-privilege
policy (with the run's params and the catalog's table locations) and runs it; every call the machine
made must be allowed by that policy, and every grant must have been needed by a call, except what no
sandbox run can call (:mod:`tests.asl.policy_calls`).
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_sfn_etl_sandbox.client import SandboxClient
from tests.asl.policy_calls import STOP_ACTIONS, allowed, machine_calls, requests_of, unneeded

from .conftest import run_dag

pytestmark = [pytest.mark.e2e]

ACCOUNT = "123456789012"


@pytest.mark.parametrize(
    ("dag_id", "conf", "role", "policy_name"),
    [
        ("glue_crawler_job_sfn", {"wait_time": 1}, "sfn-etl-glue-crawler-job", "glue-crawler-job-least-privilege"),
        (
            "sales_marketing_refresh_sfn", {}, "sfn-etl-sales-marketing-refresh",
            "sales-marketing-refresh-least-privilege",
        ),
    ],
)
def test_the_deployed_policy_allows_every_call_of_the_flow_and_grants_nothing_unneeded(
    flows: dict[str, Any], dagbag: Any, dag_id: str, conf: dict[str, Any], role: str, policy_name: str
) -> None:
    admin = SandboxClient(flows["endpoint_url"])
    admin.record_calls(True)
    try:
        run, states = run_dag(dagbag, dag_id, conf)
        calls = machine_calls(admin.recorded_calls())
    finally:
        admin.record_calls(False)
    assert str(run.state) == "success", states
    session, endpoint = flows["session"], flows["endpoint_url"]
    policy = session.client("iam", endpoint_url=endpoint).get_role_policy(RoleName=role, PolicyName=policy_name)[
        "PolicyDocument"
    ]
    athena = session.client("athena", endpoint_url=endpoint)
    requests = {
        request
        for call in calls
        for request in requests_of(
            call, ACCOUNT, lambda qid: athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["WorkGroup"]
        )
    }
    assert requests
    assert sorted(r for r in requests if not allowed(policy, *r)) == []
    assert unneeded(policy, requests, frozenset(STOP_ACTIONS)) == []
