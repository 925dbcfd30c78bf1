"""The flows and the fault matrix on the deployment docker-compose.yaml describes, run as processes.

CeleryExecutor with PostgreSQL and Redis, a separate triggerer, dag-processor and api-server,
and the sandbox (``scripts/deploy_stack.py``, settings from ``docker/airflow.env``). Runs are
triggered through the REST API with params as the UI form sends them; results are checked
against pandas on the raw CSVs (``tests/e2e/expected.py``); every fault row counts the runs the
sandbox saw: no duplicate, no orphan.
"""

from __future__ import annotations

import time
import urllib.error
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from e2e.expected import crawler_rows, monthly_summary

from airflow_sfn_etl_flows.results import athena_rows, drain_notices, parquet_rows
from airflow_sfn_etl_flows.settings import CrawlerJobSettings, SalesMarketingSettings

from . import stacks

pytestmark = [pytest.mark.deployment, pytest.mark.slow]

SALES = "sales_marketing_refresh"
SALES_SFN = "sales_marketing_refresh_sfn"
CRAWLER = "glue_crawler_job"
CRAWLER_SFN = "glue_crawler_job_sfn"
TERMINAL = {"success", "failed"}
SUMMARY = ("SELECT year, month, total_paid_conversion, total_weighted_revenue FROM {db}.sales_marketing_revenue "
           "ORDER BY CAST(year AS integer) DESC, CAST(month AS integer) DESC")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The whole deployment, provisioned; every process group is ended afterwards, pass or fail."""
    deploy_stack = stacks.load("deploy_stack")
    running = deploy_stack.DeploymentStack(workdir=tmp_path_factory.mktemp("deployment"))
    running.start()
    print(f"\ndeployment started in {running.started_seconds['stack']:.0f}s")
    try:
        yield running
    finally:
        running.stop()
    assert all(proc.poll() is not None for proc in running.procs.values())


@pytest.fixture(scope="module")
def aws(stack: Any) -> dict[str, Any]:
    session = boto3.Session(region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    clients = {name: session.client(name, endpoint_url=stack.endpoint_url)
               for name in ("athena", "databrew", "glue", "stepfunctions", "s3")}
    return {"session": session, **clients}


# -- REST API helpers ----------------------------------------------------------------------------

def wait_for_dags(stack: Any, *dag_ids: str, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            for dag_id in dag_ids:
                stack.api("GET", f"/dags/{dag_id}")
            return
        except urllib.error.HTTPError as err:
            if err.code != 404 or time.monotonic() > deadline:
                raise AssertionError(f"DAGs {dag_ids} not parsed:\n{stack.diagnostics()}") from err
            time.sleep(2)


def trigger(stack: Any, dag_id: str, run_id: str, conf: dict[str, Any] | None = None) -> None:
    """Unpause and trigger as the UI form does (a manual run with the form's conf)."""
    wait_for_dags(stack, dag_id)
    stack.api("PATCH", f"/dags/{dag_id}", {"is_paused": False})
    stack.api("POST", f"/dags/{dag_id}/dagRuns", {"dag_run_id": run_id, "logical_date": None, "conf": conf or {}})


def tasks(stack: Any, dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
    tis = stack.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=100")["task_instances"]
    return {ti["task_id"]: ti for ti in tis}


def report(stack: Any, dag_id: str, run_id: str) -> str:
    lines = []
    for task_id, ti in sorted(tasks(stack, dag_id, run_id).items()):
        lines.append(f"{task_id}: {ti['state']} (try {ti['try_number']}, host {ti.get('hostname')})")
    return "\n".join(lines) + "\n" + stack.diagnostics()


def wait_for_run(stack: Any, dag_id: str, run_id: str, timeout: float = 600) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = stack.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"]
        if state in TERMINAL:
            return str(state)
        time.sleep(3)
    raise AssertionError(f"{dag_id} run {run_id} did not end in {timeout:.0f}s:\n{report(stack, dag_id, run_id)}")


def wait_for_task(stack: Any, dag_id: str, run_id: str, task_id: str, states: set[str],
                  timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ti = tasks(stack, dag_id, run_id).get(task_id)
        if ti is not None and ti["state"] in states:
            return ti
        time.sleep(1)
    raise AssertionError(f"{task_id} never reached {states} in {timeout:.0f}s:\n{report(stack, dag_id, run_id)}")


def run_and_wait(stack: Any, dag_id: str, run_id: str, conf: dict[str, Any] | None = None) -> str:
    trigger(stack, dag_id, run_id, conf)
    return wait_for_run(stack, dag_id, run_id)


# -- what the sandbox saw ------------------------------------------------------------------------

def databrew_runs(aws: dict[str, Any], job: str) -> list[str]:
    return [r["State"] for r in aws["databrew"].list_job_runs(Name=job)["JobRuns"]]


def summary(stack: Any, aws: dict[str, Any]) -> list[tuple[int, ...]]:
    s = SalesMarketingSettings()
    _, rows = athena_rows(aws["session"], SUMMARY.format(db=s.database), workgroup=s.workgroup,
                          database=s.database, endpoint_url=stack.endpoint_url)
    return [tuple(int(v) for v in r) for r in rows]


def notices(stack: Any, aws: dict[str, Any]) -> list[dict[str, Any]]:
    return drain_notices(aws["session"], stack.refs["queue_url"], endpoint_url=stack.endpoint_url)


def executions(aws: dict[str, Any], machine: str = "sales-marketing-refresh") -> list[dict[str, Any]]:
    sfn = aws["stepfunctions"]
    arns = [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"] if m["name"] == machine]
    return [e for arn in arns for e in sfn.list_executions(stateMachineArn=arn)["executions"]]


def wait_until(check: Any, what: str, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"{what}: not within {timeout:.0f}s")


@pytest.fixture
def sandbox(stack: Any) -> Iterator[Any]:
    """The sandbox's admin client; fault rules are cleared after the test."""
    from airflow_sfn_etl_sandbox.client import SandboxClient

    client = SandboxClient(stack.endpoint_url)
    client.clear_faults()
    yield client
    client.clear_faults()


# -- the flows, on Celery ------------------------------------------------------------------------

@pytest.mark.parametrize("dag_id", [SALES, SALES_SFN])
def test_unpausing_runs_the_monthly_schedule_and_computes_the_summary(
        stack: Any, aws: dict[str, Any], dag_id: str) -> None:
    """The schedule users rely on: unpausing creates last month's run; it runs on the Celery worker."""
    notices(stack, aws)
    wait_for_dags(stack, dag_id)
    stack.api("PATCH", f"/dags/{dag_id}", {"is_paused": False})

    def scheduled() -> str | None:
        runs = stack.api("GET", f"/dags/{dag_id}/dagRuns?limit=10")["dag_runs"]
        return next((r["dag_run_id"] for r in runs if r["run_type"] == "scheduled"), None)

    run_id = wait_until(scheduled, f"{dag_id}'s scheduled run", timeout=120)
    assert wait_for_run(stack, dag_id, run_id) == "success", report(stack, dag_id, run_id)
    tis = tasks(stack, dag_id, run_id)
    assert {ti["state"] for ti in tis.values()} == {"success"}
    # Tasks went through the Celery queue to the worker, whose hostname they carry.
    assert all(ti["queue"] == "default" and ti["hostname"] for ti in tis.values()), tis
    assert summary(stack, aws) == monthly_summary()
    [notice] = notices(stack, aws)
    assert notice["body"]["Input"] == "Monthly sales marketing data refreshed successfully!"


def test_a_run_triggered_with_the_form_params_names_its_month(stack: Any, aws: dict[str, Any]) -> None:
    notices(stack, aws)
    assert run_and_wait(stack, SALES, "form_2016_12", {"month": "2016-12"}) == "success", \
        report(stack, SALES, "form_2016_12")
    assert summary(stack, aws) == monthly_summary()
    assert [n["body"] for n in notices(stack, aws)] == [
        {"Input": "Monthly sales marketing data refreshed successfully!", "Month": "2016-12"}]


@pytest.mark.parametrize("dag_id", [CRAWLER, CRAWLER_SFN])
def test_crawler_flow_runs_the_seed_spark_job(stack: Any, aws: dict[str, Any], dag_id: str) -> None:
    run_id = f"{dag_id}-on-celery"  # neither engine's run id is part of the other's
    state = run_and_wait(stack, dag_id, run_id, {"wait_time": 1})
    assert state == "success", report(stack, dag_id, run_id)
    c = CrawlerJobSettings()
    runs = aws["glue"].get_job_runs(JobName=c.job)["JobRuns"]
    # Each run writes under its own prefix: the DAG run id (Airflow) or the execution name (Step Functions).
    mine = [r for r in runs if run_id in r["Arguments"].get("--output_path", "")]
    assert [r["JobRunState"] for r in mine] == ["SUCCEEDED"], runs
    prefix = mine[0]["Arguments"]["--output_path"].split(f"s3://{c.bucket}/", 1)[1]
    names, rows = parquet_rows(aws["session"], c.bucket, prefix, endpoint_url=stack.endpoint_url)
    got = sorted((dict(zip(names, r, strict=True)) for r in rows), key=lambda r: r["uuid"])
    assert got == sorted(crawler_rows(), key=lambda r: r["uuid"])


# -- the fault matrix, through the real system ---------------------------------------------------

def test_worker_killed_while_tasks_poll_retries_reattach_to_the_same_runs(
        stack: Any, aws: dict[str, Any], sandbox: Any) -> None:
    """SIGKILL the Celery worker while both DataBrew tasks poll in it (before they defer).

    The runs outlast the retry (heartbeat timeout 1 min + retry delay 30 s): a DataBrew run carries
    no identity of the task that started it, so a retry re-attaches only to a run still active.
    """
    s = SalesMarketingSettings()
    jobs = (s.sales_job, s.marketing_job)
    for job in jobs:
        sandbox.delay("databrew_job", job, seconds=180)
    before = {job: len(databrew_runs(aws, job)) for job in jobs}
    run_id = "fault_worker_polling"
    trigger(stack, SALES, run_id)
    for task_id in ("sales_databrew_etl_job", "marketing_databrew_etl_job"):
        wait_for_task(stack, SALES, run_id, task_id, {"running"})
    wait_until(lambda: all(len(databrew_runs(aws, job)) > before[job] for job in jobs), "both DataBrew runs")
    polling = {task_id: ti["state"] for task_id, ti in tasks(stack, SALES, run_id).items() if "databrew" in task_id}
    stack.kill("worker")  # within the tasks' first 10 s: they poll in the worker, not deferred yet
    assert set(polling.values()) == {"running"}, polling
    stack.restart("worker")
    assert wait_for_run(stack, SALES, run_id, timeout=900) == "success", report(stack, SALES, run_id)
    tis = tasks(stack, SALES, run_id)
    for task_id in ("sales_databrew_etl_job", "marketing_databrew_etl_job"):
        assert tis[task_id]["try_number"] >= 2, tis[task_id]  # the killed try failed on its heartbeat
    for job in jobs:
        runs = databrew_runs(aws, job)  # newest first
        assert len(runs) == before[job] + 1, (job, runs)  # the retry re-attached: no second run
        assert runs[0] == "SUCCEEDED", (job, runs)  # and none left running (no orphan)


def test_worker_and_triggerer_killed_and_scheduler_restarted_while_deferred(
        stack: Any, aws: dict[str, Any], sandbox: Any) -> None:
    """The Step Functions run waits on the triggerer; worker, triggerer and scheduler go down and up."""
    s = SalesMarketingSettings()
    sandbox.delay("databrew_job", s.sales_job, seconds=60)
    before = len(executions(aws))
    run_id = "fault_deferred"
    trigger(stack, SALES_SFN, run_id)
    wait_for_task(stack, SALES_SFN, run_id, "run_state_machine", {"deferred"}, timeout=300)
    stack.kill("worker")
    stack.kill("triggerer")
    stack.terminate("scheduler")
    for name in ("worker", "triggerer", "scheduler"):
        stack.restart(name)
    assert wait_for_run(stack, SALES_SFN, run_id, timeout=900) == "success", report(stack, SALES_SFN, run_id)
    ti = tasks(stack, SALES_SFN, run_id)["run_state_machine"]
    assert ti["try_number"] == 1, ti  # the new triggerer took the wait over: no retry was needed
    found = executions(aws)
    assert len(found) == before + 1, found
    assert {e["status"] for e in found} == {"SUCCEEDED"}, found  # this machine's executions all succeeded


def test_marked_failed_through_the_api_stops_the_runs_and_clearing_runs_them_again(
        stack: Any, aws: dict[str, Any], sandbox: Any) -> None:
    """Mark failed (REST API) while one task polls in the worker and one is deferred; then clear."""
    s = SalesMarketingSettings()
    for job in (s.sales_job, s.marketing_job):
        sandbox.delay("databrew_job", job, seconds=300)
    before = {job: len(databrew_runs(aws, job)) for job in (s.sales_job, s.marketing_job)}
    run_id = "fault_mark_failed"
    trigger(stack, SALES, run_id)
    path = f"/dags/{SALES}/dagRuns/{run_id}/taskInstances"
    wait_for_task(stack, SALES, run_id, "marketing_databrew_etl_job", {"running"})
    stack.api("PATCH", f"{path}/marketing_databrew_etl_job", {"new_state": "failed"})
    # Deferred, and its trigger taken by the triggerer (whose trigger on_kill stops the run): a task
    # marked failed before any triggerer took its trigger runs no on_kill (docs/reliability.md, limits).
    wait_until(lambda: (ti := tasks(stack, SALES, run_id)["sales_databrew_etl_job"])["state"] == "deferred"
               and (ti.get("trigger") or {}).get("triggerer_id"), "the sales wait on the triggerer", timeout=300)
    time.sleep(3)  # the triggerer starts what it took within a second
    stack.api("PATCH", f"{path}/sales_databrew_etl_job", {"new_state": "failed"})
    for job in (s.sales_job, s.marketing_job):
        runs = wait_until(lambda job=job: (r := databrew_runs(aws, job))[0] == "STOPPED" and r, f"{job} stopped")
        assert len(runs) == before[job] + 1, (job, runs)
    assert wait_for_run(stack, SALES, run_id) == "failed"

    # Clearing starts a new try chain: each task starts one new run (its last one was stopped).
    sandbox.clear_faults()
    stack.api("POST", f"/dags/{SALES}/clearTaskInstances",
              {"dag_run_id": run_id, "only_failed": True, "reset_dag_runs": True, "dry_run": False})
    assert wait_for_run(stack, SALES, run_id, timeout=900) == "success", report(stack, SALES, run_id)
    for job in (s.sales_job, s.marketing_job):
        runs = databrew_runs(aws, job)
        assert len(runs) == before[job] + 2 and runs[:2] == ["SUCCEEDED", "STOPPED"], (job, runs)
    assert summary(stack, aws) == monthly_summary()


def test_twenty_crawler_flow_runs_share_two_worker_slots(stack: Any, aws: dict[str, Any], sandbox: Any) -> None:
    """20 runs of the crawler flow at once on a worker with 2 task slots: waits defer, all succeed."""
    c = CrawlerJobSettings()
    sandbox.delay("glue_job", c.job, seconds=15)  # each Spark job waits long enough to defer

    def job_runs() -> list[dict[str, Any]]:
        pages = aws["glue"].get_paginator("get_job_runs").paginate(JobName=c.job)
        return [r for page in pages for r in page["JobRuns"]]

    before = {r["Id"] for r in job_runs()}
    run_ids = [f"load_{i:02d}" for i in range(20)]
    wait_for_dags(stack, CRAWLER)
    stack.api("PATCH", f"/dags/{CRAWLER}", {"is_paused": False})
    for run_id in run_ids:
        stack.api("POST", f"/dags/{CRAWLER}/dagRuns",
                  {"dag_run_id": run_id, "logical_date": None, "conf": {"wait_time": 1}})
    peak = {"running": 0, "deferred": 0}
    deadline = time.monotonic() + 1200
    while time.monotonic() < deadline:
        for state in peak:
            found = stack.api("GET", f"/dags/{CRAWLER}/dagRuns/~/taskInstances?state={state}&limit=1")
            peak[state] = max(peak[state], int(found["total_entries"]))
        runs = stack.api("GET", f"/dags/{CRAWLER}/dagRuns?limit=100")["dag_runs"]
        states = {r["dag_run_id"]: r["state"] for r in runs if r["dag_run_id"] in run_ids}
        if len(states) == len(run_ids) and set(states.values()) <= TERMINAL:
            break
        time.sleep(1)
    assert set(states.values()) == {"success"}, (states, stack.diagnostics())
    new = [r for r in job_runs() if r["Id"] not in before]
    assert len(new) == 20 and {r["JobRunState"] for r in new} == {"SUCCEEDED"}, new  # one run each, none left
    outputs = {r["Arguments"]["--output_path"] for r in new}
    assert outputs == {f"s3://{c.bucket}/{c.output_prefix}{run_id}/" for run_id in run_ids}
    # Never more tasks running than the worker's 2 slots, while more than 2 waits were parked at once.
    assert peak["running"] <= 2 < peak["deferred"], peak
    print(f"\n20 crawler-flow runs on 2 worker slots: peak running {peak['running']}, "
          f"peak deferred {peak['deferred']}")


def test_postgres_restarted_mid_run(stack: Any, aws: dict[str, Any], sandbox: Any) -> None:
    """The metadata database goes down while tasks wait; components that exit are restarted, as
    compose's ``restart: always`` does, and the run ends with one AWS run per task."""
    s = SalesMarketingSettings()
    sandbox.delay("databrew_job", s.sales_job, seconds=60)
    before = len(databrew_runs(aws, s.sales_job))
    run_id = "fault_postgres"
    trigger(stack, SALES, run_id)
    wait_for_task(stack, SALES, run_id, "sales_databrew_etl_job", {"deferred"}, timeout=300)
    stack.terminate("postgres")
    time.sleep(5)
    stack.restart("postgres")
    assert wait_for_run(stack, SALES, run_id, timeout=900) == "success", report(stack, SALES, run_id)
    runs = databrew_runs(aws, s.sales_job)  # newest first
    assert len(runs) == before + 1 and runs[0] == "SUCCEEDED", runs
    print(f"\ncomponents restarted (restart: always) around the database restart: {stack.restarts}")
