"""Athena views: ``CREATE [OR REPLACE] VIEW``, reading a view, ``DROP VIEW``.

Athena keeps a view in the Glue catalog as a table of type ``VIRTUAL_VIEW`` whose
``ViewOriginalText`` is ``/* Presto View: <base64 JSON> */``; the JSON holds the view's SQL
(``originalSql``), the catalog and schema its unqualified names resolve in, and its columns with
their Trino types. A query reading the view reads that SQL as a subquery in its place.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError

from . import catalog
from .context import Context, Result
from .errors import coded
from .translate import name_unnamed_columns
from .typecheck import trino_name
from .types import duckdb_to_hive

#: Runs a SELECT: (Arrow result, [(name, DuckDB type)], bytes scanned), as :func:`.query.run_query`.
RunQuery = Callable[[exp.Expr, Context], tuple[Any, list[tuple[str, str]], int]]

PRESTO_PREFIX, PRESTO_SUFFIX = "/* Presto View: ", " */"
VIRTUAL_VIEW = "VIRTUAL_VIEW"
#: Views read views; a longer chain is a view that reads itself.
MAX_DEPTH = 32

_BODY = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+\S+\s+AS\s+(.*)$", re.I | re.S)


def qualified(db: str, name: str) -> str:
    return f"awsdatacatalog.{db}.{name}"


def encode(definition: dict[str, Any]) -> str:
    return PRESTO_PREFIX + base64.b64encode(json.dumps(definition).encode()).decode() + PRESTO_SUFFIX


def decode(text: str) -> dict[str, Any] | None:
    """The view definition in ``ViewOriginalText``; None when it is not a Presto view's."""
    text = (text or "").strip()
    if not (text.startswith(PRESTO_PREFIX) and text.endswith(PRESTO_SUFFIX.strip())):
        return None
    body = text[len(PRESTO_PREFIX) :].rstrip().removesuffix("*/").strip()
    try:
        return dict(json.loads(base64.b64decode(body)))
    except (ValueError, TypeError):
        return None


def definition(region: str, db: str, name: str, meta: dict[str, int] | None = None) -> dict[str, Any] | None:
    """The Presto view ``db.name``'s definition; None when it is not a view (a table, or missing)."""
    table = catalog.table_dict(region, db, name)
    if table is None or (table.get("TableType") or "").upper() != VIRTUAL_VIEW:
        return None
    found = decode(table.get("ViewOriginalText") or "")
    if found is None or "originalSql" not in found:
        raise coded(
            "NOT_SUPPORTED",
            f"View '{qualified(db, name)}' is a VIRTUAL_VIEW without Presto view text (a Hive or Spark view): "
            "reading it is not emulated by the sandbox",
            meta,
        )
    return found


def _parse(sql: str) -> exp.Expr:
    parsed = [s for s in Dialect.get_or_raise("athena").parse(sql) if s is not None]
    if len(parsed) != 1 or not isinstance(parsed[0], exp.Query):
        raise ValueError("a view's SQL is one query")
    return parsed[0]


def _qualify_tables(query: exp.Expr, schema: str) -> None:
    """Unqualified table names in a view's SQL resolve in the view's schema, not the reader's."""
    ctes = {cte.alias_or_name.lower() for cte in query.find_all(exp.CTE)}
    for table in query.find_all(exp.Table):
        if isinstance(table.this, exp.Identifier) and not table.db and table.name.lower() not in ctes:
            table.set("db", exp.to_identifier(schema))


def expand(query: exp.Expr, ctx: Context, depth: int = 0) -> None:
    """Replace, in place, every catalog view the query reads by its SQL as an aliased subquery."""
    ctes = {cte.alias_or_name.lower() for cte in query.find_all(exp.CTE)}
    for table in list(query.find_all(exp.Table)):
        if not isinstance(table.this, exp.Identifier):
            continue
        name = table.name.lower()
        if not table.db and name in ctes:
            continue
        db = (table.db or ctx.database).lower()
        meta = table.this.meta or None
        found = definition(ctx.region, db, name, meta)
        if found is None:
            continue
        if depth >= MAX_DEPTH:
            raise coded("VIEW_IS_RECURSIVE", f"View is recursive: '{qualified(db, name)}'", meta)
        try:
            inner = _parse(found["originalSql"])
        except (ParseError, TokenError, ValueError) as err:
            raise coded("VIEW_IS_STALE", f"View '{qualified(db, name)}' cannot be parsed: {err}", meta) from err
        _qualify_tables(inner, str(found.get("schema") or db).lower())
        expand(inner, ctx, depth + 1)
        alias = table.args.get("alias") or exp.TableAlias(this=exp.to_identifier(name))
        table.replace(exp.Subquery(this=inner, alias=alias.copy()))


