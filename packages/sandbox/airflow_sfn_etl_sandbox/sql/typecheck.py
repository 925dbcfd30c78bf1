"""Trino's rules that DuckDB would not enforce, checked before a statement runs.

DuckDB accepts syntax and implicit casts that Trino rejects; run as they are, such queries would
answer where Athena fails. Two are checked here:

- the ``::`` cast (PostgreSQL/DuckDB syntax): Trino's parser stops at it, a syntax error;
- a comparison between values of kinds Trino does not convert into one another: a string and a
  number (``'1' = 1``, ``amount = '5'`` on an integer column, ``x IN ('1', 2)``,
  ``x BETWEEN '1' AND '5'``), a date or timestamp and a string (``d = '2024-01-01'``: Trino wants
  ``DATE '2024-01-01'``), a boolean and anything else; the same between the columns of the two sides
  of a ``UNION``, ``EXCEPT`` or ``INTERSECT``. Trino fails with ``TYPE_MISMATCH``.

The type of a comparison's operand is known here only for literals, CASTs and columns read straight
from a catalog table (through sqlglot's scope resolution); any other operand is left to DuckDB.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, traverse_scope
from sqlglot.schema import MappingSchema
from sqlglot.tokens import Token, TokenType

from . import catalog
from .context import Context
from .errors import QueryError

#: Trino's comparison operators as ``OperatorNotFoundException`` names them (``<>`` is EQUAL,
#: ``>`` is LESS_THAN, ``>=`` LESS_THAN_OR_EQUAL).
_OPERATORS: dict[type[exp.Expr], str] = {
    exp.EQ: "=",
    exp.NEQ: "=",
    exp.GT: "<",
    exp.LT: "<",
    exp.GTE: "<=",
    exp.LTE: "<=",
}
_OPERATOR_TOKENS = {TokenType.EQ, TokenType.NEQ, TokenType.GT, TokenType.LT, TokenType.GTE, TokenType.LTE}
_NUMERIC = ("tinyint", "smallint", "integer", "bigint", "real", "double", "decimal")
_STRING = ("varchar", "char")
_HIVE_TO_TRINO = {"string": "varchar", "int": "integer", "float": "real", "timestamp": "timestamp(3)"}
#: Kinds of values Trino compares with one another (a date is coerced to a timestamp).
_COMPATIBLE = ({"date", "timestamp"},)


def reject_double_colon(tokens: list[Token]) -> None:
    """Trino has no ``x::type`` cast: fail where its parser does."""
    for token in tokens:
        if token.token_type == TokenType.DCOLON:
            col = token.col - (token.end - token.start)
            raise QueryError(
                f"line {token.line}:{col}: mismatched input '::'. Expecting: <expression> "
                "(Trino has no '::' cast; use CAST(value AS type))",
                "SYNTAX_ERROR",
            )


def trino_name(hive_type: str) -> str:
    text = hive_type.strip().lower()
    base = text.split("(", 1)[0].strip()
    return _HIVE_TO_TRINO.get(base, base) + text[len(base) :]


def _family(trino_type: str | None) -> str | None:
    if trino_type is None:
        return None
    base = trino_type.split("(", 1)[0]
    if base in _NUMERIC:
        return "number"
    if base in _STRING:
        return "string"
    if base in ("date", "timestamp", "boolean"):
        return base
    return None


def _incompatible(*families: str | None) -> bool:
    known = {f for f in families if f is not None}
    return len(known) > 1 and not any(known <= ok for ok in _COMPATIBLE)


def _literal_type(node: exp.Literal) -> str:
    text = node.this
    if node.is_string:
        return f"varchar({len(text)})"
    if "e" in text.lower():
        return "double"
    if "." in text:
        whole, _, frac = text.partition(".")
        digits = len(whole.lstrip("0")) + len(frac)
        return f"decimal({max(digits, 1)},{len(frac)})"
    return "integer" if -(2**31) <= int(text) < 2**31 else "bigint"


class _Types:
    """Operand types in one statement: catalog column types by (database, table), looked up once."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.tables: dict[tuple[str, str], dict[str, str] | None] = {}

    def columns(self, table: exp.Table) -> dict[str, str] | None:
        key = ((table.db or self.ctx.database).lower(), table.name.lower())
        if key not in self.tables:
            self.tables[key] = catalog.column_types(self.ctx.region, *key)
        return self.tables[key]

    def of(self, node: exp.Expr | None, scope: Scope) -> str | None:
        if isinstance(node, exp.Paren):
            return self.of(node.this, scope)
        if isinstance(node, exp.Literal):
            return _literal_type(node)
        if isinstance(node, exp.Boolean):
            return "boolean"
        if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not node.this.is_string:
            return _literal_type(node.this)
        if isinstance(node, (exp.Cast, exp.TryCast)):
            return node.to.sql("trino").lower()
        if isinstance(node, exp.Column) and node.table:
            source = scope.sources.get(node.table)
            if isinstance(source, exp.Table):
                cols = self.columns(source)
                hive = (cols or {}).get(node.name.lower())
                return trino_name(hive) if hive else None
        return None


def _schema(query: exp.Expr, types: _Types) -> dict[str, dict[str, dict[str, str]]]:
    ctes = {cte.alias_or_name.lower() for cte in query.find_all(exp.CTE)}
    out: dict[str, dict[str, dict[str, str]]] = {}
    for table in query.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier) or (not table.db and table.name.lower() in ctes):
            continue
        cols = types.columns(table)
        if cols:
            out.setdefault((table.db or types.ctx.database).lower(), {})[table.name.lower()] = cols
    return out


