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


@pytest.mark.parametrize(("state", "extra", "message"), [
    ({"Type": "Pass", "End": True}, {"stateConfiguration": {"mapIterationFailureCount": 1}},
     "stateConfiguration mapIterationFailureCount"),
    ({"Type": "Map", "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, "End": True},
     {"mock": {"errorOutput": {"error": "E"}}, "stateConfiguration": {"errorCausedByState": "Nope"}},
     "errorCausedByState 'Nope'"),
    ({"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync", "End": True},
     {"mock": {"result": "{}"}}, "fieldValidationMode STRICT for a .sync integration"),
])
def test_what_is_not_emulated_fails_saying_so(aws: dict[str, Any], state: dict[str, Any], extra: dict[str, Any],
                                             message: str) -> None:
    with pytest.raises(ClientError) as err:
        run_state(aws, state, {}, **extra)
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert message in err.value.response["Error"]["Message"]
    assert "not emulated by the sandbox" in err.value.response["Error"]["Message"]


MAP = {"Type": "Map", "ItemsPath": "$.Values", "ItemProcessor": {"StartAt": "HandleItem", "States": {
    "HandleItem": {"Type": "Pass", "End": True}}}, "End": True}


@pytest.mark.parametrize(("state", "extra", "code", "message"), [
    # AWS's answers (recorded TestState calls): Map and Parallel only with a mock, a mock only for them and Tasks.
    (MAP, {}, "InvalidDefinition", "TestState API does not support Map or Parallel states. Supported state types "
                                   "include: [Task, Wait, Pass, Succeed, Fail, Choice]"),
    ({"Type": "Pass", "End": True}, {"mock": {"result": "{}"}}, "ValidationException",
     "State type 'Pass' is not supported when a mock is specified"),
    ({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True},
     {"mock": {"result": "{}", "errorOutput": {"error": "E"}}}, "ValidationException",
     "A test mock should have only one of the following fields: [result, errorOutput]."),
    (MAP, {"mock": {"result": "{}"}}, "ValidationException", "Mocked result must be an array."),
    ({"Type": "Parallel", "End": True, "Branches": [{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}]},
     {"mock": {"result": "[1, 2]"}}, "ValidationException",
     "Mocked result must contain the same number of items as number of Parallel branches."),
])
def test_what_aws_refuses_is_refused_as_aws_does(aws: dict[str, Any], state: dict[str, Any],
                                                 extra: dict[str, Any], code: str, message: str) -> None:
    with pytest.raises(ClientError) as err:
        run_state(aws, state, {"Values": [1]}, **extra)
    assert (err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]) == (code, message)


def test_sync_integration_is_refused_as_aws_refuses_it_without_a_mock(aws: dict[str, Any]) -> None:
    state = {"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync",
             "Parameters": {"JobName": "j"}, "End": True}
    with pytest.raises(ClientError) as err:
        run_state(aws, state, {})
    assert err.value.response["Error"]["Code"] == "InvalidDefinition"
    assert "startJobRun.sync" in err.value.response["Error"]["Message"]


def test_mocked_sync_task_result_goes_through_result_selector_and_result_path(aws: dict[str, Any]) -> None:
    state = {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
             "Parameters": {"StateMachineArn.$": "$.arn", "Input.$": "$.payload"},
             "ResultSelector": {"child.$": "$.Output", "status.$": "$.Status"}, "ResultPath": "$.run",
             "OutputPath": "$.run", "Next": "Report"}
    payload = {"arn": "arn:aws:states:us-east-1:123456789012:stateMachine:child", "payload": {"n": 2}}
    mocked = {"Status": "SUCCEEDED", "Output": {"total": 4}}
    answer = run_state(aws, state, payload, inspectionLevel="DEBUG",
                       mock={"result": json.dumps(mocked), "fieldValidationMode": "NONE"})
    assert answer["status"] == "SUCCEEDED" and answer["nextState"] == "Report"
    # ResultSelector on the mocked result, ResultPath into the raw input, OutputPath of that.
    assert json.loads(answer["output"]) == {"child": {"total": 4}, "status": "SUCCEEDED"}
    data = answer["inspectionData"]
    assert json.loads(data["afterParameters"]) == {"StateMachineArn": payload["arn"], "Input": {"n": 2}}
    assert json.loads(data["result"]) == mocked
    assert json.loads(data["afterResultPath"]) == {**payload, "run": {"child": {"total": 4}, "status": "SUCCEEDED"}}


