"""SNS publish by topic name or ARN, and the sensor/trigger that waits for the message on SQS."""

from __future__ import annotations

import json

import boto3
import pytest
from airflow.providers.common.compat.sdk import AirflowException, TaskDeferred
from moto import mock_aws

from airflow_sfn_etl.operators.sns import SnsPublishOperator
from airflow_sfn_etl.sensors.sns import SnsMessageSensor
from airflow_sfn_etl.triggers.sns import SnsMessageTrigger, matches

from .provider_support import collect, make_context, roundtrip


def topic_with_queue(name: str = "etl-done") -> tuple[str, str]:
    topic_arn = boto3.client("sns").create_topic(Name=name)["TopicArn"]
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName=f"{name}-q")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    boto3.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return topic_arn, queue_url


def publish(target: str, message, **kwargs) -> str:
    op = SnsPublishOperator(task_id="notify", target=target, message=message, **kwargs)
    return op.execute(make_context())


@mock_aws
def test_publish_by_name_reaches_subscribed_queue():
    topic_arn, queue_url = topic_with_queue()
    boto3.client("sns").create_topic(Name="other")
    message_id = publish("etl-done", "sales loaded", subject="ETL", message_attributes={"rows": 42})
    body = json.loads(boto3.client("sqs").receive_message(QueueUrl=queue_url)["Messages"][0]["Body"])
    assert body["MessageId"] == message_id
    assert (body["TopicArn"], body["Message"], body["Subject"]) == (topic_arn, "sales loaded", "ETL")


@mock_aws
def test_publish_by_arn_and_dict_message_as_json():
    topic_arn, queue_url = topic_with_queue()
    publish(topic_arn, {"table": "sales", "rows": 3})
    body = json.loads(boto3.client("sqs").receive_message(QueueUrl=queue_url)["Messages"][0]["Body"])
    assert json.loads(body["Message"]) == {"rows": 3, "table": "sales"}


@mock_aws
def test_unknown_topic_name_fails_with_fix():
    with pytest.raises(
        AirflowException, match=r"SNS topic 'missing' not found in region us-east-1: create the topic"
    ):
        publish("missing", "x")


@mock_aws
def test_unknown_topic_arn_fails_clearly():
    with pytest.raises(
        AirflowException, match=r"SNS topic arn:aws:sns:us-east-1:123456789012:gone does not exist"
    ):
        publish("arn:aws:sns:us-east-1:123456789012:gone", "x")


def test_invalid_target_fails_before_any_call():
    with pytest.raises(AirflowException, match="neither a topic ARN nor a valid topic name"):
        publish("my topic!", "x")


def test_filters():
    assert matches("anything", None)
    assert matches("sales loaded for 2024-01-01", "2024-01-01")
    assert not matches("sales loaded", "orders")
    assert matches(
        json.dumps({"status": "done", "meta": {"table": "sales", "n": 1}}), {"meta": {"table": "sales"}}
    )
    assert not matches(json.dumps({"status": "failed"}), {"status": "done"})
    assert not matches("not json", {"status": "done"})


def test_sensor_rejects_callable_filter():
    with pytest.raises(ValueError, match="message_filter must be None, a substring or a dict"):
        SnsMessageSensor(task_id="s", queue_url="https://q", message_filter=lambda m: True)


@mock_aws
def test_sensor_returns_matching_message_and_leaves_others():
    _, queue_url = topic_with_queue()
    publish("etl-done", json.dumps({"flow": "orders", "status": "done"}))
    publish("etl-done", json.dumps({"flow": "sales", "status": "done"}), subject="sales")
    sensor = SnsMessageSensor(
        task_id="wait", queue_url=queue_url, message_filter={"flow": "sales"}, poke_interval=0, timeout=30
    )
    result = sensor.execute(make_context())
    assert json.loads(result["message"]) == {"flow": "sales", "status": "done"}
    assert result["subject"] == "sales" and result["topic_arn"].endswith(":etl-done")
    left = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(json.loads(m["Body"])["Message"])["flow"] for m in left] == ["orders"]


@mock_aws
def test_sensor_poke_false_when_queue_empty():
    _, queue_url = topic_with_queue()
    sensor = SnsMessageSensor(task_id="wait", queue_url=queue_url, message_filter="done")
    assert sensor.poke(make_context()) is False


@mock_aws
def test_sensor_deferrable_defers_when_no_message():
    _, queue_url = topic_with_queue()
    sensor = SnsMessageSensor(task_id="wait", queue_url=queue_url, deferrable=True, poke_interval=5)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(make_context())
    trigger = deferred.value.trigger
    assert isinstance(trigger, SnsMessageTrigger) and trigger.queue_url == queue_url
    message = {"message": "hi", "message_id": "m1"}
    assert sensor.execute_complete(make_context(), {"status": "success", "message": message}) == message


def test_trigger_serialize_roundtrip():
    trigger = SnsMessageTrigger(queue_url="https://q", message_filter={"a": 1}, delete_message=False)
    again = roundtrip(trigger)
    assert again.serialize() == trigger.serialize()
    assert (again.message_filter, again.delete_message) == ({"a": 1}, False)


async def test_trigger_run_yields_message():
    with mock_aws():
        _, queue_url = topic_with_queue()
        publish("etl-done", "noise")
        publish("etl-done", "sales ready")
        trigger = SnsMessageTrigger(
            queue_url=queue_url, message_filter="ready", poll_interval=0, wait_time_seconds=0
        )
        [event] = await collect(trigger)
    assert event["status"] == "success"
    assert event["message"]["message"] == "sales ready"


async def test_trigger_run_times_out_after_max_polls():
    with mock_aws():
        _, queue_url = topic_with_queue()
        trigger = SnsMessageTrigger(queue_url=queue_url, poll_interval=0, wait_time_seconds=0, max_polls=2)
        [event] = await collect(trigger)
    assert event["status"] == "timeout"
    assert "no matching SNS message arrived" in event["message"]
