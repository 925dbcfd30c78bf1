"""Trino's typing of expressions, applied to a query before DuckDB runs it.

DuckDB converts where Trino refuses and answers other types where Trino is exact. With the Trino type
of each operand known (literals, CASTs, catalog columns, and what arithmetic and the functions below
make of them), this pass, in place on the query about to run:

- fails where Trino's analyzer fails: arithmetic on a string, a boolean, or a date with a number
  (``TYPE_MISMATCH: Cannot apply operator: varchar(1) + integer``); ``concat`` / ``||`` on a value that
  is not a string, and the functions of :data:`_SIGNATURES` with an argument of another kind
  (``FUNCTION_NOT_FOUND: Unexpected parameters (integer, varchar(1)) for function concat``);
- casts a string to an integer type, a boolean or a decimal as Trino parses it (``CAST('1.5' AS
  integer)`` fails with ``INVALID_CAST_ARGUMENT: Cannot cast '1.5' to INT``; ``TRY_CAST`` is NULL);
- gives decimal arithmetic Trino's result types, with decimal division exact and rounded half up
  (``DECIMAL(10,2) / DECIMAL(10,2)`` is a ``decimal(12,2)``; DuckDB would answer a double), and
  ``avg`` of a decimal a decimal of the same type;
- keeps ``date_add`` of days, weeks, months, quarters or years to a date a date.

An operand whose type is not known here (a correlated column, a function outside this module) is
left as DuckDB types it; docs/sandbox.md lists that gap.
"""

from __future__ import annotations

import re
from typing import Any

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import Scope, traverse_scope
from sqlglot.tokens import Token, TokenType

from . import catalog
from .context import Context
from .errors import QueryError
from .typecheck import _family, _literal_type, trino_name

#: Widths of Trino's integer types, narrowest first, and the decimal each converts to.
_INTEGRAL = {"tinyint": 3, "smallint": 5, "integer": 10, "bigint": 19}
_INT_NAMES = {"tinyint": "TINYINT", "smallint": "SMALLINT", "integer": "INT", "bigint": "BIGINT"}
_INT_RANGE = {"tinyint": 2**7, "smallint": 2**15, "integer": 2**31, "bigint": 2**63}
_OPERATOR_SYMBOLS: dict[type[exp.Expr], tuple[str, TokenType]] = {
    exp.Add: ("+", TokenType.PLUS),
    exp.Sub: ("-", TokenType.DASH),
    exp.Mul: ("*", TokenType.STAR),
    exp.Div: ("/", TokenType.SLASH),
    exp.Mod: ("%", TokenType.MOD),
}
#: Units ``date_add`` takes for a date (Trino: others fail "'hour' is not a valid DATE field").
_DATE_UNITS = {"DAY", "WEEK", "MONTH", "QUARTER", "YEAR"}
#: DuckDB macro that divides two HUGEINTs rounding half away from zero, as Trino's decimal division.
DIVIDE_MACRO = (
    "CREATE OR REPLACE MACRO __trino_divide_half_up(n, d) AS CASE WHEN d = 0 THEN "
    "error('DIVISION_BY_ZERO: Division by zero') ELSE (n // d) + CASE WHEN 2 * abs(n % d) >= abs(d) "
    "THEN sign(n) * sign(d) ELSE 0 END END"
)
#: Marker in an ``error()`` text raised by a rewritten expression: DuckDB's failure is Trino's.
_SQL_ERROR = re.compile(r"Invalid Input Error: ([A-Z_]+): (.*)", re.S)


def trino_error(text: str) -> QueryError | None:
    """The Trino failure that a rewritten expression raised through DuckDB's ``error()``, if it is one."""
    m = _SQL_ERROR.search(text)
    if m and m.group(1) in ("INVALID_CAST_ARGUMENT", "DIVISION_BY_ZERO", "HIVE_BAD_DATA"):
        return QueryError(f"{m.group(1)}: {m.group(2).strip()}", m.group(1))
    if "Division by zero in expression" in text:
        return QueryError("DIVISION_BY_ZERO: Division by zero", "DIVISION_BY_ZERO")
    return None