@pytest.mark.parametrize(("resource", "result", "mode", "message"), [
    # AWS's messages for these mocks (recorded TestState calls), the shapes being botocore's.
    ("arn:aws:states:::states:startExecution", {}, "STRICT", "Required field 'ExecutionArn' is missing"),
    ("arn:aws:states:::states:startExecution", {"executionArn": "a", "startDate": "d"}, "STRICT",
     "Required field 'ExecutionArn' is missing"),
    ("arn:aws:states:::states:startExecution", {"ExecutionArn": "a", "StartDate": True}, None,
     "Field 'StartDate' must be a string"),
    ("arn:aws:states:::events:putEvents", {"Entries": "not a list"}, None, "Field 'Entries' must be an array"),
    ("arn:aws:states:::events:putEvents", {"Entries": [{"EventId": "ok"}, {"EventId": ["x"]}]}, "PRESENT",
     "Field 'EventId' must be a string"),
    ("arn:aws:states:::lambda:invoke", {"StatusCode": "200"}, None, "Field 'StatusCode' must be a number"),
    ("arn:aws:states:::aws-sdk:s3:getObject", {"ContentLength": "9000"}, None,
     "Field 'ContentLength' must be a number"),
    ("arn:aws:states:::aws-sdk:s3:getObject", {"StorageClass": "Papyrus"}, None,
     "Field 'StorageClass' is not an expected value"),
    ("arn:aws:states:::aws-sdk:kms:encrypt", {"CiphertextBlob": 123}, None, "Field 'CiphertextBlob' must be a string"),
])
def test_mock_result_is_validated_against_the_api_output_shape(aws: dict[str, Any], resource: str, result: Any,
                                                               mode: str | None, message: str) -> None:
    mock: dict[str, Any] = {"result": json.dumps(result)}
    if mode:
        mock["fieldValidationMode"] = mode
    with pytest.raises(ClientError) as err:
        run_state(aws, {"Type": "Task", "Resource": resource, "End": True}, {}, mock=mock)
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert err.value.response["Error"]["Message"] == f"Mock result schema validation error: {message}"


def test_mock_results_that_fit_or_are_not_checked_succeed(aws: dict[str, Any]) -> None:
    # Fields the API does not have are not checked; PRESENT does not ask for required fields; NONE checks nothing.
    events = {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents", "End": True}
    assert json.loads(run_state(aws, events, {}, mock={"result": json.dumps({"random": "json"})})["output"]) == {
        "random": "json"}
    sfn = {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution", "End": True}
    assert run_state(aws, sfn, {}, mock={"result": "{}", "fieldValidationMode": "PRESENT"})["status"] == "SUCCEEDED"
    assert run_state(aws, sfn, {}, mock={"result": json.dumps({"StartDate": 1}),
                                         "fieldValidationMode": "NONE"})["status"] == "SUCCEEDED"
    lam = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "OutputPath": "$.Payload", "End": True}
    answer = run_state(aws, lam, {}, mock={"result": json.dumps({"StatusCode": 200, "Payload": {"ok": True}})})
    assert json.loads(answer["output"]) == {"ok": True}


TASK_RETRY = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "Done",
              "Retry": [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 1},
                        {"ErrorEquals": ["MockException"], "IntervalSeconds": 2, "BackoffRate": 1.5,
                         "MaxAttempts": 5}],
              "Catch": [{"ErrorEquals": ["MockException"], "ResultPath": "$.failure", "Next": "Recover"}]}
MOCK_ERROR = {"errorOutput": {"error": "MockException", "cause": "Mock the cause of the error."}}


