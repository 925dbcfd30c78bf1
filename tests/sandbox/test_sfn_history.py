"""Step Functions execution history and task callbacks on the sandbox, checked against AWS's documents.

The event names and detail shapes are those of the Step Functions API reference (``HistoryEvent``:
botocore's service model, which AWS generates from it, lists the event types, the ``*EventDetails``
member of each and their required fields); the request fields of ``GetExecutionHistory``
(``reverseOrder``, ``includeExecutionData``, ``maxResults`` default 100, ``nextToken``) are those of
API_GetExecutionHistory. Callbacks (``.waitForTaskToken``, ``SendTaskSuccess`` / ``Failure`` /
``Heartbeat``, ``HeartbeatSeconds``) follow "Wait for a Callback with Task Token" and the
``States.HeartbeatTimeout`` error of "Handling errors in Step Functions workflows".
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from .test_stepfunctions import glue_job, sync_job_state, until

ROLE = "arn:aws:iam::123456789012:role/sandbox-sfn"
FINAL = {"SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"}
MODEL = botocore.session.get_session().get_service_model("stepfunctions")
HISTORY_EVENT = MODEL.shape_for("HistoryEvent")
EVENT_TYPES = set(MODEL.shape_for("HistoryEventType").enum)


def start(aws: dict[str, Any], definition: dict[str, Any], payload: Any = None) -> str:
    sfn = aws["stepfunctions"]
    arn = sfn.create_state_machine(name=f"sm-{uuid.uuid4().hex[:10]}", definition=json.dumps(definition),
                                   roleArn=ROLE)["stateMachineArn"]
    return str(sfn.start_execution(stateMachineArn=arn, name=f"run-{uuid.uuid4().hex[:8]}",
                                   input=json.dumps(payload if payload is not None else {}))["executionArn"])


def wait_done(aws: dict[str, Any], execution_arn: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = aws["stepfunctions"].describe_execution(executionArn=execution_arn)
        if described["status"] in FINAL:
            return described
        if time.monotonic() > deadline:
            raise AssertionError(f"execution still {described['status']} after {timeout}s")
        time.sleep(0.1)


def all_events(aws: dict[str, Any], execution_arn: str, **params: Any) -> list[dict[str, Any]]:
    pages = aws["stepfunctions"].get_paginator("get_execution_history").paginate(executionArn=execution_arn,
                                                                                   **params)
    return [event for page in pages for event in page["events"]]


def details_key(event_type: str) -> str | None:
    """The ``HistoryEvent`` member AWS's model has for an event type's details, if any."""
    if event_type.endswith("StateEntered"):
        return "stateEnteredEventDetails"
    if event_type.endswith("StateExited"):
        return "stateExitedEventDetails"
    key = event_type[0].lower() + event_type[1:] + "EventDetails"
    return key if key in HISTORY_EVENT.members else None


def assert_documented_shape(events: list[dict[str, Any]]) -> None:
    """Every event: a documented type, ids 1.. in order, an earlier previousEventId, its own details."""
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    for event in events:
        assert event["type"] in EVENT_TYPES, event
        assert 0 <= event["previousEventId"] < event["id"], event
        assert event["timestamp"] is not None
        present = [k for k in event if k.endswith("EventDetails")]
        key = details_key(event["type"])
        assert present == ([key] if key in event else []), event
        if key in event:
            required = HISTORY_EVENT.members[key].required_members
            assert set(required) <= set(event[key]), (event, required)
    assert events[0]["type"] == "ExecutionStarted"
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)


# --------------------------------------------------------------------------- event names and shapes

EVERY_STATE = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Result": {"n": 1}, "ResultPath": "$.prepared", "Next": "Pause"},
        "Pause": {"Type": "Wait", "Seconds": 0, "Next": "Route"},
        "Route": {"Type": "Choice", "Choices": [{"Variable": "$.prepared.n", "NumericEquals": 1, "Next": "Each"}],
                  "Default": "Broken"},
        "Each": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.mapped", "MaxConcurrency": 1,
                 "ItemProcessor": {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": True}}},
                 "Next": "Both"},
        "Both": {"Type": "Parallel", "ResultPath": "$.branches", "Next": "Notify",
                 "Branches": [{"StartAt": "Branch", "States": {"Branch": {"Type": "Pass", "End": True}}}]},
        "Notify": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "ResultPath": "$.sent",
                   "Parameters": {"TopicArn.$": "$.topic", "Message": "done"}, "Next": "Done"},
        "Done": {"Type": "Succeed"},
        "Broken": {"Type": "Fail", "Error": "Unexpected", "Cause": "no route"},
    },
}


def test_history_of_every_state_type_has_the_documented_names_order_and_details(aws: dict[str, Any]) -> None:
    topic = aws["sns"].create_topic(Name=f"topic-{uuid.uuid4().hex[:8]}")["TopicArn"]
    execution = start(aws, EVERY_STATE, {"items": ["a", "b"], "topic": topic})
    assert wait_done(aws, execution)["status"] == "SUCCEEDED"
    events = all_events(aws, execution)

    assert_documented_shape(events)
    assert [e["type"] for e in events] == [
        "ExecutionStarted",
        "PassStateEntered", "PassStateExited",
        "WaitStateEntered", "WaitStateExited",
        "ChoiceStateEntered", "ChoiceStateExited",
        "MapStateEntered", "MapStateStarted",
        "MapIterationStarted", "PassStateEntered", "PassStateExited", "MapIterationSucceeded",
        "MapIterationStarted", "PassStateEntered", "PassStateExited", "MapIterationSucceeded",
        "MapStateSucceeded", "MapStateExited",
        "ParallelStateEntered", "ParallelStateStarted", "PassStateEntered", "PassStateExited",
        "ParallelStateSucceeded", "ParallelStateExited",
        "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited",
        "SucceedStateEntered", "SucceedStateExited",
        "ExecutionSucceeded",
    ]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_type.setdefault(event["type"], []).append(event)
    entered = by_type["PassStateEntered"][0]["stateEnteredEventDetails"]
    assert entered["name"] == "Prepare"
    assert json.loads(entered["input"]) == {"items": ["a", "b"], "topic": topic}
    exited = by_type["PassStateExited"][0]["stateExitedEventDetails"]
    assert json.loads(exited["output"])["prepared"] == {"n": 1}
    assert by_type["MapStateStarted"][0]["mapStateStartedEventDetails"] == {"length": 2}
    assert [e["mapIterationStartedEventDetails"] for e in by_type["MapIterationStarted"]] == [
        {"name": "Each", "index": 0}, {"name": "Each", "index": 1}]
    assert [e["mapIterationSucceededEventDetails"] for e in by_type["MapIterationSucceeded"]] == [
        {"name": "Each", "index": 0}, {"name": "Each", "index": 1}]
    scheduled = by_type["TaskScheduled"][0]["taskScheduledEventDetails"]
    assert (scheduled["resourceType"], scheduled["resource"], scheduled["region"]) == ("sns", "publish", "us-east-1")
    # The parameters as compact JSON text, as AWS writes them.
    assert scheduled["parameters"] == json.dumps({"TopicArn": topic, "Message": "done"}, separators=(",", ":"))
    assert by_type["TaskStarted"][0]["taskStartedEventDetails"] == {"resourceType": "sns", "resource": "publish"}
    succeeded = by_type["TaskSucceeded"][0]["taskSucceededEventDetails"]
    assert json.loads(succeeded["output"])["MessageId"]
    final = json.loads(events[-1]["executionSucceededEventDetails"]["output"])
    assert final["mapped"] == ["a", "b"] and final["sent"] == json.loads(succeeded["output"])
    # Each event follows the one before it in its own thread of control.
    iteration = by_type["MapIterationStarted"][0]
    assert events[iteration["id"]]["previousEventId"] == iteration["id"]


def test_failures_in_map_and_parallel_have_the_failed_events(aws: dict[str, Any]) -> None:
    fail = {"StartAt": "Stop", "States": {"Stop": {"Type": "Fail", "Error": "Bad", "Cause": "item"}}}
    mapped = start(aws, {"StartAt": "Each", "States": {
        "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "ItemProcessor": fail, "End": True}}},
        {"items": [1]})
    parallel = start(aws, {"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "Branches": [fail],
                                                                   "End": True}}})
    for execution in (mapped, parallel):
        described = wait_done(aws, execution)
        assert (described["status"], described["error"], described["cause"]) == ("FAILED", "Bad", "item")

    map_events = all_events(aws, mapped)
    assert_documented_shape(map_events)
    assert [e["type"] for e in map_events] == [
        "ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapIterationStarted", "FailStateEntered",
        "MapIterationFailed", "MapStateFailed", "ExecutionFailed"]
    assert map_events[5]["mapIterationFailedEventDetails"] == {"name": "Each", "index": 0}
    assert map_events[-1]["executionFailedEventDetails"] == {"error": "Bad", "cause": "item"}
    parallel_events = all_events(aws, parallel)
    assert_documented_shape(parallel_events)
    assert [e["type"] for e in parallel_events] == [
        "ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted", "FailStateEntered",
        "ParallelStateFailed", "ExecutionFailed"]


def test_a_caught_task_failure_and_an_execution_timeout(aws: dict[str, Any]) -> None:
    caught = start(aws, {"StartAt": "Get", "States": {
        "Get": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:getCrawler",
                "Parameters": {"Name": f"missing-{uuid.uuid4().hex[:6]}"},
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Done"}], "End": True},
        "Done": {"Type": "Pass", "End": True}}})
    timed_out = start(aws, {"TimeoutSeconds": 1, "StartAt": "Long",
                            "States": {"Long": {"Type": "Wait", "Seconds": 60, "End": True}}})
    assert wait_done(aws, caught)["status"] == "SUCCEEDED"
    assert wait_done(aws, timed_out)["status"] == "TIMED_OUT"

    events = all_events(aws, caught)
    assert_documented_shape(events)
    assert [e["type"] for e in events] == [
        "ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskFailed", "TaskStateExited",
        "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    failed = events[4]["taskFailedEventDetails"]
    assert (failed["resourceType"], failed["resource"], failed["error"]) == (
        "aws-sdk:glue", "getCrawler", "Glue.EntityNotFoundException")
    events = all_events(aws, timed_out)
    assert_documented_shape(events)
    # The running state is aborted, then the execution times out with States.Timeout (ASL: an execution
    # running past the state machine's TimeoutSeconds fails with States.Timeout).
    assert [e["type"] for e in events] == ["ExecutionStarted", "WaitStateEntered", "WaitStateAborted",
                                           "ExecutionTimedOut"]
    assert events[2]["previousEventId"] == events[1]["id"]
    assert events[3]["executionTimedOutEventDetails"]["error"] == "States.Timeout"
    assert "TimeoutSeconds" in events[3]["executionTimedOutEventDetails"]["cause"]


# --------------------------------------------------------------------------- StopExecution


def stop_when(aws: dict[str, Any], execution: str, ready: Any, what: str) -> list[dict[str, Any]]:
    """Stop ``execution`` (error and cause given) once ``ready(events)``; its history afterwards."""
    until(lambda: ready(all_events(aws, execution)), what=what)
    aws["stepfunctions"].stop_execution(executionArn=execution, error="Operator", cause="manual stop")
    assert wait_done(aws, execution)["status"] == "ABORTED"
    events = all_events(aws, execution)
    assert_documented_shape(events)
    assert events[-1]["executionAbortedEventDetails"] == {"error": "Operator", "cause": "manual stop"}
    return events


def types_of(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


def test_a_stopped_wait_state_is_aborted_before_the_execution(aws: dict[str, Any]) -> None:
    execution = start(aws, {"StartAt": "Long", "States": {"Long": {"Type": "Wait", "Seconds": 3600, "End": True}}})
    events = stop_when(aws, execution, lambda evs: "WaitStateEntered" in types_of(evs), "the Wait state")

    assert types_of(events) == ["ExecutionStarted", "WaitStateEntered", "WaitStateAborted", "ExecutionAborted"]
    # The aborted event follows the state's last event and has no details (HistoryEvent has none for it).
    assert events[2]["previousEventId"] == events[1]["id"]
    assert not [k for k in events[2] if k.endswith("EventDetails")]


def test_a_stopped_glue_sync_task_is_aborted_without_a_result(aws: dict[str, Any]) -> None:
    job = glue_job(aws, "import time\nprint('working', flush=True)\ntime.sleep(120)\n")
    execution = start(aws, {"StartAt": "Run", "States": {"Run": {**sync_job_state(job), "End": True}}})
    events = stop_when(aws, execution, lambda evs: "TaskSubmitted" in types_of(evs) or "TaskStarted" in types_of(evs)
                       and aws["glue"].get_job_runs(JobName=job)["JobRuns"], "the job run to start")

    types = types_of(events)
    assert types[:4] == ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted"]
    assert types[-2:] == ["TaskStateAborted", "ExecutionAborted"]
    assert not {"TaskSucceeded", "TaskFailed", "TaskStateExited"} & set(types)
    assert events[-2]["previousEventId"] == events[-3]["id"]


def test_a_stopped_map_aborts_its_running_iteration_then_itself(aws: dict[str, Any]) -> None:
    execution = start(aws, {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "End": True,
        "ItemProcessor": {"StartAt": "Long", "States": {"Long": {"Type": "Wait", "Seconds": 3600, "End": True}}}}}},
        {"items": [1, 2]})
    events = stop_when(aws, execution, lambda evs: "WaitStateEntered" in types_of(evs), "the first iteration")

    assert types_of(events) == [
        "ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapIterationStarted", "WaitStateEntered",
        "WaitStateAborted", "MapIterationAborted", "MapStateAborted", "ExecutionAborted"]
    by_id = {e["id"]: e for e in events}
    wait_aborted, iteration_aborted, map_aborted = events[5], events[6], events[7]
    assert by_id[wait_aborted["previousEventId"]]["type"] == "WaitStateEntered"
    assert iteration_aborted["mapIterationAbortedEventDetails"] == {"name": "Each", "index": 0}
    assert events[2]["id"] <= map_aborted["previousEventId"] < map_aborted["id"]


def test_a_stopped_parallel_aborts_every_running_branch_then_itself(aws: dict[str, Any]) -> None:
    branches = [{"StartAt": name, "States": {name: {"Type": "Wait", "Seconds": 3600, "End": True}}}
                for name in ("Left", "Right")]
    execution = start(aws, {"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "Branches": branches,
                                                                   "End": True}}})
    events = stop_when(aws, execution, lambda evs: types_of(evs).count("WaitStateEntered") == 2, "both branches")

    types = types_of(events)
    assert types[:3] == ["ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted"]
    assert sorted(types[3:7]) == sorted(["WaitStateEntered"] * 2 + ["WaitStateAborted"] * 2)
    assert types[7:] == ["ParallelStateAborted", "ExecutionAborted"]
    entered = {e["id"] for e in events if e["type"] == "WaitStateEntered"}
    assert {e["previousEventId"] for e in events if e["type"] == "WaitStateAborted"} == entered
    assert events[2]["id"] <= events[7]["previousEventId"] < events[7]["id"]


# --------------------------------------------------------------------------- GetExecutionHistory fields


@pytest.fixture(scope="module")
def long_history(sandbox: Any) -> tuple[Any, str, int]:
    """(client, execution ARN, event count) of an execution with more than 100 events."""
    sfn = sandbox.client("stepfunctions")
    definition = {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ItemsPath": "$.items", "End": True,
        "ItemProcessor": {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": True}}}}}}
    arn = sfn.create_state_machine(name=f"sm-{uuid.uuid4().hex[:10]}", definition=json.dumps(definition),
                                   roleArn=ROLE)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"items": list(range(30))}))["executionArn"]
    deadline = time.monotonic() + 60
    while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution did not end"
        time.sleep(0.1)
    # ExecutionStarted, MapStateEntered, MapStateStarted, 4 events per item, MapStateSucceeded,
    # MapStateExited, ExecutionSucceeded.
    return sfn, execution, 3 + 4 * 30 + 3


def test_a_history_longer_than_a_page_comes_in_pages_of_100(long_history: tuple[Any, str, int]) -> None:
    sfn, execution, count = long_history
    first = sfn.get_execution_history(executionArn=execution)
    assert len(first["events"]) == 100 and first["nextToken"]
    second = sfn.get_execution_history(executionArn=execution, nextToken=first["nextToken"])
    assert "nextToken" not in second
    assert [e["id"] for e in first["events"] + second["events"]] == list(range(1, count + 1))


def test_reverse_order_pages_of_a_chosen_size(long_history: tuple[Any, str, int]) -> None:
    sfn, execution, count = long_history
    pages = list(sfn.get_paginator("get_execution_history").paginate(
        executionArn=execution, reverseOrder=True, PaginationConfig={"PageSize": 7}))
    assert [len(p["events"]) for p in pages] == [7] * (count // 7) + ([count % 7] if count % 7 else [])
    assert [e["id"] for p in pages for e in p["events"]] == list(range(count, 0, -1))
    assert pages[0]["events"][0]["type"] == "ExecutionSucceeded"


def test_a_token_of_another_execution_or_order_is_invalid(long_history: tuple[Any, str, int]) -> None:
    sfn, execution, _ = long_history
    token = sfn.get_execution_history(executionArn=execution, maxResults=5)["nextToken"]
    for params in ({"reverseOrder": True, "nextToken": token}, {"nextToken": "not-a-token"}):
        with pytest.raises(ClientError) as caught:
            sfn.get_execution_history(executionArn=execution, **params)
        assert caught.value.response["Error"]["Code"] == "InvalidToken"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_include_execution_data_false_leaves_out_inputs_and_outputs(long_history: tuple[Any, str, int]) -> None:
    sfn, execution, count = long_history
    events = sfn.get_execution_history(executionArn=execution, includeExecutionData=False, maxResults=1000)["events"]
    assert len(events) == count
    for event in events:
        for key, details in event.items():
            if key.endswith("EventDetails"):
                assert not {"input", "output", "inputDetails", "outputDetails"} & set(details), event
    assert events[1]["stateEnteredEventDetails"] == {"name": "Each"}
    full = sfn.get_execution_history(executionArn=execution, maxResults=2)["events"]
    assert json.loads(full[1]["stateEnteredEventDetails"]["input"]) == {"items": list(range(30))}


# --------------------------------------------------------------------------- callbacks


def queue_with_arn(aws: dict[str, Any]) -> str:
    return str(aws["sqs"].create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"])


def next_token_from(aws: dict[str, Any], queue: str, raw: bool = False) -> str:
    """The task token of the next message on ``queue``: its body (``raw``) or the body's ``token``."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for message in aws["sqs"].receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", []):
            return str(message["Body"] if raw else json.loads(message["Body"])["token"])
    raise AssertionError("no task token arrived on the queue")


