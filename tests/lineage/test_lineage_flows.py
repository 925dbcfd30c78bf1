"""Each reference flow, run on the sandbox, emits OpenLineage events naming its data as the spec says.

Expected datasets come from OpenLineage's naming spec (Athena ``awsathena://athena.{region}.amazonaws.com``
+ ``{catalog}.{database}.{table}``, Glue ``arn:aws:glue:{region}:{account}`` + ``table/{db}/{table}``,
S3 ``s3://{bucket}`` + key) applied to the flows' own definitions: the tables their SQL files name,
the buckets and keys provisioning gives the DataBrew jobs, the crawler and the Glue job.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from airflow_sfn_etl_flows.provision import MARKETING_CSV, SALES_CSV
from airflow_sfn_etl_flows.settings import DAGS_FOLDER

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SQL = DAGS_FOLDER / "sql"
TABLE_REF = r"\{\{ params\.database \}\}\.(\w+)"
KINDS = {"sales": ("sales_data_output", SALES_CSV), "marketing": ("marketing_data_output", MARKETING_CSV)}


def asset_events(uri: str, run) -> list[tuple[str, str]]:
    """(dag_id, task_id) of the Asset events recorded for ``uri`` by the DAG run ``run``."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(AssetEvent.source_dag_id, AssetEvent.source_task_id)
            .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            .where(AssetModel.uri == uri, AssetEvent.source_run_id == run.run_id)
        ).all()
    return [tuple(row) for row in rows]


def summary_uri(flows, names) -> str:
    """The summary table as an Asset URI: its OpenLineage namespace and name joined by ``/``."""
    return f"{names['athena']}/AwsDataCatalog.{flows['sales'].database}.sales_marketing_revenue"


def ids(datasets: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(d["namespace"], d["name"]) for d in datasets}


def symlinks(dataset: dict[str, Any]) -> set[tuple[str, str, str]]:
    identifiers = dataset.get("facets", {}).get("symlinks", {}).get("identifiers", [])
    return {(i["namespace"], i["name"], i["type"]) for i in identifiers}


def written_table(sql_file: str) -> str:
    """The table a DDL file creates, drops or repairs."""
    text = (SQL / sql_file).read_text()
    [table] = re.findall(r"(?:CREATE (?:EXTERNAL )?TABLE|DROP TABLE IF EXISTS|MSCK REPAIR TABLE)\s+" + TABLE_REF, text)
    return table


def read_tables(sql_file: str) -> set[str]:
    return set(re.findall(r"FROM\s+" + TABLE_REF, (SQL / sql_file).read_text()))


def table_location(sql_file: str, bucket: str) -> tuple[str, str]:
    """(s3://bucket, key) of the LOCATION a CREATE EXTERNAL TABLE file gives."""
    [path] = re.findall(r"LOCATION 's3://\{\{ params\.transformed_bucket \}\}/([^']*)'", (SQL / sql_file).read_text())
    return f"s3://{bucket}", path.strip("/")


def table_columns(sql_file: str) -> list[str]:
    """The columns, then the partition columns, a CREATE EXTERNAL TABLE file declares."""
    text = (SQL / sql_file).read_text()
    body = text[text.index("(") + 1: text.index("PARTITIONED BY")]
    columns = [line.strip().split()[0].strip("`") for line in body.splitlines() if line.strip()]
    partitions = re.search(r"PARTITIONED BY \(([^)]*)\)", text).group(1)
    return columns + [part.split()[0] for part in partitions.split(",")]


@pytest.fixture
def names(flows) -> dict[str, str]:
    session, endpoint = flows["session"], flows["endpoint_url"]
    account = session.client("sts", endpoint_url=endpoint).get_caller_identity()["Account"]
    region = session.region_name
    return {"athena": f"awsathena://athena.{region}.amazonaws.com", "glue": f"arn:aws:glue:{region}:{account}"}


