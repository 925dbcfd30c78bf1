"""Which sandbox handler answers which AWS operation.

A service module registers a handler with ``@route("glue", "StartJobRun")``. The handler gets
the decoded :class:`~.aws.Call` and returns the answer (a dict, rendered as JSON, or a
``(status, headers, body)`` tuple), or :data:`FORWARD` to let moto answer; it may also call
:meth:`~.aws.Call.forward` to post-process moto's answer. Operations without a handler go to
moto unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .aws import Call

Handler = Callable[[Call], Any]
FORWARD = object()  #: a handler's answer meaning "let moto answer this call"

_ROUTES: dict[tuple[str, str], Handler] = {}


def route(service: str, *operations: str) -> Callable[[Handler], Handler]:
    """Register a handler for botocore ``service`` (e.g. ``glue``) and operation names."""

    def register(fn: Handler) -> Handler:
        for op in operations:
            _ROUTES[(service, op)] = fn
        return fn

    return register


def handler_for(service: str, operation: str) -> Handler | None:
    """The handler registered for ``service``/``operation``, or None (moto answers)."""
    return _ROUTES.get((service, operation))
