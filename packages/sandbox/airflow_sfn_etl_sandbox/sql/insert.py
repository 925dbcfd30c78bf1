"""``INSERT INTO table [(columns)] query`` into a Hive table: new data files under its location.

As Athena does for a Hive table: the rows are written as new files in the table's format (Parquet or
text) under the table's location, or under each partition's location for a partitioned table; the
partitions the rows create are added to the catalog. Query columns are coerced to the table's types
as Trino coerces implicitly (widening only); any other pairing fails with Trino's ``TYPE_MISMATCH``.
"""

from __future__ import annotations

import gzip
import re
import time
import uuid

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from . import catalog, storage, views
from .catalog import Partition
from .context import Context, Result
from .errors import coded
from .query import MAX_CTAS_PARTITIONS, _connect, _split, run_query, wrap_duckdb_error
from .translate import quote
from .types import athena_result_type, hive_to_duckdb

_INTEGERS = {"TINYINT": 3, "SMALLINT": 5, "INTEGER": 10, "BIGINT": 19}
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")


def _decimal(duck: str) -> tuple[int, int] | None:
    m = _DECIMAL.fullmatch(duck)
    return (int(m.group(1)), int(m.group(2))) if m else None


def coercible(source: str, target: str) -> bool:
    """Whether Trino coerces a value of DuckDB type ``source`` to ``target`` implicitly (widening only)."""
    source, target = source.upper(), target.upper()
    if source == target or source in ('"NULL"', "NULL"):
        return True
    if source in _INTEGERS:
        if target in _INTEGERS:
            return _INTEGERS[target] >= _INTEGERS[source]
        if target in ("FLOAT", "DOUBLE"):
            return True
        dec = _decimal(target)
        return dec is not None and dec[0] - dec[1] >= _INTEGERS[source]
    src_dec = _decimal(source)
    if src_dec is not None:
        if target in ("FLOAT", "DOUBLE"):
            return True
        dec = _decimal(target)
        return dec is not None and dec[1] >= src_dec[1] and dec[0] - dec[1] >= src_dec[0] - src_dec[1]
    if source == "FLOAT":
        return target == "DOUBLE"
    if source == "DATE":
        return target == "TIMESTAMP"
    if source.startswith("TIMESTAMP") and source != "TIMESTAMP WITH TIME ZONE":
        return target == "TIMESTAMP"
    return False


def _trino_type(duck: str) -> str:
    name, precision, scale = athena_result_type(duck)
    return f"decimal({precision},{scale})" if name == "decimal" else name


def _target(stmt: exp.Insert, ctx: Context) -> tuple[catalog.TableInfo, list[str] | None, dict[str, int]]:
    node = stmt.this
    table = node.this if isinstance(node, exp.Schema) else node
    if not isinstance(table, exp.Table):
        raise coded("NOT_SUPPORTED", f"INSERT into {node.sql('trino')} is not emulated by the sandbox")
    meta = table.this.meta if table.this else {}
    db = (table.db or ctx.database).lower()
    info = catalog.get_table(ctx.region, db, table.name.lower(), meta)
    if info.table_type.upper() == views.VIRTUAL_VIEW:
        raise coded("NOT_SUPPORTED", "Inserting into views is not supported", meta)
    listed = [c.name.lower() for c in node.expressions] if isinstance(node, exp.Schema) else None
    return info, listed, meta


def _check_table(info: catalog.TableInfo, meta: dict[str, int]) -> None:
    if info.parameters.get("table_type", "").upper() == "ICEBERG":
        raise coded("NOT_SUPPORTED", "Iceberg tables are not emulated by the sandbox", meta)
    if info.parameters.get("projection.enabled", "").strip().lower() == "true":
        raise coded(
            "NOT_SUPPORTED",
            "INSERT INTO a table with partition projection (table property projection.enabled) "
            "is not emulated by the sandbox",
            meta,
        )
    if info.data_format not in ("parquet", "text"):
        raise coded(
            "NOT_SUPPORTED",
            f"INSERT INTO a {info.data_format.upper()} table is not emulated by the sandbox "
            f"(Parquet and text tables are): {info.qualified}",
            meta,
        )
    for col, hive in info.columns + info.partition_keys:
        if re.match(r"\s*(var)?char\s*\(", hive, re.I):
            raise coded(
                "NOT_SUPPORTED",
                f"INSERT INTO a {hive} column ({col}) is not emulated by the sandbox (string columns are)",
                meta,
            )


def insert(stmt: exp.Insert, ctx: Context) -> Result:
    """Run ``INSERT INTO``: the query's rows written as new files; returns the row count."""
    info, listed, meta = _target(stmt, ctx)
    _check_table(info, meta)
    pkeys = [k for k, _ in info.partition_keys]
    all_cols = [c for c, _ in info.columns if c not in pkeys] + pkeys
    types = dict(info.columns + info.partition_keys)
    if listed is not None:
        for name in listed:
            if name not in types:
                raise coded("COLUMN_NOT_FOUND", f"Insert column name does not exist in target table: {name}", meta)
            if listed.count(name) > 1:
                raise coded("DUPLICATE_COLUMN_NAME", f"Insert column name is specified more than once: {name}", meta)
    targets = listed if listed is not None else all_cols
    result, columns, scanned = run_query(stmt.expression, ctx)
    want = [hive_to_duckdb(types[c]) for c in targets]
    have = [t for _, t in columns]
    if len(want) != len(have) or not all(coercible(h, w) for h, w in zip(have, want, strict=True)):
        raise coded(
            "TYPE_MISMATCH",
            "Insert query has mismatched column types: Table: ["
            + ", ".join(_trino_type(t) for t in want)
            + "], Query: ["
            + ", ".join(_trino_type(t) for t in have)
            + "]",
            meta,
        )
    ctx.check_cancelled()
    rows = _cast(result, targets, all_cols, types, ctx)
    files, partitions = _write(info, rows, pkeys, ctx, meta)
    if partitions:
        catalog.add_partitions(ctx.region, info, partitions)
    out = Result(
        "DML",
        "INSERT",
        [("rows", "BIGINT")],
        [[rows.num_rows]],
        header=True,
        data_scanned=scanned,
        update_count=rows.num_rows,
    )
    out.lines = files
    return out


