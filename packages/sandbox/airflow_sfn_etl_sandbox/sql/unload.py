"""``UNLOAD (SELECT ...) TO 's3://...' WITH (...)``: a query's rows written to S3 as Athena writes them.

As Athena documents: ``format`` is required (``PARQUET``, ``TEXTFILE`` and ``JSON`` are emulated;
``ORC`` and ``AVRO`` fail as not emulated); Parquet is GZIP unless ``compression = 'SNAPPY'``; text
and JSON files are gzipped; text fields are separated by ``field_delimiter`` (``\\001`` by default),
NULL is ``\\N``; ``partitioned_by`` columns come last in the query and make ``key=value/`` folders
(at most 100); the destination must hold no object. The files written are listed in
``<id>-manifest.csv`` in the query's result location.
"""

from __future__ import annotations

import datetime
import decimal
import gzip
import json
import re
import time
import uuid
from typing import Any

import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError

from . import storage
from .context import Context, Result
from .errors import QueryError, coded, syntax_error
from .results import render

#: ``UNLOAD (query) TO 'location' [WITH (properties)]``; the query is everything up to the last ``) TO '``.
UNLOAD_RE = re.compile(
    r"UNLOAD\s*\((?P<query>.+)\)\s*TO\s+'(?P<to>(?:[^']|'')*)'\s*(?:WITH\s*\((?P<props>.*)\))?\s*\Z", re.I | re.S
)
MAX_PARTITIONS = 100


def _properties(text: str) -> dict[str, Any]:
    """The ``WITH (...)`` properties, read as a CTAS's are."""
    from .query import _props

    try:
        stmt = sqlglot.parse_one(f"CREATE TABLE __unload WITH ({text}) AS SELECT 1", read="athena")
    except (ParseError, TokenError) as err:
        raise QueryError(f"line 1:1: mismatched input in UNLOAD properties: {err}", "SYNTAX_ERROR") from err
    assert isinstance(stmt, exp.Create)
    return _props(stmt)


def _json_text(value: Any) -> str:
    """A value as JSON: numbers (decimals exactly) and booleans bare, dates and timestamps as Athena prints them."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, decimal.Decimal)):
        return str(value)
    if isinstance(value, float):
        return json.dumps(value)
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time, bytes)):
        return json.dumps(render(value))
    if isinstance(value, list):
        return "[" + ",".join(_json_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(render(k)))}:{_json_text(v)}" for k, v in value.items()) + "}"
    return json.dumps(str(value))


def _json_bytes(table: pa.Table) -> bytes:
    """One JSON object per line, keys the column names in order."""
    from .query import rows_of

    names = table.column_names
    return "".join(
        "{" + ",".join(f"{json.dumps(n)}:{_json_text(v)}" for n, v in zip(names, row, strict=True)) + "}\n"
        for row in rows_of(table)
    ).encode()


def _text_bytes(table: pa.Table, delimiter: str) -> bytes:
    from .query import rows_of

    lines = []
    for row in rows_of(table):
        fields = []
        for name, value in zip(table.column_names, row, strict=True):
            text = "\\N" if value is None else str(render(value))
            if value is not None and (delimiter in text or "\n" in text or "\r" in text):
                raise coded(
                    "NOT_SUPPORTED",
                    f"UNLOAD of a value that holds the field delimiter or a line break ({name}) to TEXTFILE "
                    "is not emulated by the sandbox",
                )
            fields.append(text)
        lines.append(delimiter.join(fields) + "\n")
    return "".join(lines).encode()


def unload(m: re.Match[str], ctx: Context) -> Result:
    from .query import _split, _unescape, run_query

    props = _properties(m.group("props") or "")
    fmt = str(props.get("format") or "").upper()
    if not fmt:
        raise coded("INVALID_TABLE_PROPERTY", "UNLOAD requires the format property (PARQUET, TEXTFILE, JSON, ...)")
    if fmt not in ("PARQUET", "TEXTFILE", "JSON"):
        raise coded(
            "NOT_SUPPORTED", f"UNLOAD format {fmt} is not emulated by the sandbox (PARQUET, TEXTFILE and JSON are)"
        )
    compression = str(props.get("compression") or ("GZIP")).upper()
    if fmt == "PARQUET" and compression not in ("GZIP", "SNAPPY"):
        raise coded("NOT_SUPPORTED", f"UNLOAD compression {compression} for PARQUET is not emulated by the sandbox")
    if fmt != "PARQUET" and compression != "GZIP":
        raise coded("NOT_SUPPORTED", f"UNLOAD compression {compression} for {fmt} is not emulated by the sandbox")
    location = m.group("to").replace("''", "'")
    if not location.startswith("s3://"):
        raise coded("INVALID_TABLE_PROPERTY", f"UNLOAD location is not an S3 URI: {location}")
    if not location.endswith("/"):
        location += "/"
    if storage.list_objects(location):
        raise coded("HIVE_PATH_ALREADY_EXISTS", f"Target directory for UNLOAD already exists: {location}")
    # the query keeps its place in the text: positions in failures count from the statement's start
    body = re.sub(r"[^\n]", " ", m.string[: m.start("query")]) + m.group("query")
    dialect = Dialect.get_or_raise("athena")
    try:
        tokens = dialect.tokenize(body)
        statements = [s for s in dialect.parser().parse(tokens, body) if s is not None]
    except (ParseError, TokenError) as err:
        raise syntax_error(err, body) from err
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise QueryError("line 1:1: UNLOAD takes a query: UNLOAD (SELECT ...) TO 's3://...'", "SYNTAX_ERROR")
    from . import typecheck

    ctx.tokens = tokens
    typecheck.check_comparisons(statements[0], ctx, tokens)
    result, columns, scanned = run_query(statements[0], ctx)
    names = [n for n, _ in columns]
    result = result.rename_columns(names)
    pcols = [str(c).lower() for c in props.get("partitioned_by") or []]
    lowered = [n.lower() for n in names]
    if pcols and lowered[len(lowered) - len(pcols) :] != pcols:
        raise coded(
            "HIVE_COLUMN_ORDER_MISMATCH",
            "Partition keys must be the last columns in the table and in the same order as the table properties: "
            f"{pcols}",
        )
    if pcols:
        result = result.rename_columns(lowered)
    groups = _split(result, pcols)
    if len(groups) > MAX_PARTITIONS:
        raise coded(
            "HIVE_TOO_MANY_OPEN_PARTITIONS",
            f"Exceeded limit of {MAX_PARTITIONS} open writers for partitions/buckets ({len(groups)} partitions)",
        )
    delimiter = _unescape(str(props.get("field_delimiter") or "\x01"))
    stamp = time.strftime("%Y%m%d_%H%M%S", time.gmtime())
    files = []
    for values, part in groups:
        if part.num_rows == 0:
            continue
        folder = location + "".join(f"{k}={v}/" for k, v in zip(pcols, values, strict=False))
        name = f"{folder}{stamp}_{ctx.query_id or 'unload'}_{uuid.uuid4().hex[:8]}"
        if fmt == "PARQUET":
            data, suffix = storage.parquet_bytes(part, compression.lower()), ".parquet"
        elif fmt == "JSON":
            data, suffix = gzip.compress(_json_bytes(part)), ".gz"
        else:
            data, suffix = gzip.compress(_text_bytes(part, delimiter)), ".gz"
        ctx.check_cancelled()
        storage.write_object(name + suffix, data)
        files.append(name + suffix)
    out = Result("DML", "UNLOAD", header=False, data_scanned=scanned, update_count=result.num_rows)
    out.lines = files
    return out
