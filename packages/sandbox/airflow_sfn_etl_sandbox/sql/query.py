"""SELECT and CREATE TABLE AS SELECT: catalog tables loaded from S3 into DuckDB, results in Arrow."""

from __future__ import annotations

import re
import threading
import time
import uuid
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlglot import exp

from . import catalog, projection, semantics, storage, views
from .catalog import PARQUET_FORMATS, TEXT_FORMATS, Partition
from .context import Context, Result
from .errors import SYSTEM, QueryError, coded
from .translate import TableRef, bind_tables, name_unnamed_columns, quote, to_duckdb
from .types import duckdb_to_hive, hive_to_duckdb

MAX_CTAS_PARTITIONS = 100
#: Why a query fails that would scan more than its workgroup's BytesScannedCutoffPerQuery.
SCAN_LIMIT_REASON = "Bytes scanned limit was exceeded"

_DUCKDB_CODES = {
    "ParserException": "SYNTAX_ERROR",
    "ConversionException": "INVALID_CAST_ARGUMENT",
    "InvalidInputException": "INVALID_FUNCTION_ARGUMENT",
    "OutOfRangeException": "NUMERIC_VALUE_OUT_OF_RANGE",
    "InterruptException": "USER_CANCELLED",
    "CatalogException": "TABLE_NOT_FOUND",
}


def wrap_duckdb_error(exc: Exception) -> QueryError:
    """A DuckDB error as an Athena failure reason (``CODE: message``)."""
    text = str(exc).strip()
    kind = type(exc).__name__
    trino = semantics.trino_error(text)
    if trino is not None:
        return trino
    code = _DUCKDB_CODES.get(kind, "")
    if kind == "BinderException":
        missing = re.search(r'Referenced column "([^"]+)" not found', text)
        if missing:
            return QueryError(
                f"COLUMN_NOT_FOUND: Column '{missing.group(1)}' cannot be resolved ({text.splitlines()[0]})",
                "COLUMN_NOT_FOUND",
            )
        if "column" in text.lower() and "not found" in text.lower():
            code = "COLUMN_NOT_FOUND"
        elif "function" in text.lower():
            code = "FUNCTION_NOT_FOUND"
        else:
            code = "SEMANTIC_ERROR"
    if not code:
        return QueryError(f"GENERIC_INTERNAL_ERROR: {text}", "GENERIC_INTERNAL_ERROR", SYSTEM)
    if kind == "CatalogException" and "function" in text.lower():
        code = "FUNCTION_NOT_FOUND"
    return QueryError(f"{code}: {text.replace('__athena_t', 't')}", code)


_database_lock = threading.Lock()
_database: duckdb.DuckDBPyConnection | None = None


def _open_database() -> duckdb.DuckDBPyConnection:
    """The process's DuckDB database, opened on first use; every statement has a connection of its own.

    Opening and closing a database takes ~30 ms, as long as a cold query's own work on a small table.
    The database holds nothing of a statement once its connection is closed: views, registered Arrow
    tables, variables and settings belong to the connection, and no file data or Parquet metadata is cached.
    """
    global _database
    with _database_lock:
        if _database is None:
            _database = duckdb.connect(":memory:", config={"enable_external_file_cache": False})
            _database.execute(semantics.DIVIDE_MACRO)
        return _database


def _drop_database(db: duckdb.DuckDBPyConnection) -> None:
    """Forget ``db``, invalidated by a fatal error: the next statement opens a new database."""
    global _database
    with _database_lock:
        if _database is db:
            _database = None


def _connect(ctx: Context) -> duckdb.DuckDBPyConnection:
    """A connection of the statement's own, with Trino's integer division and UTC."""
    for last in (False, True):
        db = _open_database()
        con = None
        try:
            con = db.cursor()
            con.execute("SET integer_division = true")  # Trino: 5 / 2 = 2
            con.execute("SET TimeZone = 'UTC'")
        except duckdb.FatalException:
            if con is not None:
                con.close()
            _drop_database(db)
            if last:
                raise
        else:
            ctx.connections.append(con)
            return con
    raise AssertionError("unreachable: the last attempt returns or raises")


