"""Hand-written state machine features on the sandbox: intrinsic functions and the Distributed Map.

Expected values are AWS's documented examples ("Intrinsic functions for JSONPath states") or are
computed here with Python (hashlib, base64, uuid); the Distributed Map rules are those of "Map
state in Distributed mode" (ItemReader from S3 CSV / JSON, ToleratedFailureCount and
ToleratedFailurePercentage defaulting to zero, ``States.ExceedToleratedFailureThreshold``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/sandbox-sfn"
FINAL = {"SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"}


def run(aws: dict[str, Any], definition: dict[str, Any], payload: Any = None) -> dict[str, Any]:
    sfn = aws["stepfunctions"]
    arn = sfn.create_state_machine(name=f"sm-{uuid.uuid4().hex[:10]}", definition=json.dumps(definition),
                                   roleArn=ROLE)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(payload or {}))["executionArn"]
    deadline = time.monotonic() + 60
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution)
        if described["status"] in FINAL:
            return described
        assert time.monotonic() < deadline, "the execution did not end"
        time.sleep(0.1)


# --------------------------------------------------------------------------- intrinsic functions


def test_intrinsic_functions_give_aws_documented_results(aws: dict[str, Any]) -> None:
    expressions = {
        "partition": "States.ArrayPartition($.nums, 4)",
        "contains": "States.ArrayContains($.nums, 5)",
        "range": "States.ArrayRange(1, 9, 2)",
        "item": "States.ArrayGetItem($.nums, 5)",
        "length": "States.ArrayLength($.nums)",
        "unique": "States.ArrayUnique($.duplicates)",
        "encoded": "States.Base64Encode('Data to encode')",
        "decoded": "States.Base64Decode('RGF0YSB0byBlbmNvZGU=')",
        "sha1": "States.Hash('input data', 'SHA-1')",
        "sha256": "States.Hash($.text, 'SHA-256')",
        "merged": "States.JsonMerge($.json1, $.json2, false)",
        "split": "States.StringSplit('This.is+a,test=string', '.+,=')",
        "random": "States.MathRandom(1, 999)",
        "sum": "States.MathAdd(111, -1)",
        "uuid": "States.UUID()",
        "array": "States.Array('a', 1, $.json1.b)",
        "parsed": "States.StringToJson($.escaped)",
        "text": "States.JsonToString($.json2)",
        "formatted": "States.Format('Hello, my name is {}.', $.name)",
    }
    payload = {"nums": [1, 2, 3, 4, 5, 6, 7, 8, 9], "duplicates": [1, 2, 3, 3, 3, 3, 3, 3, 4],
               "json1": {"a": {"a1": 1, "a2": 2}, "b": 2}, "json2": {"a": {"a3": 1, "a4": 2}, "c": 3},
               "text": "sandbox", "escaped": '{"foo": "bar"}', "name": "Arnav"}
    described = run(aws, {"StartAt": "F", "States": {"F": {
        "Type": "Pass", "End": True, "Parameters": {f"{k}.$": v for k, v in expressions.items()}}}}, payload)

    assert described["status"] == "SUCCEEDED", described.get("cause")
    out = json.loads(described["output"])
    assert out["partition"] == [[1, 2, 3, 4], [5, 6, 7, 8], [9]]
    assert out["contains"] is True
    assert out["range"] == [1, 3, 5, 7, 9]
    assert out["item"] == 6 and out["length"] == 9
    assert out["unique"] == [1, 2, 3, 4]
    assert out["encoded"] == base64.b64encode(b"Data to encode").decode()
    assert out["decoded"] == "Data to encode"
    assert out["sha1"] == hashlib.sha1(b"input data").hexdigest()
    assert out["sha256"] == hashlib.sha256(b"sandbox").hexdigest()
    assert out["merged"] == {"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3}  # shallow: json2's "a" wins
    assert out["split"] == ["This", "is", "a", "test", "string"]
    assert isinstance(out["random"], int) and 1 <= out["random"] <= 999
    assert out["sum"] == 110
    assert uuid.UUID(out["uuid"]).version == 4
    assert out["array"] == ["a", 1, 2]
    assert out["parsed"] == {"foo": "bar"}
    assert json.loads(out["text"]) == payload["json2"]
    assert out["formatted"] == "Hello, my name is Arnav."


# --------------------------------------------------------------------------- Distributed Map


def distributed_map(**fields: Any) -> dict[str, Any]:
    """A Distributed Map whose item processor fails on the item 2 and passes the others on."""
    return {"StartAt": "Each", "States": {"Each": {"Type": "Map", "End": True, **fields, "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "Check",
        "States": {"Check": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "Bad"}],
                             "Default": "Good"},
                   "Bad": {"Type": "Fail", "Error": "BadItem", "Cause": "two"},
                   "Good": {"Type": "Succeed"}}}}}}


def test_item_reader_reads_csv_and_json_objects_from_s3(aws: dict[str, Any]) -> None:
    s3, bucket = aws["s3"], aws["bucket"]
    s3.put_object(Bucket=bucket, Key="items/rows.csv", Body=b"id,city\n1,Oslo\n2,Lima\n")
    s3.put_object(Bucket=bucket, Key="items/rows.json", Body=json.dumps([{"id": 7}, {"id": 8}]).encode())
    passing = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "Keep",
               "States": {"Keep": {"Type": "Pass", "End": True}}}

    def reader(key: str, config: dict[str, Any]) -> dict[str, Any]:
        return {"StartAt": "Each", "States": {"Each": {
            "Type": "Map", "End": True, "ItemProcessor": passing, "ItemReader": {
                "Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": config,
                "Parameters": {"Bucket": bucket, "Key": key}}}}}

    csv_run = run(aws, reader("items/rows.csv", {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}))
    json_run = run(aws, reader("items/rows.json", {"InputType": "JSON"}))
    # CSV rows become objects keyed by the header, their values strings.
    assert json.loads(csv_run["output"]) == [{"id": "1", "city": "Oslo"}, {"id": "2", "city": "Lima"}]
    assert json.loads(json_run["output"]) == [{"id": 7}, {"id": 8}]


def test_a_failed_item_fails_the_distributed_map_by_default(aws: dict[str, Any]) -> None:
    described = run(aws, distributed_map(ItemsPath="$.items"), {"items": [1, 2, 3, 4]})
    assert (described["status"], described["error"]) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    assert "1 of 4 items failed" in described["cause"]


@pytest.mark.parametrize(("fields", "status"), [
    ({"ToleratedFailureCount": 1}, "SUCCEEDED"),
    ({"ToleratedFailureCount": 0}, "FAILED"),
    ({"ToleratedFailurePercentage": 25}, "SUCCEEDED"),   # 1 of 4 is 25 %: not more than tolerated
    ({"ToleratedFailurePercentage": 24.5}, "FAILED"),
    ({"ToleratedFailureCount": 5, "ToleratedFailurePercentage": 10}, "FAILED"),  # either one exceeded
])
def test_tolerated_failures(aws: dict[str, Any], fields: dict[str, Any], status: str) -> None:
    described = run(aws, distributed_map(ItemsPath="$.items", **fields), {"items": [1, 2, 3, 4]})
    assert described["status"] == status, described.get("cause")
    if status == "FAILED":
        assert described["error"] == "States.ExceedToleratedFailureThreshold"
    else:
        succeeded = [item for item in json.loads(described["output"]) if item is not None]
        assert succeeded == [1, 3, 4]


def test_the_threshold_error_can_be_caught(aws: dict[str, Any]) -> None:
    definition = distributed_map(ItemsPath="$.items")
    each = definition["States"]["Each"]
    del each["End"]
    each.update(Next="Done", Catch=[{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"],
                                     "ResultPath": "$.error", "Next": "Recover"}])
    definition["States"].update(Recover={"Type": "Pass", "End": True}, Done={"Type": "Succeed"})
    described = run(aws, definition, {"items": [2]})
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["error"]["Error"] == "States.ExceedToleratedFailureThreshold"


@pytest.mark.parametrize("field", [
    {"ItemBatcher": {"MaxItemsPerBatch": 2}},
    {"ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b", "Prefix": "out"}}},
])
def test_item_batcher_and_result_writer_are_refused_as_not_emulated(aws: dict[str, Any],
                                                                    field: dict[str, Any]) -> None:
    name = next(iter(field))
    definition = distributed_map(ItemsPath="$.items", **field)
    with pytest.raises(ClientError) as caught:
        aws["stepfunctions"].create_state_machine(name=f"sm-{uuid.uuid4().hex[:10]}",
                                                  definition=json.dumps(definition), roleArn=ROLE)
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidDefinition"
    assert f"{name} is not emulated by the sandbox" in error["Message"]
    assert f"at /States/Each/{name}" in error["Message"]
