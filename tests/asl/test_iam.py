"""IAM policy: no wildcard actions, every action the definition needs, scoped resources."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_sfn_etl.asl import AslCompileError, build_iam_policy, compile_dag, definition
from airflow_sfn_etl.operators.glue import GlueJobOperator
from tests.asl.conftest import make_dag
from tests.asl.flows import glue_crawler_job_dag, sales_marketing_dag

REGION, ACCOUNT = "eu-west-1", "123456789012"

#: What AWS documents per integration (kept here independently of the implementation).
NEEDED = {
    "arn:aws:states:::glue:startJobRun.sync": {
        "glue:StartJobRun",
        "glue:GetJobRun",
        "glue:GetJobRuns",
        "glue:BatchStopJobRun",
    },
    "arn:aws:states:::athena:startQueryExecution.sync": {
        "athena:StartQueryExecution",
        "athena:GetQueryExecution",
        "athena:GetQueryResults",
        "athena:StopQueryExecution",
        "athena:GetWorkGroup",
        "glue:GetDatabase",
        "glue:GetTable",
        "glue:CreateTable",
        "glue:DeleteTable",
        "glue:GetPartitions",
        "glue:BatchCreatePartition",
        "s3:GetBucketLocation",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:PutObject",
        "s3:AbortMultipartUpload",
    },
    "arn:aws:states:::databrew:startJobRun.sync": {
        "databrew:StartJobRun",
        "databrew:DescribeJobRun",
        "databrew:StopJobRun",
        "databrew:ListJobRuns",
    },
    "arn:aws:states:::sns:publish": {"sns:Publish"},
    "arn:aws:states:::aws-sdk:glue:startCrawler": {"glue:StartCrawler"},
    "arn:aws:states:::aws-sdk:glue:getCrawler": {"glue:GetCrawler"},
}


def _resources_used(doc: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for state in doc["States"].values():
        if state["Type"] == "Task":
            out.add(state["Resource"])
        for branch in state.get("Branches", []):
            out |= _resources_used(branch)
    return out


def _policy(dag: Any, **kwargs: Any) -> dict[str, Any]:
    return build_iam_policy(compile_dag(dag), region=REGION, account=ACCOUNT, **kwargs).document


@pytest.mark.parametrize("factory", [sales_marketing_dag, glue_crawler_job_dag])
def test_no_wildcard_action_and_every_needed_action(factory: Any) -> None:
    dag = factory()
    doc = definition(compile_dag(dag))
    policy = _policy(dag)
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert all("*" not in a for a in actions)
    assert all(r != "*" for s in policy["Statement"] for r in s["Resource"])
    needed = set().union(*(NEEDED[r] for r in _resources_used(doc)))
    assert needed <= actions, needed - actions
    assert not any(a.startswith("lambda:") for a in actions)


def test_statements_are_sorted_and_scoped() -> None:
    policy = _policy(sales_marketing_dag())
    sids = [s["Sid"] for s in policy["Statement"]]
    assert sids == sorted(sids)
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["DataBrewJobRunSyncFromParamValues"]["Resource"] == [
        f"arn:aws:databrew:{REGION}:{ACCOUNT}:job/marketing-data-etl",
        f"arn:aws:databrew:{REGION}:{ACCOUNT}:job/sales-data-etl",
    ]
    assert by_sid["AthenaQuerySyncFromParamValues"]["Resource"] == [
        f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/StepFunctionsWorkshopWorkgroup"
    ]
    assert by_sid["SnsPublishFromParamValues"]["Resource"] == [
        f"arn:aws:sns:{REGION}:{ACCOUNT}:StepFunctionWorkshopTopic"
    ]
    assert by_sid["AthenaQueryResultsObjectsFromParamValues"]["Resource"] == [
        "arn:aws:s3:::sfn-etl-athena-results/*"
    ]
    assert (
        "arn:aws:s3:::sfn-etl-transformed/sales/*"
        in by_sid["AthenaTableDataObjectsFromParamValues"]["Resource"]
    )
    # The CTAS location holds the run id, known only at run time: a name pattern, said in the Sid.
    assert by_sid["AthenaCtasOutputObjectsFromInputPattern"]["Resource"] == [
        "arn:aws:s3:::sfn-etl-transformed/summary/sales_marketing_revenue/*/*"
    ]


def test_param_overrides_scope_the_policy() -> None:
    policy = _policy(glue_crawler_job_dag(), params={"crawler": "other"})
    crawler = next(s for s in policy["Statement"] if s["Sid"].startswith("GlueCrawler"))
    assert crawler["Resource"] == [f"arn:aws:glue:{REGION}:{ACCOUNT}:crawler/other"]
    assert crawler["Action"] == ["glue:GetCrawler", "glue:StartCrawler"]


def test_name_from_input_without_value_becomes_a_pattern_named_in_the_sid() -> None:
    with make_dag() as dag:
        GlueJobOperator(task_id="j", job_name="etl-{{ params.suffix }}")
    policy = _policy(dag)
    assert policy["Statement"] == [
        {
            "Sid": "GlueJobRunSyncFromInputPattern",
            "Effect": "Allow",
            "Action": ["glue:BatchStopJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:StartJobRun"],
            "Resource": [f"arn:aws:glue:{REGION}:{ACCOUNT}:job/etl-*"],
        }
    ]


def test_literal_names_and_request_response() -> None:
    with make_dag() as dag:
        GlueJobOperator(task_id="j", job_name="etl", wait_for_completion=False)
    assert _policy(dag)["Statement"] == [
        {
            "Sid": "GlueJobRunStart",
            "Effect": "Allow",
            "Action": ["glue:StartJobRun"],
            "Resource": [f"arn:aws:glue:{REGION}:{ACCOUNT}:job/etl"],
        }
    ]


def test_region_and_account_are_required() -> None:
    with pytest.raises(AslCompileError, match="region and an account"):
        build_iam_policy(compile_dag(glue_crawler_job_dag()), region="", account=ACCOUNT)


# --------------------------------------------------------------------------- tables an Athena statement reads

_READS = (
    "WITH recent AS (SELECT * FROM sales.orders WHERE year = '2026') "
    "SELECT r.id, c.name FROM recent r JOIN customers c ON r.customer_id = c.id "
    "WHERE c.id IN (SELECT customer_id FROM crm.accounts)"
)


def test_tables_read_are_parsed_from_the_sql_without_ctes_aliases_or_the_created_table() -> None:
    from airflow_sfn_etl.asl.iam import tables_read

    assert tables_read(_READS, "lake") == [("crm", "accounts"), ("lake", "customers"), ("sales", "orders")]
    ctas = "CREATE TABLE lake.summary WITH (format = 'PARQUET') AS SELECT region FROM lake.orders"
    assert tables_read(ctas, "lake") == [("lake", "orders")]
    assert tables_read("DROP TABLE IF EXISTS lake.orders", "lake") == []


def _athena_machine(query: str) -> Any:
    from airflow_sfn_etl.operators.athena import AthenaQueryOperator

    with make_dag() as dag:
        AthenaQueryOperator(task_id="q", query=query, database="lake", output_location="s3://results-bucket/q/")
    return compile_dag(dag)


def test_without_a_glue_client_the_tables_are_named_in_a_note_and_their_catalog_entries_granted() -> None:
    policy = build_iam_policy(_athena_machine(_READS), region=REGION, account=ACCOUNT)
    by_sid = {s["Sid"]: s for s in policy.document["Statement"]}
    assert by_sid["AthenaTablesRead"]["Action"] == ["glue:GetPartitions", "glue:GetTable"]
    assert by_sid["AthenaTablesRead"]["Resource"] == sorted(
        [f"arn:aws:glue:{REGION}:{ACCOUNT}:catalog"]
        + [f"arn:aws:glue:{REGION}:{ACCOUNT}:database/{db}" for db in ("crm", "lake", "sales")]
        + [f"arn:aws:glue:{REGION}:{ACCOUNT}:table/{t}" for t in ("crm/accounts", "lake/customers", "sales/orders")]
    )
    assert not any(sid.startswith("AthenaTableData") for sid in by_sid)
    (note,) = [n for n in policy.notes if "reads " in n]
    assert "reads crm.accounts, lake.customers, sales.orders" in note and "no Glue client" in note


def test_with_a_glue_client_the_table_locations_from_the_catalog_are_granted() -> None:
    import boto3
    from moto import mock_aws

    with mock_aws():
        glue = boto3.client("glue", region_name=REGION)
        for db in ("sales", "lake"):
            glue.create_database(DatabaseInput={"Name": db})
        # The locations are in the catalog only, not in the SQL.
        locations = {("sales", "orders"): "s3://warehouse-data/lake/orders_v2", ("lake", "customers"): "s3://crm-export/customers/"}
        for (db, name), location in locations.items():
            glue.create_table(
                DatabaseName=db,
                TableInput={"Name": name, "StorageDescriptor": {"Location": location, "Columns": []}},
            )
        policy = build_iam_policy(_athena_machine(_READS), region=REGION, account=ACCOUNT, glue=glue)
    by_sid = {s["Sid"]: s for s in policy.document["Statement"]}
    assert by_sid["AthenaTableDataBucket"]["Action"] == ["s3:GetBucketLocation", "s3:ListBucket"]
    assert by_sid["AthenaTableDataBucket"]["Resource"] == ["arn:aws:s3:::crm-export", "arn:aws:s3:::warehouse-data"]
    assert by_sid["AthenaTableDataObjects"]["Action"] == ["s3:GetObject"]
    assert by_sid["AthenaTableDataObjects"]["Resource"] == [
        "arn:aws:s3:::crm-export/customers/*",
        "arn:aws:s3:::warehouse-data/lake/orders_v2/*",
    ]
    # crm.accounts is not in the catalog: named in the note, nothing granted for it.
    (note,) = [n for n in policy.notes if "reads " in n]
    assert "reads crm.accounts, whose S3 data is not granted (the Glue catalog has no such table)" in note


def test_a_catalog_lookup_the_deployer_may_not_make_leaves_a_note_instead_of_failing() -> None:
    from unittest.mock import MagicMock

    from botocore.exceptions import ClientError

    glue = MagicMock()
    glue.get_table.side_effect = ClientError({"Error": {"Code": "AccessDeniedException"}}, "GetTable")
    policy = build_iam_policy(_athena_machine("SELECT * FROM orders"), region=REGION, account=ACCOUNT, glue=glue)
    glue.get_table.assert_called_once_with(DatabaseName="lake", Name="orders")
    assert not any(s["Sid"].startswith("AthenaTableData") for s in policy.document["Statement"])
    assert any("reads lake.orders" in n and "lookup failed with AccessDeniedException" in n for n in policy.notes)


def test_tables_the_machine_creates_with_a_location_need_no_lookup() -> None:
    from airflow_sfn_etl.operators.athena import AthenaQueryOperator

    with make_dag() as dag:
        create = AthenaQueryOperator(
            task_id="create",
            query="CREATE EXTERNAL TABLE lake.raw (id int) LOCATION 's3://raw-bucket/raw/'",
            database="lake",
            output_location="s3://results-bucket/q/",
        )
        read = AthenaQueryOperator(
            task_id="read", query="SELECT count(*) FROM raw", database="lake", output_location="s3://results-bucket/q/"
        )
        create >> read
    policy = build_iam_policy(compile_dag(dag), region=REGION, account=ACCOUNT)
    by_sid = {s["Sid"]: s for s in policy.document["Statement"]}
    assert by_sid["AthenaTableDataObjects"]["Resource"] == ["arn:aws:s3:::raw-bucket/raw/*"]
    assert f"arn:aws:glue:{REGION}:{ACCOUNT}:table/lake/raw" in by_sid["AthenaTablesRead"]["Resource"]
    assert not [n for n in policy.notes if "reads " in n]