def _register(
    con: duckdb.DuckDBPyConnection,
    ref: TableRef,
    ctx: Context,
    union_by_name: bool = False,
    scans: list[dict[str, projection.Filter] | None] | None = None,
) -> tuple[int, bool]:
    """Register ``ref`` as a view; (bytes scanned, whether it reads spilled Parquet files).

    A table with partition projection reads the partitions projected for ``scans`` (the ``WHERE``
    conjuncts of each place the query reads it), not the ones registered in the catalog.
    """
    meta = dict(ref.meta)
    table = catalog.get_table(ctx.region, ref.database, ref.name, meta)
    views.require_not_view(table.table_type, table.database, table.name, meta)
    if table.partition_keys and projection.enabled(table):
        table.partitions = projection.partitions(table, scans or [None])
    data, scanned = storage.cached(table)
    ctx.check_cancelled()
    if isinstance(data, storage.Spill):
        _register_spill(con, ref, table, data, union_by_name)
        ctx.input_files.extend(data.paths)
        return scanned, True
    ctx.input_rows += data.num_rows
    raw = ref.view + "_raw"
    con.register(raw, data)
    strict = table.data_format not in ("text", "csv")
    pkeys = {k for k, _ in table.partition_keys}
    items = []
    data_cols = [(c, t) for c, t in table.columns if c not in pkeys]
    for index, (col, hive) in enumerate(data_cols + table.partition_keys):
        duck = hive_to_duckdb(hive)
        if duck == "VARCHAR" and pa.types.is_string(data.schema.field(col).type):
            items.append(quote(col))
        elif not strict and col not in pkeys and pa.types.is_string(data.schema.field(col).type):
            items.append(f"{_text_value(table, quote(col), duck, index)} AS {quote(col)}")
        else:
            fn = "CAST" if strict or col in pkeys else "TRY_CAST"
            items.append(f"{fn}({quote(col)} AS {duck}) AS {quote(col)}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {quote(ref.view)} AS SELECT {', '.join(items)} FROM {quote(raw)}")
    return scanned, False


_INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT")

#: Java's ``String.trim``: characters up to U+0020 at either end
_JAVA_TRIM = r"regexp_replace({}, '^[\x00-\x20]+|[\x00-\x20]+$', '', 'g')"
#: a number as Java's ``BigDecimal(String)`` reads it
_BIG_DECIMAL = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
#: Hive's date (``DATE_PARSER``): year, month and day, resolved leniently (month 13 is January of the next year)
_HIVE_DATE = r"([+-]?[0-9]{1,10})-([0-9]{1,2})-([0-9]{1,2})"
#: Hive's default timestamp: a date, optionally `` H:m:s[.fraction]``
_HIVE_TIMESTAMP = _HIVE_DATE + r"(?: ([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:\.([0-9]{1,9}))?)?"
#: ISO-8601 local date-time (``DateTimeFormatter.ISO_LOCAL_DATE_TIME``), Hive's second try
_ISO_TIMESTAMP = r"([+-]?[0-9]{4,10})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{0,9}))?)?"


def _lenient_datetime(text: str, pattern: str, time: bool) -> str:
    """DuckDB SQL for ``text`` matched by ``pattern`` (groups: year, month, day[, hour, minute, second,
    fraction]) resolved as ``java.time``'s LENIENT resolver does: each field past its range carries into
    the next larger one. NULL when it does not match (or falls outside DuckDB's range)."""

    def group(n: int) -> str:
        return f"CAST(NULLIF(regexp_extract({text}, '^{pattern}$', {n}), '') AS BIGINT)"

    value = f"make_date(CAST({group(1)} AS INTEGER), 1, 1) + to_months({group(2)} - 1) + to_days({group(3)} - 1)"
    if time:
        fraction = f"rpad(regexp_extract({text}, '^{pattern}$', 7), 9, '0')"
        value += (
            f" + to_hours(coalesce({group(4)}, 0)) + to_minutes(coalesce({group(5)}, 0))"
            f" + to_seconds(coalesce({group(6)}, 0))"
            f" + to_microseconds(CAST(left({fraction}, 6) AS BIGINT))"
        )
        return f"CASE WHEN regexp_full_match({text}, '{pattern}') THEN try(CAST({value} AS TIMESTAMP)) END"
    return f"CASE WHEN regexp_full_match({text}, '{pattern}') THEN try(CAST({value} AS DATE)) END"


