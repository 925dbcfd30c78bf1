"""Operator that publishes to an SNS topic given by ARN or by name."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.sns import SnsHook
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowException
from botocore.exceptions import ClientError

from airflow_sfn_etl.utils.aws import error_code

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_sfn_etl.utils.lineage import Lineage


TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}(\.fifo)?$")
TOPIC_ARN = re.compile(r"^arn:[a-z-]+:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")


def resolve_topic_arn(hook: SnsHook, target: str) -> str:
    """Return the ARN of ``target`` (an ARN, or a topic name looked up with ListTopics)."""
    if target.startswith("arn:"):
        if not TOPIC_ARN.match(target):
            raise AirflowException(
                f"SNS target {target!r} is not a topic ARN (arn:aws:sns:<region>:<account>:<name>)"
            )
        return target
    if not TOPIC_NAME.match(target):
        raise AirflowException(
            f"SNS target {target!r} is neither a topic ARN nor a valid topic name "
            "(letters, digits, '-' and '_', up to 256 characters, optional '.fifo')"
        )
    kwargs: dict[str, Any] = {}
    while True:
        page = hook.get_conn().list_topics(**kwargs)
        for topic in page.get("Topics", []):
            arn: str = topic["TopicArn"]
            if arn.rsplit(":", 1)[-1] == target:
                return arn
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    raise AirflowException(
        f"SNS topic '{target}' not found in region {hook.conn_region_name}: create the topic "
        "(CreateTopic) or pass its full ARN as target"
    )


class SnsPublishOperator(AwsBaseOperator[SnsHook]):
    """Publish a message to an SNS topic named by ARN or by name; return the message id.

    Unlike upstream's ``SnsPublishOperator`` (which takes only an ARN), a topic name is resolved
    to its ARN with ListTopics, and an unknown topic fails with a message naming it.

    OpenLineage (with the ``openlineage`` extra): no datasets. A notice carries no data of the
    pipeline, and OpenLineage's naming spec has no SNS dataset (it names streams such as Kafka
    topics, whose messages are data); the published message is the external run (its message
    id and topic ARN), so the notice can still be found from the lineage.

    :param target: topic ARN or topic name.
    :param message: message text (a dict is sent as JSON).
    :param subject: optional subject (used by e-mail subscriptions).
    :param message_attributes: flat dict of message attributes (str, number, bytes or list).
    """

    aws_hook_class = SnsHook
    template_fields: Sequence[str] = aws_template_fields("target", "message", "subject", "message_attributes")
    template_fields_renderers = {"message_attributes": "json"}
    ui_color = "#f3a847"

    def __init__(
        self,
        *,
        target: str,
        message: str | dict[str, Any],
        subject: str | None = None,
        message_attributes: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not target:
            raise ValueError("target must be an SNS topic ARN or topic name")
        self.target = target
        self.message = message
        self.subject = subject
        self.message_attributes = message_attributes
        self.message_id: str | None = None
        self.topic_arn: str | None = None

    def execute(self, context: Context) -> str:
        message = self.message if isinstance(self.message, str) else json.dumps(self.message, sort_keys=True)
        if not message:
            raise AirflowException("The SNS message is empty")
        topic_arn = resolve_topic_arn(self.hook, str(self.target).strip())
        try:
            response = self.hook.publish_to_target(
                target_arn=topic_arn,
                message=message,
                subject=self.subject,
                message_attributes=self.message_attributes,
            )
        except ClientError as error:
            if error_code(error) in ("NotFound", "NotFoundException"):
                raise AirflowException(
                    f"SNS topic {topic_arn} does not exist: create it or fix target"
                ) from error
            raise
        message_id: str = response["MessageId"]
        self.message_id, self.topic_arn = message_id, topic_arn
        self.log.info("Published message %s to %s", message_id, topic_arn)
        return message_id

    def get_openlineage_facets_on_complete(self, task_instance: object = None) -> Lineage:
        """No datasets; the published message as the external run."""
        from airflow_sfn_etl.utils.lineage import external_run_facets, operator_lineage

        return operator_lineage(
            run_facets=external_run_facets(self.message_id, "awssns", topicArn=self.topic_arn)
        )
