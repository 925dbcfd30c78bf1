"""State machine definitions are checked as Step Functions checks them.

CreateStateMachine and UpdateStateMachine reject a bad definition with ``InvalidDefinition``
("Invalid State Machine Definition: '<CODE>: <message> at <location>, ...'");
ValidateStateMachineDefinition answers ``result`` OK/FAIL and diagnostics (severity, code,
message, location). Codes, messages and locations are those AWS documents and answers.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/sandbox-sfn"


@pytest.fixture
def sfn(sandbox_env: Any) -> Any:
    return sandbox_env.client("stepfunctions")


def create(sfn: Any, definition: dict[str, Any]) -> str:
    return sfn.create_state_machine(name=f"sm-{uuid.uuid4().hex[:10]}", definition=json.dumps(definition),
                                    roleArn=ROLE)["stateMachineArn"]


def create_error(sfn: Any, definition: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ClientError) as caught:
        create(sfn, definition)
    return caught.value.response["Error"]


def validate(sfn: Any, definition: dict[str, Any] | str) -> dict[str, Any]:
    text = definition if isinstance(definition, str) else json.dumps(definition)
    answer = sfn.validate_state_machine_definition(definition=text)
    answer.pop("ResponseMetadata", None)
    return answer


def test_next_to_a_missing_state_is_invalid_definition_in_aws_format(sfn: Any) -> None:
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "X"}, "B": {"Type": "Pass", "End": True}}}
    error = create_error(sfn, definition)
    assert error["Code"] == "InvalidDefinition"
    assert error["Message"] == ("Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' "
                                "target: X at /States/A/Next, MISSING_TRANSITION_TARGET: State \"B\" is not "
                                "reachable. at /States/B'")


def test_missing_start_at_state_is_rejected_at_start_at(sfn: Any) -> None:
    error = create_error(sfn, {"StartAt": "Nope", "States": {"A": {"Type": "Succeed"}}})
    assert error["Code"] == "InvalidDefinition"
    assert "MISSING_TRANSITION_TARGET: Missing 'Next' target: Nope at /StartAt" in error["Message"]


def test_unreachable_state_inside_a_parallel_branch_is_located_in_the_branch(sfn: Any) -> None:
    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "End": True}, "Lost": {"Type": "Pass", "End": True}}}]}}}
    error = create_error(sfn, definition)
    assert error["Message"] == ("Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: State \"Lost\" is "
                                "not reachable. at /States/P/Branches[0]/States/Lost'")


def test_choice_default_and_catch_targets_are_checked(sfn: Any) -> None:
    definition = {"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "Ghost1"}],
              "Default": "T"},
        "T": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:getJobs", "End": True,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Ghost2"}]}}}
    answer = validate(sfn, definition)
    assert answer["result"] == "FAIL"
    assert answer["diagnostics"] == [
        {"severity": "ERROR", "code": "MISSING_TRANSITION_TARGET", "message": "Missing 'Next' target: Ghost1",
         "location": "/States/C/Choices[0]/Next"},
        {"severity": "ERROR", "code": "MISSING_TRANSITION_TARGET", "message": "Missing 'Next' target: Ghost2",
         "location": "/States/T/Catch[0]/Next"},
    ]


def test_a_loop_without_terminal_state_is_missing_end_state(sfn: Any) -> None:
    answer = validate(sfn, {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"},
                                                       "B": {"Type": "Pass", "Next": "A"}}})
    assert answer == {"result": "FAIL", "truncated": False, "diagnostics": [
        {"severity": "ERROR", "code": "MISSING_END_STATE", "message": "Workflow has no terminal state"}]}


def test_field_not_supported_on_the_state_type(sfn: Any) -> None:
    answer = validate(sfn, {"StartAt": "X", "States": {"X": {"Type": "Pass", "End": True,
                                                             "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "X"}]}}})
    assert answer["result"] == "FAIL"
    assert {"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "message": "Field 'Catch' is not supported",
            "location": "/States/X"} in answer["diagnostics"]


def test_duplicate_state_names_across_branches(sfn: Any) -> None:
    definition = {"StartAt": "A", "States": {
        "A": {"Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}]}}}
    answer = validate(sfn, definition)
    assert answer["result"] == "FAIL"
    assert [(d["code"], d["location"]) for d in answer["diagnostics"]] == [
        ("DUPLICATE_STATE_NAME", "/States/A/Branches[0]/States/A")]


def test_invalid_json_is_invalid_json_description(sfn: Any) -> None:
    answer = validate(sfn, '{"StartAt": "A", ')
    assert answer["result"] == "FAIL"
    assert [d["code"] for d in answer["diagnostics"]] == ["INVALID_JSON_DESCRIPTION"]
    assert "location" not in answer["diagnostics"][0]


def test_valid_definition_is_ok_and_can_be_created(sfn: Any) -> None:
    definition = {"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "M"}], "Default": "Done"},
        "M": {"Type": "Map", "ItemsPath": "$.items", "Next": "Done",
              "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}},
        "Done": {"Type": "Succeed"}}}
    assert validate(sfn, definition) == {"result": "OK", "diagnostics": [], "truncated": False}
    assert create(sfn, definition).startswith("arn:aws:states:")


def test_update_state_machine_rejects_a_bad_definition_and_keeps_the_old_one(sfn: Any) -> None:
    good = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
    arn = create(sfn, good)
    with pytest.raises(ClientError) as caught:
        sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Gone"}}}))
    assert caught.value.response["Error"]["Code"] == "InvalidDefinition"
    assert caught.value.response["Error"]["Message"] == (
        "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: Gone at "
        "/States/A/Next, MISSING_END_STATE: Workflow has no terminal state'")
    assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == good


def test_max_results_truncates_the_diagnostics(sfn: Any) -> None:
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "X"}, "B": {"Type": "Pass", "Next": "Y"},
                                             "C": {"Type": "Succeed"}}}
    answer = sfn.validate_state_machine_definition(definition=json.dumps(definition), maxResults=1)
    assert answer["result"] == "FAIL"
    assert answer["truncated"] is True
    assert len(answer["diagnostics"]) == 1


def _task_machine(resource: str) -> dict[str, Any]:
    return {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "Parameters": {}, "End": True}}}


# AWS's table of optimized integrations: Glue, Athena and DataBrew have .sync but no .waitForTaskToken;
# SQS, SNS, Lambda and EventBridge have .waitForTaskToken but no .sync; DynamoDB has neither; the
# AWS SDK integrations have .waitForTaskToken only.
@pytest.mark.parametrize("resource", [
    "arn:aws:states:::glue:startJobRun.waitForTaskToken",
    "arn:aws:states:::athena:startQueryExecution.waitForTaskToken",
    "arn:aws:states:::databrew:startJobRun.waitForTaskToken",
    "arn:aws:states:::sqs:sendMessage.sync",
    "arn:aws:states:::dynamodb:getItem.waitForTaskToken",
    "arn:aws:states:::aws-sdk:glue:startJobRun.sync",
])
def test_an_integration_pattern_aws_does_not_offer_is_invalid(sfn: Any, resource: str) -> None:
    error = create_error(sfn, _task_machine(resource))
    assert error["Code"] == "InvalidDefinition"
    assert error["Message"] == (
        f"Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The resource provided {resource} is not "
        "recognized. The value is not a valid resource ARN, or the resource is not available in this region. "
        "at /States/T/Resource'")


@pytest.mark.parametrize("resource", [
    "arn:aws:states:::glue:startJobRun.sync",
    "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
    "arn:aws:states:::sns:publish.waitForTaskToken",
    "arn:aws:states:::lambda:invoke.waitForTaskToken",
    "arn:aws:states:::events:putEvents.waitForTaskToken",
    "arn:aws:states:::states:startExecution.sync:2",
    "arn:aws:states:::aws-sdk:glue:getCrawler.waitForTaskToken",
])
def test_an_integration_pattern_aws_offers_is_valid(sfn: Any, resource: str) -> None:
    assert validate(sfn, _task_machine(resource))["result"] == "OK"