def _timestamp_formats(table: catalog.TableInfo) -> list[str]:
    """The ``timestamp.formats`` SerDe property as Hive splits it: on ``,``, ``\\`` escaping ``,`` or ``\\``."""
    text = {**table.parameters, **table.serde_params}.get("timestamp.formats")
    if text is None:
        return []
    out, buffer, i = [], "", 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            if i + 1 >= len(text) or text[i + 1] not in ",\\":
                raise coded(
                    "HIVE_INVALID_METADATA",
                    f"Invalid 'timestamp.formats' property value '{text}': Illegal escaped character at {i}",
                )
            buffer += text[i + 1]
            i += 1
        elif c == ",":
            if buffer:
                out.append(buffer)
            buffer = ""
        else:
            buffer += c
        i += 1
    if buffer:
        out.append(buffer)
    return out


def _lazy_timestamp(table: catalog.TableInfo, col: str) -> str:
    """A LazySimpleSerDe timestamp (Hive's ``LazyTimestamp``, as Trino's text reader copies it): a value
    shorter than 8 bytes is NULL; trimmed, it is tried against each ``timestamp.formats`` pattern (only
    ``millis``, milliseconds since 1970, is emulated), then as ``yyyy-M-d[ H:m:s[.fffffffff]]``, then as
    ISO-8601 ``yyyy-MM-ddTHH:mm[:ss[.f]]``, fields resolved leniently; nothing else parses (NULL).
    Fractions finer than microseconds are cut (DuckDB's timestamps hold microseconds)."""
    trimmed = _JAVA_TRIM.format(col)
    tries = []
    for fmt in _timestamp_formats(table):
        if fmt.lower() != "millis":
            raise coded(
                "NOT_SUPPORTED",
                f"The timestamp.formats pattern '{fmt}' of table {table.qualified} is not emulated by the sandbox "
                "(only 'millis' is); declare the column string and parse it with date_parse",
            )
        tries.append(
            f"CASE WHEN regexp_full_match({trimmed}, '-?[0-9]+(\\.[0-9]+)?') THEN "
            f"try(epoch_ms(CAST(regexp_extract({trimmed}, '^-?[0-9]+') AS BIGINT))) END"
        )
    tries.append(_lenient_datetime(trimmed, _HIVE_TIMESTAMP, True))
    tries.append(_lenient_datetime(trimmed, _ISO_TIMESTAMP, True))
    return f"CASE WHEN strlen({col}) >= 8 THEN coalesce({', '.join(tries)}) END"


def _csv_invalid(table: catalog.TableInfo, col: str, index: int, detail: str) -> str:
    """What an OpenCSVSerde value that does not convert gives: NULL with ``use.null.for.invalid.data``,
    else the query fails ``HIVE_BAD_DATA: Error parsing field value '...' for field N: <detail>``."""
    if table.parameters.get("use.null.for.invalid.data", "").strip().lower() == "true":
        return "NULL"
    value = f"replace({col}, '''', '''''')"
    return (
        "error('HIVE_BAD_DATA: Error parsing field value ''' || " + value + " || ''' for field "
        + str(index) + ": ' || " + detail + ")"
    )