def expected_sales_lineage(flows, names) -> dict[str, tuple[set, set]]:
    """{task_id: (inputs, outputs)} of sales_marketing_refresh, from its SQL and its provisioning."""
    s = flows["sales"]
    athena = names["athena"]

    def table(name: str) -> tuple[str, str]:
        return athena, f"AwsDataCatalog.{s.database}.{name}"

    expected = {}
    for kind, (table_name, csv) in KINDS.items():
        location = table_location(f"create_{kind}_table.sql", s.transformed_bucket)
        expected[f"{kind}_databrew_etl_job"] = ({(f"s3://{s.raw_bucket}", f"{kind}/{csv}")}, {location})
        expected[f"drop_old_{kind}_table"] = (set(), {table(written_table(f"drop_{table_name}.sql"))})
        expected[f"create_{kind}_table"] = (set(), {table(written_table(f"create_{kind}_table.sql"))})
        expected[f"load_{kind}_table_partitions"] = ({location}, {table(written_table(f"repair_{table_name}.sql"))})
    expected["drop_old_summarized_table"] = (set(), {table(written_table("drop_sales_marketing_revenue.sql"))})
    expected["create_summarized_output"] = (
        {table(t) for t in read_tables("summarize_revenue.sql")},
        {table(written_table("summarize_revenue.sql"))},
    )
    expected["notify_users"] = (set(), set())
    return expected


def test_sales_marketing_refresh_emits_its_tables_and_locations(flows, names, run_with_lineage):
    s = flows["sales"]
    run = run_with_lineage("sales_marketing_refresh", {"month": "2016-12"})
    assert run.state == "success", run.tasks
    expected = expected_sales_lineage(flows, names)
    assert set(expected) == set(run.tasks)
    for task_id, (inputs, outputs) in expected.items():
        event = run.complete(f"sales_marketing_refresh.{task_id}")
        assert (ids(event["inputs"]), ids(event["outputs"])) == (inputs, outputs), task_id

    created = run.complete("sales_marketing_refresh.create_sales_table")["outputs"][0]
    assert [f["name"] for f in created["facets"]["schema"]["fields"]] == table_columns("create_sales_table.sql")
    assert symlinks(created) == {
        (names["glue"], f"table/{s.database}/sales_data_output", "TABLE"),
        (*table_location("create_sales_table.sql", s.transformed_bucket), "LOCATION"),
    }

    summary = run.complete("sales_marketing_refresh.create_summarized_output")
    [output] = summary["outputs"]
    # The CTAS writes under a folder of its own per run (summarize_revenue.sql's external_location).
    assert (f"s3://{s.transformed_bucket}", f"summary/sales_marketing_revenue/{run.run_id}", "LOCATION") in symlinks(
        output
    )
    assert output["facets"]["lifecycleStateChange"]["lifecycleStateChange"] == "CREATE"
    assert "CREATE TABLE" in summary["job"]["facets"]["sql"]["query"]
    query = summary["run"]["facets"]["externalQuery"]
    assert (query["source"], query["workgroup"]) == ("awsathena", s.workgroup)
    athena = flows["session"].client("athena", endpoint_url=flows["endpoint_url"])
    execution = athena.get_query_execution(QueryExecutionId=query["externalQueryId"])["QueryExecution"]
    assert execution["Status"]["State"] == "SUCCEEDED"
    assert f"CREATE TABLE {s.database}.sales_marketing_revenue" in execution["Query"]

    dropped = run.complete("sales_marketing_refresh.drop_old_summarized_table")["outputs"][0]
    assert dropped["facets"]["lifecycleStateChange"]["lifecycleStateChange"] == "DROP"

    notice = run.complete("sales_marketing_refresh.notify_users")["run"]["facets"]["externalQuery"]
    assert notice["source"] == "awssns" and notice["topicArn"] == flows["topic_arn"]

    # The summary task updated the summary table's Asset, which schedules the report; the report
    # reads the table and writes its result set.
    assert asset_events(summary_uri(flows, names), run) == [("sales_marketing_refresh", "create_summarized_output")]
    report = run_with_lineage("sales_summary_report")
    assert report.state == "success", report.tasks
    event = report.complete("sales_summary_report.report_latest_months")
    assert ids(event["inputs"]) == {(names["athena"], f"AwsDataCatalog.{s.database}.sales_marketing_revenue")}
    assert ids(event["outputs"]) == {(f"s3://{s.athena_query_bucket}", "/")}


