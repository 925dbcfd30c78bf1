"""Deploy from a compiled DAG, validation before AWS, the generated role, params as execution input."""

from __future__ import annotations

import json
from unittest.mock import MagicMock

import boto3
import pytest
from airflow.providers.common.compat.sdk import AirflowException
from botocore.exceptions import ClientError
from moto import mock_aws

from airflow_sfn_etl.operators.step_function import StepFunctionDeployOperator, StepFunctionRunOperator
from airflow_sfn_etl.utils.sfn_role import retry_while_role_propagates
from airflow_sfn_etl_flows.settings import DAGS_FOLDER

from .provider_support import make_context

CRAWLER_DAG = DAGS_FOLDER / "glue_crawler_job.py"
COMMITTED = DAGS_FOLDER.parent / "state_machines" / "glue_crawler_job.asl.json"


def test_source_dag_is_compiled_at_execute_not_at_construction(monkeypatch):
    calls = []
    import airflow_sfn_etl.asl as asl

    monkeypatch.setattr(
        asl, "compile_dag", lambda *a, **k: calls.append(a) or (_ for _ in ()).throw(RuntimeError)
    )
    StepFunctionDeployOperator(
        task_id="deploy",
        state_machine_name="sm",
        source_dag_file=str(CRAWLER_DAG),
        role_arn="arn:aws:iam::1:role/r",
    )
    assert calls == []


@mock_aws
def test_deploy_from_dag_file_equals_the_committed_definition():
    op = StepFunctionDeployOperator(
        task_id="deploy",
        state_machine_name="crawler-flow",
        source_dag_file=str(CRAWLER_DAG),
        source_dag_id="glue_crawler_job",
        role_arn="arn:aws:iam::123456789012:role/sfn",
    )
    arn = op.execute(make_context())
    deployed = json.loads(
        boto3.client("stepfunctions").describe_state_machine(stateMachineArn=arn)["definition"]
    )
    assert deployed == json.loads(COMMITTED.read_text())


def test_relative_source_dag_file_resolves_against_the_dag_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    op = StepFunctionDeployOperator(
        task_id="deploy",
        state_machine_name="sm",
        source_dag_file="glue_crawler_job.py",
        role_arn="arn:aws:iam::1:role/r",
    )
    doc, defaults, source = op._document(CRAWLER_DAG.parent)
    assert doc["StartAt"] == "Submit Crawler Job"
    assert defaults["wait_time"] == 60
    assert "glue_crawler_job.py" in source


def test_a_dag_compiled_with_added_dependencies_logs_them():
    from pathlib import Path

    from airflow_sfn_etl.utils.sfn_definition import compile_source_dag

    log = MagicMock()
    corpus = Path(__file__).resolve().parents[1] / "asl" / "corpus" / "crossed_dependencies_dag.py"
    with pytest.warns(UserWarning, match="load_orders >> export_customers"):
        doc, _, _ = compile_source_dag(str(corpus), None, None, state_machine_name="sm", log=log)
    assert doc["StartAt"] == "Parallel: load_customers | load_orders"
    logged = [c.args[1] for c in log.info.call_args_list if c.args[0] == "Compiler warning: %s"]
    assert len(logged) == 1 and "(load_orders >> export_customers)" in logged[0]


def test_missing_source_dag_file_names_it():
    op = StepFunctionDeployOperator(
        task_id="deploy", state_machine_name="sm", source_dag_file="nope.py", role_arn="arn:aws:iam::1:role/r"
    )
    op.hook = MagicMock()
    with pytest.raises(AirflowException, match="source_dag_file 'nope.py' not found"):
        op.execute(make_context())
    op.hook.conn.list_state_machines.assert_not_called()


def test_invalid_definition_fails_naming_states_before_any_aws_call():
    bad = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Next": "Missing"},
            "B": {"Type": "Wait", "End": True},
        },
    }
    op = StepFunctionDeployOperator(
        task_id="deploy", state_machine_name="sm", definition=bad, role_arn="arn:aws:iam::1:role/r"
    )
    op.hook = MagicMock()
    with pytest.raises(AirflowException) as info:
        op.execute(make_context())
    message = str(info.value)
    assert "state machine 'sm'" in message and "nothing was deployed" in message
    assert "State 'A'" in message and "State 'B'" in message
    op.hook.conn.list_state_machines.assert_not_called()
    op.hook.conn.create_state_machine.assert_not_called()


