"""Hive DDL as Athena runs it: external tables, databases and partitions in the Glue catalog."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import unquote

from sqlglot import exp

from ..state import split_s3_uri
from . import catalog, storage, views
from .catalog import PARQUET_FORMATS, TEXT_FORMATS, Partition
from .context import Context, Result
from .errors import QueryError, coded
from .types import hive_to_duckdb

_NAME = r"(?:`[^`]+`|\"[^\"]+\"|[\w$]+)(?:\s*\.\s*(?:`[^`]+`|\"[^\"]+\"|[\w$]+))?"

_FORMATS = {
    "PARQUET": PARQUET_FORMATS,
    "TEXTFILE": TEXT_FORMATS,
    "JSON": {
        "input": "org.apache.hadoop.mapred.TextInputFormat",
        "output": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        "serde": "org.openx.data.jsonserde.JsonSerDe",
    },
    "ORC": {
        "input": "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat",
        "output": "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat",
        "serde": "org.apache.hadoop.hive.ql.io.orc.OrcSerde",
    },
    "AVRO": {
        "input": "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat",
        "output": "org.apache.hadoop.hive.ql.io.avro.AvroContainerOutputFormat",
        "serde": "org.apache.hadoop.hive.serde2.avro.AvroSerDe",
    },
}


def split_name(text: str, ctx: Context) -> tuple[str, str]:
    """``db.t`` / ```t``` -> (database, table), lower-cased, the context database by default."""
    parts = [p.strip().strip('`"').lower() for p in text.split(".")]
    if len(parts) == 1:
        return ctx.database.lower(), parts[0]
    return parts[-2], parts[-1]


def _lit(node: exp.Expression | None) -> str:
    if node is None:
        return ""
    if isinstance(node, exp.Literal):
        return str(node.this)
    return node.name or node.sql()


def _table_ref(node: exp.Expression, ctx: Context) -> tuple[str, str, dict[str, int]]:
    table = node.this if isinstance(node, exp.Schema) else node
    assert isinstance(table, exp.Table)
    db = (table.db or ctx.database).lower()
    return db, table.name.lower(), table.this.meta if table.this else {}


def create_external_table(stmt: exp.Create, ctx: Context) -> Result:
    """``CREATE EXTERNAL TABLE`` -> a Glue table in Athena's TableInput shape."""
    props = list((stmt.args.get("properties") or exp.Properties(expressions=[])).expressions)
    db, name, meta = _table_ref(stmt.this, ctx)
    if not any(isinstance(p, exp.ExternalProperty) for p in props):
        table_type = next(
            (
                _lit(p.args.get("value"))
                for p in props
                if isinstance(p, exp.Property) and _lit(p.this).lower() == "table_type"
            ),
            "",
        )
        if table_type.upper() != "ICEBERG":
            raise QueryError(
                "Only external table creation is supported. (Use CREATE EXTERNAL TABLE, "
                "or CREATE TABLE ... AS SELECT)",
                "NOT_SUPPORTED",
            )
        raise coded("NOT_SUPPORTED", "Iceberg tables are not emulated by the sandbox", meta)
    if not isinstance(stmt.this, exp.Schema) or not stmt.this.expressions:
        raise coded("SYNTAX_ERROR", "CREATE EXTERNAL TABLE needs a column list", meta)
    columns = [(c.name.lower(), _hive_type(c)) for c in stmt.this.expressions if isinstance(c, exp.ColumnDef)]
    partition_keys: list[tuple[str, str]] = []
    formats = dict(TEXT_FORMATS)
    serde_params: dict[str, str] = {}
    parameters: dict[str, str] = {"EXTERNAL": "TRUE"}
    location = ""
    comment = ""
    explicit_serde = False
    for p in props:
        if isinstance(p, exp.PartitionedByProperty):
            schema = p.this
            partition_keys = [
                (c.name.lower(), _hive_type(c)) for c in schema.expressions if isinstance(c, exp.ColumnDef)
            ]
        elif isinstance(p, exp.RowFormatSerdeProperty):
            formats["serde"] = _lit(p.this)
            explicit_serde = True
            sp = p.args.get("serde_properties")
            for item in sp.expressions if sp else []:
                serde_params[_lit(item.this)] = _lit(item.args.get("value"))
        elif isinstance(p, exp.RowFormatDelimitedProperty):
            for arg, key in (
                ("fields", "field.delim"),
                ("escaped", "escape.delim"),
                ("collection_items", "collection.delim"),
                ("map_keys", "mapkey.delim"),
                ("lines", "line.delim"),
                ("null", "serialization.null.format"),
            ):
                if p.args.get(arg) is not None:
                    serde_params[key] = _unescape(_lit(p.args[arg]))
            if "field.delim" in serde_params:
                serde_params["serialization.format"] = serde_params["field.delim"]
        elif isinstance(p, exp.SerdeProperties):  # ROW FORMAT DELIMITED ... WITH SERDEPROPERTIES (...)
            for item in p.expressions:
                serde_params[_lit(item.this)] = _lit(item.args.get("value"))
        elif isinstance(p, exp.FileFormatProperty):
            fmt = p.this
            if isinstance(fmt, exp.InputOutputFormat):
                formats["input"] = _lit(fmt.args.get("input_format"))
                formats["output"] = _lit(fmt.args.get("output_format"))
            else:
                kind = _lit(fmt).upper()
                kind = {"JSONFILE": "JSON", "PARQUETFILE": "PARQUET"}.get(kind, kind)
                if kind not in _FORMATS:
                    raise coded("NOT_SUPPORTED", f"STORED AS {kind} is not emulated by the sandbox", meta)
                chosen = _FORMATS[kind]
                formats["input"], formats["output"] = chosen["input"], chosen["output"]
                if not explicit_serde:
                    formats["serde"] = chosen["serde"]
        elif isinstance(p, exp.LocationProperty):
            location = _lit(p.this)
        elif isinstance(p, exp.SchemaCommentProperty):
            comment = _lit(p.this)
        elif isinstance(p, exp.Property) and not isinstance(p, exp.ExternalProperty):  # TBLPROPERTIES
            parameters[_lit(p.this)] = _lit(p.args.get("value"))
    for _, t in columns + partition_keys:
        hive_to_duckdb(t)  # unknown types fail here, as Athena's DDL does
    if not location:
        raise coded("SYNTAX_ERROR", "CREATE EXTERNAL TABLE needs LOCATION 's3://bucket/prefix/'", meta)
    if not location.startswith("s3://"):
        raise coded(
            "INVALID_TABLE_PROPERTY",
            f"LOCATION must be an S3 URI (s3://bucket/prefix/), got '{location}'",
            meta,
        )
    if "field.delim" not in serde_params and formats["serde"] == TEXT_FORMATS["serde"]:
        serde_params["field.delim"] = serde_params.get("serialization.format", "\x01")
    serde_params.setdefault("serialization.format", serde_params.get("field.delim", "1"))
    catalog.require_database(ctx.region, db, meta)
    info = catalog.TableInfo(
        db,
        name,
        columns,
        partition_keys,
        location,
        formats["input"],
        formats["serde"],
        serde_params,
        parameters,
    )
    if "classification" not in parameters and info.data_format in ("parquet", "json", "orc", "avro", "csv"):
        parameters["classification"] = info.data_format
    parameters.setdefault("transient_lastDdlTime", str(int(time.time())))
    if_not_exists = bool(stmt.args.get("exists"))
    if catalog.table_exists(ctx.region, db, name):
        if if_not_exists:
            return Result("DDL", "CREATE_TABLE")
        raise coded("TABLE_ALREADY_EXISTS", f"Table '{db}.{name}' already exists", meta)
    table_input: dict[str, Any] = {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": parameters,
        "StorageDescriptor": catalog.storage_descriptor(columns, location, formats, serde_params),
        "PartitionKeys": [{"Name": n, "Type": t} for n, t in partition_keys],
        "Retention": 0,
        "Owner": "hadoop",
    }
    if comment:
        table_input["Description"] = comment
    catalog.create_table(ctx.region, db, name, table_input, if_not_exists=if_not_exists, meta=meta)
    return Result("DDL", "CREATE_TABLE")