def _text_value(table: catalog.TableInfo, col: str, duck: str, index: int) -> str:
    """A text field of a text table as a value of its column's type, as the table's SerDe reads it.

    LazySimpleSerDe (Hive's ``Lazy*`` readers, which Trino's text reader copies bug for bug): an
    integer is an optional sign and digits, a fraction after ``.`` (digits only) is dropped, anything
    else (spaces, exponents, out of range, empty) is NULL; a boolean is ``true`` or ``false`` in any
    case, else NULL; a date is ``y-M-d`` (trimmed, anything after a space ignored, resolved leniently);
    a timestamp as :func:`_lazy_timestamp`; a decimal as Java's ``BigDecimal`` reads it, rounded half up
    to the column's scale, NULL when it is no number or needs more digits than the column's precision.

    OpenCSVSerde: Athena documents that a value of a numeric column that does not parse (an empty field
    too) fails the query with ``HIVE_BAD_DATA: Error parsing field value``, unless the table property
    ``use.null.for.invalid.data`` is true (then it is NULL); it documents booleans, a ``date`` as the
    number of days since 1970-01-01 and a ``timestamp`` as milliseconds since 1970-01-01 00:00 UTC and
    no other form. Values of those columns in other forms fail the same way, naming the form the sandbox
    reads (Athena's reading of them is not emulated). Decimals read as LazySimpleSerDe's, failing so
    where that reading is NULL.

    Other types are converted as DuckDB converts text (a value that does not convert is NULL).
    """
    if table.data_format == "csv":
        integer = "regexp_full_match({0}, '[+-]?[0-9]+') AND TRY_CAST({0} AS {1}) IS NOT NULL"
        string = "'For input string: \"' || replace(" + col + ", '''', '''''') || '\"'"
        read: tuple[str, str, str] | None = None
        if duck in _INTEGERS:
            read = (integer.format(col, duck), f"CAST({col} AS {duck})", string)
        elif duck in ("DOUBLE", "FLOAT"):
            read = (f"TRY_CAST({col} AS {duck}) IS NOT NULL", f"CAST({col} AS {duck})", string)
        elif duck == "BOOLEAN":
            read = (f"lower({col}) IN ('true', 'false')", f"lower({col}) = 'true'",
                    "'not true or false; other boolean values of an OpenCSVSerDe table are not emulated "
                    "by the sandbox'")
        elif duck == "DATE":
            days = f"try(DATE '1970-01-01' + CAST({col} AS INTEGER))"
            read = (integer.format(col, "INTEGER") + f" AND {days} IS NOT NULL",
                    f"DATE '1970-01-01' + CAST({col} AS INTEGER)",
                    "'not a number of days since 1970-01-01, the only DATE form Athena documents for the "
                    "OpenCSVSerDe; reading other forms is not emulated by the sandbox'")
        elif duck == "TIMESTAMP":
            read = (integer.format(col, "BIGINT") + f" AND try(epoch_ms(CAST({col} AS BIGINT))) IS NOT NULL",
                    f"epoch_ms(CAST({col} AS BIGINT))",
                    "'not a number of milliseconds since 1970-01-01, the only TIMESTAMP form Athena "
                    "documents for the OpenCSVSerDe; reading other forms is not emulated by the sandbox'")
        elif duck.startswith("DECIMAL"):
            read = (f"regexp_full_match({col}, '{_BIG_DECIMAL}') AND TRY_CAST({col} AS {duck}) IS NOT NULL",
                    f"CAST({col} AS {duck})",
                    f"'not a number that fits {duck.lower()}; reading it is not emulated by the sandbox'")
        if read is not None:
            valid, value, detail = read
            invalid = _csv_invalid(table, col, index, detail)
            return f"CASE WHEN {col} IS NULL THEN NULL WHEN {valid} THEN {value} ELSE {invalid} END"
    if table.data_format == "text" and duck in _INTEGERS:
        whole = f"regexp_replace(regexp_replace({col}, '\\..*$', ''), '^([+-]?)$', '\\10')"
        return (
            f"CASE WHEN regexp_full_match({col}, '[+-]?[0-9]*(\\.[0-9]*)?') AND NOT regexp_full_match({col}, "
            f"'[+-]?') THEN TRY_CAST({whole} AS {duck}) END"
        )
    if table.data_format == "text" and duck == "BOOLEAN":
        return f"CASE lower({col}) WHEN 'true' THEN true WHEN 'false' THEN false END"
    if table.data_format == "text" and duck == "DATE":
        return _lenient_datetime(f"split_part({_JAVA_TRIM.format(col)}, ' ', 1)", _HIVE_DATE, False)
    if table.data_format == "text" and duck == "TIMESTAMP":
        return _lazy_timestamp(table, col)
    if table.data_format == "text" and duck.startswith("DECIMAL"):
        return f"CASE WHEN regexp_full_match({col}, '{_BIG_DECIMAL}') THEN TRY_CAST({col} AS {duck}) END"
    return f"TRY_CAST({col} AS {duck})"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _register_spill(
    con: duckdb.DuckDBPyConnection, ref: TableRef, table: catalog.TableInfo, spill: storage.Spill, union_by_name: bool
) -> None:
    """A view over spilled Parquet files, read natively by DuckDB (one call, its own threads).

    Without ``union_by_name`` DuckDB takes the first file's schema (fast); the caller retries with
    it when the files disagree. Partition values join on ``file_index`` (the file's list position).

    The file list reaches DuckDB as a bound value in a session variable, not as SQL text (parsing
    thousands of path literals costs more than reading small files), and is bound once per statement:
    DuckDB binds a view anew in every statement that reads it, and each bind checks every path's
    partition folders. So, unless by name, the schema probe and the view's own bind see the first file
    only (its schema is the view's either way), and the variable holds every file from then on.
    """
    files = ref.view + "_files"
    con.execute(f"SET VARIABLE {quote(files)} = $1", [spill.paths if union_by_name else spill.paths[:1]])
    hive = (
        "hive_partitioning = true, hive_types_autocast = false, hive_types = {"
        + ", ".join(f"{_sql_string(k)}: 'VARCHAR'" for k in spill.hive)
        + "}"
        if spill.hive
        else "hive_partitioning = false"
    )
    options = f"{hive}, union_by_name = {str(union_by_name).lower()}"
    source = f"read_parquet(getvariable({_sql_string(files)}), {options})"
    try:
        rel = con.sql(f"SELECT * FROM {source} LIMIT 0")
        have = {name.lower(): (name, str(t)) for name, t in zip(rel.columns, rel.types, strict=False)}
    except duckdb.Error as exc:
        raise storage.spill_error(str(exc)) or wrap_duckdb_error(exc) from exc
    pkeys = {k for k, _ in table.partition_keys}
    items = []
    for col, hive in [(c, t) for c, t in table.columns if c not in pkeys]:
        duck = hive_to_duckdb(hive)
        found = have.get(col)
        if found is None:
            items.append(f"CAST(NULL AS {duck}) AS {quote(col)}")
        elif duck == "VARCHAR" and found[1] == "VARCHAR":
            items.append(f"f.{quote(found[0])} AS {quote(col)}")
        else:
            items.append(f"CAST(f.{quote(found[0])} AS {duck}) AS {quote(col)}")
    join = ""
    for col, hive_type in table.partition_keys if spill.hive else []:
        duck = hive_to_duckdb(hive_type)
        value = f"f.{quote(col)}"
        items.append(value if duck == "VARCHAR" else f"CAST({value} AS {duck}) AS {quote(col)}")
    if spill.parts is not None:
        parts = ref.view + "_parts"
        con.register(parts, spill.parts)
        for col, hive in table.partition_keys:
            duck = hive_to_duckdb(hive)
            value = f"p.{quote(col)}"
            items.append(value if duck == "VARCHAR" else f"CAST({value} AS {duck}) AS {quote(col)}")
        join = f" JOIN (SELECT *, row_number() OVER () - 1 AS __file FROM {quote(parts)}) p ON f.file_index = p.__file"
    con.execute(f"CREATE OR REPLACE TEMP VIEW {quote(ref.view)} AS SELECT {', '.join(items)} FROM {source} f{join}")
    if not union_by_name:
        con.execute(f"SET VARIABLE {quote(files)} = $1", [spill.paths])


