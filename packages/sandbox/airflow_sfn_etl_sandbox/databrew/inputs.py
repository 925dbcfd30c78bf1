"""Reading a DataBrew dataset: its S3 objects (or its catalog table's) as one Arrow table.

One object or every object under a prefix (``_`` and ``.`` files skipped); CSV with or without
a header (columns typed as DataBrew types them, :func:`..schema.infer_table`), Parquet, JSON
lines or a JSON array, gzip-compressed JSON. :func:`read_secondary` reads the second dataset of a
JOIN or UNION step. Problems raise :class:`..runs.RunFailed`.
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
    dataset = _find_dataset(region, name)
    if dataset is None:
        raise RunFailed(f"Dataset {name} wasn't found")
    bucket, key = _dataset_location(region, dataset)
    return _read_location(bucket, key, dataset.format, dataset.format_options or {})


def _find_dataset(region: str, name: str) -> Any:
    try:
        return state.databrew_backend(region).describe_dataset(name)
    except Exception:
        return None


def _read_location(bucket: str, key: str, fmt: str | None, options: dict[str, Any]) -> pa.Table:
    keys = _data_keys(bucket, key)
    fmt = (fmt or _format_from_key(keys[0])).upper()
    tables = []
    for k in keys:
        data = state.s3_get(bucket, k)
        try:
            tables.append(_read_object(fmt, data, options))
        except (UnreadableData, pa.ArrowInvalid, ValueError) as exc:
            raise RunFailed(f"Cannot read s3://{bucket}/{k} as {fmt}: {exc}") from None
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="permissive")
    return infer_table(table) if fmt == "CSV" else table


_SECONDARY_KEYS = {"DatasetName", "S3InputDefinition", "DataCatalogInputDefinition"}


def read_secondary(region: str, spec: dict[str, Any]) -> pa.Table:
    """A recipe step's second dataset (JOIN, UNION): ``spec`` names a dataset (``DatasetName``) and/or an S3
    location (``S3InputDefinition`` ``{Bucket, Key}``).

    A dataset the sandbox knows is read as the job's own dataset is (its format and options); when the
    spec also gives a location, it must be the dataset's. A location without a known dataset is read by
    its objects' extension (``.parquet``, ``.json``; anything else CSV with a header row and commas).
    """
    unknown = sorted(set(spec) - _SECONDARY_KEYS)
    if unknown:
        raise RunFailed(f"secondary input {spec}: unknown key(s) {unknown}")
    if spec.get("DataCatalogInputDefinition"):
        raise RunFailed("a Data Catalog table as a secondary input is not emulated by the sandbox; name a "
                        "dataset or an S3 location")
    name = spec.get("DatasetName")
    location = spec.get("S3InputDefinition")
    if location is not None and (not isinstance(location, dict) or not location.get("Bucket")):
        raise RunFailed(f"S3InputDefinition {location!r} needs a Bucket (and a Key)")
    given = (location["Bucket"], location.get("Key") or "") if location else None
    dataset = _find_dataset(region, name) if name else None
    if dataset is not None:
        bucket, key = _dataset_location(region, dataset)
        if given is not None and given != (bucket, key):
            raise RunFailed(f"secondary dataset {name} is at s3://{bucket}/{key}, not at s3://{given[0]}/{given[1]} "
                            "as the step says")
        return _read_location(bucket, key, dataset.format, dataset.format_options or {})
    if given is None:
        raise RunFailed(f"Dataset {name} wasn't found" if name else "the step names no secondary dataset or location")
    return _read_location(given[0], given[1], None, {})


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


