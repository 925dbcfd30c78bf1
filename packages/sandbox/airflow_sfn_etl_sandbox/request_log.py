"""The per-request log: one line per AWS call, ``service operation -> status (ms)``.

Off by default. Turn it on with the environment variable ``SFN_ETL_SANDBOX_REQUEST_LOG=1`` (read
when the sandbox starts) or, on a running sandbox, with ``POST /_sandbox/log {"requests": true}``
(``false`` turns it off; ``GET /_sandbox/log`` tells). Lines go to the logger
``airflow_sfn_etl_sandbox.requests`` at INFO, e.g. ``glue GetJobRun -> 200 (2.4 ms)``; the time is
the sandbox's, from the decoded request to the answer, faults included. When nothing in the
process configured logging, the lines go to stderr.

Unsigned requests (moto's dashboard, the admin endpoints) are not logged; for moto's own access
log line per HTTP request see ``SFN_ETL_SANDBOX_ACCESS_LOG`` in :mod:`.server`.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping
from typing import Any

from .admin import admin_route, json_answer
from .aws import Call, Response

ENV_VAR = "SFN_ETL_SANDBOX_REQUEST_LOG"
LOG = logging.getLogger("airflow_sfn_etl_sandbox.requests")

_switches = {"requests": False}


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
    """Log one answered AWS call, if the per-request log is on."""
    if _switches["requests"]:
        LOG.info("%s %s -> %d (%.1f ms)", call.service, call.operation or "?", status, seconds * 1000)


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