def _hive_type(col: exp.ColumnDef) -> str:
    """A column definition's type as Glue stores it: ``string``, ``decimal(10,2)``, ``array<int>``."""
    return col.args["kind"].sql("hive").lower().replace(": ", ":").replace(", ", ",")


def _unescape(text: str) -> str:
    if text.startswith("\\") and len(text) > 1:
        try:
            return text.encode().decode("unicode_escape")
        except UnicodeDecodeError:
            return text
    return text


def create_database(stmt: exp.Create, ctx: Context) -> Result:
    table = stmt.this
    name = (table.name or table.db).lower()
    props = list((stmt.args.get("properties") or exp.Properties(expressions=[])).expressions)
    comment = next((_lit(p.this) for p in props if isinstance(p, exp.SchemaCommentProperty)), "")
    location = next((_lit(p.this) for p in props if isinstance(p, exp.LocationProperty)), "")
    catalog.ensure_default_database(ctx.region)
    catalog.create_database(
        ctx.region,
        name,
        bool(stmt.args.get("exists")),
        comment,
        location,
        table.this.meta if table.this else None,
    )
    return Result("DDL", "CREATE_DATABASE")


def drop(stmt: exp.Drop, ctx: Context) -> Result:
    kind = (stmt.args.get("kind") or "TABLE").upper()
    if_exists = bool(stmt.args.get("exists"))
    tables = stmt.args.get("tables") or [stmt.this]
    if kind in ("DATABASE", "SCHEMA"):
        t = tables[0]
        name = (t.name or t.db).lower()
        catalog.drop_database(ctx.region, name, if_exists, bool(stmt.args.get("cascade")))
        return Result("DDL", "DROP_DATABASE")
    if kind not in ("TABLE", "VIEW"):
        raise coded("NOT_SUPPORTED", f"DROP {kind} is not emulated by the sandbox")
    with catalog.LOCK:  # look and drop in one step: of two drops at once, the second finds nothing
        for t in tables:
            _drop_one(t, kind, if_exists, ctx)
    return Result("DDL", "DROP_VIEW" if kind == "VIEW" else "DROP_TABLE")