def decimal_of(t: str | None) -> tuple[int, int] | None:
    """(precision, scale) of a decimal type, or of the decimal an integer type converts to."""
    if t is None:
        return None
    if t in _INTEGRAL:
        return _INTEGRAL[t], 0
    m = re.fullmatch(r"decimal\((\d+),(\d+)\)", t)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _norm(t: str) -> str:
    t = t.lower().replace(" ", "")
    if t in ("int",):
        return "integer"
    if t == "decimal":
        return "decimal(38,0)"
    return t


def _arithmetic_type(op: type[exp.Expr], left: str, right: str) -> str | None:
    """Trino's result type of ``left op right`` for two numbers (None for a kind not handled here)."""
    if left in _INTEGRAL and right in _INTEGRAL:
        return max(left, right, key=lambda t: _INTEGRAL[t])
    if "double" in (left, right):
        return "double"
    if "real" in (left, right):
        return "real"
    a, b = decimal_of(left), decimal_of(right)
    if a is None or b is None:
        return None
    (p1, s1), (p2, s2) = a, b
    s = max(s1, s2)
    if op in (exp.Add, exp.Sub):
        return f"decimal({min(38, 1 + s + max(p1 - s1, p2 - s2))},{s})"
    if op is exp.Mul:
        return f"decimal({min(38, p1 + p2)},{s1 + s2})"
    if op is exp.Div:
        return f"decimal({min(38, p1 + s2 + max(s2 - s1, 0))},{s})"
    return f"decimal({min(38, min(p2 - s2, p1 - s1) + s)},{s})"


def _dt(text: str) -> exp.DataType:
    return exp.DataType.build(text, dialect="duckdb")


def _ten(power: int) -> exp.Expr:
    return exp.cast(exp.Literal.number(10**power), _dt("DECIMAL(38,0)"))


def _unscaled(node: exp.Expr, scale: int) -> exp.Expr:
    """The value of a decimal of ``scale`` as the HUGEINT of its unscaled digits."""
    as_decimal = exp.cast(node, _dt(f"DECIMAL(38,{scale})"))
    return exp.cast(exp.Mul(this=as_decimal, expression=_ten(scale)), _dt("HUGEINT"))


def _decimal_divide(left: exp.Expr, right: exp.Expr, a: tuple[int, int], b: tuple[int, int], result: str) -> exp.Expr:
    """``left / right`` for decimals, exact, rounded half up to the result's scale (Trino's division)."""
    (_, s1), (_, s2) = a, b
    s = max(s1, s2)
    numerator = exp.Mul(
        this=_unscaled(left, s1), expression=exp.cast(exp.Literal.number(10 ** (s + s2 - s1)), _dt("HUGEINT"))
    )
    quotient = exp.Anonymous(this="__trino_divide_half_up", expressions=[numerator, _unscaled(right, s2)])
    scaled = exp.Mul(
        this=exp.cast(quotient, _dt("DECIMAL(38,0)")),
        expression=exp.cast(exp.Literal.string(f"1e-{s}"), _dt(f"DECIMAL(38,{s})")),
    )
    return exp.cast(exp.Paren(this=scaled), _dt(result.upper()))


def _error(text: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this="error", expressions=[text])