def callback_machine(queue: str, **extra: Any) -> dict[str, Any]:
    return {"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token", "job.$": "$.job"}},
        "ResultPath": "$.answer", "End": True, **extra}}}


def test_wait_for_task_token_resumes_with_send_task_success(aws: dict[str, Any]) -> None:
    queue = queue_with_arn(aws)
    execution = start(aws, callback_machine(queue), {"job": "nightly"})
    token = next_token_from(aws, queue)
    aws["stepfunctions"].send_task_success(taskToken=token, output=json.dumps({"rows": 42}))

    described = wait_done(aws, execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"job": "nightly", "answer": {"rows": 42}}
    events = all_events(aws, execution)
    assert_documented_shape(events)
    assert [e["type"] for e in events] == [
        "ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded",
        "TaskStateExited", "ExecutionSucceeded"]
    submitted = events[4]["taskSubmittedEventDetails"]
    assert (submitted["resourceType"], submitted["resource"]) == ("sqs", "sendMessage.waitForTaskToken")
    assert json.loads(submitted["output"])["MessageId"]
    assert json.loads(events[5]["taskSucceededEventDetails"]["output"]) == {"rows": 42}
    # The token answered once cannot answer again.
    with pytest.raises(ClientError) as caught:
        aws["stepfunctions"].send_task_success(taskToken=token, output="{}")
    assert caught.value.response["Error"]["Code"] in ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist")


