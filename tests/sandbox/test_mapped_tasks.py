"""A mapped task runs the same on both engines: the DAG on Airflow, its compiled Map state on the sandbox's
Step Functions, against the same Glue job (each item writes one object; a failing item fails the run)."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from airflow_sfn_etl.asl import compile_dag, definition

SCRIPT = b"""
import sys, boto3
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
if args["--mode"] == "fail":
    raise SystemExit("asked to fail for " + args["--table"])
key = "out/" + args["--table"] + ".txt"
boto3.client("s3").put_object(Bucket=args["--bucket"], Key=key, Body=args["--mode"].encode())
"""

ITEMS = [
    {"--table": "orders", "--mode": "full"},
    {"--table": "customers", "--mode": "full"},
    {"--table": "items", "--mode": "delta"},
]


@pytest.fixture
def job(sandbox_env: Any) -> dict[str, Any]:
    uid = uuid.uuid4().hex[:8]
    s3 = sandbox_env.client("s3")
    bucket = f"mapped-{uid}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="scripts/job.py", Body=SCRIPT)
    glue = sandbox_env.client("glue")
    name = f"mapped_job_{uid}"
    glue.create_job(
        Name=name,
        Role="arn:aws:iam::123456789012:role/glue",
        Command={"Name": "pythonshell", "ScriptLocation": f"s3://{bucket}/scripts/job.py"},
        DefaultArguments={"--bucket": bucket},
        # The Map runs the items at once (MaxConcurrency 0); Glue's default allows one run at a time.
        ExecutionProperty={"MaxConcurrentRuns": 5},
    )
    return {"bucket": bucket, "name": name, "s3": s3, "sfn": sandbox_env.client("stepfunctions"), "uid": uid}


GLUE_DAG = """
from datetime import datetime

from airflow.sdk import DAG

from airflow_sfn_etl.operators.glue import GlueJobOperator

with DAG(dag_id={dag_id!r}, schedule=None, start_date=datetime(2026, 1, 1)):
    load = GlueJobOperator.partial(task_id="load", job_name={job!r}, poll_interval=0.2).expand(script_args={items!r})
    done = GlueJobOperator(
        task_id="done", job_name={job!r}, script_args={{"--table": "done", "--mode": "after"}}, poll_interval=0.2
    )
    load >> done
"""


def _load(folder: Path, monkeypatch: Any, dag_id: str, source: str) -> Any:
    """The DAG of ``source``, written to a folder that is Airflow's only DAG bundle for the test
    (dag.test() runs DAGs of a configured bundle)."""
    from airflow.dag_processing.dagbag import DagBag

    (folder / f"{dag_id}.py").write_text(source, encoding="utf-8")
    bundle = {
        "name": "mapped-tasks",
        "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
        "kwargs": {"path": str(folder), "refresh_interval": 0},
    }
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps([bundle]))
    bag = DagBag(str(folder))
    assert bag.import_errors == {}
    return bag.get_dag(dag_id)


def _dag(job: dict[str, Any], items: list[dict[str, str]], dag_id: str, folder: Path, monkeypatch: Any) -> Any:
    return _load(folder, monkeypatch, dag_id, GLUE_DAG.format(dag_id=dag_id, job=job["name"], items=items))


def _objects(job: dict[str, Any]) -> dict[str, str]:
    listed = job["s3"].list_objects_v2(Bucket=job["bucket"], Prefix="out/").get("Contents", [])
    return {
        o["Key"]: job["s3"].get_object(Bucket=job["bucket"], Key=o["Key"])["Body"].read().decode() for o in listed
    }


def _clear(job: dict[str, Any]) -> None:
    for key in _objects(job):
        job["s3"].delete_object(Bucket=job["bucket"], Key=key)


def _run_airflow(dag: Any) -> tuple[str, dict[tuple[str, int], str]]:
    run = dag.test()
    return str(run.state), {(ti.task_id, ti.map_index): str(ti.state) for ti in run.get_task_instances()}


def _run_sfn(job: dict[str, Any], dag: Any, payload: dict[str, Any] | None = None) -> tuple[str, list[dict[str, Any]]]:
    """Create the compiled machine on the sandbox, run it with ``payload`` as input: (status, history)."""
    sfn = job["sfn"]
    arn = sfn.create_state_machine(
        name=f"mapped-{job['uid']}-{uuid.uuid4().hex[:4]}",
        definition=json.dumps(definition(compile_dag(dag))),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(payload or {}))["executionArn"]
    status = "RUNNING"
    for _ in range(600):
        status = sfn.describe_execution(executionArn=execution)["status"]
        if status != "RUNNING":
            break
        time.sleep(0.2)
    events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    return status, events


def _entered(events: list[dict[str, Any]]) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def test_a_mapped_glue_job_writes_the_same_objects_on_both_engines(
    job: dict[str, Any], airflow_db: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    dag = _dag(job, ITEMS, f"mapped_ok_{job['uid']}", tmp_path, monkeypatch)
    state, tis = _run_airflow(dag)
    assert state == "success"
    assert tis == {("load", 0): "success", ("load", 1): "success", ("load", 2): "success", ("done", -1): "success"}
    on_airflow = _objects(job)
    # What the job writes for each item and for the task after them, from the items themselves.
    expected = {f"out/{item['--table']}.txt": item["--mode"] for item in ITEMS} | {"out/done.txt": "after"}
    assert on_airflow == expected

    _clear(job)
    status, events = _run_sfn(job, dag)
    assert status == "SUCCEEDED"
    assert _objects(job) == on_airflow
    assert _entered(events).count("load: Item") == len(ITEMS)


def test_a_failed_item_fails_the_run_on_both_engines_and_the_next_task_does_not_run(
    job: dict[str, Any], airflow_db: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    items = [ITEMS[0], {"--table": "customers", "--mode": "fail"}]
    dag = _dag(job, items, f"mapped_fail_{job['uid']}", tmp_path, monkeypatch)
    state, tis = _run_airflow(dag)
    assert state == "failed"
    assert tis[("load", 1)] == "failed" and tis[("done", -1)] == "upstream_failed"
    assert "out/done.txt" not in _objects(job)

    _clear(job)
    status, events = _run_sfn(job, dag)
    assert status == "FAILED"
    assert "done" not in _entered(events)
    assert "out/done.txt" not in _objects(job)


ORDERS = [(1, "eu", 10), (2, "us", 20), (3, "eu", 5), (4, "apac", 7)]
QUERIES = [
    "SELECT count(*) AS n FROM orders",
    "SELECT region, sum(amount) AS total FROM orders GROUP BY region ORDER BY region",
    "SELECT max(amount) AS top FROM orders",
]


def _expected_results() -> list[list[list[str]]]:
    """Each query's result (header first) computed from the rows themselves."""
    totals: dict[str, int] = {}
    for _, region, amount in ORDERS:
        totals[region] = totals.get(region, 0) + amount
    return sorted(
        [
            [["n"], [str(len(ORDERS))]],
            [["region", "total"], *([r, str(t)] for r, t in sorted(totals.items()))],
            [["top"], [str(max(a for *_, a in ORDERS))]],
        ]
    )


