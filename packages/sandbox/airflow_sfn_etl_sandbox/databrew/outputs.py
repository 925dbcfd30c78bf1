"""Writing one of a DataBrew job's ``Outputs`` (or ``DataCatalogOutputs``) into moto's S3.

Formats CSV (with the output's delimiter), JSON lines, Parquet and GLUEPARQUET; compression
per format (``_PARQUET_CODECS``, ``_TEXT_CODECS``); ``PartitionColumns`` as Hive-style
``column=value/`` folders; ``MaxOutputFiles`` pieces; ``Overwrite`` replaces what is under the
output's prefix, otherwise file names carry the run id. Problems raise :class:`..runs.RunFailed`.

A ``DataCatalogOutputs`` entry writes into an existing Glue table: at ``S3Options.Location`` or
else the table's location, in the table's format (Parquet, JSON, or CSV with its delimiter and a
header only when ``skip.header.line.count`` is 1). The recipe's columns must be the table's columns
(names and types, in order); a table that does not exist, a partitioned table, another SerDe,
``DatabaseOptions`` and another ``CatalogId`` fail as not emulated by the sandbox.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc
from moto.core import DEFAULT_ACCOUNT_ID

from .. import state
from ..runs import RunFailed
from ..schema import JSON_SERDE, LAZY_SIMPLE_SERDE, OPEN_CSV_SERDE, PARQUET_SERDE, hive_type
from .job_runs import JobRun

_PARQUET_CODECS = {"SNAPPY": "snappy", "GZIP": "gzip", "LZ4": "lz4", "BROTLI": "brotli", "ZSTD": "zstd"}
_TEXT_CODECS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "GZIP": (".gz", gzip.compress), "BZIP2": (".bz2", bz2.compress),
    "DEFLATE": (".deflate", zlib.compress), "ZLIB": (".deflate", zlib.compress),
}


def write_output(run: JobRun, table: pa.Table, output: dict[str, Any], number: int, header: bool = True) -> int:
    """Write one of the job's Outputs into S3; returns how many objects it wrote."""
    location = output.get("Location") or {}
    bucket = location.get("Bucket", "")
    prefix = location.get("Key") or ""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    if bucket not in state.s3_backend().buckets:
        raise RunFailed(f"Output {number}: the output bucket {bucket!r} does not exist")
    fmt = (output.get("Format") or "CSV").upper()
    codec = (output.get("CompressionFormat") or "").upper()
    partition_cols = list(output.get("PartitionColumns") or [])
    missing = [c for c in partition_cols if c not in table.column_names]
    if missing:
        raise RunFailed(f"Output {number}: partition column(s) {missing} not in the recipe's result; "
                        f"columns are {table.column_names}")
    render = _renderer(fmt, codec, output, number, header)
    stem = run.job_name if output.get("Overwrite") else f"{run.job_name}_{run.id[3:11]}"
    uploads: list[tuple[str, bytes]] = []
    for folder, chunk in _partitions(table, partition_cols):
        pieces = _split(chunk, output) if not partition_cols else [chunk]
        for i, piece in enumerate(pieces):
            data, ext = render(piece)
            uploads.append((f"{folder}{stem}_part{i:05d}{ext}", data))
        if run.stop_requested.is_set():
            return 0
    if output.get("Overwrite"):
        state.s3_delete_prefix(bucket, prefix)
    for rel, data in uploads:
        state.s3_put(bucket, prefix + rel, data)
    return len(uploads)