def run_query(
    query: exp.Expr, ctx: Context, explain: bool = False
) -> tuple[pa.Table, list[tuple[str, str]], int]:
    """Run a SELECT (already parsed); returns (Arrow result, [(name, DuckDB type)], bytes scanned).

    With ``explain``, the result is DuckDB's ``EXPLAIN`` of the query (``explain_key``, ``explain_value``).
    """
    query = query.copy()
    name_unnamed_columns(query)
    views.expand(query, ctx)
    scans = projection.collect(query, ctx.database)
    semantics.apply(query, ctx)
    refs = bind_tables(query, ctx)
    sql = ("EXPLAIN " if explain else "") + to_duckdb(query)
    con = _connect(ctx)
    try:
        union_by_name = False
        while True:
            ctx.input_rows, ctx.input_files = 0, []
            registered = [
                _register(con, ref, ctx, union_by_name, scans.get((ref.database, ref.name))) for ref in refs
            ]
            scanned = sum(n for n, _ in registered)
            if ctx.scan_cutoff is not None and scanned > ctx.scan_cutoff:
                raise QueryError(SCAN_LIMIT_REASON, "BYTES_SCANNED_LIMIT")
            ctx.check_cancelled()
            try:
                rel = con.sql(sql)
                names, types = list(rel.columns), [str(t) for t in rel.types]
                fetched = rel.to_arrow_table()
                break
            except duckdb.Error as exc:
                if ctx.cancelled.is_set():
                    raise QueryError("Query was cancelled", "USER_CANCELLED") from exc
                if not union_by_name and any(spilled for _, spilled in registered):
                    union_by_name = True  # the spilled files may disagree on their schema: read by name
                    continue
                raise (
                    storage.spill_error(str(exc)) or semantics.function_error(str(exc), ctx) or wrap_duckdb_error(exc)
                ) from exc
    finally:
        ctx.connections.remove(con)
        con.close()
    arrays = []
    for i, t in enumerate(types):
        col = fetched.column(i)
        if t == "HUGEINT":  # Trino's sum(bigint) is a bigint
            try:
                col = col.cast(pa.int64())
            except pa.ArrowInvalid as exc:
                raise coded(
                    "NUMERIC_VALUE_OUT_OF_RANGE", f"bigint addition overflow in column {names[i]}"
                ) from exc
            types[i] = "BIGINT"
        arrays.append(col)
    result = pa.Table.from_arrays(arrays, names=[f"c{i}" for i in range(len(names))])
    return result, list(zip(names, types, strict=False)), scanned


