"""An in-process sandbox for the benchmark, with a per-operation AWS API call counter.

The counter wraps the sandbox's request decoder (:func:`airflow_sfn_etl_sandbox.app.decode`), so
every signed AWS call the sandbox answers is counted as ``(service, operation)``; admin calls are
not. Nothing in the sandbox changes behaviour.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from typing import Any

_lock = threading.Lock()
_counts: collections.Counter[tuple[str, str]] = collections.Counter()
_installed = False


def install_counter() -> None:
    """Count every AWS call the in-process sandbox decodes (idempotent)."""
    global _installed
    if _installed:
        return
    from airflow_sfn_etl_sandbox import app

    original = app.decode

    def counting_decode(environ: dict[str, Any], body: bytes) -> Any:
        call = original(environ, body)
        if call is not None:
            with _lock:
                _counts[(call.service, call.operation)] += 1
        return call

    app.decode = counting_decode  # type: ignore[assignment]
    _installed = True


def snapshot() -> collections.Counter[tuple[str, str]]:
    with _lock:
        return collections.Counter(_counts)


def calls_since(
    before: collections.Counter[tuple[str, str]], service: str | None = None, operation: str | None = None
) -> int:
    """Calls made since ``before`` (optionally of one service / operation)."""
    now = snapshot()
    return sum(
        n - before.get(key, 0)
        for key, n in now.items()
        if (service is None or key[0] == service) and (operation is None or key[1] == operation)
    )


@contextlib.contextmanager
def running_sandbox() -> Iterator[Any]:
    """Start an in-process sandbox with the call counter; point boto3 and aws_default at it."""
    from airflow_sfn_etl_sandbox import Sandbox

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    install_counter()
    saved = {
        k: os.environ.get(k)
        for k in (
            "AWS_ENDPOINT_URL",
            "AIRFLOW_CONN_AWS_DEFAULT",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_DEFAULT_REGION",
        )
    }
    with Sandbox() as sb:
        os.environ.update(sb.env())
        try:
            yield sb
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
