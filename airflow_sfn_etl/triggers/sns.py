"""Trigger that waits for an SNS notification to arrive on a subscribed SQS queue."""

from __future__ import annotations

import json
from typing import Any

from airflow.providers.amazon.aws.hooks.sqs import SqsHook

from airflow_sfn_etl.triggers.base import AwsPollingTrigger
from airflow_sfn_etl.utils.events import SnsMessage, SnsMessageReceived
from airflow_sfn_etl.utils.polling import RunStatus


def parse_notification(sqs_message: dict[str, Any]) -> SnsMessage:
    """Unwrap the SNS envelope of an SQS message (raw message delivery is handled too)."""
    body = sqs_message.get("Body", "")
    try:
        envelope = json.loads(body)
    except ValueError:
        envelope = None
    if isinstance(envelope, dict) and envelope.get("Type") == "Notification" and "Message" in envelope:
        return {
            "message_id": envelope.get("MessageId"),
            "topic_arn": envelope.get("TopicArn"),
            "subject": envelope.get("Subject"),
            "message": envelope["Message"],
            "attributes": {k: v.get("Value") for k, v in (envelope.get("MessageAttributes") or {}).items()},
            "timestamp": envelope.get("Timestamp"),
        }
    return {
        "message_id": sqs_message.get("MessageId"),
        "topic_arn": None,
        "subject": None,
        "message": body,
        "attributes": {
            k: v.get("StringValue") for k, v in (sqs_message.get("MessageAttributes") or {}).items()
        },
        "timestamp": None,
    }


def _contains(actual: object, expected: object) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and _contains(actual[key], value) for key, value in expected.items()
        )
    return actual == expected


def matches(message: str, message_filter: str | dict[str, Any] | None) -> bool:
    """Return whether ``message`` passes the filter.

    ``None`` matches anything; a string matches when it occurs in the message; a dict matches
    when the message is a JSON object containing those keys with those values (recursively).
    """
    if message_filter is None:
        return True
    if isinstance(message_filter, str):
        return message_filter in message
    try:
        document = json.loads(message)
    except ValueError:
        return False
    return _contains(document, message_filter)


def validate_filter(message_filter: object) -> None:
    """Fail early on a filter that is neither None, a string nor a JSON-serializable dict."""
    if message_filter is None or isinstance(message_filter, str):
        return
    if isinstance(message_filter, dict):
        try:
            json.dumps(message_filter)
        except (TypeError, ValueError) as error:
            raise ValueError(f"message_filter must be JSON-serializable: {error}") from None
        return
    raise ValueError(
        f"message_filter must be None, a substring or a dict to match JSON messages, "
        f"not {type(message_filter).__name__}"
    )


def receive_matching(
    hook: SqsHook,
    queue_url: str,
    message_filter: str | dict[str, Any] | None,
    *,
    delete_message: bool = True,
    wait_time_seconds: int = 1,
) -> SnsMessage | None:
    """Receive up to 10 messages; return the first match (deleted if asked); release the others."""
    client = hook.conn
    response = client.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=wait_time_seconds,
        MessageAttributeNames=["All"],
    )
    found: SnsMessage | None = None
    release = []
    for raw in response.get("Messages", []):
        parsed = parse_notification(raw)
        if found is None and matches(parsed["message"], message_filter):
            found = parsed
            if delete_message:
                client.delete_message(QueueUrl=queue_url, ReceiptHandle=raw["ReceiptHandle"])
            else:
                release.append(raw)
        else:
            release.append(raw)
    if release:
        client.change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": raw["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, raw in enumerate(release)
            ],
        )
    return found


class SnsMessageTrigger(AwsPollingTrigger[SnsMessageReceived]):
    """Wait until an SNS notification matching ``message_filter`` arrives on an SQS queue.

    :param queue_url: URL of the SQS queue subscribed to the topic.
    :param message_filter: ``None``, a substring, or a dict matched against a JSON message.
    :param delete_message: delete the matching message from the queue.
    :param wait_time_seconds: SQS long-poll time of each receive call (0-20).
    """

    hook_class = SqsHook

    def __init__(
        self,
        *,
        queue_url: str,
        message_filter: str | dict[str, Any] | None = None,
        delete_message: bool = True,
        wait_time_seconds: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.queue_url = queue_url
        self.message_filter = message_filter
        self.delete_message = delete_message
        self.wait_time_seconds = wait_time_seconds

    def fields(self) -> dict[str, Any]:
        return {
            "queue_url": self.queue_url,
            "message_filter": self.message_filter,
            "delete_message": self.delete_message,
            "wait_time_seconds": self.wait_time_seconds,
        }

    def describe(self) -> str:
        return f"SNS message on queue {self.queue_url}"

    def timeout_message(self, polls: int) -> str:
        return f"Timed out: no matching SNS message arrived on {self.queue_url} after {polls} polls"

    def check(self, hook: SqsHook) -> RunStatus:
        found = receive_matching(
            hook,
            self.queue_url,
            self.message_filter,
            delete_message=self.delete_message,
            wait_time_seconds=self.wait_time_seconds,
        )
        if found is None:
            return RunStatus(state="WAITING")
        return RunStatus(
            state="RECEIVED",
            done=True,
            ok=True,
            message=f"Message {found['message_id']} received",
            details={"message": found},
        )
