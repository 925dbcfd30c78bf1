"""The sandbox's WSGI layer: routes AWS API calls to sandbox handlers, or on to moto.

A request under ``/_sandbox/`` goes to an admin endpoint (:mod:`.admin`). Any other request is
decoded into a :class:`~.aws.Call` (:func:`~.aws.decode`); an unsigned one goes to moto as it is.
For a call, fault injection (:mod:`.faults`) runs first, then the handler registered for its
service and operation (:mod:`.routes`) answers it, or moto does. Each answered call can be
logged (:mod:`.request_log`).
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from . import admin, faults, request_log
from .aws import AwsError, Call, Response, decode, error_response, json_response
from .routes import FORWARD, handler_for

__all__ = ["SandboxApp", "decode"]


class SandboxApp:
    """WSGI middleware in front of moto's dispatcher."""

    def __init__(self, moto_app: Callable[..., Iterable[bytes]]) -> None:
        self.moto_app = moto_app
        self.lock = threading.RLock()

    def _call_moto(self, environ: dict[str, Any], body: bytes) -> Response:
        env = dict(environ)
        env["wsgi.input"] = io.BytesIO(body)
        env["CONTENT_LENGTH"] = str(len(body))
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured["status"] = int(status.split()[0])
            captured["headers"] = dict(headers)

        chunks = self.moto_app(env, start_response)
        try:
            data = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        return captured["status"], captured["headers"], data

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        status, headers, data = self.handle(environ, body)
        resource_length = next((v for k, v in headers.items() if k.lower() == "content-length"), None)
        headers = {k: v for k, v in headers.items() if k.lower() not in ("content-length", "transfer-encoding")}
        if environ.get("REQUEST_METHOD") == "HEAD" and resource_length is not None:
            # HEAD has no body: the length is the resource's (S3 HeadObject)
            headers["Content-Length"] = resource_length
        else:
            headers["Content-Length"] = str(len(data))
        start_response(f"{status} {_reason(status)}", list(headers.items()))
        return [data]

    def handle(self, environ: dict[str, Any], body: bytes) -> Response:
        if admin.is_admin(environ.get("PATH_INFO", "")):
            return admin.handle(environ, body)
        began = time.perf_counter()
        call = decode(environ, body)
        if call is None:
            return self._call_moto(environ, body)
        call._forward = lambda new_body=None: self._call_moto(
            environ, body if new_body is None else new_body)
        response = self._answer(call, environ, body)
        request_log.record(call, response[0], time.perf_counter() - began)
        return response

    def _answer(self, call: Call, environ: dict[str, Any], body: bytes) -> Response:
        try:
            faults.before_call(call)
            handler = handler_for(call.service, call.operation)
            if handler is None:
                response = self._call_moto(environ, body)
            else:
                result = handler(call)
                if result is FORWARD:
                    response = self._call_moto(environ, body)
                elif isinstance(result, tuple):
                    response = result
                else:
                    response = json_response(result)
            if response[0] < 400:
                faults.after_call(call)  # the call ran; an "after" fault loses its response
            return response
        except AwsError as err:
            return error_response(call, err)


def _reason(status: int) -> str:
    """The HTTP reason phrase of ``status`` (e.g. 412 Precondition Failed, 206 Partial Content)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "OK" if status < 400 else "Error"
