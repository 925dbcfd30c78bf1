"""The two reference flows on the Step Functions engine, for real on the sandbox.

Each ``*_sfn`` DAG deploys the committed, compiled state machine (with an execution role
holding the generated least-privilege policy) and runs it with the DAG run's params as input;
the sandbox's Step Functions runs it against the same services the Airflow engine uses.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from airflow_sfn_etl_flows.results import athena_rows, drain_notices, parquet_rows
from airflow_sfn_etl_sandbox import faults

from .conftest import dags_folder, job_output, run_dag
from .expected import CRAWLER_TYPES, crawler_rows, monthly_summary

pytestmark = [pytest.mark.e2e]

SFN_DAGS = ("sales_marketing_refresh_sfn.py", "glue_crawler_job_sfn.py")
SUMMARY = (
    "SELECT year, month, total_paid_conversion, total_weighted_revenue FROM {db}.sales_marketing_revenue "
    "ORDER BY CAST(year AS integer) DESC, CAST(month AS integer) DESC"
)


def _output(capfd) -> str:
    out, err = capfd.readouterr()
    return out + err


def _execution(flows, state_machine_name: str) -> dict:
    sfn = flows["session"].client("stepfunctions", endpoint_url=flows["endpoint_url"])
    machines = [m for m in sfn.list_state_machines()["stateMachines"] if m["name"] == state_machine_name]
    assert len(machines) == 1, machines
    [execution] = sfn.list_executions(stateMachineArn=machines[0]["stateMachineArn"])["executions"]
    return sfn.describe_execution(executionArn=execution["executionArn"])


def test_sfn_dags_import_with_the_same_params_as_their_twins(dagbag):
    assert dagbag.import_errors == {}
    for twin in ("sales_marketing_refresh", "glue_crawler_job"):
        airflow_params = dagbag.get_dag(twin).params.dump()
        sfn_params = dagbag.get_dag(f"{twin}_sfn").params.dump()
        assert {
            k: v for k, v in sfn_params.items() if k not in ("state_machine_name", "role_name")
        } == airflow_params
        assert [t.task_id for t in dagbag.get_dag(f"{twin}_sfn").topological_sort()] == [
            "deploy_state_machine",
            "run_state_machine",
        ]


@pytest.mark.parametrize("name", SFN_DAGS)
def test_sfn_dag_files_do_no_work_at_import(name, monkeypatch):
    import botocore.client
    from airflow.dag_processing.dagbag import DagBag

    def refuse(*args, **kwargs):
        raise AssertionError(f"{name} called AWS at import")

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", refuse)
    bag = DagBag(str(dags_folder() / name))
    assert bag.import_errors == {} and len(bag.dag_ids) == 1
    tree = ast.parse((dags_folder() / name).read_text())
    calls = {
        c.func.id if isinstance(c.func, ast.Name) else c.func.attr
        for c in ast.walk(tree)
        if isinstance(c, ast.Call) and isinstance(c.func, (ast.Name, ast.Attribute))
    }
    assert not calls & {"open", "read_text", "read_bytes", "client", "compile_dag"}


@pytest.mark.slow
def test_sales_marketing_refresh_sfn_computes_the_summary(flows, dagbag, capfd):
    start = time.perf_counter()
    run, states = run_dag(dagbag, "sales_marketing_refresh_sfn", {"month": "2016-12"})
    seconds = time.perf_counter() - start
    assert str(run.state) == "success", states
    assert states == {"deploy_state_machine": "success", "run_state_machine": "success"}
    s = flows["sales"]
    columns, rows = athena_rows(
        flows["session"],
        SUMMARY.format(db=s.database),
        workgroup=s.workgroup,
        database=s.database,
        endpoint_url=flows["endpoint_url"],
    )
    assert columns == ["year", "month", "total_paid_conversion", "total_weighted_revenue"]
    got = [tuple(int(v) for v in r) for r in rows]
    assert len(got) == 48
    assert {(y, m) for y, m, *_ in got} == {(y, m) for y in range(2013, 2017) for m in range(1, 13)}
    assert got == monthly_summary()
    # The topic ARN was built inside the machine from its own ARN ($$.StateMachine.Id).
    notices = drain_notices(flows["session"], flows["queue_url"], endpoint_url=flows["endpoint_url"])
    assert [n["body"] for n in notices] == [
        {"Input": "Monthly sales marketing data refreshed successfully!", "Month": "2016-12"}
    ]
    execution = _execution(flows, "sales-marketing-refresh")
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["input"])["month"] == "2016-12"
    log = _output(capfd)
    assert "State entered: Refresh Sales Marketing Data" in log and "State exited: Notify Users" in log
    print(f"\nsales_marketing_refresh_sfn on the sandbox: {seconds:.1f}s")


@pytest.mark.spark  # the crawler flow's job is a Glue Spark job: make test-heavy
@pytest.mark.slow
def test_glue_crawler_job_sfn_writes_typed_parquet(flows, dagbag):
    c = flows["crawl"]
    start = time.perf_counter()
    run, states = run_dag(dagbag, "glue_crawler_job_sfn", {"wait_time": 1})
    seconds = time.perf_counter() - start
    assert str(run.state) == "success", states
    names, rows = parquet_rows(
        flows["session"], c.bucket, c.output_prefix, endpoint_url=flows["endpoint_url"]
    )
    got = sorted((dict(zip(names, r, strict=True)) for r in rows), key=lambda r: r["uuid"])
    assert len(got) == 19
    assert got == sorted(crawler_rows(), key=lambda r: r["uuid"])
    assert [r["appid"] for r in got if r["uuid"] == 11114] == [7]  # '007' in the CSV
    # The seed's PySpark job wrote Spark part files under the execution's own prefix ($$.Execution.Name).
    execution = _execution(flows, "glue-crawler-job")
    run_prefix = f"{c.output_prefix}{execution['name']}/"
    glue = flows["session"].client("glue", endpoint_url=flows["endpoint_url"])
    [job_run] = glue.get_job_runs(JobName=c.job)["JobRuns"]
    assert job_run["JobRunState"] == "SUCCEEDED" and job_run["LogGroupName"] == "/aws-glue/jobs"
    assert job_run["Arguments"]["--output_path"] == f"s3://{c.bucket}/{run_prefix}"
    keys, schemas = job_output(flows, c.output_prefix)
    assert keys and all(k.startswith(run_prefix + "part-") and k.endswith(".parquet") for k in keys), keys
    assert all(schema == CRAWLER_TYPES for schema in schemas.values()), schemas
    iam = flows["session"].client("iam", endpoint_url=flows["endpoint_url"])
    policy = iam.get_role_policy(
        RoleName="sfn-etl-glue-crawler-job", PolicyName="glue-crawler-job-least-privilege"
    )["PolicyDocument"]
    resources = {r for s in policy["Statement"] for r in s["Resource"]}
    assert f"arn:aws:glue:us-east-1:123456789012:crawler/{c.crawler}" in resources
    print(f"\nglue_crawler_job_sfn on the sandbox: {seconds:.1f}s")


@pytest.mark.slow
def test_failing_databrew_job_fails_the_run_task_with_state_error_and_cause(flows, dagbag, capfd):
    message = "Recipe step 3 failed: column Lead Name not found"
    faults.add_rule(
        {"kind": "fail", "target": "databrew_job", "name": flows["sales"].sales_job, "message": message}
    )
    run, states = run_dag(dagbag, "sales_marketing_refresh_sfn")
    assert str(run.state) == "failed"
    assert states == {"deploy_state_machine": "success", "run_state_machine": "failed"}
    execution = _execution(flows, "sales-marketing-refresh")
    assert execution["status"] == "FAILED"
    log = _output(capfd)
    assert "in state 'Sales DataBrew ETL Job'" in log
    assert f"error={execution['error']}" in log
    assert message in log
    assert drain_notices(flows["session"], flows["queue_url"], endpoint_url=flows["endpoint_url"]) == []


@pytest.mark.slow
def test_failed_crawl_fails_the_machine_in_its_fail_state(flows, dagbag, capfd):
    faults.add_rule(
        {
            "kind": "fail",
            "target": "crawler",
            "name": flows["crawl"].crawler,
            "message": "Internal Service Exception: unreadable object se2/in0/csvlog.csv",
        }
    )
    run, states = run_dag(dagbag, "glue_crawler_job_sfn", {"wait_time": 1})
    assert str(run.state) == "failed"
    assert states["run_state_machine"] == "failed"
    log = _output(capfd)
    assert "in state 'Wait for Crawler: Crawl Failed'" in log
    assert "error=Glue.CrawlFailed" in log
    assert "unreadable object se2/in0/csvlog.csv" in log


def test_cli_prints_the_sales_diagram_with_the_parallel_subgraph():
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "airflow-sfn-etl"),
            "asl",
            "compile",
            str(dags_folder() / "sales_marketing_refresh.py"),
            "--format",
            "mermaid",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "AIRFLOW__CORE__UNIT_TEST_MODE"},
    )
    text = result.stdout
    assert text.startswith("flowchart TD\n")
    assert 'subgraph s0["Refresh Sales Marketing Data"]' in text
    assert text.count("subgraph ") == 3
    for name in ("Sales DataBrew ETL Job", "Load Marketing Table Partitions", "Notify Users"):
        assert f'["{name}"]' in text