def test_mocked_error_is_retriable_then_caught(aws: dict[str, Any]) -> None:
    retriable = run_state(aws, TASK_RETRY, {"id": 1}, mock=MOCK_ERROR, inspectionLevel="DEBUG",
                          stateConfiguration={"retrierRetryCount": 4})
    assert (retriable["status"], retriable["error"], retriable["cause"]) == (
        "RETRIABLE", "MockException", "Mock the cause of the error.")
    # The second retrier; its fifth attempt waits IntervalSeconds * BackoffRate ** 4 = 2 * 1.5 ** 4 = 10.125 s.
    assert retriable["inspectionData"]["errorDetails"] == {"retryIndex": 1, "retryBackoffIntervalSeconds": 10}
    assert "nextState" not in retriable

    caught = run_state(aws, TASK_RETRY, {"id": 1}, mock=MOCK_ERROR, inspectionLevel="DEBUG",
                       stateConfiguration={"retrierRetryCount": 5})
    assert (caught["status"], caught["nextState"]) == ("CAUGHT_ERROR", "Recover")
    assert json.loads(caught["output"]) == {"id": 1, "failure": {"Error": "MockException",
                                                                 "Cause": "Mock the cause of the error."}}
    assert caught["inspectionData"]["errorDetails"] == {"catchIndex": 0}

    failed = run_state(aws, {**TASK_RETRY, "Catch": []}, {"id": 1}, mock=MOCK_ERROR,
                       stateConfiguration={"retrierRetryCount": 5})
    assert (failed["status"], failed["error"]) == ("FAILED", "MockException") and "output" not in failed


MAP_TOLERATING = {**MAP, "ToleratedFailureCount": 1, "Next": "After",
                  "Retry": [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 1},
                            {"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "MaxAttempts": 1}],
                  "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Other"},
                            {"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "ResultPath": "$.errorOutput",
                             "Next": "HandleThreshold"}]}
THRESHOLD = ("States.ExceedToleratedFailureThreshold", "The specified tolerated failure threshold was exceeded")


def test_mocked_map_result_and_tolerated_failures(aws: dict[str, Any]) -> None:
    payload = {"Values": ["first", "second", "third"]}
    below = run_state(aws, MAP_TOLERATING, payload, mock={"result": "[1, 1, 1]"}, inspectionLevel="DEBUG",
                      stateConfiguration={"mapIterationFailureCount": 1})
    assert (below["status"], json.loads(below["output"]), below["nextState"]) == ("SUCCEEDED", [1, 1, 1], "After")
    assert below["inspectionData"] == {"input": json.dumps(payload), "afterItemsPath": json.dumps(payload["Values"]),
                                       "maxConcurrency": 0, "toleratedFailureCount": 1}

    retriable = run_state(aws, MAP_TOLERATING, payload, mock={"result": "[0, 0, 1]"}, inspectionLevel="DEBUG",
                          stateConfiguration={"mapIterationFailureCount": 2})
    assert (retriable["status"], retriable["error"], retriable["cause"]) == ("RETRIABLE", *THRESHOLD)
    assert retriable["inspectionData"]["errorDetails"] == {"retryIndex": 1, "retryBackoffIntervalSeconds": 1}

    caught = run_state(aws, MAP_TOLERATING, payload, mock={"result": "[0, 0, 1]"},
                       stateConfiguration={"mapIterationFailureCount": 2, "retrierRetryCount": 1})
    assert (caught["status"], caught["nextState"]) == ("CAUGHT_ERROR", "HandleThreshold")
    assert json.loads(caught["output"]) == {**payload, "errorOutput": {"Error": THRESHOLD[0], "Cause": THRESHOLD[1]}}

    # Without a tolerance the failure count changes nothing (AWS answers SUCCEEDED).
    untolerating = run_state(aws, MAP, payload, mock={"result": "[0, 0, 1]"},
                             stateConfiguration={"mapIterationFailureCount": 2})
    assert untolerating["status"] == "SUCCEEDED"


