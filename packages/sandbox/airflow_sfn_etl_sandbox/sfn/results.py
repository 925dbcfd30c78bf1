"""Make boto3 answers JSON-safe the way Step Functions renders them in task results.

boto3 parses timestamps into ``datetime`` objects; Step Functions passes JSON between states.
AWS renders timestamps differently per integration kind:

- optimized integrations (``arn:aws:states:::glue:startJobRun.sync``, Athena, DataBrew) give
  epoch milliseconds (``"StartedOn": 1617302275347``), see :func:`epoch_millis`;
- AWS SDK integrations (``arn:aws:states:::aws-sdk:glue:getCrawler``) give ISO-8601 strings
  (``"CreationTime": "2024-05-01T10:00:00Z"``), see :func:`iso_timestamps`.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any


def _walk(value: Any, convert: Callable[[datetime.datetime], Any]) -> Any:
    if isinstance(value, dict):
        return {key: _walk(item, convert) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_walk(item, convert) for item in value]
    if isinstance(value, datetime.datetime):
        return convert(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def _utc(value: datetime.datetime) -> datetime.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=datetime.timezone.utc)
    return value.astimezone(datetime.timezone.utc)


def _to_millis(value: datetime.datetime) -> int:
    return int(round(_utc(value).timestamp() * 1000))


def _to_iso(value: datetime.datetime) -> str:
    value = _utc(value)
    spec = "milliseconds" if value.microsecond else "seconds"
    return value.isoformat(timespec=spec).replace("+00:00", "Z")


def epoch_millis(value: Any) -> Any:
    """A copy of ``value`` with every datetime as epoch milliseconds (optimized integrations)."""
    return _walk(value, _to_millis)


def iso_timestamps(value: Any) -> Any:
    """A copy of ``value`` with every datetime as an ISO-8601 UTC string (AWS SDK integrations)."""
    return _walk(value, _to_iso)


def compact_json(value: Any) -> str:
    """``value`` as compact JSON (the form AWS uses for a failed task's ``cause``)."""
    return json.dumps(epoch_millis(value), separators=(",", ":"))
