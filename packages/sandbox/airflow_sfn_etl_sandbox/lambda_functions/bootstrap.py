"""Runs one Lambda invocation in its own process: ``python bootstrap.py <invocation.json>``.

A standalone script (it imports nothing from the sandbox): the sandbox's Python runtime
(:mod:`.python_runtime`) writes the invocation file, starts this script with the function's code
directory as working directory and its environment, and reads the result file it writes.

The invocation file holds ``handler`` (``module.function``), ``event_path``, ``result_path`` and
the context's fields. As Lambda's Python runtime does, the handler's module is imported from the
code directory, the root logger writes ``[LEVEL]\\t<time>\\t<request id>\\t<message>`` lines to
stdout, and an exception becomes the error object ``{"errorMessage", "errorType", "requestId",
"stackTrace"}`` (logged as ``[ERROR] Type: message`` with the traceback). The result file holds
``{"payload": <JSON text>}`` (``payload_base64`` for a ``bytes`` answer) or ``{"error": {...}}`` and ``max_rss_kb``.
"""

from __future__ import annotations

import base64
import decimal
import importlib
import json
import logging
import os
import resource
import sys
import time
import traceback
from typing import Any

_LOG_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s"


class LambdaContext:
    """The context object a Python handler gets, with the attributes Lambda documents."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.function_name: str = spec["function_name"]
        self.function_version: str = spec["function_version"]
        self.invoked_function_arn: str = spec["invoked_function_arn"]
        self.memory_limit_in_mb: int = int(spec["memory_limit_in_mb"])
        self.aws_request_id: str = spec["aws_request_id"]
        self.log_group_name: str = spec["log_group_name"]
        self.log_stream_name: str = spec["log_stream_name"]
        self.identity: Any = None
        self.client_context: Any = spec.get("client_context")
        self.tenant_id: Any = None
        self._deadline_ms: int = int(spec["deadline_ms"])

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, msg: str) -> None:
        sys.stdout.write(msg)
        sys.stdout.flush()


class _Fault(Exception):
    """An error of the runtime itself (bad handler, import failure), with Lambda's error type."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type, self.message, self.trace = error_type, message, trace or []


def _load_handler(handler: str) -> Any:
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as exc:
        raise _Fault("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {exc}") from None
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise _Fault("Runtime.BuiltInModuleConflict",
                         f"Cannot use built-in module {modname} as a handler module")
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as exc:
        raise _Fault("Runtime.ImportModuleError", f"Unable to import module '{modname}': {exc}") from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise _Fault("Runtime.UserCodeSyntaxError", f"Syntax error in module '{modname}': {exc}",
                     trace) from None
    try:
        return getattr(module, fname)
    except AttributeError:
        raise _Fault("Runtime.HandlerNotFound", f"Handler '{fname}' missing on module '{modname}'") from None


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _log_error(error: dict[str, Any]) -> None:
    """``[ERROR] Type: message`` and the traceback, as one log event (lines joined by CR)."""
    head = "[ERROR]"
    if error.get("errorType"):
        head += " " + error["errorType"] + (":" if error.get("errorMessage") else "")
    if error.get("errorMessage"):
        head += " " + error["errorMessage"]
    lines = [head, "Traceback (most recent call last):"]
    for element in error.get("stackTrace") or []:
        lines += element.splitlines() if element else [""]
    sys.stdout.write("\r".join(lines) + "\n")
    sys.stdout.flush()


def _max_rss_kb() -> int:
    """Peak resident memory of this process (``VmHWM``; ``ru_maxrss`` may count the parent's)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def main(invocation_path: str) -> int:
    with open(invocation_path, encoding="utf-8") as fh:
        spec = json.load(fh)
    request_id = spec["aws_request_id"]

    logging.Formatter.converter = time.gmtime
    root = logging.getLogger()
    log_handler = logging.StreamHandler(sys.stdout)
    log_handler.setFormatter(logging.Formatter(_LOG_FORMAT, "%Y-%m-%dT%H:%M:%S"))

    class _RequestId(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            record.aws_request_id = request_id
            return True

    log_handler.addFilter(_RequestId())
    root.addHandler(log_handler)
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    if level in logging._nameToLevel:
        root.setLevel(level)

    outcome: dict[str, Any]
    try:
        handler = _load_handler(spec["handler"])
        with open(spec["event_path"], encoding="utf-8") as fh:
            event = json.load(fh)
        result = handler(event, LambdaContext(spec))
        if isinstance(result, bytes):  # answered as it is, as Lambda does
            outcome = {"payload_base64": base64.b64encode(result).decode()}
        else:
            try:
                outcome = {"payload": json.dumps(result, default=_json_default)}
            except (TypeError, ValueError) as exc:
                raise _Fault("Runtime.MarshalError", f"Unable to marshal response: {exc}") from None
    except _Fault as fault:
        outcome = {"error": {"errorMessage": fault.message, "errorType": fault.error_type,
                             "requestId": request_id, "stackTrace": fault.trace}}
    except Exception as exc:  # noqa: BLE001  (the handler's error goes back to the caller)
        frames = traceback.extract_tb(exc.__traceback__)
        frames = traceback.StackSummary.from_list([f for f in frames if f.filename != __file__])
        outcome = {"error": {"errorMessage": str(exc), "errorType": type(exc).__name__,
                             "requestId": request_id, "stackTrace": traceback.format_list(frames)}}
    if "error" in outcome:
        _log_error(outcome["error"])
    sys.stdout.flush()
    sys.stderr.flush()
    outcome["max_rss_kb"] = _max_rss_kb()
    with open(spec["result_path"], "w", encoding="utf-8") as fh:
        json.dump(outcome, fh)
    return 0


if __name__ == "__main__":
    # The code directory (the working directory) comes first on the path, not this script's.
    sys.path[0] = os.getcwd()
    sys.exit(main(sys.argv[1]))
