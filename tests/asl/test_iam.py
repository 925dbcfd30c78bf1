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


# --------------------------------------------------------------------------- nested executions, SQS, S3, logs, KMS


def _by_sid(dag: Any, **kwargs: Any) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in _policy(dag, **kwargs)["Statement"]}


def test_a_nested_sync_execution_is_granted_its_child_its_executions_and_the_managed_rule() -> None:
    from airflow.providers.amazon.aws.operators.step_function import StepFunctionStartExecutionOperator

    child = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:child"
    with make_dag() as dag:
        StepFunctionStartExecutionOperator(task_id="child", state_machine_arn=child, deferrable=True)
    by_sid = _by_sid(dag)
    # What AWS documents for startExecution.sync: the child, its executions, the EventBridge managed rule.
    assert by_sid["StatesStartExecution"]["Action"] == ["states:StartExecution"]
    assert by_sid["StatesStartExecution"]["Resource"] == [child]
    assert by_sid["StatesNestedExecutionSync"]["Action"] == ["states:DescribeExecution", "states:StopExecution"]
    assert by_sid["StatesNestedExecutionSync"]["Resource"] == [f"arn:aws:states:{REGION}:{ACCOUNT}:execution:child:*"]
    events = ["events:DescribeRule", "events:PutRule", "events:PutTargets"]
    assert by_sid["StatesNestedExecutionEvents"]["Action"] == events
    assert by_sid["StatesNestedExecutionEvents"]["Resource"] == [
        f"arn:aws:events:{REGION}:{ACCOUNT}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"
    ]
    with make_dag() as fire_and_forget:
        StepFunctionStartExecutionOperator(task_id="child", state_machine_arn=child)
    assert set(_by_sid(fire_and_forget)) == {"StatesStartExecution"}


def test_sqs_and_s3_calls_are_granted_on_their_queue_and_objects_only() -> None:
    from airflow.providers.amazon.aws.operators.s3 import S3CopyObjectOperator, S3DeleteObjectsOperator
    from airflow.providers.amazon.aws.operators.sqs import SqsPublishOperator

    with make_dag(params={"bucket": "lake"}) as dag:
        tell = SqsPublishOperator(
            task_id="tell", sqs_queue="https://sqs.us-east-2.amazonaws.com/210987654321/events", message_content="m"
        )
        copy = S3CopyObjectOperator(
            task_id="copy", source_bucket_key="s3://raw/a b.csv", dest_bucket_key="s3://{{ params.bucket }}/in/b.csv",
            source_version_id="v1", acl_policy="no-acl",
        )
        clean = S3DeleteObjectsOperator(task_id="clean", bucket="lake", keys=["in/a.csv", "in/b.csv"])
        tell >> copy >> clean
    by_sid = _by_sid(dag)
    # The queue's ARN names the region and account of its URL, not the policy's.
    assert by_sid["SqsSendMessage"] == {
        "Sid": "SqsSendMessage", "Effect": "Allow", "Action": ["sqs:SendMessage"],
        "Resource": ["arn:aws:sqs:us-east-2:210987654321:events"],
    }
    # A versioned source needs GetObjectVersion; the key is the decoded one.
    assert by_sid["S3CopySource"]["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert by_sid["S3CopySource"]["Resource"] == ["arn:aws:s3:::raw/a b.csv"]
    # no ACL sent: no PutObjectAcl; the bucket from the param's value
    assert by_sid["S3CopyDestinationFromParamValues"]["Action"] == ["s3:PutObject"]
    assert by_sid["S3CopyDestinationFromParamValues"]["Resource"] == ["arn:aws:s3:::lake/in/b.csv"]
    assert by_sid["S3DeleteObjects"]["Action"] == ["s3:DeleteObject"]
    assert by_sid["S3DeleteObjects"]["Resource"] == ["arn:aws:s3:::lake/in/a.csv", "arn:aws:s3:::lake/in/b.csv"]
    actions = {a for s in by_sid.values() for a in s["Action"]}
    assert not any("*" in a for a in actions)
    assert not any(r == "*" for s in by_sid.values() for r in s["Resource"])


def test_an_acl_on_the_object_needs_put_object_acl() -> None:
    from airflow.providers.amazon.aws.operators.s3 import S3CopyObjectOperator

    with make_dag() as dag:
        S3CopyObjectOperator(task_id="copy", source_bucket_key="s3://raw/a", dest_bucket_key="s3://lake/a")
    # The hook sends ACL=private by default; PutObject with an ACL needs s3:PutObjectAcl.
    assert _by_sid(dag)["S3CopyDestination"]["Action"] == ["s3:PutObject", "s3:PutObjectAcl"]


def test_a_machine_with_logging_gets_the_log_delivery_actions() -> None:
    dag = glue_crawler_job_dag()
    assert "CloudWatchLogsDelivery" not in _by_sid(dag)
    statement = _by_sid(dag, logging=True)["CloudWatchLogsDelivery"]
    # AWS's list for Step Functions logging; these actions take no resource-level permissions.
    assert set(statement["Action"]) == {
        "logs:CreateLogDelivery", "logs:CreateLogStream", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutLogEvents", "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
    }
    assert statement["Resource"] == ["*"]


def test_a_workgroup_that_encrypts_results_with_kms_grants_its_key() -> None:
    import boto3
    from moto import mock_aws

    from airflow_sfn_etl.operators.athena import AthenaQueryOperator

    key_arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    with make_dag() as dag:
        plain = AthenaQueryOperator(task_id="plain", query="SELECT 1", workgroup="plain_wg")
        secret = AthenaQueryOperator(task_id="secret", query="SELECT 1", workgroup="kms_wg")
        plain >> secret
    with mock_aws():
        athena = boto3.client("athena", region_name=REGION)
        athena.create_work_group(Name="plain_wg", Configuration={"ResultConfiguration": {"OutputLocation": "s3://r/"}})
        athena.create_work_group(
            Name="kms_wg",
            Configuration={"ResultConfiguration": {
                "OutputLocation": "s3://r/",
                "EncryptionConfiguration": {"EncryptionOption": "SSE_KMS", "KmsKey": key_arn},
            }},
        )
        policy = build_iam_policy(compile_dag(dag), region=REGION, account=ACCOUNT, athena=athena)
    by_sid = {s["Sid"]: s for s in policy.document["Statement"]}
    assert by_sid["AthenaResultsKms"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert by_sid["AthenaResultsKms"]["Resource"] == [key_arn]
    assert not [n for n in policy.notes if "KMS key" in n]
    without = build_iam_policy(compile_dag(dag), region=REGION, account=ACCOUNT)
    assert "AthenaResultsKms" not in {s["Sid"] for s in without.document["Statement"]}
    assert any("no Athena client" in n and "kms_wg" in n for n in without.notes)
