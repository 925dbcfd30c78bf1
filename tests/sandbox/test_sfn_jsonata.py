"""JSONata and workflow variables in sandbox executions, as AWS documents them.

``QueryLanguage: "JSONata"`` (machine or state level), ``{% %}`` expressions over
``$states.input``, ``$states.result``, ``$states.errorOutput`` and ``$states.context``,
``Arguments``, ``Output``, ``Assign``, ``Condition``, ``Items``; variables (``Assign`` then
``$name``) in JSONPath states too. Fields of the other query language are rejected at
CreateStateMachine; an expression that cannot be evaluated fails with
``States.QueryEvaluationError``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .test_stepfunctions import deploy, glue_job, run


def test_jsonata_machine_assign_condition_output_and_context(aws: dict[str, Any]) -> None:
    items = [1, 2, 3.5]
    definition = {"QueryLanguage": "JSONata", "StartAt": "A", "States": {
        "A": {"Type": "Pass", "Assign": {"total": "{% $sum($states.input.items) %}",
                                         "name": "{% $states.context.Execution.Name %}"},
              "Output": {"n": "{% $count($states.input.items) %}"}, "Next": "C"},
        "C": {"Type": "Choice", "Choices": [{"Condition": "{% $total > 5 %}", "Next": "Big"}], "Default": "Small"},
        "Big": {"Type": "Pass", "Output": {"total": "{% $total %}", "n": "{% $states.input.n %}",
                                           "name": "{% $name %}"}, "End": True},
        "Small": {"Type": "Fail", "Error": "TooSmall", "Cause": "{% 'total ' & $string($total) %}"}}}
    described = run(aws, definition, {"items": items})
    assert described["status"] == "SUCCEEDED", described.get("cause")
    assert json.loads(described["output"]) == {"total": sum(items), "n": len(items), "name": described["name"]}

    small = run(aws, definition, {"items": [1, 2]})
    assert (small["status"], small["error"], small["cause"]) == ("FAILED", "TooSmall", "total 3")


def test_jsonata_map_items_and_item_selector(aws: dict[str, Any]) -> None:
    xs = [1, 2, 3]
    described = run(aws, {"QueryLanguage": "JSONata", "StartAt": "M", "States": {
        "M": {"Type": "Map", "Items": "{% $states.input.xs %}",
              "ItemSelector": {"v": "{% $states.context.Map.Item.Value * 10 %}",
                               "i": "{% $states.context.Map.Item.Index %}"},
              "ItemProcessor": {"StartAt": "P", "States": {
                  "P": {"Type": "Pass", "Output": "{% $states.input.v + $states.input.i %}", "End": True}}},
              "End": True}}}, {"xs": xs})
    assert json.loads(described["output"]) == [x * 10 + i for i, x in enumerate(xs)]


def test_jsonata_task_arguments_and_result_with_glue_sync(aws: dict[str, Any]) -> None:
    job = glue_job(aws, "import sys\nprint(sys.argv)\n")
    described = run(aws, {"QueryLanguage": "JSONata", "StartAt": "Run", "States": {"Run": {
        "Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync",
        "Arguments": {"JobName": "{% $states.input.job %}", "Arguments": {"--day": "{% $states.input.day %}"}},
        "Output": {"state": "{% $states.result.JobRunState %}", "day": "{% $states.result.Arguments.'--day' %}",
                   "job": "{% $states.result.JobName %}"},
        "End": True}}}, {"job": job, "day": "2024-05-01"})
    assert described["status"] == "SUCCEEDED", described.get("cause")
    assert json.loads(described["output"]) == {"state": "SUCCEEDED", "day": "2024-05-01", "job": job}


def test_jsonata_catch_reads_error_output(aws: dict[str, Any]) -> None:
    described = run(aws, {"QueryLanguage": "JSONata", "StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
              "Arguments": {"Bucket": f"no-such-bucket-{uuid.uuid4().hex[:8]}", "Key": "k"},
              "Catch": [{"ErrorEquals": ["States.ALL"], "Output": {"err": "{% $states.errorOutput.Error %}"},
                         "Assign": {"failed": True}, "Next": "H"}], "End": True},
        "H": {"Type": "Pass", "Output": {"err": "{% $states.input.err %}", "failed": "{% $failed %}"},
              "End": True}}})
    assert json.loads(described["output"]) == {"err": "S3.NoSuchBucketException", "failed": True}


def test_variables_in_a_jsonpath_machine_and_a_jsonata_state(aws: dict[str, Any]) -> None:
    path = 'C:\\temp\\new "quoted"'
    described = run(aws, {"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Assign": {"v.$": "$.x", "p.$": "$.path", "lit": 5}, "Next": "B"},
        "B": {"Type": "Choice", "Choices": [{"Variable": "$v", "NumericGreaterThan": 1, "Next": "J"}],
              "Default": "Fail"},
        "J": {"Type": "Pass", "Parameters": {"p.$": "$p", "v.$": "$v"}, "Next": "K"},
        "K": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": {"sum": "{% $v + $lit %}", "p": "{% $p %}",
                                                                    "from_input": "{% $states.input.p %}"},
              "End": True},
        "Fail": {"Type": "Fail", "Error": "Small"}}}, {"x": 2, "path": path})
    assert described["status"] == "SUCCEEDED", described.get("cause")
    assert json.loads(described["output"]) == {"sum": 7, "p": path, "from_input": path}


def test_hash_and_uuid_functions(aws: dict[str, Any]) -> None:
    described = run(aws, {"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {
        "Type": "Pass", "Output": {"md5": "{% $hash($states.input.s, 'MD5') %}",
                                   "sha512": "{% $hash($states.input.s, 'SHA-512') %}", "id": "{% $uuid() %}"},
        "End": True}}}, {"s": "héllo"})
    out = json.loads(described["output"])
    assert out["md5"] == hashlib.md5("héllo".encode()).hexdigest()
    assert out["sha512"] == hashlib.sha512("héllo".encode()).hexdigest()
    assert uuid.UUID(out["id"]).version == 4


def test_expression_errors_fail_with_query_evaluation_error(aws: dict[str, Any]) -> None:
    described = run(aws, {"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {
        "Type": "Pass", "Output": "{% $states.input.x + 'a' %}", "End": True}}}, {"x": 1})
    assert (described["status"], described["error"]) == ("FAILED", "States.QueryEvaluationError")
    assert "$states.input.x + 'a'" in described["cause"]

    undefined = run(aws, {"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {
        "Type": "Pass", "Output": {"x": "{% $states.input.missing %}"}, "End": True}}})
    assert (undefined["status"], undefined["error"]) == ("FAILED", "States.QueryEvaluationError")


def test_undefined_variable_in_a_jsonpath_state_fails_naming_it(aws: dict[str, Any]) -> None:
    described = run(aws, {"StartAt": "A", "States": {"A": {
        "Type": "Pass", "Parameters": {"a.$": "$neverAssigned"}, "End": True}}})
    assert (described["status"], described["error"]) == ("FAILED", "States.Runtime")
    assert "$neverAssigned" in described["cause"]


@pytest.mark.parametrize(("definition", "location"), [
    ({"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": "$.x", "End": True}}},
     "/States/A/InputPath"),
    ({"StartAt": "A", "States": {"A": {"Type": "Pass", "Output": "{% 1 %}", "End": True}}}, "/States/A/Output"),
    ({"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Pass", "QueryLanguage": "JSONPath",
                                                                   "End": True}}}, "/States/A/QueryLanguage"),
])
def test_fields_of_the_other_query_language_are_invalid(aws: dict[str, Any], definition: dict[str, Any],
                                                        location: str) -> None:
    with pytest.raises(ClientError) as caught:
        deploy(aws, definition)
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidDefinition"
    assert error["Message"].startswith("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: ")
    assert error["Message"].endswith(f" at {location}'")