def _has_map(t: pa.DataType) -> bool:
    if pa.types.is_map(t):
        return True
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _has_map(t.value_type)
    if pa.types.is_struct(t):
        return any(_has_map(t.field(i).type) for i in range(t.num_fields))
    return False


def _with_maps(value: Any, t: pa.DataType) -> Any:
    """Arrow's map values (lists of key/value pairs) as dicts, at any depth: Athena prints them ``{k=v}``."""
    if value is None:
        return None
    if pa.types.is_map(t):
        return {_with_maps(k, t.key_type): _with_maps(v, t.item_type) for k, v in value}
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return [_with_maps(v, t.value_type) for v in value]
    if pa.types.is_struct(t):
        return {f.name: _with_maps(value.get(f.name), f.type) for f in t}
    return value


def explain(query: exp.Expr, ctx: Context) -> list[str]:
    """The lines of DuckDB's physical plan of a SELECT, over the tables it reads."""
    table, _, _ = run_query(query, ctx, explain=True)
    return [line for text in table.column(1).to_pylist() for line in str(text).splitlines()]


def rows_of(table: pa.Table) -> list[list[Any]]:
    cols = [
        [_with_maps(v, c.type) for v in c.to_pylist()] if _has_map(c.type) else c.to_pylist() for c in table.columns
    ]
    return [list(r) for r in zip(*cols, strict=False)] if cols else []


