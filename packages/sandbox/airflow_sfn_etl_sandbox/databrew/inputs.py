"""Reading a DataBrew dataset: its S3 objects (or its catalog table's) as one Arrow table.

One object or every object under a prefix (``_`` and ``.`` files skipped); CSV with or without
a header (columns typed as DataBrew types them, :func:`..schema.infer_table`), Parquet, JSON
lines or a JSON array, gzip-compressed JSON. Problems raise :class:`..runs.RunFailed`.
"""

from __future__ import annotations

import gzip
import io
import json
from typing import Any

import pyarrow as pa

from .. import state
from ..aws import AwsError
from ..runs import RunFailed
from ..schema import UnreadableData, infer_table, read_csv_as_strings


def _data_keys(bucket: str, key: str) -> list[str]:
    try:
        keys = state.s3_list(bucket, key)
    except AwsError as err:
        raise RunFailed(f"Dataset input s3://{bucket}/{key}: {err.message}") from None
    if key and not key.endswith("/") and key in keys:
        return [key]
    prefix = key if not key or key.endswith("/") else key + "/"
    found = [k for k in keys if k.startswith(prefix) and not k.endswith("/")
             and not k.rsplit("/", 1)[-1].startswith(("_", "."))]
    if not found:
        raise RunFailed(f"Dataset input s3://{bucket}/{key} holds no objects")
    return found


def _dataset_location(region: str, dataset: Any) -> tuple[str, str]:
    inp = dataset.input or {}
    if inp.get("S3InputDefinition"):
        s3 = inp["S3InputDefinition"]
        return s3["Bucket"], s3.get("Key") or ""
    if inp.get("DataCatalogInputDefinition"):
        cat = inp["DataCatalogInputDefinition"]
        try:
            table = state.glue_backend(region).get_table(cat["DatabaseName"], cat["TableName"]).as_dict()
        except Exception as exc:
            raise RunFailed(f"Dataset {dataset.name}: catalog table {cat.get('DatabaseName')}."
                            f"{cat.get('TableName')} not found ({getattr(exc, 'message', exc)})") from None
        return state.split_s3_uri(table["StorageDescriptor"]["Location"])
    raise RunFailed(f"Dataset {dataset.name}: only S3 and Data Catalog inputs are emulated by the sandbox")


def read_dataset(region: str, name: str) -> pa.Table:
    """The dataset's rows as an Arrow table (CSV columns typed as DataBrew types them)."""
    try:
        dataset = state.databrew_backend(region).describe_dataset(name)
    except Exception:
        raise RunFailed(f"Dataset {name} wasn't found") from None
    bucket, key = _dataset_location(region, dataset)
    keys = _data_keys(bucket, key)
    fmt = (dataset.format or _format_from_key(keys[0])).upper()
    options = dataset.format_options or {}
    tables = []
    for k in keys:
        data = state.s3_get(bucket, k)
        try:
            tables.append(_read_object(fmt, data, options))
        except (UnreadableData, pa.ArrowInvalid, ValueError) as exc:
            raise RunFailed(f"Cannot read s3://{bucket}/{k} as {fmt}: {exc}") from None
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="permissive")
    return infer_table(table) if fmt == "CSV" else table


def _format_from_key(key: str) -> str:
    lowered = key.lower()
    if lowered.endswith(".parquet"):
        return "PARQUET"
    if lowered.endswith((".json", ".jsonl", ".json.gz")):
        return "JSON"
    return "CSV"


def _read_object(fmt: str, data: bytes, options: dict[str, Any]) -> pa.Table:
    if fmt == "CSV":
        csv_opts = options.get("Csv") or {}
        return read_csv_as_strings(data, delimiter=csv_opts.get("Delimiter") or ",",
                                   header=csv_opts.get("HeaderRow", True))
    if fmt == "PARQUET":
        import pyarrow.parquet as pq

        return pq.read_table(io.BytesIO(data))
    if fmt == "JSON":
        import pyarrow.json as pajson

        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        if data.lstrip()[:1] == b"[":
            data = b"\n".join(json.dumps(r).encode() for r in json.loads(data))
        return pajson.read_json(io.BytesIO(data))
    raise RunFailed(f"Dataset format {fmt} is not emulated by the sandbox (CSV, PARQUET and JSON are)")