def _strict_cast(value: exp.Expr, target: str, to: exp.DataType, try_: bool) -> exp.Expr | None:
    """A string cast to ``target`` as Trino parses it (None: DuckDB's cast already agrees)."""
    if target in _INTEGRAL:
        pattern = r"[+-]?[0-9]+"
        name = _INT_NAMES[target]
        low, high = -_INT_RANGE[target], _INT_RANGE[target] - 1
        valid: exp.Expr = exp.and_(
            exp.Anonymous(this="regexp_full_match", expressions=[value.copy(), exp.Literal.string(pattern)]),
            exp.Anonymous(
                this="coalesce",
                expressions=[
                    exp.Between(
                        this=exp.TryCast(this=value.copy(), to=_dt("HUGEINT")),
                        low=exp.Literal.number(low),
                        high=exp.Literal.number(high),
                    ),
                    exp.false(),
                ],
            ),
        )
        message = f"Cannot cast '{{}}' to {name}"
    elif target == "boolean":
        valid = exp.In(
            this=exp.Upper(this=value.copy()),
            expressions=[exp.Literal.string(v) for v in ("T", "1", "F", "0", "TRUE", "FALSE")],
        )
        message = "Cannot cast '{}' to BOOLEAN"
    elif decimal_of(target) is not None and target.startswith("decimal"):
        p, s = decimal_of(target) or (38, 0)
        valid = exp.Anonymous(
            this="regexp_full_match",
            expressions=[value.copy(), exp.Literal.string(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")],
        )
        message = f"Cannot cast VARCHAR '{{}}' to DECIMAL({p}, {s}). Value is not a number."
    else:
        return None
    cast = exp.Cast(this=value.copy(), to=to.copy())
    if try_:
        failed: exp.Expr = exp.null()
    else:
        before, after = message.split("{}")
        text = exp.DPipe(
            this=exp.DPipe(this=exp.Literal.string(f"INVALID_CAST_ARGUMENT: {before}"), expression=value.copy()),
            expression=exp.Literal.string(after),
        )
        failed = exp.Cast(this=_error(text), to=to.copy())
    return exp.Case(
        ifs=[
            exp.If(this=exp.Is(this=value.copy(), expression=exp.null()), true=exp.Cast(this=exp.null(), to=to.copy())),
            exp.If(this=valid, true=exp.TryCast(this=value.copy(), to=to.copy()) if try_ else cast),
        ],
        default=failed,
    )


class _Function:
    """One Trino function whose argument kinds are checked: name, argument keys, accepted families."""

    def __init__(self, name: str, params: list[tuple[str, set[str]]], result: str | None = None) -> None:
        self.name, self.params, self.result = name, params, result


_STR, _NUM, _INT, _DATE = {"string"}, {"number"}, {"integral"}, {"date", "timestamp"}
_SIGNATURES: dict[type[exp.Expr], _Function] = {
    exp.Length: _Function("length", [("this", _STR)], "bigint"),
    exp.Upper: _Function("upper", [("this", _STR)]),
    exp.Lower: _Function("lower", [("this", _STR)]),
    exp.Trim: _Function("trim", [("this", _STR)]),
    exp.Substring: _Function("substr", [("this", _STR), ("start", _INT), ("length", _INT)], "varchar"),
    exp.StrPosition: _Function("strpos", [("this", _STR), ("substr", _STR)], "bigint"),
    exp.Abs: _Function("abs", [("this", _NUM)]),
    exp.Year: _Function("year", [("this", _DATE)], "bigint"),
    exp.Month: _Function("month", [("this", _DATE)], "bigint"),
    exp.Day: _Function("day", [("this", _DATE)], "bigint"),
    exp.Sqrt: _Function("sqrt", [("this", _NUM)], "double"),
    exp.Ln: _Function("ln", [("this", _NUM)], "double"),
}


def _kinds(t: str | None) -> set[str]:
    """What a type may stand for in a signature: its family, and ``integral`` for an integer type."""
    fam = _family(t)
    if fam is None:
        return set()
    return {fam, "integral"} if t in _INTEGRAL else {fam}


def _varchar_length(t: str | None) -> int | None:
    m = re.fullmatch(r"(?:varchar|char)\((\d+)\)", t or "")
    return int(m.group(1)) if m else None


class Semantics:
    """Types every expression of one query (bottom up, scope by scope), failing or rewriting as Trino."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.tokens: list[Token] = list(getattr(ctx, "tokens", []) or [])
        self.types: dict[int, str | None] = {}
        self.outputs: dict[int, dict[str, str | None]] = {}
        self.tables: dict[tuple[str, str], dict[str, str] | None] = {}
        self.replaced: list[exp.Expr] = []  # keeps replaced nodes alive: their ids stay unique

    # ------------------------------------------------------------------ resolution
    def _table_columns(self, table: exp.Table) -> dict[str, str]:
        key = ((table.db or self.ctx.database).lower(), table.name.lower())
        if key not in self.tables:
            cols = catalog.column_types(self.ctx.region, *key)
            self.tables[key] = {k: _norm(trino_name(v)) for k, v in cols.items()} if cols else None
        return self.tables[key] or {}

    def _source_columns(self, source: Any) -> dict[str, str | None]:
        if isinstance(source, exp.Table):
            return dict(self._table_columns(source))
        if isinstance(source, Scope) and isinstance(source.expression, exp.Values):
            return self._values_columns(source.expression)
        if isinstance(source, Scope):
            return self.outputs.get(id(source.expression), {})
        return {}

    @staticmethod
    def _values_columns(values: exp.Values) -> dict[str, str | None]:
        """Column types of ``(VALUES ...) t(a, b)`` where every row has a literal or CAST of one type there."""
        alias = values.args.get("alias")
        names = [c.name.lower() for c in alias.columns] if alias is not None else []
        rows = [r.expressions if isinstance(r, exp.Tuple) else [r] for r in values.expressions]
        out: dict[str, str | None] = {}
        for i, name in enumerate(names):
            kinds: set[str | None] = set()
            for row in rows:
                item = row[i] if i < len(row) else None
                if isinstance(item, exp.Literal):
                    kinds.add(_literal_type(item))
                elif isinstance(item, (exp.Cast, exp.TryCast)):
                    kinds.add(_norm(item.to.sql("trino")))
                else:
                    kinds.add(None)
            if len(kinds) == 1:
                out[name] = kinds.pop()
            elif None not in kinds and {_family(k) for k in kinds} == {"string"}:
                out[name] = "varchar"
            else:
                out[name] = None
        return out

    def _column(self, node: exp.Column, scope: Scope) -> str | None:
        name = node.name.lower()
        if node.table:
            return self._source_columns(scope.sources.get(node.table)).get(name)
        found = [cols[name] for cols in map(self._source_columns, scope.sources.values()) if name in cols]
        return found[0] if len(found) == 1 else None

    def _record_outputs(self, scope: Scope) -> None:
        query = scope.expression
        if isinstance(query, exp.SetOperation) and scope.set_operation_scopes:
            self.outputs[id(query)] = self.outputs.get(id(scope.set_operation_scopes[0].expression), {})
            return
        if not isinstance(query, exp.Select):
            return
        out: dict[str, str | None] = {}
        for item in query.expressions:
            if item.is_star:
                for source in scope.sources.values():
                    out.update(self._source_columns(source))
                continue
            out[item.alias_or_name.lower()] = self.types.get(id(item.this if isinstance(item, exp.Alias) else item))
        self.outputs[id(query)] = out

    # ------------------------------------------------------------------ positions
    def _token_position(self, after: int, kinds: set[TokenType], text: str | None = None) -> str:
        for token in self.tokens:
            if token.start > after and token.token_type in kinds and (text is None or token.text.lower() == text):
                return f"line {token.line}:{token.col - (token.end - token.start)}: "
        return ""

    @staticmethod
    def _span(node: exp.Expr | None) -> tuple[int, int] | None:
        if node is None:
            return None
        starts = [n.meta["start"] for n in node.walk() if "start" in n.meta]
        ends = [n.meta["end"] for n in node.walk() if "end" in n.meta]
        return (min(starts), max(ends)) if starts and ends else None

    def _operator_at(self, node: exp.Expr, kind: TokenType) -> str:
        span = self._span(node.args.get("this"))
        return self._token_position(span[1], {kind}) if span else ""

    def _function_at(self, node: exp.Expr, name: str) -> str:
        meta = node.meta
        if "start" in meta and "line" in meta:
            return f"line {meta['line']}:{meta['col'] - (meta['end'] - meta['start'])}: "
        span = self._span(node)
        if span is None:
            return ""
        best = ""
        for token in self.tokens:
            if token.start >= span[0]:
                break
            if token.text.lower() == name:
                best = f"line {token.line}:{token.col - (token.end - token.start)}: "
        return best

    # ------------------------------------------------------------------ the pass
    def run(self, query: exp.Expr) -> None:
        try:
            scopes = list(traverse_scope(query))
        except (SqlglotError, KeyError, ValueError, AttributeError):
            return
        for scope in scopes:
            self._visit(scope.expression, scope, order_aliases={})
            self._record_outputs(scope)

    def _visit(self, node: exp.Expr, scope: Scope, order_aliases: dict[str, str | None]) -> str | None:
        if node is not scope.expression and isinstance(node, (exp.Query, exp.Subquery)):
            inner = node.this if isinstance(node, exp.Subquery) else node
            outs = list(self.outputs.get(id(inner), {}).values())
            return outs[0] if len(outs) == 1 else None
        if isinstance(node, exp.Order) and isinstance(scope.expression, exp.Select):
            order_aliases = {
                i.alias.lower(): self.types.get(id(i.this))
                for i in scope.expression.expressions
                if isinstance(i, exp.Alias)
            }
        for child in list(node.iter_expressions()):
            self._visit(child, scope, order_aliases)
        if isinstance(node, exp.Column) and not node.table and node.name.lower() in order_aliases:
            t = order_aliases[node.name.lower()]
        else:
            t = self._type(node, scope)
        self.types[id(node)] = t
        return t

    def _of(self, node: exp.Expr | None) -> str | None:
        return None if node is None else self.types.get(id(node))

    def _type(self, node: exp.Expr, scope: Scope) -> str | None:
        if isinstance(node, exp.Paren):
            return self._of(node.this)
        if isinstance(node, exp.Literal):
            return _literal_type(node)
        if isinstance(node, exp.Boolean):
            return "boolean"
        if isinstance(node, exp.Null):
            return "unknown"
        if isinstance(node, exp.Neg):
            return self._of(node.this)
        if isinstance(node, exp.Column):
            return self._column(node, scope)
        if isinstance(node, (exp.Cast, exp.TryCast)):
            return self._cast(node)
        if isinstance(node, tuple(_OPERATOR_SYMBOLS)):
            return self._arithmetic(node)
        if isinstance(node, (exp.DPipe, exp.Concat)):
            return self._concat(node)
        if isinstance(node, exp.Avg):
            return self._avg(node)
        if isinstance(node, exp.Sum):
            t = self._of(node.this)
            dec = decimal_of(t)
            if t in _INTEGRAL:
                return "bigint"
            return f"decimal(38,{dec[1]})" if dec and t and t.startswith("decimal") else t
        if isinstance(node, (exp.Min, exp.Max)):
            return self._of(node.this)
        if isinstance(node, exp.Count):
            return "bigint"
        if isinstance(node, exp.DateAdd):
            return self._date_add(node)
        if type(node) in _SIGNATURES:
            return self._call(node, _SIGNATURES[type(node)])
        return None

    def _cast(self, node: exp.Cast | exp.TryCast) -> str | None:
        target = _norm(node.to.sql("trino"))
        source = self._of(node.this)
        if _family(source) == "string":
            strict = _strict_cast(node.this, target, node.to, isinstance(node, exp.TryCast))
            if strict is not None:
                node.replace(strict)
                self.replaced.append(node)
                self.types[id(strict)] = target
        return target

    def _arithmetic(self, node: exp.Expr) -> str | None:
        left, right = self._of(node.args.get("this")), self._of(node.args.get("expression"))
        fams = {_family(left), _family(right)}
        symbol, kind = _OPERATOR_SYMBOLS[type(node)]
        if left is not None and right is not None and "unknown" not in (left, right):
            bad = fams & {"string", "boolean"} or ("number" in fams and fams & {"date", "timestamp"})
            if bad:
                raise QueryError(
                    f"TYPE_MISMATCH: {self._operator_at(node, kind)}Cannot apply operator: {left} {symbol} {right}",
                    "TYPE_MISMATCH",
                )
        if isinstance(node, (exp.Add, exp.Sub)) and "date" in (left, right):
            return self._date_interval(node, left, right)
        if fams != {"number"} or left is None or right is None:
            return None
        result = _arithmetic_type(type(node), left, right)
        if result is None or not result.startswith("decimal"):
            return result
        a, b = decimal_of(left), decimal_of(right)
        assert a is not None and b is not None
        if isinstance(node, exp.Div):
            new = _decimal_divide(node.this, node.expression, a, b, result)
        else:
            new = exp.cast(exp.Paren(this=node.copy()), _dt(result.upper()))
        node.replace(new)
        self.replaced.append(node)
        self.types[id(new)] = result
        return result

    def _date_interval(self, node: exp.Expr, left: str | None, right: str | None) -> str | None:
        """``date ± INTERVAL 'n' DAY`` (or a week, month, quarter, year) is a date in Trino; DuckDB's is a timestamp."""
        interval = node.expression if left == "date" else node.this
        unit = interval.args.get("unit") if isinstance(interval, exp.Interval) else None
        name = (unit.name if unit is not None else "").upper().rstrip("S")
        if name in ("HOUR", "MINUTE", "SECOND") and not (left != "date" and isinstance(node, exp.Sub)):
            verb = (
                "subtract hour, minutes or seconds from"
                if isinstance(node, exp.Sub)
                else "add hour, minutes or seconds to"
            )
            raise QueryError(f"INVALID_FUNCTION_ARGUMENT: Cannot {verb} a date", "INVALID_FUNCTION_ARGUMENT")
        if name not in _DATE_UNITS or (left != "date" and isinstance(node, exp.Sub)):
            return None
        new = exp.cast(exp.Paren(this=node.copy()), _dt("DATE"))
        node.replace(new)
        self.replaced.append(node)
        self.types[id(new)] = "date"
        return "date"

    def _concat(self, node: exp.Expr) -> str | None:
        args = [node.this, node.expression] if isinstance(node, exp.DPipe) else list(node.expressions)
        types = [self._of(a) for a in args]
        if any(_family(t) not in (None, "string") for t in types) and "unknown" not in types:
            where = (
                self._operator_at(node, TokenType.DPIPE)
                if isinstance(node, exp.DPipe)
                else self._function_at(node, "concat")
            )
            shown = ", ".join(t or "?" for t in types)
            raise QueryError(
                f"FUNCTION_NOT_FOUND: {where}Unexpected parameters ({shown}) for function concat",
                "FUNCTION_NOT_FOUND",
            )
        if all(_family(t) == "string" for t in types):
            lengths = [n for n in (_varchar_length(t) for t in types) if n is not None]
            return f"varchar({sum(lengths)})" if len(lengths) == len(types) else "varchar"
        return None

    def _avg(self, node: exp.Avg) -> str | None:
        t = self._of(node.this)
        if t in _INTEGRAL or t in ("double",):
            return "double"
        if t == "real":
            return "real"
        dec = decimal_of(t)
        if dec is None or t is None or not t.startswith("decimal") or isinstance(node.parent, (exp.Window, exp.Filter)):
            return None
        # Trino: the average of decimal(p,s) is a decimal(p,s), rounded half up
        p, s = dec
        total = exp.Sum(this=node.this.copy())
        count = exp.Count(this=node.this.copy())
        new = _decimal_divide(total, count, (38, s), (19, 0), f"decimal({p},{s})")
        node.replace(new)
        self.replaced.append(node)
        self.types[id(new)] = t
        return t

    def _date_add(self, node: exp.DateAdd) -> str | None:
        t = self._of(node.this)
        unit = node.args.get("unit")
        name = (unit.name if unit is not None else "").upper()
        if t != "date":
            return t if _family(t) == "timestamp" else None
        if name not in _DATE_UNITS:
            raise QueryError(
                f"INVALID_FUNCTION_ARGUMENT: '{name.lower()}' is not a valid DATE field", "INVALID_FUNCTION_ARGUMENT"
            )
        new = exp.cast(node.copy(), _dt("DATE"))
        node.replace(new)
        self.replaced.append(node)
        self.types[id(new)] = "date"
        return "date"

    def _call(self, node: exp.Expr, fn: _Function) -> str | None:
        args = [(key, node.args.get(key)) for key, _ in fn.params]
        types = [self._of(a) for _, a in args if a is not None]
        for (_, arg), (_, accepted) in zip(args, fn.params, strict=True):
            if arg is None:
                continue
            kinds = _kinds(self._of(arg))
            if kinds and "unknown" not in types and not kinds & accepted:
                shown = ", ".join(t or "?" for t in types)
                raise QueryError(
                    f"FUNCTION_NOT_FOUND: {self._function_at(node, fn.name)}Unexpected parameters ({shown}) "
                    f"for function {fn.name}",
                    "FUNCTION_NOT_FOUND",
                )
        if fn.result is not None:
            return fn.result
        return self._of(args[0][1]) if args else None


def apply(query: exp.Expr, ctx: Context) -> None:
    """Check and rewrite ``query`` (a SELECT, views expanded, tables not yet bound) in place."""
    Semantics(ctx).run(query)