def test_mocked_map_tolerated_percentage_counts_the_item_reader_data(aws: dict[str, Any]) -> None:
    state = {**MAP, "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                                   "ReaderConfig": {"InputType": "JSON"},
                                   "Parameters": {"Bucket.$": "$.Bucket", "Key.$": "$.Key"}},
             "ToleratedFailurePercentage": 50}
    state.pop("ItemsPath")
    payload = {"Bucket": "test-bucket", "Key": "test-key"}
    reader = json.dumps([1, 2, 3, 4])
    # 2 of 4 items is 50 %, not more than tolerated; 3 of 4 is 75 %.
    ok = run_state(aws, state, payload, mock={"result": "[1, 4, 9, 16]"},
                   stateConfiguration={"mapItemReaderData": reader, "mapIterationFailureCount": 2})
    assert (ok["status"], json.loads(ok["output"])) == ("SUCCEEDED", [1, 4, 9, 16])
    over = run_state(aws, state, payload, mock={"result": "[1, 4, 9, 16]"},
                     stateConfiguration={"mapItemReaderData": reader, "mapIterationFailureCount": 3})
    assert (over["status"], over["error"], over["cause"]) == ("FAILED", *THRESHOLD)


def test_mocked_error_of_a_state_inside_a_machine_map(aws: dict[str, Any]) -> None:
    machine = {"StartAt": "State0", "States": {"State0": {**MAP_TOLERATING, "Retry": [], "Catch": []},
                                               "After": {"Type": "Succeed"}}}
    answer = aws["stepfunctions"].test_state(
        definition=json.dumps(machine), stateName="State0", input=json.dumps({"Values": [1, 2, 3]}),
        mock={"errorOutput": {"error": "MockException", "cause": "Mock the error cause."}},
        stateConfiguration={"errorCausedByState": "HandleItem", "mapIterationFailureCount": 0})
    assert (answer["status"], answer["error"], answer["cause"]) == ("FAILED", "MockException", "Mock the error cause.")


def test_mocked_parallel_result(aws: dict[str, Any]) -> None:
    branch = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
    state = {"Type": "Parallel", "Branches": [branch, branch], "ResultSelector": {"first.$": "$[0]"},
             "ResultPath": "$.parallel", "End": True}
    answer = run_state(aws, state, {"k": 1}, mock={"result": json.dumps([{"a": 1}, {"b": 2}])})
    assert answer["status"] == "SUCCEEDED" and "nextState" not in answer
    assert json.loads(answer["output"]) == {"k": 1, "parallel": {"first": {"a": 1}}}


def test_wait_state_runs_and_a_wait_past_the_time_limit_times_out(aws: dict[str, Any]) -> None:
    answer = run_state(aws, {"Type": "Wait", "SecondsPath": "$.delay", "Next": "Go"}, {"delay": 0, "x": 1})
    assert (answer["status"], json.loads(answer["output"]), answer["nextState"]) == (
        "SUCCEEDED", {"delay": 0, "x": 1}, "Go")
    # A TestState call runs up to five minutes; a state running longer fails with States.Timeout.
    long = run_state(aws, {"Type": "Wait", "Seconds": 301, "Next": "Go"}, {})
    assert (long["status"], long["error"]) == ("FAILED", "States.Timeout")
    assert "301 seconds" in long["cause"] and "nextState" not in long