def select(query: exp.Expr, ctx: Context) -> Result:
    table, columns, scanned = run_query(query, ctx)
    return Result("DML", "SELECT", columns, rows_of(table), header=True, data_scanned=scanned)


def _props(stmt: exp.Create) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in (stmt.args.get("properties") or exp.Properties(expressions=[])).expressions:
        if isinstance(p, exp.FileFormatProperty):
            out["format"] = (p.this.name if p.this is not None else "").upper()
        elif isinstance(p, exp.PartitionedByProperty):
            node = p.this
            items = node.expressions if isinstance(node, (exp.Array, exp.Schema, exp.Tuple)) else [node]
            out["partitioned_by"] = [i.name.lower() for i in items]
        elif isinstance(p, exp.LocationProperty):
            out["location"] = p.this.name
        elif isinstance(p, exp.Property):
            value = p.args.get("value")
            if isinstance(value, exp.Array):
                out[p.name.lower()] = [v.name for v in value.expressions]
            else:
                out[p.name.lower()] = value.name if value is not None else ""
    return out


def ctas(stmt: exp.Create, ctx: Context) -> Result:
    """``CREATE TABLE t [WITH (...)] AS SELECT``: write the rows to S3 and register the table."""
    target = stmt.this.this if isinstance(stmt.this, exp.Schema) else stmt.this
    db = (target.db or ctx.database).lower()
    name = target.name.lower()
    meta = target.this.meta if target.this else {}
    catalog.require_database(ctx.region, db, meta)
    if catalog.table_exists(ctx.region, db, name):
        if stmt.args.get("exists"):
            return Result("DDL", "CREATE_TABLE_AS_SELECT", update_count=0)
        raise coded("TABLE_ALREADY_EXISTS", f"Table 'awsdatacatalog.{db}.{name}' already exists", meta)
    props = _props(stmt)
    fmt = (props.get("format") or "PARQUET").upper()
    if fmt not in ("PARQUET", "TEXTFILE"):
        raise coded(
            "NOT_SUPPORTED", f"CTAS format {fmt} is not emulated by the sandbox (PARQUET and TEXTFILE are)", meta
        )
    if str(props.get("table_type", "HIVE")).upper() == "ICEBERG":
        raise coded("NOT_SUPPORTED", "Iceberg tables are not emulated by the sandbox", meta)
    location = props.get("external_location") or props.get("location") or ""
    if not location:
        if not ctx.output_location:
            raise coded("INVALID_TABLE_PROPERTY", "No output location for the table data", meta)
        location = f"{ctx.output_location}tables/{ctx.query_id}/"
    if not location.startswith("s3://"):
        raise coded("INVALID_TABLE_PROPERTY", f"external_location must be an S3 URI, got '{location}'", meta)
    if not location.endswith("/"):
        location += "/"
    if storage.list_objects(location):
        raise coded(
            "HIVE_PATH_ALREADY_EXISTS",
            f"Target directory for table '{db}.{name}' already exists: {location}. You may need to "
            "manually clean the data at location before retrying.",
            meta,
        )
    result, columns, scanned = run_query(stmt.expression, ctx)
    names = [c.lower() for c, _ in columns]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise coded("DUPLICATE_COLUMN_NAME", f"Column name '{dupes[0]}' specified more than once", meta)
    pcols = [c.lower() for c in props.get("partitioned_by") or []]
    if pcols and names[len(names) - len(pcols) :] != pcols:
        raise coded(
            "HIVE_COLUMN_ORDER_MISMATCH",
            "Partition keys must be the last columns in the table and in "
            f"the same order as the table properties: {pcols}",
            meta,
        )
    ctx.check_cancelled()
    result = result.rename_columns(names)
    hive_types = [(n, duckdb_to_hive(t)) for n, (_, t) in zip(names, columns, strict=False)]
    data_cols = hive_types[: len(hive_types) - len(pcols)]
    part_keys = hive_types[len(hive_types) - len(pcols) :] if pcols else []
    compression = str(props.get("write_compression") or props.get("parquet_compression") or "SNAPPY").upper()
    delimiter = _unescape(str(props.get("field_delimiter") or "\x01"))
    groups = _split(result, pcols)
    if len(groups) > MAX_CTAS_PARTITIONS:
        raise coded(
            "HIVE_TOO_MANY_OPEN_PARTITIONS",
            f"Exceeded limit of {MAX_CTAS_PARTITIONS} open writers for "
            f"partitions/buckets ({len(groups)} partitions)",
            meta,
        )
    stamp = time.strftime("%Y%m%d_%H%M%S", time.gmtime())
    files = []
    partitions = []
    for values, part in groups:
        folder = location + "".join(f"{k}={v}/" for k, v in zip(pcols, values, strict=False))
        if part.num_rows == 0:
            continue
        suffix = ".parquet" if fmt == "PARQUET" else ""
        uri = f"{folder}{stamp}_{ctx.query_id}_{uuid.uuid4().hex[:8]}{suffix}"
        if fmt == "PARQUET":
            data = storage.parquet_bytes(part, compression)
        else:
            data = _text_bytes(part, delimiter)
        storage.write_object(uri, data)
        files.append(uri)
        if pcols:
            partitions.append(Partition([str(v) for v in values], folder))
    formats = PARQUET_FORMATS if fmt == "PARQUET" else TEXT_FORMATS
    serde = (
        {"serialization.format": "1"}
        if fmt == "PARQUET"
        else {"field.delim": delimiter, "serialization.format": delimiter}
    )
    params = {
        "EXTERNAL": "TRUE",
        "has_encrypted_data": "false",
        "classification": "parquet" if fmt == "PARQUET" else "csv",
    }
    if fmt == "PARQUET":
        params["parquet.compression"] = compression
    ctx.check_cancelled()
    catalog.create_table(
        ctx.region,
        db,
        name,
        {
            "Name": name,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": params,
            "StorageDescriptor": catalog.storage_descriptor(data_cols, location, formats, serde),
            "PartitionKeys": [{"Name": n, "Type": t} for n, t in part_keys],
            "Retention": 0,
        },
        if_not_exists=bool(stmt.args.get("exists")),
        exists_message=f"Table 'awsdatacatalog.{db}.{name}' already exists",
        meta=meta,
    )
    if partitions:
        catalog.add_partitions(ctx.region, catalog.get_table(ctx.region, db, name), partitions)
    out = Result(
        "DDL",
        "CREATE_TABLE_AS_SELECT",
        [("rows", "BIGINT")],
        [[result.num_rows]],
        header=True,
        data_scanned=scanned,
        update_count=result.num_rows,
    )
    out.lines = files
    return out


def _unescape(text: str) -> str:
    return text.encode().decode("unicode_escape") if text.startswith("\\") else text


def _split(table: pa.Table, pcols: list[str]) -> list[tuple[list[Any], pa.Table]]:
    """Rows grouped by partition values (Hive's default partition for NULL), partition columns dropped."""
    if not pcols:
        return [([], table)]
    keys = []
    for c in pcols:
        col = table.column(c)
        text = col if pa.types.is_string(col.type) else pc.cast(col, pa.string())
        keys.append(pc.fill_null(text, storage.HIVE_DEFAULT_PARTITION))
    joined = pc.binary_join_element_wise(*keys, "\x00") if len(keys) > 1 else keys[0]
    data = table.drop_columns(pcols)
    out = []
    for value in pc.unique(joined).to_pylist():
        mask = pc.equal(joined, value)
        out.append((value.split("\x00"), data.filter(mask)))
    return out


def _text_bytes(table: pa.Table, delimiter: str) -> bytes:
    import io

    buf = io.BytesIO()
    pacsv.write_csv(
        table, buf, pacsv.WriteOptions(include_header=False, delimiter=delimiter, quoting_style="none")
    )
    return buf.getvalue()