def _drop_one(t: exp.Table, kind: str, if_exists: bool, ctx: Context) -> None:
    db, name, meta = _table_ref(t, ctx)
    if db == "default":
        catalog.ensure_default_database(ctx.region)
    if not catalog.database_exists(ctx.region, db):
        if if_exists:
            return
        raise coded("SCHEMA_NOT_FOUND", f"Schema '{db}' does not exist", meta)
    found = catalog.table_dict(ctx.region, db, name)
    if found is None:
        if if_exists:
            return
        if kind == "VIEW":
            raise coded("TABLE_NOT_FOUND", f"View '{views.qualified(db, name)}' does not exist", meta)
        raise catalog.table_missing(db, name, meta)
    is_view = (found.get("TableType") or "").upper() == views.VIRTUAL_VIEW
    if is_view != (kind == "VIEW"):  # as Trino: DROP VIEW drops views only, DROP TABLE tables only
        if if_exists:
            return
        this, other = ("View", "table") if kind == "VIEW" else ("Table", "view")
        q = views.qualified(db, name)
        raise coded(
            "TABLE_NOT_FOUND",
            f"{this} '{q}' does not exist, but a {other} with that name exists. "
            f"Did you mean DROP {other.upper()} {q}?",
            meta,
        )
    catalog.drop_table(ctx.region, db, name)  # external table: the data stays in S3


MSCK_RE = re.compile(rf"^\s*MSCK\s+REPAIR\s+TABLE\s+({_NAME})\s*;?\s*$", re.I | re.S)


