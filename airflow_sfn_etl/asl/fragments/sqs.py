"""The amazon provider's ``SqsPublishOperator`` -> ``sqs:sendMessage``.

The operator sends one message to ``sqs_queue`` (the queue URL) with boto3's ``send_message``; the
state sends the same request: ``QueueUrl``, ``MessageBody``, ``DelaySeconds`` (when not 0, the API's
default), ``MessageAttributes`` as given (the operator passes them to boto3 unchanged, in SQS's
``{"DataType": ..., "StringValue": ...}`` form), and the FIFO ``MessageGroupId`` /
``MessageDeduplicationId``. The send result (the XCom of the operator) is not kept.
"""

from __future__ import annotations

from typing import Any

from airflow_sfn_etl.asl.context import AslContext
from airflow_sfn_etl.asl.errors import AslCompileError
from airflow_sfn_etl.asl.fragments.common import single, task_state
from airflow_sfn_etl.asl.ir import Fragment


def stock_sqs_publish(op: Any, ctx: AslContext) -> Fragment:
    """SqsPublishOperator -> ``sqs:sendMessage`` with QueueUrl, MessageBody and the options."""
    params: dict[str, Any] = {}
    ctx.put(params, "QueueUrl", "sqs_queue", op.sqs_queue)
    body = op.message_content
    if not isinstance(body, str):
        raise AslCompileError(
            f"Task '{ctx.task_id}': message_content={body!r} is not text; SQS message bodies are strings. "
            "Give the message as text (json.dumps(...) for a document)."
        )
    ctx.put(params, "MessageBody", "message_content", body)
    delay = getattr(op, "delay_seconds", 0)
    if delay not in (0, None, "0"):
        mapped = ctx.template("delay_seconds", delay if isinstance(delay, str) else str(delay))
        if mapped.dynamic:
            raise AslCompileError(
                f"Task '{ctx.task_id}': delay_seconds={delay!r} must be a number in the DAG file; SendMessage "
                "takes DelaySeconds as an integer, which a template would make text."
            )
        params["DelaySeconds"] = int(str(mapped.literal))
    attributes = getattr(op, "message_attributes", None)
    if attributes:
        params["MessageAttributes"] = ctx.template("message_attributes", attributes)
    for attr, key in (("message_group_id", "MessageGroupId"),
                      ("message_deduplication_id", "MessageDeduplicationId")):
        value = getattr(op, attr, None)
        if value:
            ctx.put(params, key, attr, value)
    return single(ctx, task_state(ctx, "arn:aws:states:::sqs:sendMessage", params))
