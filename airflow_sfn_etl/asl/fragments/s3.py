"""The amazon provider's S3 object operators -> ``aws-sdk:s3`` calls.

- ``S3CopyObjectOperator`` -> ``aws-sdk:s3:copyObject`` with ``CopySource`` (``bucket/key``, the
  key URL-encoded, ``?versionId=`` with ``source_version_id``), Bucket, Key, ``ACL`` (``private``
  unless ``acl_policy`` says otherwise, as the operator's hook sends), ``MetadataDirective``, and
  ``SSEKMSKeyId`` / ``ServerSideEncryption`` from ``kms_key_id`` / ``kms_encryption_type``.
- ``S3DeleteObjectsOperator`` with ``keys`` -> ``aws-sdk:s3:deleteObjects``; S3 answers per-key
  failures in ``Errors`` without failing the call, and the operator then fails the task, so a
  Choice fails the state machine when the answer has ``Errors``. An empty ``keys`` deletes nothing
  (a Pass state). Refused: ``prefix``, ``from_datetime``, ``to_datetime`` (they list the bucket
  first, which the state does not; :mod:`airflow_sfn_etl.asl.refusals`), more than 1000 keys (one
  request's limit).

``S3CreateObjectOperator`` is refused (:mod:`airflow_sfn_etl.asl.refusals`): the ``aws-sdk:s3:putObject``
integration sends a text ``Body`` as JSON, so the object would hold the text in quotes with escapes,
not the operator's bytes.

A key given as a full ``s3://bucket/key`` URL (``s3_bucket`` / ``*_bucket_name`` unset) is split at
compile time, as the operator's hook splits it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from airflow_sfn_etl.asl.context import AslContext
from airflow_sfn_etl.asl.errors import AslCompileError
from airflow_sfn_etl.asl.fragments.common import single, task_state
from airflow_sfn_etl.asl.fragments.empty import empty
from airflow_sfn_etl.asl.ir import EXIT, Choice, ChoiceRule, Fail, Fragment
from airflow_sfn_etl.asl.templates import Mapped, format_expression, put

#: The value the operator's hook takes as "send no ACL".
NO_ACL = "no-acl"
#: DeleteObjects takes at most this many keys.
MAX_DELETE_KEYS = 1000


def _bucket_key(
    ctx: AslContext, bucket: Any, key: Any, bucket_field: str, key_field: str
) -> tuple[Mapped, Mapped]:
    """The bucket and key, each mapped; a key that is a full ``s3://`` URL gives both when no bucket is set."""
    if not isinstance(key, str):
        raise AslCompileError(f"Task '{ctx.task_id}': {key_field}={key!r} is not text.")
    if bucket:
        if key.startswith("s3://"):
            raise AslCompileError(
                f"Task '{ctx.task_id}': {key_field}={key!r} is a full s3:// URL while {bucket_field} is set; "
                f"give the key relative to the bucket, or leave {bucket_field} unset."
            )
        return ctx.template(bucket_field, str(bucket)), ctx.template(key_field, key)
    if not key.startswith("s3://") or "/" not in key[len("s3://"):]:
        raise AslCompileError(
            f"Task '{ctx.task_id}': {key_field}={key!r} is not an s3://bucket/key URL and {bucket_field} is unset; "
            f"set {bucket_field}, or give the key as s3://bucket/key."
        )
    bucket_text, key_text = key[len("s3://"):].split("/", 1)
    return ctx.template(key_field, bucket_text), ctx.template(key_field, key_text)


