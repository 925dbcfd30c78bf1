"""Step Functions deploy (create-or-update), run (one execution per try chain), sensor and trigger."""

from __future__ import annotations

import json

import boto3
import pytest
from airflow.providers.common.compat.sdk import AirflowException, TaskDeferred
from moto import mock_aws

from airflow_sfn_etl.operators.step_function import (
    OUTPUT_XCOM_KEY,
    StepFunctionDeployOperator,
    StepFunctionRunOperator,
)
from airflow_sfn_etl.sensors.step_function import StepFunctionExecutionSensor
from airflow_sfn_etl.triggers.step_function import StepFunctionExecutionTrigger, explain_failure
from airflow_sfn_etl.utils.run_key import sfn_execution_name

from .provider_support import client_error, collect, make_context, mock_hook, roundtrip, xcom_pushes

ROLE = "arn:aws:iam::123456789012:role/sfn"
SM_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:etl"
DEFINITION = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
FAILED_HISTORY = [
    {"id": 1, "type": "ExecutionStarted", "executionStartedEventDetails": {}},
    {"id": 2, "type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "Crawl"}},
    {"id": 3, "type": "TaskStateExited", "stateExitedEventDetails": {"name": "Crawl"}},
    {"id": 4, "type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "LoadSales"}},
    {
        "id": 5,
        "type": "TaskFailed",
        "taskFailedEventDetails": {
            "error": "Glue.ConcurrentRunsExceededException",
            "cause": "Concurrent runs exceeded for load_sales",
        },
    },
    {
        "id": 6,
        "type": "ExecutionFailed",
        "executionFailedEventDetails": {
            "error": "Glue.ConcurrentRunsExceededException",
            "cause": "Concurrent runs exceeded for load_sales",
        },
    },
]


def deploy(**kwargs) -> str:
    kwargs.setdefault("definition", DEFINITION)
    op = StepFunctionDeployOperator(task_id="deploy", state_machine_name="etl", role_arn=ROLE, **kwargs)
    return op.execute(make_context())


def describe(arn: str) -> dict:
    return boto3.client("stepfunctions").describe_state_machine(stateMachineArn=arn)


@mock_aws
def test_deploy_creates_then_noop_then_updates():
    arn = deploy()
    assert json.loads(describe(arn)["definition"]) == DEFINITION
    # Same document, other key order and a JSON string: no update call.
    op = StepFunctionDeployOperator(
        task_id="deploy",
        state_machine_name="etl",
        role_arn=ROLE,
        definition=json.dumps({"States": {"Done": {"Type": "Succeed"}}, "StartAt": "Done"}, indent=2),
    )
    real_update = op.hook.conn.update_state_machine
    calls = []
    op.hook.conn.update_state_machine = lambda **kw: calls.append(kw) or real_update(**kw)
    assert op.execute(make_context()) == arn
    assert calls == []
    changed = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 1, "End": True}}}
    assert deploy(definition=changed) == arn
    assert json.loads(describe(arn)["definition"]) == changed


@mock_aws
def test_deploy_updates_role_and_logging():
    arn = deploy()
    logging_conf = {
        "level": "ERROR",
        "includeExecutionData": True,
        "destinations": [
            {"cloudWatchLogsLogGroup": {"logGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:sfn:*"}}
        ],
    }
    op = StepFunctionDeployOperator(
        task_id="deploy",
        state_machine_name="etl",
        role_arn=ROLE + "2",
        definition=DEFINITION,
        logging_configuration=logging_conf,
    )
    op.execute(make_context())
    current = describe(arn)
    assert current["roleArn"] == ROLE + "2"
    assert current["loggingConfiguration"]["level"] == "ERROR"


@mock_aws
def test_deploy_from_asl_file(tmp_path):
    path = tmp_path / "etl.asl.json"
    path.write_text(json.dumps(DEFINITION))
    arn = deploy(definition=str(path))
    assert json.loads(describe(arn)["definition"]) == DEFINITION


@mock_aws
def test_deploy_type_mismatch_fails_with_fix():
    deploy()
    with pytest.raises(AirflowException, match="exists as STANDARD, not EXPRESS.*delete the state machine"):
        deploy(state_machine_type="EXPRESS")


def test_deploy_bad_input_fails_early():
    with pytest.raises(AirflowException, match="StartAt 'Nope' is not one of its States"):
        StepFunctionDeployOperator(
            task_id="d",
            state_machine_name="etl",
            role_arn=ROLE,
            definition={"StartAt": "Nope", "States": {"A": {"Type": "Succeed"}}},
        )
    with pytest.raises(AirflowException, match="definition file not found: missing.asl.json"):
        deploy(definition="missing.asl.json")
    with pytest.raises(AirflowException, match="not valid JSON"):
        deploy(definition="{not json")
    with pytest.raises(ValueError, match="STANDARD or EXPRESS"):
        deploy(state_machine_type="FAST")


