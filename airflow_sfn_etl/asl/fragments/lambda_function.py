"""The amazon provider's ``LambdaInvokeFunctionOperator`` -> ``lambda:invoke``.

The operator invokes the function and fails the task when the function reports an error; so does the
``lambda:invoke`` integration. ``payload`` (JSON text) becomes the state's ``Payload`` object, with
``{{ params.x }}`` inside it read from the execution input; ``qualifier``, ``invocation_type`` and
``client_context`` are carried. The function's result is not kept (no XCom in a state machine).
"""

from __future__ import annotations

import json
from typing import Any

from airflow_sfn_etl.asl.context import AslContext
from airflow_sfn_etl.asl.errors import AslCompileError
from airflow_sfn_etl.asl.fragments.common import single, task_state
from airflow_sfn_etl.asl.ir import Fragment


def lambda_invoke(op: Any, ctx: AslContext) -> Fragment:
    """LambdaInvokeFunctionOperator -> ``lambda:invoke`` with FunctionName, Payload and the options."""
    params: dict[str, Any] = {}
    ctx.put(params, "FunctionName", "function_name", op.function_name)
    payload = getattr(op, "payload", None)
    if payload is not None:
        text = payload.decode() if isinstance(payload, bytes) else payload
        try:
            document = json.loads(text)
        except (TypeError, ValueError):
            raise AslCompileError(
                f"Task '{ctx.task_id}': payload={text!r} is not JSON text; the lambda:invoke state sends a JSON "
                "Payload. Give the payload as json.dumps(...) of the event."
            ) from None
        mapped = ctx.template("payload", document)
        if isinstance(document, dict):
            params["Payload"] = mapped
        elif isinstance(document, list):
            params["Payload"] = mapped
        else:
            ctx.put(params, "Payload", "payload", document)
    for attr, key in (("qualifier", "Qualifier"), ("invocation_type", "InvocationType"),
                      ("client_context", "ClientContext")):
        value = getattr(op, attr, None)
        if value:
            ctx.put(params, key, attr, value)
    return single(ctx, task_state(ctx, "arn:aws:states:::lambda:invoke", params))