def s3_copy_object(op: Any, ctx: AslContext) -> Fragment:
    """S3CopyObjectOperator -> ``aws-sdk:s3:copyObject``."""
    src_bucket, src_key = _bucket_key(
        ctx, getattr(op, "source_bucket_name", None), op.source_bucket_key, "source_bucket_name", "source_bucket_key"
    )
    dst_bucket, dst_key = _bucket_key(
        ctx, getattr(op, "dest_bucket_name", None), op.dest_bucket_key, "dest_bucket_name", "dest_bucket_key"
    )
    parts: list[Any] = [src_bucket, "/", _url_encoded(src_key)]
    version = getattr(op, "source_version_id", None)
    if version:
        parts += ["?versionId=", ctx.template("source_version_id", str(version))]
    params: dict[str, Any] = {}
    if any(isinstance(p, Mapped) and p.dynamic for p in parts):
        put(params, "CopySource", Mapped(expression=format_expression(parts)))
    else:
        params["CopySource"] = "".join(str(p.literal) if isinstance(p, Mapped) else p for p in parts)
    put(params, "Bucket", dst_bucket)
    put(params, "Key", dst_key)
    acl = getattr(op, "acl_policy", None) or "private"
    if acl != NO_ACL:
        ctx.put(params, "ACL", "acl_policy", acl)
    directive = getattr(op, "meta_data_directive", None)
    if directive:
        ctx.put(params, "MetadataDirective", "meta_data_directive", directive)
    kms_key, kms_type = getattr(op, "kms_key_id", None), getattr(op, "kms_encryption_type", None)
    if bool(kms_key) != bool(kms_type):
        raise AslCompileError(
            f"Task '{ctx.task_id}': kms_key_id and kms_encryption_type must be set together (the operator "
            "fails with one of them); set both or neither."
        )
    if kms_key:
        ctx.put(params, "SSEKMSKeyId", "kms_key_id", kms_key)
        ctx.put(params, "ServerSideEncryption", "kms_encryption_type", kms_type)
    return single(ctx, task_state(ctx, "arn:aws:states:::aws-sdk:s3:copyObject", params))


def _url_encoded(key: Mapped) -> Mapped:
    """A literal key URL-encoded for ``CopySource`` (AWS takes it encoded); a key from the input as it is."""
    if key.dynamic:
        return key
    return Mapped(literal=quote(str(key.literal), safe="/~"))


def s3_delete_objects(op: Any, ctx: AslContext) -> Fragment:
    """S3DeleteObjectsOperator with ``keys`` -> ``aws-sdk:s3:deleteObjects`` and a Choice failing on ``Errors``."""
    keys = op.keys
    if keys is None:
        raise AslCompileError(f"Task '{ctx.task_id}': neither keys nor prefix is set; give keys=[...].")
    keys = [keys] if isinstance(keys, str) else list(keys)
    if not keys:
        return empty(op, ctx)
    if len(keys) > MAX_DELETE_KEYS:
        raise AslCompileError(
            f"Task '{ctx.task_id}': {len(keys)} keys; one deleteObjects request takes at most {MAX_DELETE_KEYS}. "
            "Split the keys over several tasks."
        )
    objects: list[dict[str, Any]] = []
    for key in keys:
        entry: dict[str, Any] = {}
        ctx.put(entry, "Key", "keys", str(key))
        objects.append(entry)
    params: dict[str, Any] = {}
    ctx.put(params, "Bucket", "bucket", op.bucket)
    params["Delete"] = {"Objects": objects}
    key = ctx.data_key
    n_check, n_failed = ctx.sub_name("Any Errors?"), ctx.sub_name("Delete Failed")
    task = task_state(ctx, "arn:aws:states:::aws-sdk:s3:deleteObjects", params)
    task.result_path = f"$.{key}_deleted"
    task.next = n_check
    check = Choice(
        name=n_check,
        choices=[
            ChoiceRule(variable=f"$.{key}_deleted.Errors[0]", operator="IsPresent", value=True, next=n_failed)
        ],
        default=EXIT,
    )
    fail = Fail(
        name=n_failed, error="S3.DeleteObjectsErrors", cause_path=f"States.JsonToString($.{key}_deleted.Errors)"
    )
    return Fragment(name=ctx.state_name, start=task.name, states=[task, check, fail])
