"""Row 7: one branch of the sales flow fails midway; "clear failed tasks" reruns; the summary is right.

The first DAG run fails at ``load_marketing_table_partitions`` (an injected Athena failure): its
downstream tasks are ``upstream_failed`` and never run (no notice is sent). Then, as a user
clicking "Clear failed tasks", the failed and upstream_failed task instances are cleared
(``clear_task_instances``, what the UI and API call) and the same DAG run resumes. It succeeds,
the summary table equals the independent computation (48 months, no stale rows), each DataBrew
job ran once, and the Glue catalog and S3 hold each partition once.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
from e2e.conftest import run_dag
from e2e.expected import monthly_summary

from airflow_sfn_etl_flows.results import athena_rows, drain_notices
from airflow_sfn_etl_sandbox import faults

pytestmark = [pytest.mark.slow]

SUMMARY = (
    "SELECT year, month, total_paid_conversion, total_weighted_revenue FROM {db}.sales_marketing_revenue "
    "ORDER BY CAST(year AS integer) DESC, CAST(month AS integer) DESC"
)
FAILED = ("failed", "upstream_failed")


def resume(dag, run_id: str):
    """Clear the run's failed + upstream_failed task instances and run the DAG run on, like dag.test()."""
    from airflow import settings
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import clear_task_instances
    from airflow.sdk.definitions.dag import _run_task
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.utils.state import DagRunState, TaskInstanceState

    session = settings.Session()
    dr = session.query(DagRun).filter_by(dag_id=dag.dag_id, run_id=run_id).one()
    cleared = [ti for ti in dr.get_task_instances(session=session) if ti.state in FAILED]
    clear_task_instances(cleared, session, dag_run_state=DagRunState.RUNNING)
    session.commit()
    dr.dag = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag))
    deadline = time.monotonic() + 300
    while dr.state == DagRunState.RUNNING and time.monotonic() < deadline:
        session.expire_all()
        schedulable, _ = dr.update_state(session=session)
        for ti in schedulable:
            ti.try_number += 1
            ti.state = TaskInstanceState.SCHEDULED
        session.commit()
        for ti in [
            t for t in dr.get_task_instances(session=session) if t.state == TaskInstanceState.SCHEDULED
        ]:
            try:
                _run_task(ti=ti, task=dag.task_dict[ti.task_id], run_triggerer=True)
            except Exception:  # noqa: BLE001 - judged by the states below
                pass
    states = {ti.task_id: str(ti.state) for ti in dr.get_task_instances(session=session)}
    return dr, sorted(t.task_id for t in cleared), states


def test_clear_failed_tasks_reruns_to_the_right_summary(flows, dagbag, monkeypatch):
    for task in dagbag.get_dag("sales_marketing_refresh").tasks:  # keep the retries, not their 30 s delay
        monkeypatch.setattr(task, "retry_delay", timedelta(seconds=0.2))
        monkeypatch.setattr(task, "retry_exponential_backoff", False)
    s = flows["sales"]
    session, url = flows["session"], flows["endpoint_url"]
    faults.add_rule(
        {
            "kind": "fail",
            "target": "athena_query",
            "pattern": r"MSCK REPAIR TABLE \S*marketing",
            "message": "HIVE_METASTORE_ERROR: partition folder unreadable",
        }
    )
    run, states = run_dag(dagbag, "sales_marketing_refresh", {"month": "2016-12"})
    assert str(run.state) == "failed"
    assert states["load_marketing_table_partitions"] == "failed"
    assert states["load_sales_table_partitions"] == "success"
    for downstream in ("drop_old_summarized_table", "create_summarized_output", "notify_users"):
        assert states[downstream] == "upstream_failed", states
    assert drain_notices(session, flows["queue_url"], endpoint_url=url) == []  # nothing downstream ran

    faults.clear()  # the cause is fixed
    dr, cleared, states = resume(dagbag.get_dag("sales_marketing_refresh"), run.run_id)
    assert cleared == [
        "create_summarized_output",
        "drop_old_summarized_table",
        "load_marketing_table_partitions",
        "notify_users",
    ]
    assert str(dr.state) == "success", states
    assert set(states.values()) == {"success"}

    columns, rows = athena_rows(
        session, SUMMARY.format(db=s.database), workgroup=s.workgroup, database=s.database, endpoint_url=url
    )
    got = [tuple(int(v) for v in r) for r in rows]
    assert len(got) == 48 and got == monthly_summary()

    databrew = session.client("databrew", endpoint_url=url)
    for job in (s.sales_job, s.marketing_job):  # not rerun: they had succeeded
        assert [r["State"] for r in databrew.list_job_runs(Name=job)["JobRuns"]] == ["SUCCEEDED"]
    glue = session.client("glue", endpoint_url=url)
    for table in ("sales_data_output", "marketing_data_output"):
        parts = glue.get_partitions(DatabaseName=s.database, TableName=table)["Partitions"]
        dupes = [k for k, n in Counter(tuple(p["Values"]) for p in parts).items() if n > 1]
        assert parts and not dupes, (table, dupes)
    s3 = session.client("s3", endpoint_url=url)
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=s.transformed_bucket, Prefix="summary/"
        )
        for o in page.get("Contents", [])
    ]
    assert {k.split("/")[2] for k in keys} == {run.run_id}  # one CTAS location, written once
    notices = drain_notices(session, flows["queue_url"], endpoint_url=url)
    assert [n["body"]["Month"] for n in notices] == ["2016-12"]
