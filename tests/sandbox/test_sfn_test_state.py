"""Step Functions ``TestState`` on the sandbox, through boto3: one state run on an input.

Expected answers follow AWS's TestState documentation: ``status`` SUCCEEDED / FAILED /
RETRIABLE / CAUGHT_ERROR, ``output``, ``nextState``, ``error`` / ``cause`` and, at DEBUG,
``inspectionData``; data expectations come from boto3 calls on the same sandbox.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/sandbox-sfn"


def run_state(aws: dict[str, Any], state: dict[str, Any], payload: Any, **extra: Any) -> dict[str, Any]:
    answer = aws["stepfunctions"].test_state(definition=json.dumps(state), roleArn=ROLE,
                                             input=json.dumps(payload), **extra)
    answer.pop("ResponseMetadata", None)
    return answer


def test_pass_state_output_next_state_and_debug_inspection(aws: dict[str, Any]) -> None:
    state = {"Type": "Pass", "InputPath": "$.order", "Parameters": {"id.$": "$.id", "kind": "pass"},
             "ResultPath": "$.shaped", "Next": "Ship"}
    payload = {"order": {"id": 7, "qty": 2}, "other": True}

    info = run_state(aws, state, payload)
    # Parameters read the InputPath selection; ResultPath places the result into the raw input.
    expected = {**payload, "shaped": {"id": 7, "kind": "pass"}}
    assert info["status"] == "SUCCEEDED"
    assert json.loads(info["output"]) == expected
    assert info["nextState"] == "Ship"
    assert "inspectionData" not in info

    debug = run_state(aws, state, payload, inspectionLevel="DEBUG")
    data = debug["inspectionData"]
    assert json.loads(data["input"]) == payload
    assert json.loads(data["afterInputPath"]) == payload["order"]
    assert json.loads(data["afterParameters"]) == {"id": 7, "kind": "pass"}
    assert json.loads(data["afterResultPath"]) == expected


def test_choice_state_next_state_and_no_match(aws: dict[str, Any]) -> None:
    state = {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"},
                                           {"Variable": "$.n", "NumericLessThanEquals": 10, "Next": "Small"}]}
    big = run_state(aws, state, {"n": 11})
    small = run_state(aws, state, {"n": 3})
    assert (big["status"], big["nextState"], json.loads(big["output"])) == ("SUCCEEDED", "Big", {"n": 11})
    assert (small["status"], small["nextState"]) == ("SUCCEEDED", "Small")

    none = run_state(aws, state, {"n": "x"})
    assert none["status"] == "FAILED" and none["error"] == "States.NoChoiceMatched"
    assert "nextState" not in none and "output" not in none


def test_state_name_picks_the_state_of_a_machine_definition(aws: dict[str, Any]) -> None:
    machine = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": {"a": 1}, "Next": "B"},
                                          "B": {"Type": "Pass", "Result": {"b": 2}, "End": True}}}
    answer = aws["stepfunctions"].test_state(definition=json.dumps(machine), stateName="B", input="{}")
    assert answer["status"] == "SUCCEEDED" and json.loads(answer["output"]) == {"b": 2}
    assert "nextState" not in answer


def test_aws_sdk_task_runs_against_the_sandbox(aws: dict[str, Any]) -> None:
    s3 = aws["s3"]
    for key in ("in/a.csv", "in/b.csv"):
        s3.put_object(Bucket=aws["bucket"], Key=key, Body=b"x")
    listed = s3.list_objects_v2(Bucket=aws["bucket"], Prefix="in/")
    state = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:listObjectsV2",
             "Parameters": {"Bucket.$": "$.bucket", "Prefix": "in/"},
             "ResultSelector": {"keys.$": "$.Contents[*].Key", "count.$": "$.KeyCount"},
             "ResultPath": "$.listing", "Next": "Done"}

    answer = run_state(aws, state, {"bucket": aws["bucket"]}, inspectionLevel="DEBUG")
    assert answer["status"] == "SUCCEEDED", answer
    assert answer["nextState"] == "Done"
    assert json.loads(answer["output"]) == {"bucket": aws["bucket"], "listing": {
        "keys": [o["Key"] for o in listed["Contents"]], "count": listed["KeyCount"]}}
    assert json.loads(answer["inspectionData"]["afterParameters"]) == {"Bucket": aws["bucket"], "Prefix": "in/"}
    assert json.loads(answer["inspectionData"]["afterResultSelector"])["count"] == listed["KeyCount"]


def test_optimized_sns_publish_task(aws: dict[str, Any]) -> None:
    topic = aws["sns"].create_topic(Name=f"topic-{uuid.uuid4().hex[:8]}")["TopicArn"]
    queue = aws["sqs"].create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = aws["sqs"].get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    aws["sns"].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn,
                         Attributes={"RawMessageDelivery": "true"})
    state = {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
             "Parameters": {"TopicArn.$": "$.topic", "Message.$": "$.text"}, "End": True}

    answer = run_state(aws, state, {"topic": topic, "text": "hello"})
    assert answer["status"] == "SUCCEEDED", answer
    assert json.loads(answer["output"])["MessageId"]
    assert "nextState" not in answer
    messages = aws["sqs"].receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", [])
    assert [m["Body"] for m in messages] == ["hello"]


FAILING_GET = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:getCrawler",
               "Parameters": {"Name": "no-such-crawler"}, "Next": "Done"}
RETRY = [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 5},
         {"ErrorEquals": ["Glue.EntityNotFoundException"], "IntervalSeconds": 3, "BackoffRate": 2.0,
          "MaxAttempts": 2}]
CATCH = [{"ErrorEquals": ["States.Timeout"], "Next": "TimedOut"},
         {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Handle"}]


def test_failing_task_is_failed_with_the_aws_error_name(aws: dict[str, Any]) -> None:
    answer = run_state(aws, FAILING_GET, {"x": 1})
    assert answer["status"] == "FAILED"
    assert answer["error"] == "Glue.EntityNotFoundException" and "no-such-crawler" in answer["cause"]
    assert "output" not in answer and "nextState" not in answer


def test_failing_task_with_a_matching_retrier_is_retriable(aws: dict[str, Any]) -> None:
    state = {**FAILING_GET, "Retry": RETRY, "Catch": CATCH}
    first = run_state(aws, state, {"x": 1}, inspectionLevel="DEBUG")
    assert (first["status"], first["error"]) == ("RETRIABLE", "Glue.EntityNotFoundException")
    # The second retrier matches; its first backoff is IntervalSeconds (3 * 2.0 ** 0).
    assert first["inspectionData"]["errorDetails"] == {"retryIndex": 1, "retryBackoffIntervalSeconds": 3}

    second = run_state(aws, state, {"x": 1}, inspectionLevel="DEBUG",
                        stateConfiguration={"retrierRetryCount": 1})
    assert second["status"] == "RETRIABLE"
    assert second["inspectionData"]["errorDetails"] == {"retryIndex": 1, "retryBackoffIntervalSeconds": 6}


def test_failing_task_with_spent_retries_is_caught(aws: dict[str, Any]) -> None:
    state = {**FAILING_GET, "Retry": RETRY, "Catch": CATCH}
    answer = run_state(aws, state, {"x": 1}, inspectionLevel="DEBUG", stateConfiguration={"retrierRetryCount": 2})
    assert answer["status"] == "CAUGHT_ERROR"
    assert answer["nextState"] == "Handle"
    assert answer["inspectionData"]["errorDetails"] == {"catchIndex": 1}
    output = json.loads(answer["output"])
    assert output["x"] == 1 and output["error"]["Error"] == "Glue.EntityNotFoundException"
    assert output["error"]["Cause"] == answer["cause"]

    no_path = run_state(aws, {**FAILING_GET, "Catch": [{"ErrorEquals": ["Glue.EntityNotFoundException"],
                                                         "Next": "Handle"}]}, {"x": 1})
    assert no_path["status"] == "CAUGHT_ERROR"
    assert json.loads(no_path["output"]) == {"Error": "Glue.EntityNotFoundException", "Cause": no_path["cause"]}


def test_fail_state(aws: dict[str, Any]) -> None:
    answer = run_state(aws, {"Type": "Fail", "Error": "Order.Rejected", "Cause": "out of stock"}, {})
    assert (answer["status"], answer["error"], answer["cause"]) == ("FAILED", "Order.Rejected", "out of stock")


@pytest.mark.parametrize(("state", "extra", "code", "message"), [
    ({"Type": "Map", "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
      "End": True}, {}, "ValidationException", "a Map state"),
    ({"Type": "Wait", "Seconds": 1, "End": True}, {}, "ValidationException", "a Wait state"),
    ({"Type": "Pass", "End": True}, {"mock": {"result": "{}"}}, "ValidationException", "mock"),
    ({"Type": "Pass", "End": True}, {"stateConfiguration": {"mapIterationFailureCount": 1}},
     "ValidationException", "stateConfiguration mapIterationFailureCount"),
])
def test_what_is_not_emulated_fails_saying_so(aws: dict[str, Any], state: dict[str, Any], extra: dict[str, Any],
                                             code: str, message: str) -> None:
    with pytest.raises(ClientError) as err:
        run_state(aws, state, {}, **extra)
    assert err.value.response["Error"]["Code"] == code
    assert message in err.value.response["Error"]["Message"]
    assert "not emulated by the sandbox" in err.value.response["Error"]["Message"]


def test_sync_integration_is_refused_as_aws_refuses_it_without_a_mock(aws: dict[str, Any]) -> None:
    state = {"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync",
             "Parameters": {"JobName": "j"}, "End": True}
    with pytest.raises(ClientError) as err:
        run_state(aws, state, {})
    assert err.value.response["Error"]["Code"] == "InvalidDefinition"
    assert "startJobRun.sync" in err.value.response["Error"]["Message"]