def create_view(stmt: exp.Create, text: str, ctx: Context, run_query: RunQuery) -> Result:
    """``CREATE [OR REPLACE] VIEW v AS <query>``: the view's columns are those the query answers
    (``run_query`` runs it with ``LIMIT 0``)."""
    target = stmt.this.this if isinstance(stmt.this, exp.Schema) else stmt.this
    db = (target.db or ctx.database).lower()
    name = target.name.lower()
    meta = target.this.meta if target.this else None
    catalog.require_database(ctx.region, db, meta)
    body = stmt.expression
    first = body
    while isinstance(first, exp.SetOperation):
        first = first.this
    if isinstance(first, exp.Select):
        for i, item in enumerate(first.expressions, start=1):
            if not (isinstance(item, (exp.Alias, exp.Column, exp.Star)) or item.is_star):
                raise coded("MISSING_COLUMN_NAME", f"Column name not specified at position {i}", meta)
    existing = catalog.table_dict(ctx.region, db, name)
    if existing is not None:
        if (existing.get("TableType") or "").upper() != VIRTUAL_VIEW:
            raise coded("TABLE_ALREADY_EXISTS", f"Table already exists: '{qualified(db, name)}'", meta)
        if not stmt.args.get("replace"):
            raise coded("TABLE_ALREADY_EXISTS", f"View already exists: '{qualified(db, name)}'", meta)
    probe_body = body.copy()
    name_unnamed_columns(probe_body)
    probe = exp.select("*").from_(probe_body.subquery("__view")).limit(0)
    expand(probe, ctx)
    _, columns, _ = run_query(probe, ctx)
    names = [c.lower() for c, _ in columns]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise coded("DUPLICATE_COLUMN_NAME", f"Column name '{dupes[0]}' specified more than once", meta)
    hive = [(n, duckdb_to_hive(t)) for n, (_, t) in zip(names, columns, strict=True)]
    m = _BODY.match(text)
    original = m.group(1).strip() if m else body.sql("trino")
    view = {
        "originalSql": original,
        "catalog": "awsdatacatalog",
        "schema": db,
        "columns": [{"name": n, "type": trino_name(t)} for n, t in hive],
        "owner": "sandbox",
        "runAsInvoker": False,
    }
    table_input = {
        "Name": name,
        "TableType": VIRTUAL_VIEW,
        "Parameters": {"presto_view": "true", "comment": "Presto View"},
        "ViewOriginalText": encode(view),
        "ViewExpandedText": "/* Presto View */",
        "StorageDescriptor": {
            "Columns": [{"Name": n, "Type": t} for n, t in hive],
            "Location": "",
            "Compressed": False,
            "NumberOfBuckets": 0,
            "SerdeInfo": {},
            "SortColumns": [],
            "StoredAsSubDirectories": False,
        },
        "PartitionKeys": [],
        "Retention": 0,
    }
    with catalog.LOCK:
        if existing is not None:
            catalog.drop_table(ctx.region, db, name)
        catalog.create_table(ctx.region, db, name, table_input)
    return Result("DDL", "CREATE_VIEW")


def require_not_view(table_type: str, db: str, name: str, meta: dict[str, int] | None = None) -> None:
    """Data of a VIRTUAL_VIEW is never read as a table's (a view is read through its SQL)."""
    if table_type.upper() == VIRTUAL_VIEW:
        raise coded("NOT_SUPPORTED", f"View '{qualified(db, name)}' cannot be read as a table by the sandbox", meta)
