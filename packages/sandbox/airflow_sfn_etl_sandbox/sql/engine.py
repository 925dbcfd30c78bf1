"""One Athena statement, start to finish: classify, then run DDL, SHOW or a query."""

from __future__ import annotations

import logging
import re

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError

from . import ddl, insert, query, typecheck, unload, views
from .context import Context, Result
from .errors import QueryError, syntax_error

logging.getLogger("sqlglot").setLevel(logging.ERROR)

_COMMENTS = re.compile(r"^\s*(?:--[^\n]*\n|/\*.*?\*/)\s*", re.S)
#: Athena statements the sandbox does not run, by how they start: they fail saying so (not as a syntax error).
_NOT_EMULATED = re.compile(
    r"(?P<what>UNLOAD|PREPARE|EXECUTE|DEALLOCATE\s+PREPARE|EXPLAIN\s+ANALYZE|VACUUM|OPTIMIZE"
    r"|SHOW\s+(?:CREATE\s+VIEW|VIEWS|TBLPROPERTIES|FUNCTIONS|STATS)"
    r"|ALTER\s+(?:DATABASE|SCHEMA|VIEW)"
    r"|ALTER\s+TABLE\s+\S+\s+(?:CHANGE|RENAME|SET\s+(?!LOCATION\b)\w+|PARTITION))\b",
    re.I | re.S,
)
#: ``EXPLAIN [(option, ...)] statement``; ``EXPLAIN ANALYZE`` is not emulated (see above).
_EXPLAIN = re.compile(r"EXPLAIN\s*(?:\((?P<options>[^)]*)\))?\s*(?P<body>.+)\Z", re.I | re.S)
_EXPLAIN_OPTION = re.compile(r"\s*(?P<key>TYPE|FORMAT)\s+(?P<value>\w+)\s*\Z", re.I)
_EXPECTING = "'ALTER', 'CREATE', 'DESCRIBE', 'DROP', 'MSCK', 'SELECT', 'SHOW', 'VALUES', 'WITH', <query>"


def statement_kind(sql: str) -> tuple[str, str]:
    """(StatementType, SubstatementType) guessed from the text, for a query that has not run yet."""
    text = _strip(sql).upper()
    if re.match(r"(SELECT|WITH|VALUES|\()", text):
        return "DML", "SELECT"
    if re.match(r"(INSERT|UPDATE|DELETE|MERGE)", text):
        return "DML", text.split()[0]
    if re.match(r"(SHOW|DESCRIBE|DESC|EXPLAIN)\b", text):
        return "UTILITY", "_".join(text.split()[:2])
    if re.match(r"CREATE\s+(OR\s+REPLACE\s+)?VIEW\b", text):
        return "DDL", "CREATE_VIEW"
    if re.match(r"CREATE\s+TABLE\b.*\bAS\b", text, re.S):
        return "DDL", "CREATE_TABLE_AS_SELECT"
    words = re.findall(r"[A-Z]+", text)[:3]
    if words[:2] == ["CREATE", "EXTERNAL"]:
        return "DDL", "CREATE_TABLE"
    return "DDL", "_".join(words[:2]) or "UNKNOWN"


def _strip(sql: str) -> str:
    text = sql
    while True:
        m = _COMMENTS.match(text)
        if not m or not m.group(0):
            return text.strip()
        text = text[m.end() :]


def _explain(m: re.Match[str], ctx: Context) -> Result:
    """``EXPLAIN (TYPE VALIDATE) q`` answers ``Valid`` true or fails as ``q`` would fail to plan; ``EXPLAIN q``
    (``TYPE LOGICAL`` / ``DISTRIBUTED``, ``FORMAT TEXT``) answers DuckDB's plan of ``q``, a row per line."""
    kind, fmt = "DISTRIBUTED", "TEXT"
    for option in filter(str.strip, (m.group("options") or "").split(",")):
        found = _EXPLAIN_OPTION.match(option)
        if found is None:
            raise QueryError(f"line 1:1: mismatched input '{option.strip()}' in EXPLAIN options", "SYNTAX_ERROR")
        if found.group("key").upper() == "TYPE":
            kind = found.group("value").upper()
        else:
            fmt = found.group("value").upper()
    if kind not in ("VALIDATE", "LOGICAL", "DISTRIBUTED") or fmt != "TEXT":
        what = f"TYPE {kind}" if kind not in ("VALIDATE", "LOGICAL", "DISTRIBUTED") else f"FORMAT {fmt}"
        raise QueryError(f"NOT_SUPPORTED: EXPLAIN ({what}) is not emulated by the sandbox", "NOT_SUPPORTED")
    # the query keeps its place in the text: positions in failures count from the statement's start
    body = re.sub(r"[^\n]", " ", m.string[: m.start("body")]) + m.group("body")
    dialect = Dialect.get_or_raise("athena")
    try:
        tokens = dialect.tokenize(body)
        typecheck.reject_double_colon(tokens)
        statements = [s for s in dialect.parser().parse(tokens, body) if s is not None]
    except (ParseError, TokenError) as err:
        raise syntax_error(err, body) from err
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise QueryError(
            "NOT_SUPPORTED: EXPLAIN of a statement other than a query is not emulated by the sandbox", "NOT_SUPPORTED"
        )
    ctx.tokens = tokens
    typecheck.check_comparisons(statements[0], ctx, tokens)
    if kind == "VALIDATE":
        probe = exp.select("*").from_(statements[0].subquery("__explained")).limit(0)
        query.run_query(probe, ctx)
        return Result("UTILITY", "EXPLAIN", [("Valid", "BOOLEAN")], [[True]], header=True)
    plan = query.explain(statements[0], ctx)
    return Result("UTILITY", "EXPLAIN", [("Query Plan", "VARCHAR")], [[line] for line in plan], header=True)


