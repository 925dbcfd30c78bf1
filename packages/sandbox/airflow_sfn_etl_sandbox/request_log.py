"""The per-request log: one line per AWS call, ``service operation -> status (ms)``.

Off by default. Turn it on with the environment variable ``SFN_ETL_SANDBOX_REQUEST_LOG=1`` (read
when the sandbox starts) or, on a running sandbox, with ``POST /_sandbox/log {"requests": true}``
(``false`` turns it off; ``GET /_sandbox/log`` tells). Lines go to the logger
``airflow_sfn_etl_sandbox.requests`` at INFO, e.g. ``glue GetJobRun -> 200 (2.4 ms)``; the time is
the sandbox's, from the decoded request to the answer, faults included. When nothing in the
process configured logging, the lines go to stderr.

Unsigned requests (moto's dashboard, the admin endpoints) are not logged; for moto's own access
log line per HTTP request see ``SFN_ETL_SANDBOX_ACCESS_LOG`` in :mod:`.server`.

The call record keeps each answered AWS call with what it names, for tests that compare the calls a
state machine made with its execution role's policy: ``POST /_sandbox/calls {"recording": true}``
empties it and starts recording, ``GET /_sandbox/calls`` answers ``{"recording": bool, "calls": [...]}``
(each ``{"service", "operation", "status", "region", "access_key", "method", "path", "query", "params",
"headers", "body"}``: the HTTP request line, the decoded parameters, the request's ``x-amz-*``
headers such as ``x-amz-copy-source``, and an XML body such as S3 DeleteObjects' keys), ``DELETE`` empties it.
moto's Step Functions interpreter makes its service calls over HTTP to the sandbox with the access key
``ak``, so they are recorded as the calls of the state machine. ``operation`` is the decoder's name,
which for S3 follows the method and path only (a PutObject is named ``CopyObject``); read S3 calls by
``method``, ``query`` and the ``x-amz-copy-source`` header.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
from collections.abc import Mapping
from typing import Any

from .admin import admin_route, json_answer
from .aws import Call, Response

ENV_VAR = "SFN_ETL_SANDBOX_REQUEST_LOG"
LOG = logging.getLogger("airflow_sfn_etl_sandbox.requests")

_switches = {"requests": False}
#: The call record (off unless switched on); at most :data:`MAX_CALLS` calls are kept.
MAX_CALLS = 20000
_calls: list[dict[str, Any]] = []
_recording = {"on": False}
_calls_lock = threading.Lock()
_ACCESS_KEY = re.compile(r"Credential=([^/]+)/")
#: Headers not kept in the record (signing and transport).
_SKIPPED_HEADERS = frozenset({"x-amz-date", "x-amz-content-sha256", "x-amz-security-token", "x-amz-user-agent"})


def enabled() -> bool:
    return _switches["requests"]


def set_enabled(on: bool) -> None:
    """Turn the per-request log on or off."""
    _switches["requests"] = bool(on)
    if on:
        LOG.setLevel(logging.INFO)
        if not LOG.handlers and not logging.getLogger().handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
            LOG.addHandler(handler)


def configure_from_env(environ: Mapping[str, str] = os.environ) -> None:
    """Apply :data:`ENV_VAR` (``1``, ``true``, ``yes`` or ``on`` turn the log on)."""
    set_enabled(environ.get(ENV_VAR, "").strip().lower() in ("1", "true", "yes", "on"))


def record(call: Call, status: int, seconds: float) -> None:
    """Log one answered AWS call, if the per-request log is on; keep it, if the call record is on."""
    if _switches["requests"]:
        LOG.info("%s %s -> %d (%.1f ms)", call.service, call.operation or "?", status, seconds * 1000)
    if _recording["on"]:
        _keep(call, status)


def _keep(call: Call, status: int) -> None:
    key = _ACCESS_KEY.search(call.environ.get("HTTP_AUTHORIZATION", ""))
    headers = {
        name[5:].lower().replace("_", "-"): str(value)
        for name, value in call.environ.items()
        if name.startswith("HTTP_X_AMZ_")
    }
    entry = {
        "service": call.service,
        "operation": call.operation,
        "status": status,
        "region": call.region,
        "access_key": key.group(1) if key else None,
        "method": call.environ.get("REQUEST_METHOD", ""),
        "path": call.environ.get("PATH_INFO", ""),
        "query": call.environ.get("QUERY_STRING", ""),
        "params": json.loads(json.dumps(call.params, default=_text)),
        "headers": {k: v for k, v in headers.items() if k not in _SKIPPED_HEADERS},
        # An XML request body (e.g. S3 DeleteObjects' keys), whose members are not in ``params``.
        "body": _xml_body(call),
    }
    with _calls_lock:
        if len(_calls) < MAX_CALLS:
            _calls.append(entry)


def _xml_body(call: Call) -> str | None:
    if not call.body or len(call.body) > 65536 or not call.body.lstrip().startswith(b"<"):
        return None
    try:
        return call.body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value)


def recorded_calls() -> list[dict[str, Any]]:
    """The calls kept since the record was started or emptied."""
    with _calls_lock:
        return list(_calls)


def set_recording(on: bool) -> None:
    """Start (emptying the record) or stop keeping calls."""
    with _calls_lock:
        if on:
            _calls.clear()
        _recording["on"] = bool(on)


@admin_route("log")
def _log_admin(method: str, query: dict[str, Any], body: bytes) -> Response:
    """``/_sandbox/log``: GET answers the switches, POST ``{"requests": bool}`` sets them."""
    if method == "POST":
        try:
            wanted = json.loads(body or b"{}")
        except ValueError as exc:
            return json_answer(400, {"error": f"the body is not JSON: {exc}"})
        if not isinstance(wanted, dict) or not isinstance(wanted.get("requests"), bool):
            return json_answer(400, {"error": 'send {"requests": true} or {"requests": false}'})
        set_enabled(wanted["requests"])
    elif method != "GET":
        return json_answer(405, {"error": "use GET or POST"})
    return json_answer(200, dict(_switches))


@admin_route("calls")
def _calls_admin(method: str, query: dict[str, Any], body: bytes) -> Response:
    """``/_sandbox/calls``: GET answers the record, POST ``{"recording": bool}`` starts or stops it,
    DELETE empties it."""
    if method == "POST":
        try:
            wanted = json.loads(body or b"{}")
        except ValueError as exc:
            return json_answer(400, {"error": f"the body is not JSON: {exc}"})
        if not isinstance(wanted, dict) or not isinstance(wanted.get("recording"), bool):
            return json_answer(400, {"error": 'send {"recording": true} or {"recording": false}'})
        set_recording(wanted["recording"])
        return json_answer(200, {"recording": _recording["on"]})
    if method == "DELETE":
        with _calls_lock:
            _calls.clear()
        return json_answer(200, {})
    if method != "GET":
        return json_answer(405, {"error": "use GET, POST or DELETE"})
    return json_answer(200, {"recording": _recording["on"], "calls": recorded_calls()})
