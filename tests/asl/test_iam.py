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