def _cast(
    result: pa.Table, targets: list[str], all_cols: list[str], types: dict[str, str], ctx: Context
) -> pa.Table:
    """The query's rows in the table's column order and types (NULL for columns not listed)."""
    position = {name: i for i, name in enumerate(targets)}
    items = []
    for col in all_cols:
        duck = hive_to_duckdb(types[col])
        source = quote(f"c{position[col]}") if col in position else "NULL"
        items.append(f"CAST({source} AS {duck}) AS {quote(col)}")
    con = _connect(ctx)
    try:
        con.register("__insert_rows", result)
        return con.sql(f"SELECT {', '.join(items)} FROM __insert_rows").to_arrow_table()
    except duckdb.Error as exc:
        raise wrap_duckdb_error(exc) from exc
    finally:
        ctx.connections.remove(con)
        con.close()


def _write(
    info: catalog.TableInfo, rows: pa.Table, pkeys: list[str], ctx: Context, meta: dict[str, int]
) -> tuple[list[str], list[Partition]]:
    groups = _split(rows, pkeys)
    if len(groups) > MAX_CTAS_PARTITIONS:
        raise coded(
            "HIVE_TOO_MANY_OPEN_PARTITIONS",
            f"Exceeded limit of {MAX_CTAS_PARTITIONS} open writers for partitions/buckets ({len(groups)} partitions)",
            meta,
        )
    if not info.location.startswith("s3://"):
        raise coded("HIVE_PATH_ALREADY_EXISTS", f"Table {info.qualified} has no S3 location", meta)
    base = info.location if info.location.endswith("/") else info.location + "/"
    registered = {tuple(p.values): p.location for p in info.partitions}
    compression = (
        info.parameters.get("parquet.compression")
        or info.parameters.get("write.compression")
        or info.parameters.get("write_compression")
        or ("SNAPPY" if info.data_format == "parquet" else "NONE")
    ).upper()
    stamp = time.strftime("%Y%m%d_%H%M%S", time.gmtime())
    files: list[str] = []
    partitions: list[Partition] = []
    pending: list[tuple[str, bytes]] = []
    for values, part in groups:
        if part.num_rows == 0:
            continue
        folder = base
        if pkeys:
            key = tuple(str(v) for v in values)
            folder = registered.get(key) or catalog.default_partition_location(info, list(key))
            if key not in registered:
                partitions.append(Partition(list(key), folder))
            if not folder.endswith("/"):
                folder += "/"
        name = f"{folder}{stamp}_{ctx.query_id}_{uuid.uuid4().hex[:8]}"
        if info.data_format == "parquet":
            data = storage.parquet_bytes(part, compression)
            name += ".parquet"
        else:
            data = _text_bytes(part, info, meta)
            if compression == "GZIP":
                data, name = gzip.compress(data), name + ".gz"
            elif compression not in ("NONE", "UNCOMPRESSED"):
                raise coded(
                    "NOT_SUPPORTED", f"Writing text with {compression} compression is not emulated by the sandbox", meta
                )
        pending.append((name, data))
    for name, data in pending:  # written once every file is encoded: a failure leaves nothing behind
        storage.write_object(name, data)
        files.append(name)
    return files, partitions


def _text_bytes(table: pa.Table, info: catalog.TableInfo, meta: dict[str, int]) -> bytes:
    """Rows as LazySimpleSerDe writes them: fields joined by ``field.delim``, NULL as the null format."""
    params = info.serde_params
    delim = params.get("field.delim") or params.get("serialization.format") or "\x01"
    if delim == "1" and "field.delim" not in params:
        delim = "\x01"
    null = params.get("serialization.null.format", "\\N")
    columns: list[list[str | None]] = []
    for name, col in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_nested(col.type) or pa.types.is_binary(col.type):
            raise coded(
                "NOT_SUPPORTED",
                f"Writing a {col.type} column ({name}) to a text table is not emulated by the sandbox",
                meta,
            )
        if pa.types.is_boolean(col.type):
            text = pc.if_else(col, "true", "false")
        elif pa.types.is_timestamp(col.type):
            text = pc.strftime(col, "%Y-%m-%d %H:%M:%S")
        else:
            text = pc.cast(col, pa.string())
        values = text.to_pylist()
        for v in values:
            if v is not None and (delim in v or "\n" in v or "\r" in v):
                raise coded(
                    "NOT_SUPPORTED",
                    f"Writing a value that holds the field delimiter or a line break ({name}) to a text table "
                    "is not emulated by the sandbox",
                    meta,
                )
        columns.append(values)
    lines = [delim.join(null if v is None else v for v in row) for row in zip(*columns, strict=True)]
    return "".join(line + "\n" for line in lines).encode()