def _start(node: exp.Expr) -> str:
    """``line L:C: `` where the expression's text starts (empty when unknown)."""
    metas = [n.meta for n in node.walk() if "start" in n.meta and "line" in n.meta]
    if not metas:
        return ""
    first = min(metas, key=lambda m: m["start"])
    return f"line {first['line']}:{first['col'] - (first['end'] - first['start'])}: "


def _mismatch(message: str) -> QueryError:
    return QueryError(f"TYPE_MISMATCH: {message}", "TYPE_MISMATCH")


def _check_in(node: exp.In, types: _Types, scope: Scope) -> None:
    items = node.expressions
    if not items:
        return  # IN (subquery)
    seen: list[str] = []
    family: str | None = None
    for item in [node.this, *items]:
        found = types.of(item, scope)
        kind = _family(found)
        if found is not None and found not in seen:
            seen.append(found)
        if kind is None:
            continue
        if family is not None and _incompatible(kind, family):
            first = next(t for t in seen if _family(t) == family)
            raise _mismatch(
                f"{_start(item)}IN value and list items must be the same type or coercible to a common type. "
                f"Cannot find common type between {first} and {found}, all types (without duplicates): "
                f"[{', '.join(seen)}]"
            )
        family = family or kind


def _check_between(node: exp.Between, types: _Types, scope: Scope) -> None:
    value, low, high = (types.of(node.args.get(k), scope) for k in ("this", "low", "high"))
    if _incompatible(_family(value), _family(low), _family(high)):
        raise _mismatch(f"{_start(node)}Cannot check if {value} is BETWEEN {low} and {high}")


_SET_OPERATIONS = {exp.Union: "UNION", exp.Except: "EXCEPT", exp.Intersect: "INTERSECT"}
_SET_TOKENS = {TokenType.UNION, TokenType.EXCEPT, TokenType.INTERSECT}


def _output_types(scope: Scope, types: _Types) -> list[str | None] | None:
    """The types of a query's output columns where known (None for a ``*`` or an unknown shape)."""
    query = scope.expression
    if isinstance(query, exp.SetOperation) and len(scope.set_operation_scopes) == 2:
        return _output_types(scope.set_operation_scopes[0], types)
    if not isinstance(query, exp.Select) or any(i.is_star for i in query.expressions):
        return None
    return [types.of(i.this if isinstance(i, exp.Alias) else i, scope) for i in query.expressions]


def _check_set_operation(scope: Scope, types: _Types, tokens: list[Token]) -> None:
    query = scope.expression
    name = next((n for cls, n in _SET_OPERATIONS.items() if isinstance(query, cls)), None)
    if name is None or len(scope.set_operation_scopes) != 2:
        return
    left, right = (_output_types(s, types) for s in scope.set_operation_scopes)
    if left is None or right is None or len(left) != len(right):
        return
    for i, (a, b) in enumerate(zip(left, right, strict=True), start=1):
        if _incompatible(_family(a), _family(b)):
            raise _mismatch(
                f"{_token_after(query.args.get('this'), tokens, _SET_TOKENS)}column {i} in {name} query has "
                f"incompatible types: {a}, {b}"
            )


def _token_after(node: exp.Expr | None, tokens: list[Token], kinds: set[TokenType]) -> str:
    """``line L:C: `` of the first token of one of ``kinds`` after ``node``'s text."""
    ends = [n.meta["end"] for n in node.walk() if "end" in n.meta] if node is not None else []
    if not ends:
        return ""
    after = max(ends)
    for token in tokens:
        if token.start > after and token.token_type in kinds:
            return f"line {token.line}:{token.col - (token.end - token.start)}: "
    return ""


def _operator_position(node: exp.Expr, tokens: list[Token]) -> str:
    """``line L:C: `` of the comparison's operator (where Trino reports the mismatch)."""
    return _token_after(node.args.get("this"), tokens, _OPERATOR_TOKENS)


def check_comparisons(query: exp.Expr, ctx: Context, tokens: list[Token]) -> None:
    """Fail a comparison between a string and a number, as Trino's analyzer does."""
    checked = (*_OPERATORS, exp.In, exp.Between)
    if not any(isinstance(n, (*checked, exp.SetOperation)) for n in query.walk()):
        return
    types = _Types(ctx)
    try:
        schema = MappingSchema(dict(_schema(query, types)), dialect="athena")
        qualified = qualify(
            query.copy(),
            schema=schema,
            db=ctx.database,
            dialect="athena",
            validate_qualify_columns=False,
            quote_identifiers=False,
            identify=False,
        )
        scopes = list(traverse_scope(qualified))
    except (SqlglotError, KeyError, ValueError, AttributeError):
        return  # a query sqlglot cannot resolve: DuckDB binds it (and reports what is wrong)
    for scope in scopes:
        _check_set_operation(scope, types, tokens)
        node: Any
        for node in scope.expression.find_all(*checked):
            if _enclosing_scope_expression(node) is not scope.expression:
                continue
            if isinstance(node, exp.In):
                _check_in(node, types, scope)
                continue
            if isinstance(node, exp.Between):
                _check_between(node, types, scope)
                continue
            left, right = types.of(node.left, scope), types.of(node.right, scope)
            if _incompatible(_family(left), _family(right)):
                raise _mismatch(
                    f"{_operator_position(node, tokens)}Cannot apply operator: {left} {_OPERATORS[type(node)]} {right}"
                )


def _enclosing_scope_expression(node: exp.Expr) -> Any:
    parent = node.parent
    while parent is not None and not isinstance(parent, (exp.Select, exp.SetOperation)):
        parent = parent.parent
    return parent