def _results(job: dict[str, Any], bucket: str, prefix: str) -> list[list[list[str]]]:
    import csv
    import io

    listed = job["s3"].list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    out = []
    for obj in listed:
        if obj["Key"].endswith(".csv"):
            body = job["s3"].get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode()
            out.append([list(row) for row in csv.reader(io.StringIO(body))])
    return sorted(out)


def test_three_mapped_athena_queries_give_the_same_results_on_both_engines(
    sandbox_env: Any, job: dict[str, Any], airflow_db: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    athena = sandbox_env.client("athena")
    database = f"mapped_{job['uid']}"
    body = "".join(f"{i},{region},{amount}\n" for i, region, amount in ORDERS)
    job["s3"].put_object(Bucket=job["bucket"], Key="orders/orders.csv", Body=body.encode())
    for ddl in (
        f"CREATE DATABASE {database}",
        f"CREATE EXTERNAL TABLE {database}.orders (id int, region string, amount int) ROW FORMAT DELIMITED "
        f"FIELDS TERMINATED BY ',' LOCATION 's3://{job['bucket']}/orders/'",
    ):
        qid = athena.start_query_execution(
            QueryString=ddl, ResultConfiguration={"OutputLocation": f"s3://{job['bucket']}/ddl/"}
        )["QueryExecutionId"]
        for _ in range(300):
            state = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]["State"]
            if state in ("SUCCEEDED", "FAILED", "CANCELLED"):
                break
            time.sleep(0.1)
        assert state == "SUCCEEDED", ddl

    source = f"""
from datetime import datetime

from airflow.sdk import DAG

from airflow_sfn_etl.operators.athena import AthenaQueryOperator

with DAG(
    dag_id="mapped_athena_{job['uid']}",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    params={{"results": "s3://{job['bucket']}/airflow/"}},
):
    AthenaQueryOperator.partial(
        task_id="count_rows", database="{database}", output_location="{{{{ params.results }}}}", poll_interval=0.2
    ).expand(query={QUERIES!r})
"""
    dag = _load(tmp_path, monkeypatch, f"mapped_athena_{job['uid']}", source)

    run = dag.test()
    assert str(run.state) == "success"
    on_airflow = _results(job, job["bucket"], "airflow/")
    assert on_airflow == _expected_results()

    status, _ = _run_sfn(job, dag, {"results": f"s3://{job['bucket']}/sfn/"})
    assert status == "SUCCEEDED"
    assert _results(job, job["bucket"], "sfn/") == on_airflow