def test_needs_exactly_one_source_and_a_role():
    with pytest.raises(ValueError, match="exactly one of definition"):
        StepFunctionDeployOperator(task_id="d", state_machine_name="sm", role_arn="r")
    with pytest.raises(ValueError, match="exactly one of definition"):
        StepFunctionDeployOperator(
            task_id="d",
            state_machine_name="sm",
            role_arn="r",
            definition=str(COMMITTED),
            source_dag_file="x.py",
        )
    with pytest.raises(ValueError, match="give role_arn, or create_role=True"):
        StepFunctionDeployOperator(task_id="d", state_machine_name="sm", definition=str(COMMITTED))


@mock_aws
def test_create_role_writes_trust_and_generated_policy_then_uses_its_arn():
    op = StepFunctionDeployOperator(
        task_id="deploy",
        state_machine_name="crawler-flow",
        definition=str(COMMITTED),
        create_role=True,
        role_name="crawler-flow-role",
    )
    context = make_context()
    context["params"] = {"crawler": "my_crawler", "job": "my_job", "wait_time": 5}
    arn = op.execute(context)
    iam = boto3.client("iam")
    role = iam.get_role(RoleName="crawler-flow-role")["Role"]
    assert boto3.client("stepfunctions").describe_state_machine(stateMachineArn=arn)["roleArn"] == role["Arn"]
    trust = role["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "states.amazonaws.com"}
    policy = iam.get_role_policy(RoleName="crawler-flow-role", PolicyName="crawler-flow-least-privilege")
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert statements["GlueCrawlerFromParamValues"]["Resource"] == [
        "arn:aws:glue:us-east-1:123456789012:crawler/my_crawler"
    ]
    assert statements["GlueJobRunSyncFromParamValues"]["Resource"] == [
        "arn:aws:glue:us-east-1:123456789012:job/my_job"
    ]
    assert not any("*" == a or a.endswith(":*") for s in statements.values() for a in s["Action"])

    # Deploying again with other params updates the role's policy in place.
    context["params"] = {"crawler": "other", "job": "my_job", "wait_time": 5}
    op2 = StepFunctionDeployOperator(
        task_id="deploy",
        state_machine_name="crawler-flow",
        definition=str(COMMITTED),
        create_role=True,
        role_name="crawler-flow-role",
    )
    assert op2.execute(context) == arn
    policy = iam.get_role_policy(RoleName="crawler-flow-role", PolicyName="crawler-flow-least-privilege")
    crawler = next(s for s in policy["PolicyDocument"]["Statement"] if s["Sid"].startswith("GlueCrawler"))
    assert crawler["Resource"] == ["arn:aws:glue:us-east-1:123456789012:crawler/other"]


@mock_aws
def test_the_generated_role_reads_the_catalog_location_of_the_tables_a_mapped_athena_query_reads():
    from pathlib import Path

    corpus = Path(__file__).resolve().parents[1] / "asl" / "corpus" / "mapped_athena_dag.py"
    glue = boto3.client("glue")
    glue.create_database(DatabaseInput={"Name": "sales"})
    # Where the data is, as only the catalog says (the SQL names the tables, not their location).
    locations = {"orders": "s3://sales-lake/warehouse/orders_2026/", "customers": "s3://crm-lake/customers/"}
    for name, location in locations.items():
        glue.create_table(
            DatabaseName="sales", TableInput={"Name": name, "StorageDescriptor": {"Location": location, "Columns": []}}
        )
    op = StepFunctionDeployOperator(
        task_id="deploy",
        state_machine_name="mapped-athena",
        source_dag_file=str(corpus),
        source_dag_id="corpus_mapped_athena",
        create_role=True,
        role_name="mapped-athena-role",
    )
    context = make_context()
    context["params"] = {"results": "s3://corpus-results/athena/"}
    op.execute(context)
    iam = boto3.client("iam")
    policy = iam.get_role_policy(RoleName="mapped-athena-role", PolicyName="mapped-athena-least-privilege")
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert statements["AthenaTableDataObjects"]["Action"] == ["s3:GetObject"]
    assert sorted(statements["AthenaTableDataObjects"]["Resource"]) == [
        "arn:aws:s3:::crm-lake/customers/*",
        "arn:aws:s3:::sales-lake/warehouse/orders_2026/*",
    ]
    assert "s3:ListBucket" in statements["AthenaTableDataBucket"]["Action"]
    buckets = ["arn:aws:s3:::crm-lake", "arn:aws:s3:::sales-lake"]
    assert sorted(statements["AthenaTableDataBucket"]["Resource"]) == buckets
    tables = {f"arn:aws:glue:us-east-1:123456789012:table/sales/{name}" for name in locations}
    assert tables <= set(statements["AthenaTablesRead"]["Resource"])


@mock_aws
def test_the_generated_role_uses_the_workgroups_kms_key_and_may_deliver_logs(tmp_path):
    dag_file = tmp_path / "secure_dag.py"
    dag_file.write_text(
        "from datetime import datetime\n"
        "from airflow.sdk import DAG\n"
        "from airflow.providers.amazon.aws.operators.athena import AthenaOperator\n"
        "with DAG(dag_id='secure', schedule=None, start_date=datetime(2026, 1, 1)):\n"
        "    AthenaOperator(task_id='count', query='SELECT 1', workgroup='secure')\n",
        encoding="utf-8",
    )
    key = "arn:aws:kms:us-east-1:123456789012:key/0f0e0d0c-1111-2222-3333-444455556666"
    boto3.client("athena").create_work_group(
        Name="secure",
        Configuration={"ResultConfiguration": {
            "OutputLocation": "s3://secure-results/",
            "EncryptionConfiguration": {"EncryptionOption": "CSE_KMS", "KmsKey": key},
        }},
    )
    logs = boto3.client("logs")
    logs.create_log_group(logGroupName="/sfn/secure")
    group = logs.describe_log_groups(logGroupNamePrefix="/sfn/secure")["logGroups"][0]["arn"]
    op = StepFunctionDeployOperator(
        task_id="deploy",
        state_machine_name="secure",
        source_dag_file=str(dag_file),
        source_dag_id="secure",
        create_role=True,
        role_name="secure-role",
        logging_configuration={"level": "ALL", "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": group}}]},
    )
    op.execute(make_context())
    policy = boto3.client("iam").get_role_policy(RoleName="secure-role", PolicyName="secure-least-privilege")
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert statements["AthenaResultsKms"] == {
        "Sid": "AthenaResultsKms", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": [key],
    }
    assert "logs:CreateLogDelivery" in statements["CloudWatchLogsDelivery"]["Action"]


