"""SNS on the sandbox: moto's topics and SQS delivery, plus the message readback endpoint."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from airflow_sfn_etl_sandbox.client import SandboxClient, SandboxError


def test_published_messages_can_be_read_back(sandbox_env):
    sns = sandbox_env.client("sns")
    name = f"topic-{uuid.uuid4().hex[:8]}"
    arn = sns.create_topic(Name=name)["TopicArn"]
    before = time.time()
    first = sns.publish(
        TopicArn=arn,
        Message='{"Input": "refreshed"}',
        Subject="Refresh",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "monthly"}},
    )["MessageId"]
    second = sns.publish(TopicArn=arn, Message="second")["MessageId"]
    client = SandboxClient(sandbox_env.endpoint_url)
    by_name = client.sns_messages(name)
    assert client.sns_messages(arn) == by_name
    assert [m["message_id"] for m in by_name] == [first, second]
    assert by_name[0]["message"] == '{"Input": "refreshed"}'
    assert by_name[0]["subject"] == "Refresh"
    assert by_name[0]["message_attributes"]["kind"]["StringValue"] == "monthly"
    assert before - 1 <= by_name[0]["timestamp"] <= time.time() + 1
    assert by_name[1]["subject"] is None


def test_unknown_topic_is_an_error(sandbox_env):
    with pytest.raises(SandboxError, match="404"):
        SandboxClient(sandbox_env.endpoint_url).sns_messages("no-such-topic")


def test_sqs_subscription_receives_published_message(sandbox_env):
    sns, sqs = sandbox_env.client("sns"), sandbox_env.client("sqs")
    arn = sns.create_topic(Name=f"topic-{uuid.uuid4().hex[:8]}")["TopicArn"]
    url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
    mid = sns.publish(TopicArn=arn, Message="Monthly sales marketing data refreshed successfully!")[
        "MessageId"
    ]
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=1)["Messages"]
    body = json.loads(got[0]["Body"])
    assert body["Type"] == "Notification" and body["TopicArn"] == arn and body["MessageId"] == mid
    assert body["Message"] == "Monthly sales marketing data refreshed successfully!"