def msck_repair(match: re.Match[str], ctx: Context) -> Result:
    """``MSCK REPAIR TABLE``: register the Hive-style ``k=v/`` folders found under the location."""
    db, name = split_name(match.group(1), ctx)
    table = catalog.get_table(ctx.region, db, name)
    result = Result("DDL", "MSCK_REPAIR_TABLE", header=False)
    if not table.partition_keys:
        return result
    keys = [k for k, _ in table.partition_keys]
    base = table.location if table.location.endswith("/") else table.location + "/"
    _, prefix = split_s3_uri(base)
    found: dict[tuple[str, ...], str] = {}
    for f in storage.list_objects(base):
        segments = f.key[len(prefix) :].split("/")[:-1]
        if len(segments) < len(keys):
            continue
        values = []
        for seg, key in zip(segments, keys, strict=False):
            k, sep, v = seg.partition("=")
            if not sep or k.lower() != key:
                break
            values.append(unquote(v))
        else:
            found.setdefault(tuple(values), base + "/".join(segments[: len(keys)]) + "/")
    missing = [
        Partition(list(v), loc)
        for v, loc in sorted(found.items())
        if tuple(v) not in {tuple(p.values) for p in table.partitions}
    ]

    def spec(p: Partition) -> str:
        return "/".join(f"{k}={v}" for k, v in zip(keys, p.values, strict=False))

    added = catalog.add_partitions(ctx.region, table, missing)
    if missing:
        result.lines.append(
            "Partitions not in metastore:\t" + "\t".join(f"{name}:{spec(p)}" for p in missing)
        )
    result.lines.extend(f"Repair: Added partition to metastore {name}:{spec(p)}" for p in added)
    result.rows = [[line] for line in result.lines]
    storage.warm(catalog.get_table(ctx.region, db, name))
    return result


ALTER_RE = re.compile(
    rf"^\s*ALTER\s+TABLE\s+({_NAME})\s+(ADD|DROP)\s+(IF\s+(?:NOT\s+)?EXISTS\s+)?(.*?)\s*;?\s*$", re.I | re.S
)
_PART_RE = re.compile(r"PARTITION\s*\((.*?)\)\s*(?:LOCATION\s+'([^']*)')?\s*,?\s*", re.I | re.S)
_KV_RE = re.compile(r"\s*([`\"]?[\w$]+[`\"]?)\s*=\s*('(?:[^']|'')*'|\"[^\"]*\"|[^,\s)]+)\s*(?:,|$)")


def alter_table(match: re.Match[str], ctx: Context) -> Result:
    """``ALTER TABLE t ADD|DROP [IF [NOT] EXISTS] PARTITION (k='v', ...) [LOCATION '...'] ...``."""
    db, name = split_name(match.group(1), ctx)
    action, guarded, rest = match.group(2).upper(), bool(match.group(3)), match.group(4)
    table = catalog.get_table(ctx.region, db, name)
    keys = [k for k, _ in table.partition_keys]
    specs: list[Partition] = []
    pos = 0
    while pos < len(rest):
        m = _PART_RE.match(rest, pos)
        if not m:
            raise QueryError(
                f"line 1:1: mismatched input '{rest[pos : pos + 20]}'. Expecting: 'PARTITION'", "SYNTAX_ERROR"
            )
        pos = m.end()
        given: dict[str, str] = {}
        for kv in _KV_RE.finditer(m.group(1)):
            raw = kv.group(2)
            value = raw[1:-1].replace("''", "'") if raw[:1] in "'\"" else raw
            given[kv.group(1).strip('`"').lower()] = value
        if sorted(given) != sorted(keys):
            raise coded(
                "INVALID_PARTITION_VALUE" if action == "ADD" else "SYNTAX_ERROR",
                f"Partition spec {given} does not match the partition keys {keys} of {db}.{name}",
            )
        values = [given[k] for k in keys]
        specs.append(Partition(values, m.group(2) or catalog.default_partition_location(table, values)))
    if action == "ADD":
        existing = {tuple(p.values) for p in table.partitions}
        dup = [p for p in specs if tuple(p.values) in existing]
        if dup and not guarded:
            raise coded(
                "ALREADY_EXISTS", f"Partition already exists: {dict(zip(keys, dup[0].values, strict=False))}"
            )
        catalog.add_partitions(ctx.region, table, specs)
        storage.warm(catalog.get_table(ctx.region, db, name))
        return Result("DDL", "ALTER_TABLE_ADD_PARTITION")
    existing = {tuple(p.values) for p in table.partitions}
    for p in specs:
        if tuple(p.values) not in existing:
            if guarded:
                continue
            raise coded(
                "PARTITION_NOT_FOUND", f"Partition {dict(zip(keys, p.values, strict=False))} does not exist"
            )
        with catalog.LOCK:
            catalog.backend(ctx.region).delete_partition(db, name, p.values)
    return Result("DDL", "ALTER_TABLE_DROP_PARTITION")