def test_send_task_failure_fails_the_task_with_its_error_and_cause(aws: dict[str, Any]) -> None:
    queue = queue_with_arn(aws)
    execution = start(aws, callback_machine(queue), {"job": "nightly"})
    aws["stepfunctions"].send_task_failure(taskToken=next_token_from(aws, queue), error="Worker.Crashed",
                                           cause="disk full")
    described = wait_done(aws, execution)
    assert (described["status"], described["error"], described["cause"]) == ("FAILED", "Worker.Crashed", "disk full")
    failed = next(e for e in all_events(aws, execution) if e["type"] == "TaskFailed")
    assert failed["taskFailedEventDetails"] == {"resourceType": "sqs", "resource": "sendMessage.waitForTaskToken",
                                                "error": "Worker.Crashed", "cause": "disk full"}


def test_a_missed_heartbeat_is_states_heartbeat_timeout(aws: dict[str, Any]) -> None:
    queue = queue_with_arn(aws)
    execution = start(aws, callback_machine(queue, HeartbeatSeconds=1, TimeoutSeconds=60), {"job": "nightly"})
    described = wait_done(aws, execution)

    assert (described["status"], described["error"]) == ("FAILED", "States.HeartbeatTimeout")
    events = all_events(aws, execution)
    assert_documented_shape(events)
    scheduled = next(e for e in events if e["type"] == "TaskScheduled")["taskScheduledEventDetails"]
    assert (scheduled["heartbeatInSeconds"], scheduled["timeoutInSeconds"]) == (1, 60)
    timed_out = next(e for e in events if e["type"] == "TaskTimedOut")
    assert timed_out["taskTimedOutEventDetails"] == {
        "resourceType": "sqs", "resource": "sendMessage.waitForTaskToken", "error": "States.HeartbeatTimeout"}


