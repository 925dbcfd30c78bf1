"""LambdaInvokeFunctionOperator -> lambda:invoke (what a @task's code moves to)."""

from __future__ import annotations

import json

import pytest
from airflow.providers.amazon.aws.operators.lambda_function import LambdaInvokeFunctionOperator

from airflow_sfn_etl.asl import AslCompileError, compile_dag, definition, render_iam_policy, validate
from tests.asl.conftest import make_dag

ARN = "arn:aws:lambda:eu-west-1:123456789012:function:prep"


def test_payload_becomes_a_json_object_with_params_from_the_input() -> None:
    with make_dag(params={"day": "2026-01-01"}) as dag:
        LambdaInvokeFunctionOperator(
            task_id="prep", function_name=ARN, qualifier="live",
            payload=json.dumps({"day": "{{ params.day }}", "n": 3}),
        )
    machine = compile_dag(dag)
    document = definition(machine)
    assert validate(document) == []
    state = document["States"]["prep"]
    assert state["Resource"] == "arn:aws:states:::lambda:invoke"
    assert state["Parameters"] == {
        "FunctionName": ARN, "Qualifier": "live", "Payload": {"day.$": "$.day", "n": 3}
    }
    policy = json.loads(render_iam_policy(machine, region="eu-west-1", account="123456789012"))
    lambda_statement = next(s for s in policy["Statement"] if s["Sid"] == "LambdaInvoke")
    assert lambda_statement["Action"] == ["lambda:InvokeFunction"]
    assert lambda_statement["Resource"] == [ARN, f"{ARN}:*"]


def test_a_function_name_is_scoped_to_the_machines_region_and_account() -> None:
    with make_dag() as dag:
        LambdaInvokeFunctionOperator(task_id="prep", function_name="prep")
    policy = json.loads(render_iam_policy(compile_dag(dag), region="eu-west-1", account="123456789012"))
    statement = next(s for s in policy["Statement"] if s["Sid"] == "LambdaInvoke")
    assert statement["Resource"] == [ARN, f"{ARN}:*"]


def test_a_payload_that_is_not_json_is_refused() -> None:
    with make_dag() as dag:
        LambdaInvokeFunctionOperator(task_id="prep", function_name=ARN, payload="not json")
    with pytest.raises(AslCompileError, match="Task 'prep': payload='not json' is not JSON text"):
        compile_dag(dag)