SHOW_RE = re.compile(r"^\s*SHOW\s+(TABLES|DATABASES|SCHEMAS|PARTITIONS|COLUMNS)\b(.*?)\s*;?\s*$", re.I | re.S)


def show(match: re.Match[str], ctx: Context) -> Result:
    what, rest = match.group(1).upper(), match.group(2).strip()
    pattern = None
    pm = re.search(r"(?:LIKE\s+)?'([^']*)'\s*$", rest, re.I)
    if pm:
        pattern = re.compile("^" + pm.group(1).replace("*", ".*") + "$", re.I)
        rest = rest[: pm.start()].strip()
    target = re.sub(r"^(IN|FROM)\s+", "", rest, flags=re.I).strip()
    if what == "TABLES":
        db = target.strip('`"').lower() or ctx.database
        catalog.require_database(ctx.region, db)
        names = [n for n in catalog.list_tables(ctx.region, db) if not pattern or pattern.match(n)]
        return Result("UTILITY", "SHOW_TABLES", [("tab_name", "VARCHAR")], [[n] for n in names], header=False)
    if what in ("DATABASES", "SCHEMAS"):
        names = [n for n in catalog.list_databases(ctx.region) if not pattern or pattern.match(n)]
        return Result(
            "UTILITY", "SHOW_DATABASES", [("database_name", "VARCHAR")], [[n] for n in names], header=False
        )
    db, name = split_name(target, ctx)
    table = catalog.get_table(ctx.region, db, name)
    if what == "COLUMNS":
        return Result(
            "UTILITY",
            "SHOW_COLUMNS",
            [("field", "VARCHAR")],
            [[c] for c, _ in table.columns + table.partition_keys],
            header=False,
        )
    keys = [k for k, _ in table.partition_keys]
    rows = [["/".join(f"{k}={v}" for k, v in zip(keys, p.values, strict=False))] for p in table.partitions]
    return Result("UTILITY", "SHOW_PARTITIONS", [("partition", "VARCHAR")], rows, header=False)


def describe(stmt: exp.Describe, ctx: Context) -> Result:
    db, name, meta = _table_ref(stmt.this, ctx)
    table = catalog.get_table(ctx.region, db, name, meta)
    rows = [[c, t, ""] for c, t in table.columns + table.partition_keys]
    if table.partition_keys:
        rows += [["", "", ""], ["# Partition Information", "", ""], ["# col_name", "data_type", "comment"]]
        rows += [[c, t, ""] for c, t in table.partition_keys]
    return Result(
        "UTILITY",
        "DESCRIBE_TABLE",
        [("col_name", "VARCHAR"), ("data_type", "VARCHAR"), ("comment", "VARCHAR")],
        rows,
        header=False,
    )


ALTER_COLUMNS_RE = re.compile(
    rf"^\s*ALTER\s+TABLE\s+({_NAME})\s+(ADD|REPLACE)\s+COLUMNS\s*\((.*)\)\s*;?\s*$", re.I | re.S
)
_COLUMN_RE = re.compile(r"\s*(`[^`]+`|\"[^\"]+\"|[\w$]+)\s+(.+?)\s*(?:\bCOMMENT\s+'((?:[^']|'')*)')?\s*$", re.I | re.S)
#: SerDes whose tables Hive lets REPLACE COLUMNS change (Athena documents it for LazySimpleSerDe).
_REPLACEABLE = ("lazysimpleserde", "parquethiveserde", "columnarserde")


