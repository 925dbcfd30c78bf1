"""The two reference flows on the Airflow engine, for real on the sandbox."""

from __future__ import annotations

import ast
import copy
import json
import re
from pathlib import Path

import pytest

from airflow_sfn_etl_flows.results import athena_rows, drain_notices, parquet_rows
from airflow_sfn_etl_sandbox import faults

from .conftest import dags_folder, job_output, run_dag
from .expected import CRAWLER_TYPES, crawler_rows, monthly_summary

pytestmark = [pytest.mark.e2e]

AIRFLOW_DAGS = ("sales_marketing_refresh.py", "glue_crawler_job.py")
SUMMARY = ("SELECT year, month, total_paid_conversion, total_weighted_revenue FROM {db}.sales_marketing_revenue "
           "ORDER BY CAST(year AS integer) DESC, CAST(month AS integer) DESC")


def test_dags_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    for dag_id in ("sales_marketing_refresh", "glue_crawler_job"):
        assert dag_id in dagbag.dag_ids


@pytest.mark.parametrize("name", AIRFLOW_DAGS)
def test_dag_files_make_no_aws_call_at_import(name, monkeypatch):
    """Importing a DAG file must not reach AWS: every botocore call raises during the import."""
    import botocore.client
    from airflow.dag_processing.dagbag import DagBag

    def refuse(*args, **kwargs):
        raise AssertionError(f"{name} called AWS at import: {args[1] if len(args) > 1 else args}")

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", refuse)
    bag = DagBag(str(dags_folder() / name))
    assert bag.import_errors == {}
    assert len(bag.dag_ids) == 1


@pytest.mark.parametrize("name", AIRFLOW_DAGS)
def test_dag_files_read_no_files_at_import(name):
    """No open()/read_text() at module level: templates are read by Airflow at run time."""
    tree = ast.parse((dags_folder() / name).read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, (ast.Name, ast.Attribute))]
    names = {c.func.id if isinstance(c.func, ast.Name) else c.func.attr for c in calls}
    assert not names & {"open", "read_text", "read_bytes", "client", "resource"}


@pytest.mark.slow
def test_sales_marketing_refresh_computes_the_summary(flows, dagbag):
    run, states = run_dag(dagbag, "sales_marketing_refresh", {"month": "2016-12"})
    assert str(run.state) == "success", states
    assert set(states.values()) == {"success"} and len(states) == 11
    s = flows["sales"]
    columns, rows = athena_rows(flows["session"], SUMMARY.format(db=s.database), workgroup=s.workgroup,
                                database=s.database, endpoint_url=flows["endpoint_url"])
    assert columns == ["year", "month", "total_paid_conversion", "total_weighted_revenue"]
    got = [tuple(int(v) for v in r) for r in rows]
    expected = monthly_summary()
    assert len(got) == 48
    assert {(y, m) for y, m, *_ in got} == {(y, m) for y in range(2013, 2017) for m in range(1, 13)}
    assert got == expected
    notices = drain_notices(flows["session"], flows["queue_url"], endpoint_url=flows["endpoint_url"])
    assert len(notices) == 1
    assert notices[0]["body"] == {"Input": "Monthly sales marketing data refreshed successfully!",
                                  "Month": "2016-12"}


@pytest.mark.spark  # the crawler flow's job is a Glue Spark job: make test-heavy
@pytest.mark.slow
def test_glue_crawler_job_writes_typed_parquet(flows, dagbag):
    c = flows["crawl"]
    run, states = run_dag(dagbag, "glue_crawler_job", {"wait_time": 1})
    assert str(run.state) == "success", states
    glue = flows["session"].client("glue", endpoint_url=flows["endpoint_url"])
    table = glue.get_table(DatabaseName=c.glue_database, Name=c.table)["Table"]
    columns = [(col["Name"], col["Type"]) for col in table["StorageDescriptor"]["Columns"]]
    assert columns == [("deviceid", "string"), ("uuid", "bigint"), ("appid", "bigint"), ("country", "string"),
                       ("year", "bigint"), ("month", "bigint"), ("day", "bigint"), ("hour", "bigint")]
    names, rows = parquet_rows(flows["session"], c.bucket, c.output_prefix, endpoint_url=flows["endpoint_url"])
    got = sorted((dict(zip(names, r, strict=True)) for r in rows), key=lambda r: r["uuid"])
    assert len(got) == 19
    assert got == sorted(crawler_rows(), key=lambda r: r["uuid"])
    assert [r["appid"] for r in got if r["uuid"] == 11114] == [7]  # '007' in the CSV
    # The seed's PySpark job wrote Spark part files under this run's own prefix, typed as the crawler typed them.
    job = glue.get_job(JobName=c.job)["Job"]
    assert job["Command"]["Name"] == "glueetl"
    [job_run] = glue.get_job_runs(JobName=c.job)["JobRuns"]
    assert job_run["JobRunState"] == "SUCCEEDED" and job_run["LogGroupName"] == "/aws-glue/jobs"
    run_prefix = f"{c.output_prefix}{run.run_id}/"
    assert job_run["Arguments"]["--output_path"] == f"s3://{c.bucket}/{run_prefix}"
    keys, schemas = job_output(flows, c.output_prefix)
    assert keys and all(k.startswith(run_prefix + "part-") and k.endswith(".parquet") for k in keys), keys
    assert all(schema == CRAWLER_TYPES for schema in schemas.values()), schemas


