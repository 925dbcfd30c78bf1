"""The sandbox's admin endpoints: ``/_sandbox/<name>``, to steer and look inside a running sandbox.

They are plain HTTP (no AWS signature) on the sandbox's endpoint URL, answer JSON, and are
served before any AWS call is decoded. :class:`~.client.SandboxClient` wraps them for Python;
``docs/sandbox-admin.md`` has a curl example for each.

``GET /_sandbox/faults``
    The fault rules: ``{"call_rules": [...], "run_rules": [...], "injected": n}`` (``injected``
    counts the faults fired since the last clear).
``POST /_sandbox/faults`` with a rule as body
    Adds a fault rule (:mod:`.faults` describes the kinds) and answers it with its ``id``;
    HTTP 400 ``{"error": ...}`` when the rule is invalid.
``DELETE /_sandbox/faults``
    Removes every rule and zeroes ``injected``; answers ``{}``.
``POST /_sandbox/reset``
    Forgets everything: moto's state, the sandbox's runs (crawls, job runs, queries) and the fault
    rules; answers ``{}`` (HTTP 405 for another method).
``GET /_sandbox/sns/messages?topic=<ARN or name>[&region=us-east-1]``
    The messages published to a topic, oldest first: ``{"topic_arn": ..., "messages": [{"message_id",
    "message", "subject", "message_attributes", "group_id", "timestamp"}]}``; without ``topic``,
    every topic's: ``{"topics": {arn: [...]}}``. HTTP 404 for an unknown topic, 405 for another method.
``GET /_sandbox/log``
    The log switches: ``{"requests": false}``.
``POST /_sandbox/log`` with ``{"requests": true}``
    Turns the per-request log on (or off with ``false``): each AWS call is logged as
    ``service operation -> status (ms)`` (:mod:`.request_log`); answers the switches. The
    environment variable ``SFN_ETL_SANDBOX_REQUEST_LOG=1`` turns it on when the sandbox starts.

``GET /_sandbox/calls``, ``POST`` ``{"recording": bool}``, ``DELETE``
    The call record (:mod:`.request_log`): each answered AWS call with its parameters, method, path,
    query, ``x-amz-*`` headers and XML body, while recording is on.

An unknown name answers HTTP 404 ``{"error": "no sandbox admin endpoint ...; known: [...]"}``.
moto's own ``/moto-api/`` endpoints (e.g. ``POST /moto-api/reset``, moto's state only) are
served by moto unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from .aws import Response

#: (method, query with ``_path`` and ``_method`` added, body) -> response.
AdminHandler = Callable[[str, dict[str, Any], bytes], Response]
ADMIN_PREFIX = "/_sandbox/"

_ADMIN: dict[str, AdminHandler] = {}


def admin_route(name: str) -> Callable[[AdminHandler], AdminHandler]:
    """Register a sandbox admin endpoint ``/_sandbox/<name>[/...]``."""

    def register(fn: AdminHandler) -> AdminHandler:
        _ADMIN[name] = fn
        return fn

    return register


def json_answer(status: int, data: Any) -> Response:
    """An admin answer: ``data`` as JSON."""
    return status, {"Content-Type": "application/json"}, json.dumps(data, default=str).encode()


def is_admin(path: str) -> bool:
    return path.startswith(ADMIN_PREFIX)


def handle(environ: dict[str, Any], body: bytes) -> Response:
    """Answer an admin request (its path starts with :data:`ADMIN_PREFIX`)."""
    name = environ.get("PATH_INFO", "")[len(ADMIN_PREFIX):].strip("/")
    handler = _ADMIN.get(name.split("/")[0])
    if handler is None:
        return json_answer(404, {"error": f"no sandbox admin endpoint {name!r}; known: {sorted(_ADMIN)}"})
    method = environ.get("REQUEST_METHOD", "GET")
    query: dict[str, Any] = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    query["_path"] = name
    query["_method"] = method
    return handler(method, query, body)
