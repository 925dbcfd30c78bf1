"""SNS publish -> ``sns:publish``."""

from __future__ import annotations

import json
from typing import Any, Protocol

from airflow_sfn_etl.asl.context import AslContext
from airflow_sfn_etl.asl.fragments.common import as_text, single, task_state
from airflow_sfn_etl.asl.ir import Fragment
from airflow_sfn_etl.asl.templates import Mapped, put


class SnsPublishTask(Protocol):
    """What the fragment reads of an SNS publish task (``SnsPublishOperator``); optional fields are
    read with ``getattr``: ``subject``, ``message_attributes``."""

    @property
    def target(self) -> str: ...

    @property
    def message(self) -> str | dict[str, Any]: ...


def sns_publish(op: SnsPublishTask, ctx: AslContext) -> Fragment:
    """SNS publish -> ``sns:publish`` with TopicArn (built from a topic name), Message, Subject."""
    params: dict[str, Any] = {}
    target = ctx.template("target", op.target)
    if not _is_arn(op.target, target, ctx):
        target = ctx.arn("sns", target)
    put(params, "TopicArn", target)
    message = op.message
    if not isinstance(message, str):
        # The operator sends a non-string message as sorted JSON text; so does the state.
        message = json.dumps(message, sort_keys=True)
    ctx.put(params, "Message", "message", message)
    subject = getattr(op, "subject", None)
    if subject:
        ctx.put(params, "Subject", "subject", subject)
    attributes = getattr(op, "message_attributes", None)
    if attributes:
        params["MessageAttributes"] = ctx.template("message_attributes", _sns_attributes(attributes))
    return single(ctx, task_state(ctx, "arn:aws:states:::sns:publish", params))


def _is_arn(raw: Any, mapped: Mapped, ctx: AslContext) -> bool:
    """Whether an SNS target is an ARN (else a topic name): by its text, or its param's default."""
    if not mapped.dynamic:
        return str(mapped.literal).startswith("arn:")
    expression = str(mapped.expression)
    if expression.startswith("$."):
        return str(ctx.param_defaults.get(expression[2:], "")).startswith("arn:")
    return str(raw).lstrip().startswith("arn:")


def _sns_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in attributes.items():
        if isinstance(value, dict) and "DataType" in value:
            out[key] = value
        elif isinstance(value, (list, tuple)):
            out[key] = {"DataType": "String.Array", "StringValue": _json_list(value)}
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = {"DataType": "Number", "StringValue": str(value)}
        else:
            out[key] = {"DataType": "String", "StringValue": as_text(value)}
    return out


def _json_list(value: Any) -> str:
    return json.dumps(list(value), separators=(",", ":"))
