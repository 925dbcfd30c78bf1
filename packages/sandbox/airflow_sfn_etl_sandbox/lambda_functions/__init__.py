"""Lambda: functions stay moto's (CreateFunction, versions, aliases, code); ``Invoke`` runs here.

moto runs a function only in Docker. The sandbox answers ``Invoke`` (and the deprecated
``InvokeAsync``) itself for ``python3.x`` functions packaged as a zip (:mod:`.python_runtime`):

- ``RequestResponse``: 200, ``Payload`` the handler's return value as JSON, ``ExecutedVersion``;
  an error in the function: ``X-Amz-Function-Error: Unhandled`` and the error object as payload
  (the function's ``Timeout``: ``Sandbox.Timedout``, ``Task timed out after N.NN seconds``);
  ``LogType: Tail``: the last 4 KB of the log, base64, in ``X-Amz-Log-Result``;
- ``Event``: 202 at once, the function runs in the background;
- ``DryRun``: 204 once the function (and qualifier) is found.

A payload that is not JSON: 400 ``InvalidRequestContentException``, as AWS. A function this
runtime does not run (another runtime, a container image, layers): 502
``InvalidRuntimeException`` saying what is not emulated by the sandbox. Step Functions' Lambda
tasks call ``Invoke`` on the sandbox too, so they run here (:mod:`..sfn.lambda_invoke`).
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, unquote

from moto.core import DEFAULT_ACCOUNT_ID

from .. import runtime
from ..aws import AwsError, Call, Response
from ..routes import route
from . import python_runtime
from .python_runtime import Invocation, Outcome

__all__ = ["Invocation", "Outcome", "find_function", "check_emulated"]


def _backend(region: str, account_id: str = DEFAULT_ACCOUNT_ID) -> Any:
    from moto.awslambda.models import lambda_backends

    return lambda_backends[account_id][region]


def find_function(name: str, qualifier: str | None, region: str) -> Any:
    """moto's function (the version the qualifier names); AWS's error when there is none."""
    from moto.core.exceptions import JsonRESTError

    try:
        return _backend(region).get_function(name, qualifier or None)
    except JsonRESTError as err:
        raise AwsError(err.error_type, err.message, err.code) from None


def check_emulated(fn: Any) -> None:
    """Raise ``InvalidRuntimeException`` unless the sandbox's runtime can run ``fn``."""
    name = fn.function_name
    if getattr(fn, "package_type", "Zip") == "Image":
        raise AwsError("InvalidRuntimeException",
                       f"Function {name} is a container image (PackageType Image): container image "
                       "functions are not emulated by the sandbox (it runs python3.x zip functions)", 502)
    run_time = str(fn.run_time or "")
    if not run_time.startswith("python3."):
        raise AwsError("InvalidRuntimeException",
                       f"Runtime {run_time or '(none)'} of function {name} is not emulated by the sandbox "
                       "(it runs python3.x functions only)", 502)
    if getattr(fn, "layers", None):
        raise AwsError("InvalidRuntimeException",
                       f"Layers of function {name} are not emulated by the sandbox "
                       "(package the dependencies in the function's zip)", 502)


def _header(call: Call, name: str) -> str:
    return str(call.environ.get("HTTP_" + name.upper().replace("-", "_"), ""))


def _event(call: Call) -> bytes:
    body = call.body or b""
    if body.strip():
        try:
            json.loads(body)
        except ValueError as exc:
            raise AwsError("InvalidRequestContentException",
                           f"Could not parse request body into json: {exc}", 400) from None
    return body


def _invocation(call: Call, name: str, qualifier: str | None) -> Invocation:
    fn = find_function(name, qualifier, call.region)
    prefix = fn.function_arn.split(":function:")[0]
    invoked_arn = name if name.startswith("arn:") else f"{prefix}:function:{name}"
    if qualifier and invoked_arn.count(":") == 6:
        invoked_arn += f":{qualifier}"
    context_header = _header(call, "X-Amz-Client-Context")
    client_context = None
    if context_header:
        try:
            client_context = json.loads(base64.b64decode(context_header))
        except ValueError:
            raise AwsError("InvalidRequestContentException",
                           "Client context must be a base64-encoded JSON object", 400) from None
    return Invocation(function=fn, region=call.region, event=_event(call), invoked_arn=invoked_arn,
                      client_context=client_context)


def _run_in_background(inv: Invocation) -> None:
    runtime.submit(python_runtime.invoke, inv)


@route("lambda", "Invoke")
def invoke(call: Call) -> Response:
    name = unquote(call.path_params.get("FunctionName", ""))
    query = parse_qs(call.environ.get("QUERY_STRING", ""))
    qualifier = query.get("Qualifier", [None])[0]
    kind = _header(call, "X-Amz-Invocation-Type") or "RequestResponse"
    inv = _invocation(call, name, qualifier)
    headers = {"Content-Type": "application/json", "x-amzn-RequestId": inv.request_id}
    if kind == "DryRun":
        return 204, headers, b""
    check_emulated(inv.function)
    if kind == "Event":
        _run_in_background(inv)
        return 202, headers, b""
    outcome = python_runtime.invoke(inv)
    headers["X-Amz-Executed-Version"] = inv.version
    if outcome.error:
        headers["X-Amz-Function-Error"] = "Unhandled"
    if _header(call, "X-Amz-Log-Type") == "Tail":
        headers["X-Amz-Log-Result"] = outcome.tail()
    return 200, headers, outcome.payload


@route("lambda", "InvokeAsync")
def invoke_async(call: Call) -> Response:
    """The deprecated asynchronous invoke: the event runs in the background, ``{"Status": 202}``."""
    name = unquote(call.path_params.get("FunctionName", ""))
    inv = _invocation(call, name, None)
    check_emulated(inv.function)
    _run_in_background(inv)
    return 202, {"Content-Type": "application/json", "x-amzn-RequestId": inv.request_id}, b'{"Status": 202}'
