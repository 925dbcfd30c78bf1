"""``GetExecutionHistory`` with the request fields AWS documents and moto ignores.

moto answers every event, oldest first, whatever the request asks. AWS documents
(API_GetExecutionHistory):

- ``reverseOrder``: the events newest first;
- ``includeExecutionData`` (default true): false leaves out the execution data, the ``input`` and
  ``output`` of the events (with their ``inputDetails`` / ``outputDetails``);
- ``maxResults`` (default 100, at most 1000, 0 means the default) with ``nextToken``: one page,
  and a token for the next while more events remain; a token that is not one of this execution's
  answers fails with ``InvalidToken`` (HTTP 400).

A token names the id of the next event to answer, so pages stay right while a running execution
adds events. The JSON text of a task's ``parameters`` and ``output`` is compact, as AWS writes it
(``{"TopicArn":"arn:...","Message":"done"}``; moto puts a space after each ``:`` and ``,``).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from ..aws import AwsError

#: Page size when ``maxResults`` is absent or 0, and the largest one allowed.
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
#: (details key, field) of the task events whose JSON text AWS writes compact.
TASK_JSON_FIELDS = (("taskScheduledEventDetails", "parameters"), ("taskSubmittedEventDetails", "output"),
                    ("taskSucceededEventDetails", "output"))
#: Keys of an event's details that hold execution data.
EXECUTION_DATA_KEYS = ("input", "inputDetails", "output", "outputDetails")


def _token(execution_arn: str, next_id: int, reverse: bool) -> str:
    raw = json.dumps({"arn": execution_arn, "next": next_id, "reverse": reverse}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _next_id(token: str, execution_arn: str, reverse: bool) -> int:
    """The event id a ``nextToken`` of this execution and order points at, or ``InvalidToken``."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        next_id = int(data["next"])
        same = data["arn"] == execution_arn and bool(data["reverse"]) == reverse
    except (ValueError, TypeError, KeyError, binascii.Error) as err:
        raise AwsError("InvalidToken", f"Invalid Token: '{token}'") from err
    if not same:
        raise AwsError("InvalidToken", f"Invalid Token: '{token}': it was given for another execution or "
                                       "order; keep the other arguments unchanged")
    return next_id


def page_size(max_results: Any) -> int:
    """``maxResults`` as AWS reads it (0 or absent: 100), or ``ValidationException`` past 1000."""
    size = int(max_results or 0)
    if size < 0 or size > MAX_PAGE_SIZE:
        raise AwsError("ValidationException",
                       f"1 validation error detected: Value '{size}' at 'maxResults' failed to satisfy "
                       f"constraint: Member must have value less than or equal to {MAX_PAGE_SIZE}")
    return size or DEFAULT_PAGE_SIZE


def without_execution_data(event: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``event`` whose details lack the input and output (``includeExecutionData`` false)."""
    out = dict(event)
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            out[key] = {k: v for k, v in value.items() if k not in EXECUTION_DATA_KEYS}
    return out


def compact_task_json(event: dict[str, Any]) -> dict[str, Any]:
    """``event`` with the JSON text of its task parameters or output written compact."""
    for key, field in TASK_JSON_FIELDS:
        details = event.get(key)
        if isinstance(details, dict) and isinstance(details.get(field), str):
            try:
                value = json.loads(details[field])
            except ValueError:
                continue
            event = {**event, key: {**details, field: json.dumps(value, separators=(",", ":"), ensure_ascii=False)}}
    return event


def history_page(events: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """The answer to GetExecutionHistory ``params`` for an execution's ``events`` (oldest first)."""
    execution_arn = str(params.get("executionArn", ""))
    reverse = bool(params.get("reverseOrder", False))
    size = page_size(params.get("maxResults"))
    ordered = sorted((compact_task_json(e) for e in events), key=lambda e: int(e["id"]), reverse=reverse)
    token = params.get("nextToken")
    if token:
        start = _next_id(str(token), execution_arn, reverse)
        ordered = [e for e in ordered if (int(e["id"]) <= start if reverse else int(e["id"]) >= start)]
    page = ordered[:size]
    if params.get("includeExecutionData", True) is False:
        page = [without_execution_data(e) for e in page]
    answer: dict[str, Any] = {"events": page}
    if len(ordered) > size:
        answer["nextToken"] = _token(execution_arn, int(ordered[size]["id"]), reverse)
    return answer
