"""AWS API calls as the sandbox sees them: decoding a request, rendering an answer or an error.

Every signed request is decoded into a :class:`Call` (service, region, account, operation,
params) with botocore's service models, whatever the protocol (JSON, query, REST-JSON,
REST-XML). Answers are rendered as AWS renders them: :func:`json_response`, and
:func:`error_response` for an :class:`AwsError` in the call's protocol. This module knows
nothing about which handler answers a call (:mod:`.routes`) nor about the WSGI server
(:mod:`.app`).
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import parse_qs

import botocore.session
from moto.core import DEFAULT_ACCOUNT_ID

#: The credential-scope name of a service -> its botocore service name.
SIGNING_TO_SERVICE = {"states": "stepfunctions"}
DEFAULT_REGION = "us-east-1"

Response = tuple[int, dict[str, str], bytes]  #: (HTTP status, headers, body)


class AwsError(Exception):
    """An AWS error answer: ``code`` (e.g. ``EntityNotFoundException``), message, HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@cache
def service_model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


@cache
def _rest_matchers(service: str) -> list[tuple[str, re.Pattern[str], str, int]]:
    """(method, path regex, operation, literal length) for a REST service, most specific first."""
    model = service_model(service)
    out = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = http["requestUri"].split("?")[0]
        pattern = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(uri))
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
        literal = len(re.sub(r"\{[^}]*\}", "", uri))
        out.append((http["method"], re.compile("^" + pattern.rstrip("/") + "/?$"), name, literal))
    out.sort(key=lambda m: -m[3])
    return out


@dataclass
class Call:
    """One decoded AWS API call."""

    service: str
    operation: str
    region: str
    account_id: str
    params: dict[str, Any]
    environ: dict[str, Any]
    body: bytes
    path_params: dict[str, str] = field(default_factory=dict)
    _forward: Callable[[bytes | None], Response] | None = None

    @property
    def protocol(self) -> str:
        return service_model(self.service).metadata["protocol"]

    def forward(self, body: bytes | None = None) -> Response:
        """Let moto answer this call; returns (status, headers, body).

        :param body: a rewritten request body to send instead of the original one.
        """
        assert self._forward is not None
        return self._forward(body)

    def forward_json(self, body: bytes | None = None) -> dict[str, Any]:
        """Let moto answer a JSON-protocol call and return the decoded answer (raises on error).

        :param body: a rewritten request body to send instead of the original one.
        """
        status, headers, body = self.forward(body)
        data = json.loads(body or b"{}")
        if status >= 400:
            code = headers.get("x-amzn-ErrorType", data.get("__type", "InternalFailure"))
            raise AwsError(code.split(":")[0].split("#")[-1], data.get("message") or data.get("Message", ""), status)
        return data


def _service_region(environ: dict[str, Any]) -> tuple[str | None, str]:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    m = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request", auth)
    if not m:
        return None, DEFAULT_REGION
    region, signing = m.group(1), m.group(2)
    return SIGNING_TO_SERVICE.get(signing, signing), region


def decode(environ: dict[str, Any], body: bytes) -> Call | None:
    """Decode a WSGI request into a :class:`Call`, or None when it is not a signed AWS call."""
    service, region = _service_region(environ)
    if service is None:
        return None
    try:
        protocol = service_model(service).metadata["protocol"]
    except Exception:  # an AWS service botocore does not know: moto's business
        return None
    params: dict[str, Any] = {}
    path_params: dict[str, str] = {}
    operation = ""
    if protocol == "json":
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        operation = target.split(".")[-1]
        params = json.loads(body or b"{}")
    elif protocol == "query":
        form = parse_qs(body.decode() if body else environ.get("QUERY_STRING", ""))
        params = {k: v[0] for k, v in form.items()}
        operation = params.get("Action", "")
    else:  # rest-json / rest-xml
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        for m_method, rx, name, _ in _rest_matchers(service):
            if m_method == method:
                hit = rx.match(path.rstrip("/") or "/")
                if hit:
                    operation, path_params = name, hit.groupdict()
                    break
        if protocol == "rest-json" and body and not _body_is_payload(service, operation):
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = {}
            params = parsed if isinstance(parsed, dict) else {}
        query = parse_qs(environ.get("QUERY_STRING", ""))
        params.update({k: v[0] for k, v in query.items() if k not in params})
        params.update(path_params)
    return Call(service, operation, region, DEFAULT_ACCOUNT_ID, params, environ, body, path_params)


def _body_is_payload(service: str, operation: str) -> bool:
    """Whether the operation's body is one member as it is (Lambda Invoke's ``Payload``), not JSON params."""
    if not operation:
        return False
    shape = service_model(service).operation_model(operation).input_shape
    return bool(shape is not None and shape.serialization.get("payload"))


def error_response(call: Call | None, err: AwsError) -> Response:
    """Render an AWS error in the call's protocol."""
    protocol = call.protocol if call else "json"
    request_id = str(uuid.uuid4())
    if protocol in ("json", "rest-json"):
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": err.code,
                   "x-amzn-RequestId": request_id}
        return err.status, headers, json.dumps({"__type": err.code, "message": err.message}).encode()
    if protocol == "query":
        kind = "Receiver" if err.status >= 500 else "Sender"
        xml = (f"<ErrorResponse><Error><Type>{kind}</Type><Code>{err.code}</Code>"
               f"<Message>{_xml_escape(err.message)}</Message></Error>"
               f"<RequestId>{request_id}</RequestId></ErrorResponse>")
        return err.status, {"Content-Type": "text/xml"}, xml.encode()
    xml = (f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{err.code}</Code>"
           f"<Message>{_xml_escape(err.message)}</Message><RequestId>{request_id}</RequestId></Error>")
    return err.status, {"Content-Type": "application/xml"}, xml.encode()


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def paged(items: list[Any], key: str, next_token: Any, max_results: Any, default_limit: int = 100) -> dict[str, Any]:
    """One page of ``items`` under ``key``, with a ``NextToken`` (an offset) while more remain."""
    start = int(next_token or 0)
    limit = int(max_results or default_limit)
    out: dict[str, Any] = {key: items[start:start + limit]}
    if start + limit < len(items):
        out["NextToken"] = str(start + limit)
    return out


def json_response(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, default=_json_default).encode()
    return status, {"Content-Type": "application/x-amz-json-1.1",
                    "x-amzn-RequestId": str(uuid.uuid4())}, body


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