def test_variables_are_visible_and_assigned_variables_are_inspected(aws: dict[str, Any]) -> None:
    # AWS's recorded TestState of a JSONata Pass state with variables: $states.input, $var and
    # expressions over both; inspectionData.variables holds the variables after the state.
    state = {"QueryLanguage": "JSONata", "Type": "Pass", "End": True, "Output": {
        "ja_states_input": "{% $states.input %}", "ja_var_access": "{% $var_input_value %}",
        "ja_expr": "{% $sum($states.input.input_values) + $var_constant_1 %}"}}
    variables = {"var_input_value": "test_value", "var_constant_1": 10}
    payload = {"input_values": [1, 2, 3]}
    answer = run_state(aws, state, payload, variables=json.dumps(variables), inspectionLevel="DEBUG")
    assert answer["status"] == "SUCCEEDED", answer
    assert json.loads(answer["output"]) == {"ja_states_input": payload, "ja_var_access": "test_value",
                                            "ja_expr": 1 + 2 + 3 + 10}
    assert json.loads(answer["inspectionData"]["variables"]) == variables

    # A JSONPath state reads them as $name; its Assign adds to them ($ in Assign being the state's
    # result, here the Parameters' output, as AWS documents for JSONPath states).
    jsonpath = {"Type": "Pass", "Parameters": {"greeting.$": "States.Format('{} {}', $word, $.name)"},
                "Assign": {"seen.$": "$.greeting", "word": "bye"}, "Next": "After"}
    assigned = run_state(aws, jsonpath, {"name": "Ada"}, variables=json.dumps({"word": "hello"}),
                         inspectionLevel="DEBUG")
    assert json.loads(assigned["output"]) == {"greeting": "hello Ada"}
    assert json.loads(assigned["inspectionData"]["variables"]) == {"word": "bye", "seen": "hello Ada"}

    # Without variables and without Assign, AWS shows no variables.
    plain = run_state(aws, {"Type": "Pass", "End": True}, payload, inspectionLevel="DEBUG")
    assert "variables" not in plain["inspectionData"]


def test_variables_must_be_a_json_object(aws: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as err:
        run_state(aws, {"Type": "Pass", "End": True}, {}, variables="[1]")
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "variables must be a JSON object" in err.value.response["Error"]["Message"]


CONTEXT = {"Execution": {"Id": "arn:aws:states:::execution:MyStateMachine:execution-name-12345",
                         "Input": {"input-value": 0, "message": "test data",
                                   "values": ["charizard", "pikachu", "bulbasaur"]},
                         "Name": "execution-name-12345", "RoleArn": "arn:aws:iam:::role/StepFunctionsRole",
                         "StartTime": "2025-01-15T10:30:00.000Z"},
           "State": {"EnteredTime": "2025-01-15T10:30:01.500Z", "Name": "MyTaskState", "RetryCount": 0},
           "StateMachine": {"Id": "arn:aws:states:::stateMachine:MyStateMachine", "Name": "MyStateMachine"}}
CONTEXT_TASK = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName.$": "$.FunctionName", "Payload": {"Input.$": "$"}},
                "ResultSelector": {"LambdaOutput.$": "$", "ContextObjectValue.$": "$$"}, "End": True}


@pytest.mark.parametrize(("path", "context", "expected"), [
    # AWS's recorded answers: $$ is the given context object, exactly (an empty one stays empty).
    ("$$", CONTEXT, CONTEXT),
    ("$$.Execution.Input.values", CONTEXT, ["charizard", "pikachu", "bulbasaur"]),
    ("$$", {"Execution": {}, "State": {}, "StateMachine": {}}, {"Execution": {}, "State": {}, "StateMachine": {}}),
    ("$$", {}, {}),
])
def test_context_is_the_context_object_of_a_mocked_state(aws: dict[str, Any], path: str, context: dict[str, Any],
                                                         expected: Any) -> None:
    state = {**CONTEXT_TASK, "ResultSelector": {"LambdaOutput.$": "$", "ContextObjectValue.$": path}}
    answer = run_state(aws, state, {"FunctionName": "lambda_function_name", "Payload": {"input-value": 0}},
                       context=json.dumps(context), mock={"result": json.dumps({"pokemon": "pikachu"}),
                                                          "fieldValidationMode": "NONE"})
    assert answer["status"] == "SUCCEEDED", answer
    assert json.loads(answer["output"]) == {"LambdaOutput": {"pokemon": "pikachu"}, "ContextObjectValue": expected}


@pytest.mark.parametrize(("context", "message"), [
    # AWS's messages (recorded TestState calls).
    ({"Execution": {"Id": 1}}, "Invalid Context object provided: Execution.Id must be a string"),
    ({"Map": {}}, "Invalid Context object provided: 'Map' field is not supported when mocking a Context object"),
    ({"Execution": {"pokemon": "squirtle"}}, "Invalid Context object provided: Field 'pokemon' is not allowed"),
    ({"Pokedex": {}}, "Invalid Context object provided: Field 'Pokedex' is not allowed"),
    ({**CONTEXT, "Task": {"Token": "abcd123"}}, "Invalid Context object provided: Context object contains 'Task' "
     "when state is not a Task state with a '.sync' or '.waitForTaskToken' service integration pattern"),
])
def test_invalid_context_is_refused_as_aws_refuses_it(aws: dict[str, Any], context: dict[str, Any],
                                                      message: str) -> None:
    with pytest.raises(ClientError) as err:
        run_state(aws, CONTEXT_TASK, {"FunctionName": "f"}, context=json.dumps(context),
                  mock={"result": "{}", "fieldValidationMode": "NONE"})
    assert (err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]) == (
        "ValidationException", message)