def test_execution_name_is_deterministic_and_sanitized():
    context = make_context(dag_id="sales", run_id="scheduled__2024-01-01T00:00:00+00:00", task_id="run_sfn")
    name = sfn_execution_name(context)
    assert name == "sales__scheduled__2024-01-01T00_00_00_00_00__run_sfn"
    assert sfn_execution_name(context) == name
    long = make_context(dag_id="d" * 70, task_id="t" * 40)
    long_name = sfn_execution_name(long)
    assert len(long_name) == 80 and all(c.isalnum() or c in "-_" for c in long_name)
    assert sfn_execution_name(make_context(dag_id="d" * 70, task_id="t" * 41)) != long_name


@mock_aws
def test_run_starts_then_retry_attaches_to_same_execution():
    arn = deploy()
    op = StepFunctionRunOperator(
        task_id="run", state_machine_arn=arn, input={"day": "2024-01-01"}, wait_for_completion=False
    )
    first = op.execute(make_context(task_id="run"))
    assert first.endswith(":execution:etl:etl_dag__manual__2024-01-01T00_00_00_00_00__run")
    retry = StepFunctionRunOperator(
        task_id="run", state_machine_arn=arn, input={"day": "2024-01-02"}, wait_for_completion=False
    )
    assert retry.execute(make_context(task_id="run", try_number=2, max_tries=1, retries=1)) == first
    executions = boto3.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"]
    assert len(executions) == 1


@mock_aws
def test_run_on_kill_stops_execution():
    arn = deploy()
    op = StepFunctionRunOperator(task_id="run", state_machine_arn=arn, wait_for_completion=False)
    execution_arn = op.execute(make_context())
    op.on_kill()
    status = boto3.client("stepfunctions").describe_execution(executionArn=execution_arn)["status"]
    assert status == "ABORTED"


@mock_aws
def test_run_unknown_state_machine_fails_with_fix():
    op = StepFunctionRunOperator(task_id="run", state_machine_arn=SM_ARN)
    with pytest.raises(AirflowException, match="does not exist: deploy it first"):
        op.execute(make_context())


def test_run_bad_arn_and_input_fail_early():
    with pytest.raises(AirflowException, match="is not a state machine ARN"):
        StepFunctionRunOperator(task_id="run", state_machine_arn="etl").execute(make_context())
    with pytest.raises(AirflowException, match="input is not valid JSON"):
        StepFunctionRunOperator(task_id="run", state_machine_arn=SM_ARN, input="{bad").execute(make_context())
    with pytest.raises(AirflowException, match="execution_name 'a b' must be"):
        StepFunctionRunOperator(task_id="run", state_machine_arn=SM_ARN, execution_name="a b").execute(
            make_context()
        )


def run_with_mock(*descriptions: dict, history: list | None = None, **kwargs):
    op = StepFunctionRunOperator(task_id="run", state_machine_arn=SM_ARN, poll_interval=0, **kwargs)
    hook = mock_hook()
    hook.conn.start_execution.return_value = {
        "executionArn": SM_ARN.replace("stateMachine", "execution") + ":x"
    }
    hook.describe_execution.side_effect = list(descriptions)
    hook.conn.get_execution_history.return_value = {"events": history or []}
    op.hook = hook
    return op, hook


def test_run_success_pushes_output_and_logs_states(capsys):
    history = FAILED_HISTORY[:4]
    op, _ = run_with_mock(
        {"status": "RUNNING"}, {"status": "SUCCEEDED", "output": '{"rows": 3}'}, history=history
    )
    context = make_context()
    assert op.execute(context).endswith(":x")
    assert xcom_pushes(context)[OUTPUT_XCOM_KEY] == {"rows": 3}
    out = capsys.readouterr().out
    assert "State entered: Crawl (Task)" in out and "State exited: Crawl" in out
    assert out.count("State entered: Crawl") == 1  # each event logged once


@pytest.mark.parametrize("status", ["FAILED", "TIMED_OUT", "ABORTED"])
def test_run_failure_names_state_error_and_cause(status):
    description = {"status": status, "executionArn": "arn:exec"}
    op, _ = run_with_mock({"status": "RUNNING"}, description, history=FAILED_HISTORY)
    with pytest.raises(AirflowException) as raised:
        op.execute(make_context())
    message = str(raised.value)
    assert message == (
        f"Step Functions execution arn:exec {status} in state 'LoadSales': "
        "error=Glue.ConcurrentRunsExceededException; cause=Concurrent runs exceeded for load_sales"
    )
    assert "output: None" not in message