def _renderer(fmt: str, codec: str, output: dict[str, Any],
              number: int, header: bool = True) -> Callable[[pa.Table], tuple[bytes, str]]:
    """A function turning a table into (object bytes, file extension) for an output's format."""
    import pyarrow.parquet as pq

    if fmt in ("PARQUET", "GLUEPARQUET"):
        if codec and codec not in _PARQUET_CODECS:
            raise RunFailed(f"Output {number}: CompressionFormat {codec} for Parquet is not emulated by the sandbox "
                            f"(it writes {', '.join(sorted(_PARQUET_CODECS))})")
        compression = _PARQUET_CODECS.get(codec, "none")
        ext = f".{compression}.parquet" if codec else ".parquet"

        def parquet(piece: pa.Table) -> tuple[bytes, str]:
            buf = io.BytesIO()
            pq.write_table(piece, buf, compression=compression)
            return buf.getvalue(), ext

        return parquet
    if fmt not in ("CSV", "JSON"):
        raise RunFailed(f"Output {number}: format {fmt} is not emulated by the sandbox "
                        "(CSV, JSON, PARQUET and GLUEPARQUET are; AVRO, ORC, XML and TABLEAUHYPER are not)")
    if codec and codec not in _TEXT_CODECS:
        raise RunFailed(f"Output {number}: CompressionFormat {codec} for {fmt} is not emulated by the sandbox "
                        f"(it writes {', '.join(sorted(_TEXT_CODECS))})")
    compress: Callable[[bytes], bytes] | None
    suffix, compress = _TEXT_CODECS[codec] if codec else ("", None)
    delimiter = ((output.get("FormatOptions") or {}).get("Csv") or {}).get("Delimiter") or ","

    def text(piece: pa.Table) -> tuple[bytes, str]:
        if fmt == "CSV":
            buf = io.BytesIO()
            buf.write(_csv_text(piece, delimiter, header).encode())
            data, ext = buf.getvalue(), ".csv"
        else:
            data = "".join(json.dumps(r, default=str) + "\n" for r in piece.to_pylist()).encode()
            ext = ".json"
        return (compress(data), ext + suffix) if compress else (data, ext)

    return text