def test_context_without_a_mock_is_refused(aws: dict[str, Any]) -> None:
    # The API reference: context may only be specified if a mock is specified in the same request.
    with pytest.raises(ClientError) as err:
        run_state(aws, {"Type": "Pass", "End": True}, {}, context=json.dumps(CONTEXT))
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "only together with a mock" in err.value.response["Error"]["Message"]


def test_jsonata_wait_with_an_expression(aws: dict[str, Any]) -> None:
    state = {"QueryLanguage": "JSONata", "Type": "Wait", "Seconds": "{% $states.input.delay + $extra %}",
             "Next": "Go"}
    short = run_state(aws, state, {"delay": 0}, variables=json.dumps({"extra": 0}))
    assert (short["status"], json.loads(short["output"]), short["nextState"]) == ("SUCCEEDED", {"delay": 0}, "Go")
    # 250 + 60 seconds is past the five minutes a TestState call may run.
    long = run_state(aws, state, {"delay": 250}, variables=json.dumps({"extra": 60}))
    assert (long["status"], long["error"]) == ("FAILED", "States.Timeout")
    assert "310 seconds" in long["cause"]


@pytest.mark.parametrize(("state", "message"), [
    ({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Assign": {"x.$": "$"}, "End": True},
     "Assign of a mocked JSONPath state"),
])
def test_mocked_states_the_sandbox_does_not_emulate_fail_saying_so(aws: dict[str, Any], state: dict[str, Any],
                                                                   message: str) -> None:
    with pytest.raises(ClientError) as err:
        run_state(aws, state, {}, mock={"result": "{}", "fieldValidationMode": "NONE"})
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert err.value.response["Error"]["Message"] == f"TestState: {message} is not emulated by the sandbox"


JSONATA_TASK = {"QueryLanguage": "JSONata", "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": "{% $fn %}", "Payload": {"order": "{% $states.input.id %}"}},
                "Assign": {"total": "{% $states.result.Payload.total %}", "seen": "{% $states.input.id %}"},
                "Output": {"id": "{% $states.input.id %}", "total": "{% $states.result.Payload.total * 2 %}"},
                "Next": "Ship"}


def test_mocked_jsonata_task_result_goes_through_assign_and_output(aws: dict[str, Any]) -> None:
    # AWS documents $states.result (the task's result) and $states.input for a JSONata Task's
    # Assign and Output, Arguments evaluated before the invocation, and variables at DEBUG.
    mocked = {"StatusCode": 200, "Payload": {"total": 21}}
    answer = run_state(aws, JSONATA_TASK, {"id": "o-1"}, variables=json.dumps({"fn": "price"}),
                       mock={"result": json.dumps(mocked)}, inspectionLevel="DEBUG")
    assert answer["status"] == "SUCCEEDED", answer
    assert (json.loads(answer["output"]), answer["nextState"]) == ({"id": "o-1", "total": 42}, "Ship")
    data = answer["inspectionData"]
    assert json.loads(data["afterArguments"]) == {"FunctionName": "price", "Payload": {"order": "o-1"}}
    assert json.loads(data["result"]) == mocked
    assert json.loads(data["variables"]) == {"fn": "price", "total": 21, "seen": "o-1"}

    # Without Output the state's output is its result.
    no_output = {k: v for k, v in JSONATA_TASK.items() if k not in ("Output", "Assign")}
    plain = run_state(aws, no_output, {"id": "o-1"}, variables=json.dumps({"fn": "price"}),
                      mock={"result": json.dumps(mocked)})
    assert json.loads(plain["output"]) == mocked