def test_heartbeats_keep_the_task_alive_until_its_answer(aws: dict[str, Any]) -> None:
    queue = queue_with_arn(aws)
    # a heartbeat every 2 s for 16 s of work, twice the heartbeat interval: the margin of each
    # heartbeat (6 s) leaves room for a loaded machine between the token's message and the first one
    execution = start(aws, callback_machine(queue, HeartbeatSeconds=8, TimeoutSeconds=120), {"job": "nightly"})
    token = next_token_from(aws, queue)
    for _ in range(8):
        aws["stepfunctions"].send_task_heartbeat(taskToken=token)
        time.sleep(2)
    aws["stepfunctions"].send_task_success(taskToken=token, output=json.dumps("done"))

    described = wait_done(aws, execution)
    assert described["status"] == "SUCCEEDED", described.get("error")
    assert json.loads(described["output"])["answer"] == "done"


@pytest.mark.parametrize("error_equals", ["States.HeartbeatTimeout", "States.Timeout"])
def test_a_heartbeat_timeout_is_caught_by_its_name_and_by_states_timeout(aws: dict[str, Any],
                                                                         error_equals: str) -> None:
    queue = queue_with_arn(aws)
    definition = callback_machine(queue, HeartbeatSeconds=1)
    ask = definition["States"]["Ask"]
    del ask["End"]
    ask.update(Catch=[{"ErrorEquals": [error_equals], "ResultPath": "$.error", "Next": "Recover"}], Next="Done")
    definition["States"].update(Recover={"Type": "Pass", "End": True}, Done={"Type": "Succeed"})
    described = wait_done(aws, start(aws, definition, {"job": "nightly"}))

    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["error"]["Error"] == "States.HeartbeatTimeout"


