"""SNS: topics, publishing and SQS delivery stay moto's; the sandbox adds a readback endpoint.

``GET /_sandbox/sns/messages?topic=<arn or name>[&region=us-east-1]`` answers
``{"topic_arn": ..., "messages": [{"message_id", "message", "subject", "message_attributes",
"group_id", "timestamp"}]}`` in publish order; without ``topic`` it answers every topic's messages
(``{"topics": {arn: [...]}}``). Timestamps are recorded for messages published through the API.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID

from .admin import admin_route, json_answer
from .aws import DEFAULT_REGION, Call, Response
from .routes import route

_lock = threading.Lock()
_published_at: dict[str, float] = {}


def reset() -> None:
    with _lock:
        _published_at.clear()


def _backends(account_id: str = DEFAULT_ACCOUNT_ID) -> dict[str, Any]:
    from moto.sns.models import sns_backends

    account = sns_backends[account_id]
    return {region: account[region] for region in list(account.keys())}


@route("sns", "Publish", "PublishBatch")
def publish(call: Call) -> tuple[int, dict[str, str], bytes]:
    """Let moto publish (and deliver to subscriptions); remember when each message was sent."""
    status, headers, body = call.forward()
    if status < 300:
        now = time.time()
        ids = re.findall(rb"<MessageId>([^<]+)</MessageId>", body)
        with _lock:
            for mid in ids:
                _published_at[mid.decode()] = now
    return status, headers, body


def _find_topic(topic: str, region: str) -> Any | None:
    backends = _backends()
    if topic.startswith("arn:"):
        parts = topic.split(":")
        backend = backends.get(parts[3]) if len(parts) > 3 else None
        return backend.topics.get(topic) if backend is not None else None
    ordered = ([backends[region]] if region in backends else []) + [
        b for r, b in backends.items() if r != region
    ]
    for backend in ordered:
        for t in backend.topics.values():
            if t.name == topic:
                return t
    return None


def _attributes(raw: dict[str, Any] | None) -> dict[str, Any]:
    """moto's ``{"Type", "Value"}`` attributes in the API's ``MessageAttributes`` shape."""
    out = {}
    for name, attr in (raw or {}).items():
        if isinstance(attr, dict) and "Type" in attr:
            kind = str(attr["Type"])
            key = "BinaryValue" if kind.startswith("Binary") else "StringValue"
            out[name] = {"DataType": kind, key: attr.get("Value")}
        else:
            out[name] = attr
    return out


def messages(topic: Any) -> list[dict[str, Any]]:
    """The messages published to a moto topic, oldest first."""
    out = []
    with _lock:
        stamps = dict(_published_at)
    for message_id, message, subject, attributes, group_id in list(topic.sent_notifications):
        out.append(
            {
                "message_id": message_id,
                "message": message,
                "subject": subject,
                "message_attributes": _attributes(attributes),
                "group_id": group_id,
                "timestamp": stamps.get(message_id),
            }
        )
    return out


@admin_route("sns")
def _sns_admin(method: str, query: dict[str, Any], body: bytes) -> Response:
    """``GET /_sandbox/sns/messages?topic=...``: the messages published to a topic (see :mod:`.admin`)."""
    path = query.get("_path", "")
    if path not in ("sns/messages", "sns"):
        return json_answer(404, {"error": f"unknown SNS admin path {path!r}; use /_sandbox/sns/messages?topic=..."})
    if method != "GET":
        return json_answer(405, {"error": "use GET"})
    region = query.get("region") or DEFAULT_REGION
    topic_id = query.get("topic")
    if not topic_id:
        return json_answer(
            200, {"topics": {t.arn: messages(t) for b in _backends().values() for t in b.topics.values()}}
        )
    topic = _find_topic(topic_id, region)
    if topic is None:
        return json_answer(404, {"error": f"Topic does not exist: {topic_id}"})
    return json_answer(200, {"topic_arn": topic.arn, "messages": messages(topic)})
