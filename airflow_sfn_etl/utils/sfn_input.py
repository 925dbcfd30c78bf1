"""Execution input of a state machine: the DAG run's params as plain JSON values."""

from __future__ import annotations

import json
from typing import Any

from airflow.providers.common.compat.sdk import AirflowException


def plain_params(context: Any) -> dict[str, Any]:
    """The DAG run's params (``context["params"]``) as a plain JSON-serializable dict."""
    params = context.get("params") if hasattr(context, "get") else None
    if params is None:
        return {}
    dump = getattr(params, "dump", None)
    values = dump() if callable(dump) else dict(params)
    out: dict[str, Any] = {}
    for key in sorted(values):
        value = values[key]
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            raise AirflowException(
                f"DAG param '{key}' ({type(value).__name__}) is not JSON-serializable, so it cannot be "
                "passed as execution input; give it a JSON value or pass input explicitly"
            ) from None
        out[str(key)] = value
    return out