def test_sns_publish_wait_for_task_token(aws: dict[str, Any]) -> None:
    topic = aws["sns"].create_topic(Name=f"topic-{uuid.uuid4().hex[:8]}")["TopicArn"]
    queue = queue_with_arn(aws)
    queue_arn = aws["sqs"].get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws["sns"].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn,
                         Attributes={"RawMessageDelivery": "true"})
    execution = start(aws, {"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken", "End": True,
        "Parameters": {"TopicArn": topic, "Message": {"token.$": "$$.Task.Token"}}}}})
    aws["stepfunctions"].send_task_success(taskToken=next_token_from(aws, queue), output=json.dumps({"ok": True}))

    described = wait_done(aws, execution)
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"ok": True}


def test_aws_sdk_wait_for_task_token(aws: dict[str, Any]) -> None:
    queue = queue_with_arn(aws)
    execution = start(aws, {"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sqs:sendMessage.waitForTaskToken", "End": True,
        "Parameters": {"QueueUrl": queue, "MessageBody.$": "$$.Task.Token"}}}})
    token = next_token_from(aws, queue, raw=True)
    aws["stepfunctions"].send_task_success(taskToken=token, output=json.dumps([1, 2]))

    described = wait_done(aws, execution)
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == [1, 2]
    submitted = next(e for e in all_events(aws, execution) if e["type"] == "TaskSubmitted")
    assert submitted["taskSubmittedEventDetails"]["resourceType"] == "aws-sdk:sqs"
    assert submitted["taskSubmittedEventDetails"]["resource"] == "sendMessage.waitForTaskToken"
