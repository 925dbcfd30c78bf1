"""OpenLineage facets of each operator, on moto: dataset names per OpenLineage's naming spec.

Athena ``awsathena://athena.{region}.amazonaws.com`` + ``{catalog}.{database}.{table}``; Glue
``arn:aws:glue:{region}:{account}`` + ``table/{database}/{table}``; S3 ``s3://{bucket}`` + key.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from airflow_sfn_etl.operators.athena import AthenaQueryOperator
from airflow_sfn_etl.operators.databrew import DataBrewStartJobOperator
from airflow_sfn_etl.operators.glue import GlueJobOperator
from airflow_sfn_etl.operators.glue_crawler import GlueCrawlerOperator
from airflow_sfn_etl.operators.sns import SnsPublishOperator
from airflow_sfn_etl.operators.step_function import StepFunctionRunOperator
from airflow_sfn_etl.sensors.glue_crawler import GlueCrawlerSensor
from airflow_sfn_etl.utils.lineage import AwsCatalog, athena_query_lineage, s3_identity

from .provider_support import make_context

REGION = "us-east-1"
ATHENA = f"awsathena://athena.{REGION}.amazonaws.com"
GLUE = f"arn:aws:glue:{REGION}:{DEFAULT_ACCOUNT_ID}"
ORDERS_COLUMNS = [("id", "int"), ("amount", "double"), ("day", "string")]


def ids(datasets) -> list[tuple[str, str]]:
    return [(d.namespace, d.name) for d in datasets]


def symlinks(dataset) -> set[tuple[str, str, str]]:
    return {(i.namespace, i.name, i.type) for i in dataset.facets["symlinks"].identifiers}


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        glue = boto3.client("glue", region_name=REGION)
        for database in ("shop", "se2"):
            glue.create_database(DatabaseInput={"Name": database})
        glue.create_table(DatabaseName="shop", TableInput={
            "Name": "orders",
            "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "int"}, {"Name": "amount", "Type": "double"}],
                                  "Location": "s3://lake/orders/"},
            "PartitionKeys": [{"Name": "day", "Type": "string"}],
        })
        yield glue


def athena_op(query: str, **kwargs) -> AthenaQueryOperator:
    return AthenaQueryOperator(task_id="q", query=query, database="shop", output_location="s3://results/q/", **kwargs)


def started_query(op: AthenaQueryOperator) -> str:
    athena = boto3.client("athena", region_name=REGION)
    return athena.start_query_execution(
        QueryString=op.query, QueryExecutionContext={"Database": "shop"}, WorkGroup="primary",
        ResultConfiguration={"OutputLocation": "s3://results/q/"},
    )["QueryExecutionId"]


def test_s3_identity_is_bucket_and_key():
    assert s3_identity("s3://lake/orders/") == ("s3://lake", "orders")
    assert s3_identity("s3://lake/a/b.csv") == ("s3://lake", "a/b.csv")
    assert s3_identity("s3://lake/") == ("s3://lake", "/")
    with pytest.raises(ValueError, match="not an S3 URI"):
        s3_identity("https://lake/orders")


def test_athena_ctas_reads_and_writes_athena_tables_with_glue_schema_and_symlinks(aws):
    op = athena_op("CREATE TABLE shop.daily WITH (format = 'PARQUET', external_location = 's3://lake/daily/') AS "
                   "SELECT day, sum(amount) AS total FROM orders GROUP BY day")
    op.query_execution_id = started_query(op)
    # The table the CTAS made, as Athena would have cataloged it.
    aws.create_table(DatabaseName="shop", TableInput={
        "Name": "daily", "StorageDescriptor": {"Columns": [{"Name": "day", "Type": "string"},
                                                           {"Name": "total", "Type": "double"}],
                                               "Location": "s3://lake/daily/"}})
    lineage = op.get_openlineage_facets_on_complete(None)
    assert ids(lineage.inputs) == [(ATHENA, "AwsDataCatalog.shop.orders")]
    assert ids(lineage.outputs) == [(ATHENA, "AwsDataCatalog.shop.daily")]
    [orders] = lineage.inputs
    assert [(f.name, f.type) for f in orders.facets["schema"].fields] == ORDERS_COLUMNS
    assert symlinks(orders) == {(GLUE, "table/shop/orders", "TABLE"), ("s3://lake", "orders", "LOCATION")}
    assert symlinks(lineage.outputs[0]) == {(GLUE, "table/shop/daily", "TABLE"), ("s3://lake", "daily", "LOCATION")}
    query = lineage.run_facets["externalQuery"]
    assert (query.externalQueryId, query.source, query.workgroup) == (op.query_execution_id, "awsathena", "primary")
    assert lineage.job_facets["sql"].query.startswith("CREATE TABLE shop.daily")


def test_athena_insert_reads_and_writes_and_a_select_writes_its_result_set(aws):
    insert = athena_op("INSERT INTO shop.archive SELECT * FROM shop.orders").get_openlineage_facets_on_start()
    assert (ids(insert.inputs), ids(insert.outputs)) == (
        [(ATHENA, "AwsDataCatalog.shop.orders")], [(ATHENA, "AwsDataCatalog.shop.archive")]
    )
    select = athena_op("SELECT count(*) FROM orders").get_openlineage_facets_on_complete(None)
    assert ids(select.inputs) == [(ATHENA, "AwsDataCatalog.shop.orders")]
    assert ids(select.outputs) == [("s3://results", "q")]


def test_athena_repair_reads_the_table_location_and_writes_the_table(aws):
    lineage = athena_op("MSCK REPAIR TABLE shop.orders").get_openlineage_facets_on_complete(None)
    assert ids(lineage.inputs) == [("s3://lake", "orders")]
    assert ids(lineage.outputs) == [(ATHENA, "AwsDataCatalog.shop.orders")]


@pytest.mark.parametrize(("sql", "substatement", "change"), [
    ("DROP TABLE IF EXISTS shop.orders", "DROP_TABLE", "DROP"),
    ("CREATE EXTERNAL TABLE shop.orders (id int) LOCATION 's3://lake/orders/'", "CREATE_TABLE", "CREATE"),
])
def test_athena_ddl_writes_its_table_with_the_lifecycle_change_athena_reports(aws, sql, substatement, change):
    op = athena_op(sql)
    execution = {"QueryExecutionId": "q-1", "WorkGroup": "etl", "StatementType": "DDL",
                 "SubstatementType": substatement}
    lineage = athena_query_lineage(AwsCatalog(op), sql, catalog="AwsDataCatalog", database="shop", execution=execution)
    assert lineage.inputs == []
    [table] = lineage.outputs
    assert (table.namespace, table.name) == (ATHENA, "AwsDataCatalog.shop.orders")
    assert table.facets["lifecycleStateChange"].lifecycleStateChange.value == change
    assert lineage.run_facets["externalQuery"].workgroup == "etl"


def test_athena_table_of_another_catalog_is_named_without_glue_lookups(aws):
    op = athena_op("SELECT * FROM orders", catalog="federated")
    [table] = op.get_openlineage_facets_on_start().inputs
    assert (table.namespace, table.name, table.facets) == (ATHENA, "federated.shop.orders", {})


def glue_job(glue, **default_arguments) -> None:
    glue.create_job(Name="etl", Role="arn:aws:iam::123456789012:role/glue",
                    Command={"Name": "pythonshell", "ScriptLocation": "s3://code/etl.py"},
                    DefaultArguments=default_arguments)


def test_glue_job_reads_and_writes_what_its_arguments_name(aws):
    glue_job(aws, **{"--database": "shop", "--table": "orders", "--output_path": "s3://lake/out/",
                     "--TempDir": "s3://tmp/glue/", "--extra-py-files": "s3://code/lib.zip"})
    op = GlueJobOperator(task_id="job", job_name="etl", script_args={"--input_path": "s3://raw/day=1/"})
    op.run_id = "jr_1"
    lineage = op.get_openlineage_facets_on_complete(None)
    assert ids(lineage.inputs) == [(GLUE, "table/shop/orders"), ("s3://raw", "day=1")]
    assert ids(lineage.outputs) == [("s3://lake", "out")]
    assert [(f.name, f.type) for f in lineage.inputs[0].facets["schema"].fields] == ORDERS_COLUMNS
    assert symlinks(lineage.inputs[0]) == {("s3://lake", "orders", "LOCATION")}
    run = lineage.run_facets["externalQuery"]
    assert (run.externalQueryId, run.source, run.jobName) == ("jr_1", "awsglue", "etl")


def test_glue_job_run_arguments_override_the_job_defaults(aws):
    glue_job(aws, **{"--output_path": "s3://lake/out/"})
    op = GlueJobOperator(task_id="job", job_name="etl", script_args={"--output_path": "s3://other/x/"})
    assert ids(op.get_openlineage_facets_on_complete(None).outputs) == [("s3://other", "x")]


def crawled_table(glue, name: str, **params: str) -> None:
    glue.create_table(DatabaseName="se2", TableInput={
        "Name": name, "Parameters": params,
        "StorageDescriptor": {"Columns": [{"Name": "uuid", "Type": "bigint"}], "Location": f"s3://data/se2/{name}/"},
    })


def test_crawler_reads_its_s3_targets_and_writes_the_tables_it_crawled(aws):
    aws.create_crawler(Name="se2_in0", Role="arn:aws:iam::123456789012:role/glue", DatabaseName="se2",
                       Targets={"S3Targets": [{"Path": "s3://data/se2/in0/"}]})
    crawled_table(aws, "se2_in0", UPDATED_BY_CRAWLER="se2_in0")
    crawled_table(aws, "other", UPDATED_BY_CRAWLER="another_crawler")
    crawled_table(aws, "gone", UPDATED_BY_CRAWLER="se2_in0", DEPRECATED_BY_CRAWLER="1")
    crawled_table(aws, "by_hand")
    for op in (GlueCrawlerOperator(task_id="crawl", crawler_name="se2_in0"),
               GlueCrawlerSensor(task_id="wait", crawler_name="se2_in0")):
        lineage = op.get_openlineage_facets_on_complete(None)
        assert ids(lineage.inputs) == [("s3://data", "se2/in0")]
        assert ids(lineage.outputs) == [(GLUE, "table/se2/se2_in0")]
        assert [f.name for f in lineage.outputs[0].facets["schema"].fields] == ["uuid"]


def test_databrew_job_reads_its_dataset_and_writes_its_outputs(aws):
    databrew = boto3.client("databrew", region_name=REGION)
    databrew.create_dataset(Name="sales-data", Input={"S3InputDefinition": {"Bucket": "raw-data",
                                                                            "Key": "sales/sales.csv"}})
    databrew.create_recipe(Name="sales-recipe", Steps=[{"Action": {"Operation": "UPPER_CASE",
                                                                   "Parameters": {"sourceColumn": "a"}}}])
    databrew.create_recipe_job(Name="sales-etl", DatasetName="sales-data", RoleArn="arn:aws:iam::123456789012:role/x",
                               RecipeReference={"Name": "sales-recipe"},
                               Outputs=[{"Location": {"Bucket": "clean-data", "Key": "sales/"}, "Format": "PARQUET"}])
    op = DataBrewStartJobOperator(task_id="brew", job_name="sales-etl")
    op.run_id = "db_1"
    lineage = op.get_openlineage_facets_on_complete(None)
    assert ids(lineage.inputs) == [("s3://raw-data", "sales/sales.csv")]
    assert ids(lineage.outputs) == [("s3://clean-data", "sales")]
    run = lineage.run_facets["externalQuery"]
    assert (run.externalQueryId, run.source, run.jobName) == ("db_1", "awsdatabrew", "sales-etl")


def test_sns_publish_has_no_datasets_and_the_message_as_its_run(aws):
    topic = boto3.client("sns", region_name=REGION).create_topic(Name="notices")["TopicArn"]
    op = SnsPublishOperator(task_id="notify", target="notices", message="done")
    message_id = op.execute(make_context(task_id="notify"))
    lineage = op.get_openlineage_facets_on_complete(None)
    assert (lineage.inputs, lineage.outputs) == ([], [])
    run = lineage.run_facets["externalQuery"]
    assert (run.externalQueryId, run.source, run.topicArn) == (message_id, "awssns", topic)


def scheduled(resource_type: str, resource: str, parameters: dict) -> dict:
    """A ``TaskScheduled`` history event as Step Functions records it (parameters as JSON text)."""
    return {"type": "TaskScheduled", "id": 1, "taskScheduledEventDetails": {
        "resourceType": resource_type, "resource": resource, "region": REGION, "parameters": json.dumps(parameters)}}


def test_state_machine_execution_has_the_union_of_its_scheduled_tasks(aws, monkeypatch):
    glue_job(aws, **{"--database": "shop", "--table": "orders"})
    history = [
        {"type": "ExecutionStarted", "id": 0},
        scheduled("athena", "startQueryExecution.sync", {
            "QueryString": "CREATE TABLE shop.daily AS SELECT day FROM orders",
            "QueryExecutionContext": {"Database": "shop"}, "WorkGroup": "primary"}),
        scheduled("glue", "startJobRun.sync", {"JobName": "etl", "Arguments": {"--output_path": "s3://lake/out/"}}),
        scheduled("sns", "publish", {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Message": "done"}),
    ]

    class History:
        def get_paginator(self, name):
            assert name == "get_execution_history"
            return self

        def paginate(self, executionArn):
            return [{"events": history}]

    real_client = AwsCatalog.client
    monkeypatch.setattr(AwsCatalog, "client", lambda self, service: History() if service == "stepfunctions"
                        else real_client(self, service))
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:etl"
    op = StepFunctionRunOperator(task_id="run", state_machine_arn=machine)
    op.execution_arn = "arn:aws:states:us-east-1:123456789012:execution:etl:run-1"
    lineage = op.get_openlineage_facets_on_complete(None)
    assert ids(lineage.inputs) == [(ATHENA, "AwsDataCatalog.shop.orders"), (GLUE, "table/shop/orders")]
    assert ids(lineage.outputs) == [(ATHENA, "AwsDataCatalog.shop.daily"), ("s3://lake", "out")]
    run = lineage.run_facets["externalQuery"]
    assert (run.externalQueryId, run.source, run.stateMachineArn) == (op.execution_arn, "awsstepfunctions", machine)


def test_operators_import_without_the_openlineage_packages():
    """The provider's modules import no OpenLineage module at import time, and import with the
    OpenLineage client made unimportable (as if it were not installed)."""
    code = """
import sys
sys.modules["openlineage"] = None  # any import of the client fails, as if it were not installed
import airflow_sfn_etl.operators.athena, airflow_sfn_etl.operators.glue, airflow_sfn_etl.operators.glue_crawler
import airflow_sfn_etl.operators.databrew, airflow_sfn_etl.operators.sns, airflow_sfn_etl.operators.step_function
import airflow_sfn_etl.sensors.glue_crawler
# Airflow's provider discovery reads each installed provider's get_provider_info; nothing else may load.
loaded = sorted(m for m, v in sys.modules.items() if v is not None and "openlineage" in m
                and m not in ("airflow.providers.openlineage", "airflow.providers.openlineage.get_provider_info"))
print("LOADED", loaded)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            cwd=Path(__file__).resolve().parents[2], check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "LOADED []" in result.stdout, result.stdout[-3000:]