def _csv_text(table: pa.Table, delimiter: str, header: bool) -> str:
    """``table`` as CSV: values (pyarrow's text of them) quoted only when they hold the delimiter, a quote
    or a line break, nulls empty, as Spark writes CSV."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    if header:
        writer.writerow(table.column_names)
    texts = [pc.cast(table.column(n), pa.string()).to_pylist() for n in table.column_names]
    writer.writerows(zip(*texts, strict=True) if texts else [])
    return out.getvalue()


def _hive_value(value: Any) -> str:
    if value is None:
        return "__HIVE_DEFAULT_PARTITION__"
    if isinstance(value, bool):
        return "true" if value else "false"
    return quote(str(value), safe=" ")


def _partitions(table: pa.Table, columns: list[str]) -> list[tuple[str, pa.Table]]:
    """(``k=v/`` folder path, rows without the partition columns) for each partition value set."""
    if not columns:
        return [("", table)]
    table = table.sort_by([(c, "ascending") for c in columns])
    body = table.drop_columns(columns)
    parts = [table.column(c) for c in columns]
    keys = pc.binary_join_element_wise(
        *[pc.fill_null(pc.cast(p, pa.string()), "\x00") for p in parts], "\x01")
    n = table.num_rows
    if n == 0:
        return []
    changes = pc.indices_nonzero(pc.not_equal(keys.slice(1), keys.slice(0, n - 1))).to_pylist()
    starts = [0] + [i + 1 for i in changes]
    ends = starts[1:] + [n]
    out = []
    for start, end in zip(starts, ends, strict=True):
        folder = "".join(f"{c}={_hive_value(p[start].as_py())}/" for c, p in zip(columns, parts, strict=True))
        out.append((folder, body.slice(start, end - start)))
    return out


def _split(table: pa.Table, output: dict[str, Any]) -> list[pa.Table]:
    max_files = int(output.get("MaxOutputFiles") or 1)
    if max_files <= 1 or table.num_rows <= 1:
        return [table]
    size = -(-table.num_rows // max_files)
    return [table.slice(i, size) for i in range(0, table.num_rows, size)]


_JSON_SERDES = (JSON_SERDE, "org.apache.hive.hcatalog.data.JsonSerDe")


def _check_unquoted(table: pa.Table, delimiter: str, where: str) -> None:
    """LazySimpleSerDe reads no quotes: a text value holding the delimiter or a line break cannot be written."""
    for name in table.column_names:
        values = table.column(name)
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            continue
        bad = pc.or_(pc.match_substring(values, delimiter), pc.match_substring_regex(values, "[\\r\\n]"))
        if pc.any(bad).as_py():
            example = values.filter(pc.fill_null(bad, False))[0].as_py()
            raise RunFailed(f"{where} (LazySimpleSerDe, no quoting) cannot hold the value {example!r} of column "
                            f"{name!r}: it contains the delimiter {delimiter!r} or a line break")


def catalog_output(run: JobRun, table: pa.Table, output: dict[str, Any],
                   number: int) -> tuple[dict[str, Any], bool]:
    """(the S3 output, whether CSV has a header) that writes ``table`` into a DataCatalogOutputs table."""
    where = f"DataCatalogOutput {number}"
    if output.get("DatabaseOptions"):
        raise RunFailed(f"{where}: DatabaseOptions (a JDBC table) are not emulated by the sandbox; use S3Options")
    if output.get("CatalogId") not in (None, "", DEFAULT_ACCOUNT_ID):
        raise RunFailed(f"{where}: CatalogId {output['CatalogId']} (another account's catalog) is not emulated "
                        "by the sandbox")
    database, name = output.get("DatabaseName", ""), output.get("TableName", "")
    try:
        described = state.glue_backend(run.region).get_table(database, name).as_dict()
    except Exception:
        raise RunFailed(f"{where}: the catalog table {database}.{name} does not exist; create it first (the "
                        "sandbox writes into existing tables only)") from None
    descriptor = described.get("StorageDescriptor") or {}
    if described.get("PartitionKeys"):
        raise RunFailed(f"{where}: {database}.{name} is partitioned; writing partitioned catalog tables is not "
                        "emulated by the sandbox")
    expected = [(c["Name"].lower(), c.get("Type", "").lower()) for c in descriptor.get("Columns") or []]
    written = [(f.name.lower(), hive_type(f.type)) for f in table.schema]
    if written != expected:
        raise RunFailed(f"{where}: the recipe's columns {written} are not the columns of {database}.{name} "
                        f"{expected}; changing a catalog table's columns is not emulated by the sandbox")
    location = (output.get("S3Options") or {}).get("Location")
    if location:
        target = {"Bucket": location.get("Bucket", ""), "Key": location.get("Key") or ""}
    elif descriptor.get("Location"):
        bucket, key = state.split_s3_uri(descriptor["Location"])
        target = {"Bucket": bucket, "Key": key}
    else:
        raise RunFailed(f"{where}: {database}.{name} has no location and the output no S3Options")
    serde = descriptor.get("SerdeInfo") or {}
    library = serde.get("SerializationLibrary") or ""
    parameters = {**(serde.get("Parameters") or {})}
    header = str((described.get("Parameters") or {}).get("skip.header.line.count", "0")) == "1"
    options: dict[str, Any] = {}
    if library == PARQUET_SERDE:
        fmt = "PARQUET"
    elif library in _JSON_SERDES:
        fmt = "JSON"
    elif library in (LAZY_SIMPLE_SERDE, OPEN_CSV_SERDE):
        delimiter = parameters.get("field.delim") or parameters.get("separatorChar") or ","
        if library == LAZY_SIMPLE_SERDE:
            _check_unquoted(table, delimiter, f"{where}: {database}.{name}")
        fmt, options = "CSV", {"FormatOptions": {"Csv": {"Delimiter": delimiter}}}
    else:
        raise RunFailed(f"{where}: {database}.{name} uses SerDe {library or '(none)'}, which the sandbox does not "
                        f"write (it writes {PARQUET_SERDE}, {LAZY_SIMPLE_SERDE}, {OPEN_CSV_SERDE}, "
                        f"{', '.join(_JSON_SERDES)})")
    return ({"Location": target, "Format": fmt, "Overwrite": bool(output.get("Overwrite")), **options},
            header or fmt != "CSV")