def test_mocked_jsonata_error_is_retriable_or_failed(aws: dict[str, Any]) -> None:
    state = {**JSONATA_TASK, "Retry": [{"ErrorEquals": ["MockException"], "IntervalSeconds": 2, "MaxAttempts": 1}]}
    retriable = run_state(aws, state, {"id": "o-1"}, variables=json.dumps({"fn": "price"}), mock=MOCK_ERROR,
                          inspectionLevel="DEBUG")
    assert (retriable["status"], retriable["error"]) == ("RETRIABLE", "MockException")
    assert retriable["inspectionData"]["errorDetails"] == {"retryIndex": 0, "retryBackoffIntervalSeconds": 2}
    failed = run_state(aws, state, {"id": "o-1"}, variables=json.dumps({"fn": "price"}), mock=MOCK_ERROR,
                       stateConfiguration={"retrierRetryCount": 1})
    assert (failed["status"], failed["error"], failed["cause"]) == (
        "FAILED", "MockException", "Mock the cause of the error.")


def test_mocked_jsonata_error_caught_by_a_catcher_with_output_and_assign(aws: dict[str, Any]) -> None:
    # AWS documents $states.errorOutput ({"Error", "Cause"}, only in Catch) and $states.input for a
    # JSONata catcher's Output and Assign, and CAUGHT_ERROR with the catcher's Next.
    state = {**JSONATA_TASK, "Catch": [
        {"ErrorEquals": ["Other"], "Next": "Never"},
        {"ErrorEquals": ["MockException"], "Next": "Recover",
         "Assign": {"failure": "{% $states.errorOutput.Error %}", "order": "{% $states.input.id %}"},
         "Output": {"why": "{% $states.errorOutput.Cause %}", "id": "{% $states.input.id %}", "was": "{% $fn %}"}}]}
    answer = run_state(aws, state, {"id": "o-1"}, variables=json.dumps({"fn": "price"}), mock=MOCK_ERROR,
                       inspectionLevel="DEBUG")
    assert (answer["status"], answer["error"], answer["cause"], answer["nextState"]) == (
        "CAUGHT_ERROR", "MockException", "Mock the cause of the error.", "Recover")
    assert json.loads(answer["output"]) == {"why": "Mock the cause of the error.", "id": "o-1", "was": "price"}
    data = answer["inspectionData"]
    assert data["errorDetails"] == {"catchIndex": 1}
    assert json.loads(data["variables"]) == {"fn": "price", "failure": "MockException", "order": "o-1"}

    # Without Output the state's output is the error output.
    plain = {**JSONATA_TASK, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recover"}]}
    caught = run_state(aws, plain, {"id": "o-1"}, variables=json.dumps({"fn": "price"}), mock=MOCK_ERROR)
    assert (caught["status"], caught["nextState"]) == ("CAUGHT_ERROR", "Recover")
    assert json.loads(caught["output"]) == {"Error": "MockException", "Cause": "Mock the cause of the error."}


def test_a_failing_jsonata_catcher_output_fails_the_state(aws: dict[str, Any]) -> None:
    # AWS: a JSONata expression that cannot be evaluated fails with States.QueryEvaluationError.
    state = {**JSONATA_TASK, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recover",
                                        "Output": "{% $states.errorOutput.Error + 1 %}"}]}
    answer = run_state(aws, state, {"id": "o-1"}, variables=json.dumps({"fn": "price"}), mock=MOCK_ERROR)
    assert (answer["status"], answer["error"]) == ("FAILED", "States.QueryEvaluationError")


def test_mocked_jsonata_parallel_output(aws: dict[str, Any]) -> None:
    branch = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
    state = {"QueryLanguage": "JSONata", "Type": "Parallel", "Branches": [branch, branch],
             "Output": "{% $states.result[0].n + $states.result[1].n %}", "End": True}
    answer = run_state(aws, state, {}, mock={"result": json.dumps([{"n": 1}, {"n": 2}])})
    assert (answer["status"], json.loads(answer["output"])) == ("SUCCEEDED", 3)
