"""In-process access to moto's backends for sandbox handlers: S3 objects, the Glue catalog,
DataBrew definitions and CloudWatch Logs streams."""

from __future__ import annotations

import threading
import time
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID

from .aws import AwsError

_logs_lock = threading.Lock()


def s3_backend(account_id: str = DEFAULT_ACCOUNT_ID) -> Any:
    from moto.s3.models import s3_backends

    return s3_backends[account_id]["aws"]


def glue_backend(region: str, account_id: str = DEFAULT_ACCOUNT_ID) -> Any:
    from moto.glue.models import glue_backends

    return glue_backends[account_id][region]


def databrew_backend(region: str, account_id: str = DEFAULT_ACCOUNT_ID) -> Any:
    from moto.databrew.models import databrew_backends

    return databrew_backends[account_id][region]


def put_log_lines(region: str, group: str, stream: str, lines: list[str],
                  account_id: str = DEFAULT_ACCOUNT_ID) -> None:
    """Append ``lines`` to a CloudWatch Logs stream in moto's logs backend (created on demand)."""
    if not lines:
        return
    from moto.logs.models import logs_backends

    backend = logs_backends[account_id][region]
    stamp = int(time.time() * 1000)
    with _logs_lock:
        if group not in backend.groups:
            backend.create_log_group(group, {})
        backend.ensure_log_stream(group, stream)
        backend.put_log_events(group, stream, [{"timestamp": stamp, "message": ln} for ln in lines])


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key/prefix`` -> (bucket, key/prefix)."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an S3 URI: {uri!r} (expected s3://bucket/prefix)")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def s3_list(bucket: str, prefix: str = "", account_id: str = DEFAULT_ACCOUNT_ID) -> list[str]:
    """Keys under ``prefix`` in ``bucket`` (sorted); raises ``NoSuchBucket`` as AWS would."""
    backend = s3_backend(account_id)
    b = backend.buckets.get(bucket)
    if b is None:
        raise AwsError("NoSuchBucket", f"The specified bucket does not exist: {bucket}", 404)
    return sorted(k for k in list(b.keys.keys()) if k.startswith(prefix))


def s3_get(bucket: str, key: str, account_id: str = DEFAULT_ACCOUNT_ID) -> bytes:
    backend = s3_backend(account_id)
    return backend.get_object(bucket, key).value


def s3_put(bucket: str, key: str, data: bytes, account_id: str = DEFAULT_ACCOUNT_ID) -> None:
    backend = s3_backend(account_id)
    if bucket not in backend.buckets:
        raise AwsError("NoSuchBucket", f"The specified bucket does not exist: {bucket}", 404)
    backend.put_object(bucket, key, data)


def s3_delete_prefix(bucket: str, prefix: str, account_id: str = DEFAULT_ACCOUNT_ID) -> int:
    backend = s3_backend(account_id)
    keys = s3_list(bucket, prefix, account_id)
    for key in keys:
        backend.delete_object(bucket, key)
    return len(keys)