def _split_columns(text: str) -> list[str]:
    """``a int, b map<string,int>`` -> the column definitions (commas inside ``<>`` / ``()`` kept)."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return [c for c in (part.strip() for part in out) if c]


def _column_defs(text: str) -> list[dict[str, str]]:
    columns = []
    for part in _split_columns(text):
        m = _COLUMN_RE.match(part)
        if not m:
            raise QueryError(f"line 1:1: mismatched input '{part}'. Expecting: <column definition>", "SYNTAX_ERROR")
        hive = re.sub(r"\s+", "", m.group(2)).lower()
        hive_to_duckdb(hive)  # an unknown type fails here, as Athena's DDL does
        col = {"Name": m.group(1).strip('`"').lower(), "Type": hive}
        if m.group(3):
            col["Comment"] = m.group(3).replace("''", "'")
        columns.append(col)
    return columns


def alter_columns(match: re.Match[str], ctx: Context) -> Result:
    """``ALTER TABLE t ADD COLUMNS (...)`` appends columns; ``REPLACE COLUMNS (...)`` replaces the data columns.

    As Hive's DDL in Athena: only the table's schema changes (partitions and data are left as they are).
    """
    db, name = split_name(match.group(1), ctx)
    action = match.group(2).upper()
    table = catalog.get_table(ctx.region, db, name)
    views.require_not_view(table.table_type, db, name)
    new = _column_defs(match.group(3))
    names = [c["Name"] for c in new]
    keys = [k for k, _ in table.partition_keys]
    existing = [c for c, _ in table.columns] if action == "ADD" else []
    for i, col in enumerate(names):
        if col in existing or col in keys or col in names[:i]:
            raise QueryError(
                f"FAILED: SemanticException [Error 10036]: Duplicate column name: {col}", "DUPLICATE_COLUMN_NAME"
            )
    if action == "REPLACE":
        serde = table.serde.lower()
        if not any(s in serde for s in _REPLACEABLE):
            raise coded(
                "NOT_SUPPORTED",
                f"ALTER TABLE REPLACE COLUMNS on a table with SerDe {table.serde} is not emulated by the sandbox "
                "(LazySimpleSerDe and ParquetHiveSerDe tables are)",
            )
        if any(c["Type"] == "date" for c in new):
            raise coded(
                "NOT_SUPPORTED",
                "ALTER TABLE REPLACE COLUMNS with a date column is not emulated by the sandbox "
                "(Athena documents that it does not work for date columns; use timestamp)",
            )

    def change(table_input: dict[str, Any]) -> None:
        sd = table_input.setdefault("StorageDescriptor", {})
        sd["Columns"] = (list(sd.get("Columns") or []) if action == "ADD" else []) + new

    catalog.update_table(ctx.region, db, name, change)
    return Result("DDL", f"ALTER_TABLE_{action}_COLUMNS")


SET_LOCATION_RE = re.compile(rf"^\s*ALTER\s+TABLE\s+({_NAME})\s+SET\s+LOCATION\s+'([^']*)'\s*;?\s*$", re.I | re.S)


def set_location(match: re.Match[str], ctx: Context) -> Result:
    """``ALTER TABLE t SET LOCATION 's3://...'``: the table's location changes (its partitions keep theirs)."""
    db, name = split_name(match.group(1), ctx)
    location = match.group(2)
    table = catalog.get_table(ctx.region, db, name)
    views.require_not_view(table.table_type, db, name)
    if not location.startswith("s3://"):
        raise coded("INVALID_TABLE_PROPERTY", f"LOCATION must be an S3 URI (s3://bucket/prefix/), got '{location}'")

    def change(table_input: dict[str, Any]) -> None:
        table_input.setdefault("StorageDescriptor", {})["Location"] = location

    catalog.update_table(ctx.region, db, name, change)
    storage.warm(catalog.get_table(ctx.region, db, name))
    return Result("DDL", "ALTER_TABLE_SET_LOCATION")


SHOW_CREATE_RE = re.compile(rf"^\s*SHOW\s+CREATE\s+TABLE\s+({_NAME})\s*;?\s*$", re.I | re.S)
#: LazySimpleSerDe's delimiter properties, as Hive's SHOW CREATE TABLE writes them under ROW FORMAT DELIMITED.
_DELIMITERS = (
    ("field.delim", "FIELDS TERMINATED BY"),
    ("collection.delim", "COLLECTION ITEMS TERMINATED BY"),
    ("mapkey.delim", "MAP KEYS TERMINATED BY"),
    ("line.delim", "LINES TERMINATED BY"),
    ("serialization.null.format", "NULL DEFINED AS"),
)