def test_sales_marketing_refresh_sfn_emits_the_union_of_its_tasks(flows, names, run_with_lineage):
    run = run_with_lineage("sales_marketing_refresh_sfn", {"month": "2016-12"})
    assert run.state == "success", run.tasks
    expected = expected_sales_lineage(flows, names)
    event = run.complete("sales_marketing_refresh_sfn.run_state_machine")
    assert ids(event["inputs"]) == set().union(*(inputs for inputs, _ in expected.values()))
    assert ids(event["outputs"]) == set().union(*(outputs for _, outputs in expected.values()))
    execution = event["run"]["facets"]["externalQuery"]
    assert execution["source"] == "awsstepfunctions"
    sfn = flows["session"].client("stepfunctions", endpoint_url=flows["endpoint_url"])
    described = sfn.describe_execution(executionArn=execution["externalQueryId"])
    assert described["status"] == "SUCCEEDED" and described["stateMachineArn"] == execution["stateMachineArn"]
    assert asset_events(summary_uri(flows, names), run) == [("sales_marketing_refresh_sfn", "run_state_machine")]


def expected_crawler_lineage(flows, names, run_key: str) -> dict[str, tuple[set, set]]:
    """{task_id: (inputs, outputs)} of glue_crawler_job, from the crawler and job provisioning gives; the job
    writes under ``<output prefix><run_key>/`` (the DAG run's id, or the execution's name on Step Functions)."""
    c = flows["crawl"]
    table = (names["glue"], f"table/{c.glue_database}/{c.table_prefix}in0")  # the crawler's prefix + folder name
    crawled = (f"s3://{c.bucket}", c.input_prefix.strip("/"))
    written = (f"s3://{c.bucket}", f"{c.output_prefix}{run_key}")
    return {"wait_for_crawler": ({crawled}, {table}), "run_final_glue_job": ({table}, {written})}


@pytest.mark.spark  # the crawler flow's job is a Glue Spark job: make test-heavy
def test_glue_crawler_job_emits_crawled_table_and_job_output(flows, names, run_with_lineage):
    c = flows["crawl"]
    run = run_with_lineage("glue_crawler_job", {"wait_time": 1})
    assert run.state == "success", run.tasks
    for task_id, (inputs, outputs) in expected_crawler_lineage(flows, names, run.run_id).items():
        event = run.complete(f"glue_crawler_job.{task_id}")
        assert (ids(event["inputs"]), ids(event["outputs"])) == (inputs, outputs), task_id
    # The crawler task started the crawl without waiting: its targets are known, its tables may not be yet.
    assert ids(run.complete("glue_crawler_job.submit_crawler_job")["inputs"]) == {
        (f"s3://{c.bucket}", c.input_prefix.strip("/"))
    }
    glue = flows["session"].client("glue", endpoint_url=flows["endpoint_url"])
    [table] = run.complete("glue_crawler_job.wait_for_crawler")["outputs"]
    cataloged = glue.get_table(DatabaseName=c.glue_database, Name=c.table)["Table"]["StorageDescriptor"]["Columns"]
    assert [(f["name"], f["type"]) for f in table["facets"]["schema"]["fields"]] == [
        (col["Name"], col["Type"]) for col in cataloged
    ]
    job_run = run.complete("glue_crawler_job.run_final_glue_job")["run"]["facets"]["externalQuery"]
    assert (job_run["source"], job_run["jobName"]) == ("awsglue", c.job)
    state = glue.get_job_run(JobName=c.job, RunId=job_run["externalQueryId"])["JobRun"]["JobRunState"]
    assert state == "SUCCEEDED"
    # The job's outlet is the folder of every run's output.
    output_uri = f"s3://{c.bucket}/{c.output_prefix.strip('/')}"
    assert asset_events(output_uri, run) == [("glue_crawler_job", "run_final_glue_job")]


@pytest.mark.spark  # the crawler flow's job is a Glue Spark job: make test-heavy
def test_glue_crawler_job_sfn_emits_the_union_of_its_tasks(flows, names, run_with_lineage):
    run = run_with_lineage("glue_crawler_job_sfn", {"wait_time": 1})
    assert run.state == "success", run.tasks
    event = run.complete("glue_crawler_job_sfn.run_state_machine")
    sfn = flows["session"].client("stepfunctions", endpoint_url=flows["endpoint_url"])
    [machine] = [m for m in sfn.list_state_machines()["stateMachines"] if m["name"] == "glue-crawler-job"]
    [execution] = sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]
    expected = expected_crawler_lineage(flows, names, execution["name"])
    assert ids(event["inputs"]) == set().union(*(inputs for inputs, _ in expected.values()))
    assert ids(event["outputs"]) == set().union(*(outputs for _, outputs in expected.values()))
    assert event["run"]["facets"]["externalQuery"]["source"] == "awsstepfunctions"
