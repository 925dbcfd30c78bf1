"""S3 aws-sdk and SQS tasks on the sandbox's Step Functions run as AWS documents them."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any


def _run(sb: Any, states: dict[str, Any], start: str) -> dict[str, Any]:
    sfn = sb.client("stepfunctions")
    arn = sfn.create_state_machine(
        name=f"s3-sqs-{uuid.uuid4().hex[:8]}", roleArn="arn:aws:iam::123456789012:role/sfn",
        definition=json.dumps({"StartAt": start, "States": states}),
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    for _ in range(300):
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.1)
    raise AssertionError("the execution did not end")


def test_copy_object_takes_the_source_url_encoded_as_the_s3_api_does(sandbox_env: Any) -> None:
    s3 = sandbox_env.client("s3")
    bucket = f"copy-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="in/day 1%.csv", Body=b"a,b\n")
    states = {"Copy": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:copyObject", "End": True,
        "Parameters": {"CopySource": f"{bucket}/in/day%201%25.csv", "Bucket": bucket, "Key": "out/day1.csv"},
    }}
    assert _run(sandbox_env, states, "Copy")["status"] == "SUCCEEDED"
    assert s3.get_object(Bucket=bucket, Key="out/day1.csv")["Body"].read() == b"a,b\n"


def test_send_message_and_delete_objects_tasks(sandbox_env: Any) -> None:
    sqs, s3 = sandbox_env.client("sqs"), sandbox_env.client("s3")
    queue = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    bucket = f"del-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    for key in ("a", "b", "c"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    states = {
        "Send": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "Next": "Delete",
                 "Parameters": {"QueueUrl": queue, "MessageBody": "loaded"}},
        "Delete": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:deleteObjects", "End": True,
                   "Parameters": {"Bucket": bucket, "Delete": {"Objects": [{"Key": "a"}, {"Key": "b"}]}}},
    }
    assert _run(sandbox_env, states, "Send")["status"] == "SUCCEEDED"
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=queue)["Messages"]] == ["loaded"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["c"]