def execute(sql: str, ctx: Context) -> Result:
    """Run one statement; raises :class:`QueryError` with Athena's kind of message on failure."""
    text = _strip(sql).rstrip().rstrip(";").rstrip()
    if not text:
        raise QueryError("line 1:1: mismatched input '<EOF>'. Expecting: " + _EXPECTING, "SYNTAX_ERROR")
    explain = _EXPLAIN.match(text) if not re.match(r"EXPLAIN\s+ANALYZE\b", text, re.I) else None
    if explain:
        return _explain(explain, ctx)
    unloading = unload.UNLOAD_RE.match(text)
    if unloading:
        return unload.unload(unloading, ctx)
    unsupported = _NOT_EMULATED.match(text)
    if unsupported:
        what = " ".join(unsupported.group("what").upper().split())
        if what.startswith("ALTER TABLE "):
            words = what.split()
            what = " ".join(["ALTER TABLE", *words[3:]])
        raise QueryError(f"NOT_SUPPORTED: {what} is not emulated by the sandbox", "NOT_SUPPORTED")
    for pattern, handler in (
        (ddl.MSCK_RE, ddl.msck_repair),
        (ddl.SHOW_CREATE_RE, ddl.show_create_table),
        (ddl.SHOW_RE, ddl.show),
        (ddl.ALTER_COLUMNS_RE, ddl.alter_columns),
        (ddl.SET_LOCATION_RE, ddl.set_location),
        (ddl.ALTER_RE, ddl.alter_table),
    ):
        m = pattern.match(text)
        if m:
            return handler(m, ctx)
    dialect = Dialect.get_or_raise("athena")
    try:
        tokens = dialect.tokenize(text)
        ctx.tokens = tokens
        typecheck.reject_double_colon(tokens)
        statements = [s for s in dialect.parser().parse(tokens, text) if s is not None]
    except (ParseError, TokenError) as err:
        raise syntax_error(err, text) from err
    if len(statements) != 1:
        raise QueryError(f"Only one sql statement is allowed. Got: {text}", "SYNTAX_ERROR")
    stmt = statements[0]
    if isinstance(stmt, exp.Create):
        kind = (stmt.args.get("kind") or "").upper()
        if kind in ("DATABASE", "SCHEMA"):
            return ddl.create_database(stmt, ctx)
        if kind == "TABLE" and stmt.expression is not None:
            typecheck.check_comparisons(stmt.expression, ctx, tokens)
            return query.ctas(stmt, ctx)
        if kind == "TABLE":
            return ddl.create_external_table(stmt, ctx)
        if kind == "VIEW" and stmt.expression is not None:
            typecheck.check_comparisons(stmt.expression, ctx, tokens)
            return views.create_view(stmt, text, ctx, query.run_query)
        raise QueryError(f"NOT_SUPPORTED: CREATE {kind} is not emulated by the sandbox", "NOT_SUPPORTED")
    if isinstance(stmt, exp.Drop):
        return ddl.drop(stmt, ctx)
    if isinstance(stmt, exp.Describe):
        return ddl.describe(stmt, ctx)
    if isinstance(stmt, exp.Query):
        typecheck.check_comparisons(stmt, ctx, tokens)
        return query.select(stmt, ctx)
    if isinstance(stmt, exp.Insert) and stmt.expression is not None and not stmt.args.get("overwrite"):
        typecheck.check_comparisons(stmt.expression, ctx, tokens)
        return insert.insert(stmt, ctx)
    if isinstance(stmt, (exp.Insert, exp.Update, exp.Delete, exp.Merge)):
        raise QueryError(
            f"NOT_SUPPORTED: {type(stmt).__name__.upper()} is not emulated by the sandbox", "NOT_SUPPORTED"
        )
    first = text.split()[0]
    raise QueryError(f"line 1:1: mismatched input '{first}'. Expecting: {_EXPECTING}", "SYNTAX_ERROR")