def _escape(text: str) -> str:
    """A value as Hive quotes it in DDL (Java escapes: ``\\t``, ``\\n``, ``\\u0001``; ``'`` escaped)."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == "'":
            out.append("\\'")
        elif ch in "\t\n\r\b\f":
            out.append({"\t": "\\t", "\n": "\\n", "\r": "\\r", "\b": "\\b", "\f": "\\f"}[ch])
        elif ord(ch) < 0x20 or ord(ch) > 0x7E:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def _column_lines(columns: list[dict[str, Any]]) -> list[str]:
    lines = []
    for col in columns:
        line = f"  `{col['Name']}` {col.get('Type', 'string')}"
        if col.get("Comment"):
            line += f" COMMENT '{_escape(col['Comment'])}'"
        lines.append(line)
    return [line + ", " for line in lines[:-1]] + lines[-1:]


def show_create_table(match: re.Match[str], ctx: Context) -> Result:
    """``SHOW CREATE TABLE t``: the Hive DDL of a Hive table, one result row per line, as Athena gives it."""
    db, name = split_name(match.group(1), ctx)
    catalog.get_table(ctx.region, db, name)  # TABLE_NOT_FOUND / SCHEMA_NOT_FOUND
    table = catalog.table_dict(ctx.region, db, name) or {}
    if (table.get("TableType") or "").upper() == views.VIRTUAL_VIEW:
        raise coded(
            "NOT_SUPPORTED",
            f"SHOW CREATE TABLE on view '{views.qualified(db, name)}' is not emulated by the sandbox "
            "(SHOW CREATE VIEW neither)",
        )
    params = dict(table.get("Parameters") or {})
    if params.get("table_type", "").upper() == "ICEBERG":
        raise coded("NOT_SUPPORTED", "Iceberg tables are not emulated by the sandbox")
    sd = table.get("StorageDescriptor") or {}
    serde = sd.get("SerdeInfo") or {}
    lib = serde.get("SerializationLibrary") or ""
    serde_params = dict(serde.get("Parameters") or {})
    external = (table.get("TableType") or "").upper() == "EXTERNAL_TABLE" or params.get("EXTERNAL") == "TRUE"
    lines = [f"CREATE {'EXTERNAL ' if external else ''}TABLE `{name}`("]
    lines += _column_lines(list(sd.get("Columns") or []))
    lines[-1] += ")"
    if table.get("Description"):
        lines.append(f"COMMENT '{_escape(table['Description'])}'")
    if table.get("PartitionKeys"):
        lines.append("PARTITIONED BY ( ")
        lines += _column_lines(list(table["PartitionKeys"]))
        lines[-1] += ")"
    if lib == TEXT_FORMATS["serde"]:
        lines.append("ROW FORMAT DELIMITED ")
        for key, words in _DELIMITERS:
            if key in serde_params:
                lines.append(f"  {words} '{_escape(serde_params.pop(key))}' ")
        serde_params.pop("serialization.format", None)
    else:
        lines += ["ROW FORMAT SERDE ", f"  '{_escape(lib)}' "]
        if serde_params.get("serialization.format") == "1":  # Hive leaves out the default
            del serde_params["serialization.format"]
    if serde_params:
        lines.append("WITH SERDEPROPERTIES ( ")
        items = [f"  '{_escape(k)}'='{_escape(v)}'" for k, v in sorted(serde_params.items())]
        lines += [item + ", " for item in items[:-1]] + [items[-1] + ") "]
    lines += [
        "STORED AS INPUTFORMAT ",
        f"  '{_escape(sd.get('InputFormat') or '')}' ",
        "OUTPUTFORMAT ",
        f"  '{_escape(sd.get('OutputFormat') or '')}'",
        "LOCATION",
        f"  '{_escape(sd.get('Location') or '')}'",
    ]
    props = sorted((k, v) for k, v in params.items() if k != "EXTERNAL")
    if props:
        lines.append("TBLPROPERTIES (")
        items = [f"  '{_escape(k)}'='{_escape(v)}'" for k, v in props]
        lines += [item + ", " for item in items[:-1]] + [items[-1] + ")"]
    return Result(
        "UTILITY", "SHOW_CREATE_TABLE", [("createtab_stmt", "VARCHAR")], [[line] for line in lines], header=False
    )
