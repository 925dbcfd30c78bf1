"""Compiled DAGs run the same on both engines (the DAG on Airflow, its compiled state machine on the
sandbox's Step Functions, against the same Glue job; each task writes one object, mode "fail" makes the
job fail): a DAG that is not series-parallel, a teardown after a failed task, an all_failed task that
Airflow skips, and a Glue run id passed to the next job through XCom."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from airflow_sfn_etl.asl import DagShapeWarning
from tests.sandbox.test_mapped_tasks import _clear, _entered, _load, _objects, _run_sfn, job

__all__ = ["job"]  # the fixture, shared with the mapped-task comparison

DAG_HEAD = """
from datetime import datetime

from airflow.sdk import DAG

from airflow_sfn_etl.operators.glue import GlueJobOperator


def glue(task_id, mode="done"):
    return GlueJobOperator(
        task_id=task_id, job_name={job!r}, script_args={{"--table": task_id, "--mode": mode}}, poll_interval=0.2
    )

"""

N_SHAPE = """
with DAG(dag_id={dag_id!r}, schedule=None, start_date=datetime(2026, 1, 1)):
    orders, customers, report, export = glue("orders"), glue("customers"), glue("report"), glue("export")
    orders >> report
    customers >> [report, export]
"""

TEARDOWN = """
with DAG(dag_id={dag_id!r}, schedule=None, start_date=datetime(2026, 1, 1)):
    create, load = glue("create"), glue("load", mode="fail")
    transform, drop = glue("transform"), glue("drop")
    create >> load >> transform >> drop.as_teardown(setups=create)
"""


def _dag(job: dict[str, Any], body: str, dag_id: str, folder: Path, monkeypatch: Any) -> Any:
    source = DAG_HEAD.format(job=job["name"]) + body.format(dag_id=dag_id)
    return _load(folder, monkeypatch, dag_id, source)


def _states(run: Any) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


def test_a_dag_that_is_not_series_parallel_writes_the_same_objects_on_both_engines(
    job: dict[str, Any], airflow_db: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    dag = _dag(job, N_SHAPE, f"n_shape_{job['uid']}", tmp_path, monkeypatch)
    run = dag.test()
    assert str(run.state) == "success"
    assert set(_states(run).values()) == {"success"}
    on_airflow = _objects(job)
    assert on_airflow == {f"out/{t}.txt": "done" for t in ("orders", "customers", "report", "export")}

    _clear(job)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status, events = _run_sfn(job, dag)
    assert any(issubclass(w.category, DagShapeWarning) and "orders >> export" in str(w.message) for w in caught)
    assert status == "SUCCEEDED"
    assert _objects(job) == on_airflow
    entered = _entered(events)
    # The added dependency: orders and customers both end before report and export start.
    assert max(entered.index("orders"), entered.index("customers")) < min(
        entered.index("report"), entered.index("export")
    )


def test_a_teardown_runs_after_a_failed_task_and_the_run_fails_with_its_error_on_both_engines(
    job: dict[str, Any], airflow_db: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    dag = _dag(job, TEARDOWN, f"teardown_{job['uid']}", tmp_path, monkeypatch)
    run = dag.test()
    assert str(run.state) == "failed"
    assert _states(run) == {
        "create": "success",
        "load": "failed",
        "transform": "upstream_failed",
        "drop": "success",
    }
    on_airflow = _objects(job)
    assert on_airflow == {"out/create.txt": "done", "out/drop.txt": "done"}

    _clear(job)
    status, events = _run_sfn(job, dag)
    assert status == "FAILED"
    assert _objects(job) == on_airflow
    assert "transform" not in _entered(events)
    # The execution fails for the failed task, with its error and cause, not for the teardown.
    task_failed = next(e["taskFailedEventDetails"] for e in events if e["type"] == "TaskFailed")
    execution_failed = next(e["executionFailedEventDetails"] for e in events if e["type"] == "ExecutionFailed")
    assert execution_failed["error"] == "TaskFailedBeforeTeardown"
    assert execution_failed["cause"] == f"{task_failed['error']}: {task_failed['cause']}"


ALL_FAILED = """
with DAG(dag_id={dag_id!r}, schedule=None, start_date=datetime(2026, 1, 1)):
    extract, load = glue("extract"), glue("load", mode="fail")
    alarm = GlueJobOperator(
        task_id="alarm", job_name={job!r}, script_args={{"--table": "alarm", "--mode": "done"}}, poll_interval=0.2,
        trigger_rule="all_failed",
    )
    extract >> load >> alarm
    extract >> alarm
"""


def test_an_all_failed_task_is_skipped_when_only_a_later_upstream_task_fails_and_the_run_succeeds_on_both(
    job: dict[str, Any], airflow_db: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    # extract succeeded, so not all of alarm's upstream tasks failed: Airflow skips it, and a run whose
    # only leaf is skipped succeeds although load failed.
    dag_id = f"all_failed_{job['uid']}"
    source = DAG_HEAD.format(job=job["name"]) + ALL_FAILED.format(dag_id=dag_id, job=job["name"])
    dag = _load(tmp_path, monkeypatch, dag_id, source)
    run = dag.test()
    assert str(run.state) == "success"
    assert _states(run) == {"extract": "success", "load": "failed", "alarm": "skipped"}
    on_airflow = _objects(job)
    assert on_airflow == {"out/extract.txt": "done"}

    _clear(job)
    status, events = _run_sfn(job, dag)
    assert status == "SUCCEEDED"
    assert _objects(job) == on_airflow
    assert "alarm" not in _entered(events)


XCOM = """
with DAG(dag_id={dag_id!r}, schedule=None, start_date=datetime(2026, 1, 1)):
    first = glue("first")
    second = GlueJobOperator(
        task_id="second",
        job_name={job!r},
        script_args={{"--table": "second", "--mode": "{{{{ ti.xcom_pull(task_ids='first') }}}}"}},
        poll_interval=0.2,
    )
    first >> second
"""


def _run_id_of(job: dict[str, Any], sandbox_env: Any, table: str) -> list[str]:
    """The ids of the job's runs for one table, from Glue itself."""
    runs = sandbox_env.client("glue").get_job_runs(JobName=job["name"])["JobRuns"]
    return [r["Id"] for r in runs if (r.get("Arguments") or {}).get("--table") == table]


def test_a_glue_run_id_pulled_from_xcom_reaches_the_next_job_on_both_engines(
    sandbox_env: Any, job: dict[str, Any], airflow_db: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    dag_id = f"xcom_{job['uid']}"
    source = DAG_HEAD.format(job=job["name"]) + XCOM.format(dag_id=dag_id, job=job["name"])
    dag = _load(tmp_path, monkeypatch, dag_id, source)
    run = dag.test()
    assert str(run.state) == "success"
    (airflow_run,) = _run_id_of(job, sandbox_env, "first")
    assert _objects(job) == {"out/first.txt": "done", "out/second.txt": airflow_run}

    _clear(job)
    status, _ = _run_sfn(job, dag)
    assert status == "SUCCEEDED"
    sfn_run = next(r for r in _run_id_of(job, sandbox_env, "first") if r != airflow_run)
    assert _objects(job) == {"out/first.txt": "done", "out/second.txt": sfn_run}