def _reason_in_output(capfd, text: str) -> bool:
    out, err = capfd.readouterr()
    return text in out or text in err


@pytest.mark.slow
def test_failing_databrew_job_fails_its_task_and_stops_downstream(flows, dagbag, capfd):
    faults.add_rule({"kind": "fail", "target": "databrew_job", "name": flows["sales"].sales_job,
                     "message": "Recipe step 3 failed: column Lead Name not found"})
    run, states = run_dag(dagbag, "sales_marketing_refresh", retry_delay=1)
    assert str(run.state) == "failed"
    assert states["sales_databrew_etl_job"] == "failed"
    # The first try and its two retries each ran the job (a retry re-attaches only to a live run).
    databrew = flows["session"].client("databrew", endpoint_url=flows["endpoint_url"])
    runs = databrew.list_job_runs(Name=flows["sales"].sales_job)["JobRuns"]
    assert [r["State"] for r in runs] == ["FAILED"] * 3, runs
    for downstream in ("drop_old_sales_table", "create_sales_table", "load_sales_table_partitions",
                       "drop_old_summarized_table", "create_summarized_output", "notify_users"):
        assert states[downstream] == "upstream_failed", (downstream, states)
    assert states["load_marketing_table_partitions"] == "success"
    assert _reason_in_output(capfd, "Recipe step 3 failed: column Lead Name not found")
    assert drain_notices(flows["session"], flows["queue_url"], endpoint_url=flows["endpoint_url"]) == []


@pytest.mark.slow
def test_failing_athena_statement_fails_its_task_with_the_reason(flows, dagbag, capfd):
    faults.add_rule({"kind": "fail", "target": "athena_query", "pattern": r"MSCK REPAIR TABLE \S*marketing",
                     "message": "HIVE_METASTORE_ERROR: partition folder unreadable"})
    run, states = run_dag(dagbag, "sales_marketing_refresh", retry_delay=1)
    assert str(run.state) == "failed"
    assert states["load_marketing_table_partitions"] == "failed"
    # The first try and its two retries each ran the statement: a retry does not re-attach to a failed query.
    athena = flows["session"].client("athena", endpoint_url=flows["endpoint_url"])
    ids = athena.list_query_executions(WorkGroup=flows["sales"].workgroup, MaxResults=50)["QueryExecutionIds"]
    executions = athena.batch_get_query_execution(QueryExecutionIds=ids)["QueryExecutions"]
    repairs = [e["Status"]["State"] for e in executions if re.search(r"MSCK REPAIR TABLE \S*marketing", e["Query"])]
    assert repairs == ["FAILED"] * 3, repairs
    assert states["load_sales_table_partitions"] == "success"
    assert states["create_summarized_output"] == "upstream_failed"
    assert states["notify_users"] == "upstream_failed"
    assert _reason_in_output(capfd, "HIVE_METASTORE_ERROR: partition folder unreadable")


@pytest.mark.slow
def test_failed_crawl_fails_the_sensor_with_the_crawl_reason(flows, dagbag, capfd):
    faults.add_rule({"kind": "fail", "target": "crawler", "name": flows["crawl"].crawler,
                     "message": "Internal Service Exception: unreadable object se2/in0/csvlog.csv"})
    run, states = run_dag(dagbag, "glue_crawler_job", {"wait_time": 1})
    assert str(run.state) == "failed"
    assert states["submit_crawler_job"] == "success"
    assert states["wait_for_crawler"] == "failed"
    assert states["run_final_glue_job"] == "upstream_failed"
    assert _reason_in_output(capfd, "unreadable object se2/in0/csvlog.csv")


@pytest.mark.slow
def test_crawl_that_never_finishes_times_out_after_max_polls(flows, dagbag, capfd):
    faults.add_rule({"kind": "delay", "target": "crawler", "name": flows["crawl"].crawler, "seconds": 120})
    run, states = run_dag(dagbag, "glue_crawler_job", {"wait_time": 1})
    assert str(run.state) == "failed"
    assert states["wait_for_crawler"] == "failed"
    assert states["run_final_glue_job"] == "upstream_failed"
    assert _reason_in_output(capfd, "did not finish after 3 polls")
    glue = flows["session"].client("glue", endpoint_url=flows["endpoint_url"])
    glue.stop_crawler(Name=flows["crawl"].crawler)


def test_params_are_typed_and_described(dagbag):
    dag = dagbag.get_dag("sales_marketing_refresh")
    for name, param in dag.params.items():
        schema = param.schema
        assert schema.get("type"), name
        assert schema.get("title") and param.description, name
    from airflow.sdk.exceptions import ParamValidationError

    params = copy.deepcopy(dag.params)
    with pytest.raises(ParamValidationError, match="Invalid input for param database.*does not match"):
        params["database"] = "sales; DROP TABLE x"
    assert json.loads(json.dumps(dag.params.dump()))  # serializable for the trigger form
    assert Path(dag.fileloc).name == "sales_marketing_refresh.py"
