"""Deferrable sensor that waits for an SNS notification delivered to an SQS queue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.sqs import SqsHook
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields

from airflow_sfn_etl.sensors.base import AwsRunSensor
from airflow_sfn_etl.triggers.sns import SnsMessageTrigger, validate_filter
from airflow_sfn_etl.utils.events import SnsMessage, SnsMessageReceived

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from airflow_sfn_etl.triggers.base import PollingOptions


class SnsMessageSensor(AwsRunSensor[SnsMessageReceived]):
    """Wait until a message published to an SNS topic arrives on an SQS queue subscribed to it.

    The SNS envelope is unwrapped (raw message delivery works too). Returns the message as a dict:
    ``message_id``, ``topic_arn``, ``subject``, ``message``, ``attributes``, ``timestamp``.
    Messages that do not match are made visible again for other consumers.

    :param queue_url: URL of the SQS queue subscribed to the topic.
    :param message_filter: ``None`` (any message), a substring of the message, or a dict that a
        JSON message must contain (keys and values, recursively).
    :param delete_message: delete the matching message from the queue.
    """

    aws_hook_class = SqsHook
    template_fields: Sequence[str] = aws_template_fields("queue_url", "message_filter")

    def __init__(
        self,
        *,
        queue_url: str,
        message_filter: str | dict[str, Any] | None = None,
        delete_message: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        validate_filter(message_filter)
        if not queue_url:
            raise ValueError("queue_url must be the URL of an SQS queue subscribed to the SNS topic")
        self.queue_url = queue_url
        self.message_filter = message_filter
        self.delete_message = delete_message

    def make_trigger(self, **common: Unpack[PollingOptions]) -> SnsMessageTrigger:
        return SnsMessageTrigger(
            queue_url=self.queue_url,
            message_filter=self.message_filter,
            delete_message=self.delete_message,
            **common,
        )

    def result(self, event: SnsMessageReceived) -> SnsMessage:
        return event["message"]