def test_failure_without_history_uses_describe_error():
    state, error, cause = explain_failure([], {"error": "States.Timeout", "cause": "took too long"})
    assert (state, error, cause) == (None, "States.Timeout", "took too long")


def test_fail_state_is_named():
    events = [
        {"id": 1, "type": "FailStateEntered", "stateEnteredEventDetails": {"name": "BadData"}},
        {
            "id": 2,
            "type": "ExecutionFailed",
            "executionFailedEventDetails": {"error": "Data.Invalid", "cause": "3 bad rows"},
        },
    ]
    assert explain_failure(events, {}) == ("BadData", "Data.Invalid", "3 bad rows")


def test_retry_after_failed_execution_starts_next_name():
    op, hook = run_with_mock(wait_for_completion=False)
    new_arn = SM_ARN.replace("stateMachine", "execution") + ":name-r2"
    hook.conn.start_execution.side_effect = [
        client_error("ExecutionAlreadyExists"),
        {"executionArn": new_arn},
    ]
    hook.conn.describe_execution.return_value = {"status": "FAILED"}
    op.execution_name = "name"
    assert op.execute(make_context(try_number=2, max_tries=1, retries=1)) == new_arn
    names = [call.kwargs["name"] for call in hook.conn.start_execution.call_args_list]
    assert names == ["name", "name-r2"]


def test_deferrable_defers_and_complete_raises_reason():
    op, _ = run_with_mock(deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(make_context())
    assert isinstance(deferred.value.trigger, StepFunctionExecutionTrigger)
    context = make_context()
    event = {"status": "success", "execution_arn": "arn:exec", "output": "[1, 2]"}
    assert op.execute_complete(context, event) == "arn:exec"
    assert xcom_pushes(context)[OUTPUT_XCOM_KEY] == [1, 2]
    with pytest.raises(AirflowException, match="in state 'LoadSales'"):
        op.execute_complete(context, {"status": "failed", "message": "FAILED in state 'LoadSales': error=x"})


def test_trigger_serialize_roundtrip():
    trigger = StepFunctionExecutionTrigger(execution_arn="arn:exec", log_states=False, max_poll_interval=30)
    again = roundtrip(trigger)
    assert again.serialize() == trigger.serialize()
    assert (again.execution_arn, again.log_states, again.max_poll_interval) == ("arn:exec", False, 30)


async def test_trigger_run_success():
    trigger = StepFunctionExecutionTrigger(execution_arn="arn:exec", poll_interval=0)
    trigger.hook = mock_hook()
    trigger.hook.describe_execution.side_effect = [
        {"status": "RUNNING"},
        {"status": "SUCCEEDED", "output": "{}"},
    ]
    trigger.hook.conn.get_execution_history.return_value = {"events": FAILED_HISTORY[:3]}
    [event] = await collect(trigger)
    assert (event["status"], event["output"], event["execution_arn"]) == ("success", "{}", "arn:exec")


@pytest.mark.parametrize("status", ["FAILED", "TIMED_OUT", "ABORTED"])
async def test_trigger_run_failure_states(status):
    trigger = StepFunctionExecutionTrigger(execution_arn="arn:exec", poll_interval=0, log_states=False)
    trigger.hook = mock_hook()
    trigger.hook.describe_execution.return_value = {"status": status, "executionArn": "arn:exec"}
    trigger.hook.conn.get_execution_history.return_value = {"events": FAILED_HISTORY}
    [event] = await collect(trigger)
    assert event["status"] == "failed"
    assert "in state 'LoadSales': error=Glue.ConcurrentRunsExceededException" in event["message"]


async def test_trigger_on_kill_stops_execution():
    trigger = StepFunctionExecutionTrigger(execution_arn="arn:exec")
    trigger.hook = mock_hook()
    await trigger.on_kill()
    trigger.hook.conn.stop_execution.assert_called_once()
    assert trigger.hook.conn.stop_execution.call_args.kwargs["executionArn"] == "arn:exec"


@mock_aws
def test_sensor_on_moto_execution():
    arn = deploy()
    execution_arn = boto3.client("stepfunctions").start_execution(stateMachineArn=arn, name="e1")[
        "executionArn"
    ]
    sensor = StepFunctionExecutionSensor(task_id="wait", execution_arn=execution_arn)
    assert sensor.poke(make_context()) is False
    boto3.client("stepfunctions").stop_execution(
        executionArn=execution_arn, error="Ops.Stop", cause="manual stop"
    )
    with pytest.raises(AirflowException, match=r"execution:etl:e1 ABORTED: error=") as raised:
        sensor.poke(make_context())
    assert "output: None" not in str(raised.value)
