"""Row 6: bad input fails early (before any AWS call where possible) with the thing and the fix named."""

from __future__ import annotations

import copy
from datetime import datetime

import botocore.client
import pytest
from airflow.providers.common.compat.sdk import AirflowException
from airflow.sdk import DAG
from airflow.sdk.exceptions import ParamValidationError

from airflow_sfn_etl.operators.athena import AthenaQueryOperator
from airflow_sfn_etl.operators.databrew import DataBrewStartJobOperator
from airflow_sfn_etl.operators.glue import GlueJobOperator
from airflow_sfn_etl.operators.glue_crawler import GlueCrawlerOperator
from airflow_sfn_etl.operators.sns import SnsPublishOperator
from airflow_sfn_etl.operators.step_function import StepFunctionDeployOperator, StepFunctionRunOperator

from . import harness as h


@pytest.fixture
def aws_calls(monkeypatch) -> list[str]:
    """Every AWS operation the code under test calls, in order."""
    calls: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def record(self, operation, params):
        calls.append(operation)
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", record)
    return calls


UNKNOWN = [
    pytest.param(
        lambda: GlueJobOperator(task_id="t", job_name="no_such_job"),
        r"Glue job 'no_such_job' does not exist .*create the job first or fix job_name",
        id="glue_job",
    ),
    pytest.param(
        lambda: GlueCrawlerOperator(task_id="t", crawler_name="no_such_crawler"),
        r"Glue crawler 'no_such_crawler' does not exist .*fix crawler_name",
        id="crawler",
    ),
    pytest.param(
        lambda: DataBrewStartJobOperator(task_id="t", job_name="no_such_brew"),
        r"DataBrew job 'no_such_brew' does not exist .*fix job_name",
        id="databrew",
    ),
    pytest.param(
        lambda: AthenaQueryOperator(task_id="t", query="SELECT 1", workgroup="no_such_wg"),
        r"Athena workgroup 'no_such_wg' not found: create it or fix workgroup",
        id="workgroup",
    ),
    pytest.param(
        lambda: SnsPublishOperator(task_id="t", target="no_such_topic", message="m"),
        r"SNS topic 'no_such_topic' not found .*create the topic",
        id="topic",
    ),
    pytest.param(
        lambda: StepFunctionRunOperator(
            task_id="t", state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:no_such_sm"
        ),
        r"State machine .*no_such_sm does not exist: deploy it first",
        id="state_machine",
    ),
]


@pytest.mark.parametrize(("make", "message"), UNKNOWN)
def test_unknown_resource_fails_naming_it_and_the_fix(aws, make, message):
    with pytest.raises(AirflowException, match=message):
        make().execute(h.context("t"))
    assert h.glue_runs(aws["glue"]) == [] and h.athena_runs(aws["athena"]) == []


BEFORE_ANY_CALL = [
    pytest.param(
        lambda: AthenaQueryOperator(
            task_id="t",
            query="SELECT 1",
            workgroup=h.WORKGROUP,
            output_location="s3://someone-elses-bucket/x/",
            allowed_output_buckets=[h.RESULTS],
        ),
        r"'s3://someone-elses-bucket/x/' is in bucket 'someone-elses-bucket', which is not one of "
        r"allowed_output_buckets \['faults-results'\]",
        id="output_outside_allowed_buckets",
    ),
    pytest.param(
        lambda: AthenaQueryOperator(task_id="t", query="SELECT 1", output_location="/tmp/results"),
        r"output_location must be an s3://bucket/prefix URI",
        id="output_not_s3",
    ),
    pytest.param(
        lambda: StepFunctionRunOperator(task_id="t", state_machine_arn="faults_sm"),
        r"'faults_sm' is not a state machine ARN",
        id="state_machine_not_an_arn",
    ),
    pytest.param(
        lambda: StepFunctionDeployOperator(
            task_id="t",
            state_machine_name="bad_asl",
            role_arn=h.ROLE_ARN,
            definition={
                "StartAt": "A",
                "States": {
                    "A": {"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun", "Next": "Nowhere"}
                },
            },
        ),
        r"definition of state machine 'bad_asl' .* is invalid; nothing was deployed:\n- .*Nowhere",
        id="invalid_asl",
    ),
    pytest.param(
        lambda: GlueJobOperator(task_id="t", job_name=h.GLUE_JOB, script_args={"day": "1"}),
        r"Glue job argument 'day' must start with '--'",
        id="glue_argument_name",
    ),
    pytest.param(
        lambda: SnsPublishOperator(task_id="t", target="bad topic!", message="m"),
        r"neither a topic ARN nor a valid topic name",
        id="topic_name",
    ),
]


@pytest.mark.parametrize(("make", "message"), BEFORE_ANY_CALL)
def test_bad_input_fails_before_any_aws_call(aws, aws_calls, make, message):
    op = make()
    with pytest.raises((AirflowException, ValueError), match=message):
        op.execute(h.context("t"))
    assert aws_calls == []


def test_workgroup_output_location_outside_allowed_buckets_fails_before_the_query(aws, aws_calls):
    op = AthenaQueryOperator(
        task_id="t", query="SELECT 1", workgroup=h.WORKGROUP, allowed_output_buckets=["other"]
    )
    with pytest.raises(
        AirflowException,
        match=r"workgroup 'faults_wg' output location 's3://faults-results/' is in "
        r"bucket 'faults-results', which is not one of",
    ):
        op.execute(h.context("t"))
    assert "StartQueryExecution" not in aws_calls and h.athena_runs(aws["athena"]) == []


def test_dag_the_compiler_cannot_express_names_the_edges():
    from airflow_sfn_etl.asl import compile_dag

    with DAG("not_series_parallel", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
        a, b, c, d = (SnsPublishOperator(task_id=n, target=h.TOPIC, message="m") for n in "abcd")
        a >> [c, d]
        b >> d
    with pytest.raises(
        Exception, match=r"do not form a series-parallel graph.*Edges that break it: (a|b) >> (c|d)"
    ):
        compile_dag(dag, strict_shape=True)


def _sales_params():
    from airflow.sdk.definitions.param import ParamsDict

    from airflow_sfn_etl_flows.params import sales_marketing_params

    return ParamsDict(copy.deepcopy(sales_marketing_params()))


def test_sql_identifier_param_refuses_injection_at_trigger_time():
    params = _sales_params()
    with pytest.raises(ParamValidationError, match=r"Invalid input for param database.*does not match"):
        params["database"] = "sales; DROP TABLE x"
    with pytest.raises(ParamValidationError, match=r"param transformed_bucket"):
        params["transformed_bucket"] = "bucket' OR 1=1 --"


def test_missing_required_param_is_refused_at_trigger_time():
    params = _sales_params()
    params.dump()  # the defaults are valid
    with pytest.raises(ParamValidationError, match=r"param workgroup.*None is not of type 'string'"):
        params["workgroup"] = None


def test_missing_sql_file_names_the_file_and_the_search_path(tmp_path):
    with DAG(
        "bad_sql", schedule=None, start_date=datetime(2026, 1, 1), template_searchpath=[str(tmp_path)]
    ) as dag:
        op = AthenaQueryOperator(task_id="q", query="no_such_query.sql", workgroup=h.WORKGROUP)
    ctx = {**h.context("q"), "dag": dag, "task": op}
    with pytest.raises(
        AirflowException, match=rf"SQL file 'no_such_query.sql' not found \(looked in .*{tmp_path.name}"
    ):
        op.render_template_fields(ctx)
