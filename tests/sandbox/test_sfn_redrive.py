"""Step Functions ``RedriveExecution`` on the sandbox, through boto3, checked against AWS's
documented behaviour: a failed execution runs again from its failed state with that state's input,
keeps its ARN, counts ``redriveCount``, and its history goes on after ``ExecutionRedriven``."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/sandbox-sfn"
FINAL = {"SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"}


def start(aws: dict[str, Any], definition: dict[str, Any], payload: dict[str, Any]) -> str:
    sfn = aws["stepfunctions"]
    arn = sfn.create_state_machine(name=f"sm-{uuid.uuid4().hex[:10]}", definition=json.dumps(definition),
                                   roleArn=ROLE)["stateMachineArn"]
    return sfn.start_execution(stateMachineArn=arn, name=f"run-{uuid.uuid4().hex[:8]}",
                               input=json.dumps(payload))["executionArn"]


def wait_done(aws: dict[str, Any], execution_arn: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        described = aws["stepfunctions"].describe_execution(executionArn=execution_arn)
        if described["status"] in FINAL:
            return described
        if time.monotonic() > deadline:
            raise AssertionError(f"execution still {described['status']} after {timeout}s")
        time.sleep(0.1)


def entered(events: list[dict[str, Any]], name: str) -> int:
    return sum(1 for e in events if e.get("stateEnteredEventDetails", {}).get("name") == name)


READ_REPORT = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "ResultPath": "$.object", "Next": "Read",
                    "Parameters": {"Bucket.$": "$.bucket", "Key.$": "States.Format('reports/{}.txt', $.day)"}},
        "Read": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                 "Parameters": {"Bucket.$": "$.object.Bucket", "Key.$": "$.object.Key"},
                 "ResultSelector": {"length.$": "$.ContentLength"}, "ResultPath": "$.read", "Next": "Done"},
        "Done": {"Type": "Pass", "End": True},
    },
}


def test_redrive_reruns_from_the_failed_state_with_its_input(aws: dict[str, Any]) -> None:
    sfn, s3, bucket = aws["stepfunctions"], aws["s3"], aws["bucket"]
    payload = {"bucket": bucket, "day": "2024-01-13"}
    execution_arn = start(aws, READ_REPORT, payload)
    failed = wait_done(aws, execution_arn)
    assert failed["status"] == "FAILED" and failed["error"].startswith("S3.")
    assert (failed["redriveCount"], failed["redriveStatus"]) == (0, "REDRIVABLE")

    body = b"report of the day"
    s3.put_object(Bucket=bucket, Key="reports/2024-01-13.txt", Body=body)
    answer = sfn.redrive_execution(executionArn=execution_arn)
    assert answer["redriveDate"]

    done = wait_done(aws, execution_arn)
    assert done["status"] == "SUCCEEDED", done
    assert done["executionArn"] == execution_arn and json.loads(done["input"]) == payload
    assert done["redriveCount"] == 1 and done["redriveDate"] == answer["redriveDate"]
    assert done["redriveStatus"] == "NOT_REDRIVABLE"
    assert json.loads(done["output"]) == {**payload, "object": {"Bucket": bucket, "Key": "reports/2024-01-13.txt"},
                                          "read": {"length": len(body)}}
    assert "error" not in done

    events = sfn.get_execution_history(executionArn=execution_arn)["events"]
    types = [e["type"] for e in events]
    assert types.count("ExecutionFailed") == 1 and types.count("ExecutionRedriven") == 1
    assert types.index("ExecutionFailed") < types.index("ExecutionRedriven") < types.index("ExecutionSucceeded")
    redriven = events[types.index("ExecutionRedriven")]
    assert redriven["executionRedrivenEventDetails"] == {"redriveCount": 1}
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert entered(events, "Prepare") == 1 and entered(events, "Read") == 2 and entered(events, "Done") == 1


def test_a_succeeded_execution_is_not_redrivable(aws: dict[str, Any]) -> None:
    arn = start(aws, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, {})
    described = wait_done(aws, arn)
    assert described["redriveStatus"] == "NOT_REDRIVABLE"
    with pytest.raises(ClientError) as err:
        aws["stepfunctions"].redrive_execution(executionArn=arn)
    assert err.value.response["Error"]["Code"] == "ExecutionNotRedrivable"


def test_redriving_a_failed_parallel_state_is_not_emulated(aws: dict[str, Any]) -> None:
    definition = {"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Ok", "States": {"Ok": {"Type": "Pass", "End": True}}},
        {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "E", "Cause": "c"}}}]}}}
    arn = start(aws, definition, {})
    described = wait_done(aws, arn)
    assert described["status"] == "FAILED"
    assert described["redriveStatus"] == "NOT_REDRIVABLE"
    assert "not emulated by the sandbox" in described["redriveStatusReason"]
    with pytest.raises(ClientError) as err:
        aws["stepfunctions"].redrive_execution(executionArn=arn)
    assert err.value.response["Error"]["Code"] == "ExecutionNotRedrivable"
    assert "Parallel state 'Both'" in err.value.response["Error"]["Message"]


def test_redrive_of_an_unknown_execution(aws: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as err:
        aws["stepfunctions"].redrive_execution(
            executionArn="arn:aws:states:us-east-1:123456789012:execution:nope:nope")
    assert err.value.response["Error"]["Code"] == "ExecutionDoesNotExist"