@mock_aws
def test_run_uses_the_dag_run_params_as_input_when_input_is_none():
    sfn = boto3.client("stepfunctions")
    arn = sfn.create_state_machine(
        name="echo",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    op = StepFunctionRunOperator(task_id="run", state_machine_arn=arn, wait_for_completion=False)
    context = make_context()

    class Params(dict):
        def dump(self):
            return dict(self)

    context["params"] = Params({"wait_time": 5, "crawler": "se2_in0"})
    execution = op.execute(context)
    assert json.loads(sfn.describe_execution(executionArn=execution)["input"]) == {
        "crawler": "se2_in0",
        "wait_time": 5,
    }


def test_run_refuses_params_that_are_not_json():
    op = StepFunctionRunOperator(
        task_id="run", state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:x"
    )
    context = make_context()
    context["params"] = {"when": object()}
    with pytest.raises(AirflowException, match="DAG param 'when'.*not JSON-serializable"):
        op._input_json(context)


def _client_error(code: str, status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "CreateStateMachine")


class _Calls:
    """A create/update call failing with ``errors`` (in order), then returning ``"arn"``."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        if self.errors:
            raise self.errors.pop(0)
        return "arn"


@pytest.mark.parametrize("code", ["AccessDeniedException", "InvalidArn"])
def test_role_propagation_errors_are_retried_every_3_seconds_after_a_role_write(code):
    call, sleeps = _Calls(_client_error(code), _client_error(code)), []
    result = retry_while_role_propagates(call, role_written=True, log=MagicMock(), sleep=sleeps.append)
    assert (result, call.count, sleeps) == ("arn", 3, [3.0, 3.0])


def test_role_propagation_retry_gives_up_after_10_calls_with_the_last_error():
    errors = [_client_error("AccessDeniedException") for _ in range(10)]
    call, sleeps = _Calls(*errors, _client_error("never raised")), []
    with pytest.raises(ClientError) as raised:
        retry_while_role_propagates(call, role_written=True, log=MagicMock(), sleep=sleeps.append)
    assert raised.value is errors[-1]
    assert (call.count, sleeps) == (10, [3.0] * 9)


@pytest.mark.parametrize(
    ("error", "role_written"),
    [
        (_client_error("AccessDeniedException"), False),  # no role was written: a real denial
        (_client_error("ValidationException"), True),
        (_client_error("ThrottlingException"), True),  # botocore has retried it already
        (_client_error("InternalServerError", 500), True),
    ],
)
def test_other_errors_are_raised_at_once(error, role_written):
    call, sleeps = _Calls(error), []
    with pytest.raises(ClientError) as raised:
        retry_while_role_propagates(call, role_written=role_written, log=MagicMock(), sleep=sleeps.append)
    assert raised.value is error
    assert (call.count, sleeps) == (1, [])
