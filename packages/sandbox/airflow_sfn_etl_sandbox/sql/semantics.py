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

import decimal
import math
import re
import struct
from functools import lru_cache
from typing import Any

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, traverse_scope
from sqlglot.schema import MappingSchema
from sqlglot.tokens import Token, TokenType

from . import catalog
from .context import Context
from .errors import QueryError
from .typecheck import (
    _OPERATORS,
    _SET_OPERATIONS,
    _SET_TOKENS,
    _check_between,
    _check_in,
    _family,
    _incompatible,
    _literal_type,
    _mismatch,
    _operator_position,
    _start,
    _token_after,
    trino_name,
)

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
_SQL_ERROR_CODES = (
    "INVALID_CAST_ARGUMENT",
    "DIVISION_BY_ZERO",
    "HIVE_BAD_DATA",
    "NOT_SUPPORTED",
    "NUMERIC_VALUE_OUT_OF_RANGE",
)


def trino_error(text: str) -> QueryError | None:
    """The Trino failure that a rewritten expression raised through DuckDB's ``error()``, if it is one."""
    m = _SQL_ERROR.search(text)
    if m and m.group(1) in _SQL_ERROR_CODES:
        message = _JAVA_NUMBER.sub(lambda j: java_number(j.group(2), j.group(1) == "real"), m.group(2).strip())
        return QueryError(f"{m.group(1)}: {message}", m.group(1))
    if "Division by zero in expression" in text:
        return QueryError("DIVISION_BY_ZERO: Division by zero", "DIVISION_BY_ZERO")
    return None


#: A double or real in a failure's text, as DuckDB writes it, to be shown as Java writes it.
_JAVA_NUMBER = re.compile(r"\{java-(double|real):([^}]*)\}")


def _as_float32(value: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def java_number(text: str, real: bool = False) -> str:
    """A double (or a real) as Java's ``Double.toString`` (``Float.toString``) writes it, as Trino's messages do.

    ``text`` is DuckDB's text of the value (its shortest round-trip digits, or ``inf`` / ``nan``).
    """
    value = float(text)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    shortest = repr(value)
    if real:  # the fewest digits that read back as the same float
        target = _as_float32(value)
        shortest = next(t for t in (f"{value:.{p}g}" for p in range(1, 10)) if _as_float32(float(t)) == target)
    sign, digits_tuple, exponent = decimal.Decimal(shortest).normalize().as_tuple()
    digits = "".join(map(str, digits_tuple))
    point = len(digits) + int(exponent)  # value = 0.<digits> * 10**point
    if 1e-3 <= abs(value) < 1e7:
        if point <= 0:
            body = "0." + "0" * -point + digits
        elif point >= len(digits):
            body = digits + "0" * (point - len(digits)) + ".0"
        else:
            body = digits[:point] + "." + digits[point:]
    else:
        body = f"{digits[0]}.{digits[1:] or '0'}E{point - 1}"
    return ("-" if sign else "") + body


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


#: Java's ``String.trim``: Trino trims code points up to U+0020 before ``Double.parseDouble``.
_JAVA_TRIM = "[\\x00-\\x20]*"
#: What ``Double.parseDouble`` / ``Float.parseFloat`` read in decimal notation (a type suffix allowed).
_JAVA_FLOAT = "[+-]?(NaN|Infinity|([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?[fFdD]?)"
#: Java's hexadecimal floating-point notation, which the sandbox does not parse.
_JAVA_HEX_FLOAT = "[+-]?0[xX][0-9a-fA-F.]*[pP][+-]?[0-9]+[fFdD]?"
#: Joda's ISO date parser (Trino's varchar -> date): year, month and day digits, the value trimmed.
_ISO_DATE = "\\s*[0-9]{1,9}-[0-9]{1,2}-[0-9]{1,2}\\s*"


def _matches(value: exp.Expr, pattern: str) -> exp.Expr:
    return exp.Anonymous(this="regexp_full_match", expressions=[value.copy(), exp.Literal.string(pattern)])


def _stripped(value: exp.Expr, pattern: str) -> exp.Expr:
    return exp.Anonymous(
        this="regexp_replace",
        expressions=[value.copy(), exp.Literal.string(pattern), exp.Literal.string(""), exp.Literal.string("g")],
    )


def _failure(code: str, message: str, value: exp.Expr | None, to: exp.DataType) -> exp.Expr:
    """A value of type ``to`` that raises ``CODE: message`` (``{}`` in the message is the value)."""
    before, _, after = message.partition("{}")
    text: exp.Expr = exp.Literal.string(f"{code}: {before}")
    if value is not None and "{}" in message:
        text = exp.DPipe(this=exp.DPipe(this=text, expression=value.copy()), expression=exp.Literal.string(after))
    return exp.Cast(this=_error(text), to=to.copy())


def _strict_cast(value: exp.Expr, target: str, to: exp.DataType, try_: bool) -> exp.Expr | None:
    """A string cast to ``target`` as Trino parses it (None: DuckDB's cast already agrees)."""
    converted: exp.Expr = value
    special: list[exp.If] = []
    if target in _INTEGRAL:
        name = _INT_NAMES[target]
        low, high = -_INT_RANGE[target], _INT_RANGE[target] - 1
        valid: exp.Expr = exp.and_(
            _matches(value, r"[+-]?[0-9]+"),
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
        valid = _matches(value, r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
        message = f"Cannot cast VARCHAR '{{}}' to DECIMAL({p}, {s}). Value is not a number."
    elif target in ("double", "real"):
        # Trino: Double.parseDouble(value.trim()) (Float.parseFloat for a real); the type suffix is Java's
        valid = _matches(value, _JAVA_TRIM + _JAVA_FLOAT + _JAVA_TRIM)
        converted = _stripped(value, "^" + _JAVA_TRIM + "|[fFdD]?" + _JAVA_TRIM + "$")
        message = f"Cannot cast '{{}}' to {target.upper()}"
        special.append(
            exp.If(
                this=_matches(value, _JAVA_TRIM + _JAVA_HEX_FLOAT + _JAVA_TRIM),
                true=_failure(
                    "NOT_SUPPORTED",
                    f"Casting hexadecimal floating-point text to {target.upper()} is not emulated by the sandbox",
                    None,
                    to,
                ),
            )
        )
    elif target == "date":
        # Trino: the value trimmed, then Joda's ISO date parser (yyyy-M-d; a day that does not exist fails)
        converted = _stripped(value, r"^\s+|\s+$")
        valid = exp.and_(
            _matches(value, _ISO_DATE),
            exp.Not(this=exp.Is(this=exp.TryCast(this=converted.copy(), to=to.copy()), expression=exp.null())),
        )
        message = "Value cannot be cast to date: {}"
    else:
        return None
    failed = exp.null() if try_ else _failure("INVALID_CAST_ARGUMENT", message, value, to)
    return exp.Case(
        ifs=[
            exp.If(this=exp.Is(this=value.copy(), expression=exp.null()), true=exp.Cast(this=exp.null(), to=to.copy())),
            *special,
            exp.If(
                this=valid,
                true=(exp.TryCast if try_ else exp.Cast)(this=converted.copy(), to=to.copy()),
            ),
        ],
        default=failed,
    )


def _call_of(name: str, *args: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this=name, expressions=[a.copy() for a in args])


def _float_to_integer(value: exp.Expr, source: str, target: str, to: exp.DataType, try_: bool) -> exp.Expr:
    """A double or real cast to an integer type as Trino casts it (DoubleOperators / RealOperators).

    Rounded half away from zero (``MathFunctions.round``: ``CAST(2.5e0 AS integer)`` is 3; DuckDB rounds
    half to even); NaN fails ``Cannot cast double NaN to integer``; a value out of the type's range fails
    ``Out of range for integer: 3.0E9``; a double out of the bigint range fails ``Unable to cast 1.0E19 to
    bigint``; a real cast to a bigint saturates at the bigint range (Java's ``(long)`` of the rounded value).
    """
    rounded = _call_of("round", value)
    shown = exp.DPipe(
        this=exp.DPipe(this=exp.Literal.string(f"{{java-{source}:"), expression=exp.cast(value.copy(), _dt("VARCHAR"))),
        expression=exp.Literal.string("}"),
    )

    def failure(code: str, message: str) -> exp.Expr:
        if try_:
            return exp.Cast(this=exp.null(), to=to.copy())
        return _failure(code, message, shown, to)

    nan = _call_of("isnan", value)
    low, high = -_INT_RANGE[target], _INT_RANGE[target] - 1
    ifs: list[exp.If] = []
    if target == "bigint" and source == "double":
        # Guava's DoubleMath.roundToLong(value, HALF_UP): NaN, infinities and values past the range fail
        outside = exp.or_(
            nan,
            exp.LT(this=rounded.copy(), expression=exp.Literal.number(f"{float(low)!r}")),
            exp.GTE(this=rounded.copy(), expression=exp.Literal.number(f"{float(-low)!r}")),
        )
        ifs.append(exp.If(this=outside, true=failure("INVALID_CAST_ARGUMENT", "Unable to cast {} to bigint")))
    elif target == "bigint":
        ifs += [
            exp.If(this=nan, true=failure("INVALID_CAST_ARGUMENT", "Cannot cast real NaN to bigint")),
            exp.If(
                this=exp.GTE(this=rounded.copy(), expression=exp.Literal.number(f"{float(-low)!r}")),
                true=exp.cast(exp.Literal.number(high), to.copy()),
            ),
            exp.If(
                this=exp.LT(this=rounded.copy(), expression=exp.Literal.number(f"{float(low)!r}")),
                true=exp.cast(exp.Literal.number(low), to.copy()),
            ),
        ]
    else:
        ifs += [
            exp.If(this=nan, true=failure("INVALID_CAST_ARGUMENT", f"Cannot cast {source} NaN to {target}")),
            exp.If(
                this=exp.or_(
                    exp.LT(this=rounded.copy(), expression=exp.Literal.number(low)),
                    exp.GT(this=rounded.copy(), expression=exp.Literal.number(high)),
                ),
                true=failure("NUMERIC_VALUE_OUT_OF_RANGE", f"Out of range for {target}: {{}}"),
            ),
        ]
    return exp.Case(ifs=ifs, default=exp.Cast(this=rounded, to=to.copy()))


def _runtime_strict_cast(value: exp.Expr, target: str, to: exp.DataType, try_: bool) -> exp.Expr | None:
    """A cast of a value whose type is known only to DuckDB: Trino's parsing when that type is VARCHAR,
    Trino's rounding when it is a DOUBLE or FLOAT cast to an integer type."""
    strict = _strict_cast(exp.cast(value.copy(), _dt("VARCHAR")), target, to, try_)
    if strict is None:
        return None
    plain = (exp.TryCast if try_ else exp.Cast)(this=value.copy(), to=to.copy())

    def typed(name: str) -> exp.Expr:
        return exp.EQ(this=_call_of("typeof", value), expression=exp.Literal.string(name))

    ifs = [exp.If(this=typed("VARCHAR"), true=strict)]
    if target in _INTEGRAL:
        for duck, source in (("DOUBLE", "double"), ("FLOAT", "real")):
            # the value's text read back as its own type: the branch binds whatever DuckDB's type is
            as_float = exp.cast(exp.cast(value.copy(), _dt("VARCHAR")), _dt(duck))
            ifs.append(exp.If(this=typed(duck), true=_float_to_integer(as_float, source, target, to, try_)))
    return exp.Case(ifs=ifs, default=plain)


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
    exp.Pow: _Function("power", [("this", _NUM), ("expression", _NUM)], "double"),
    exp.Exp: _Function("exp", [("this", _NUM)], "double"),
    exp.Log: _Function("log", [("this", _NUM), ("expression", _NUM)], "double"),
    exp.Cbrt: _Function("cbrt", [("this", _NUM)], "double"),
    exp.Sign: _Function("sign", [("this", _NUM)]),
    exp.Trunc: _Function("truncate", [("this", _NUM)]),
}
#: Trino's functions and special forms whose arguments must have one common type (a string and a number do not).
_COMMON_TYPE: dict[type[exp.Expr], str] = {exp.Greatest: "greatest", exp.Least: "least"}
#: Arguments that stay string literals for DuckDB: formats and units sqlglot translates from the literal.
_LITERAL_KEYS = {"format", "unit", "zone", "position"}
#: Functions whose string literal arguments DuckDB must see as literals (special forms, casts, constructors).
_KEEP_LITERALS = (
    exp.Cast, exp.TryCast, exp.Coalesce, exp.Greatest, exp.Least, exp.Nullif, exp.If, exp.Case, exp.Array,
    exp.Struct, exp.Map, exp.VarMap, exp.Date, exp.FromISO8601Date,
)
#: The marker of a string literal bound as a VARCHAR (translate reads it back as the literal).
BOUND_LITERAL = "athena_bound_literal"
_NO_MATCH = re.compile(r"No function matches the given name and argument types '([A-Za-z_0-9]+)\(")


@lru_cache(maxsize=1)
def _duckdb_aliases() -> dict[str, str]:
    """DuckDB's function aliases (name -> the function it names), for matching its binder failures."""
    import duckdb

    with duckdb.connect() as con:
        rows = con.sql("SELECT function_name, alias_of FROM duckdb_functions() WHERE alias_of IS NOT NULL").fetchall()
    return {str(a).lower(): str(b).lower() for a, b in rows}


def _duckdb_type_in_trino(duck: str) -> str:
    """A DuckDB type as a binder failure names it, in Trino's spelling (``DOUBLE`` -> ``double``)."""
    from .types import athena_result_type

    text = re.sub(r"_LITERAL$", "", duck.strip().upper())
    text = {"STRING": "VARCHAR", "INTEGER": "INTEGER"}.get(text, text)
    m = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", text)
    return f"decimal({m.group(1)},{m.group(2)})" if m else athena_result_type(text)[0]


def function_error(text: str, ctx: Context) -> QueryError | None:
    """Trino's ``FUNCTION_NOT_FOUND`` for a call DuckDB found no function for, where this pass knows the call.

    A string literal argument is bound as a VARCHAR (Trino converts no varchar implicitly), so DuckDB
    refuses ``power('2', 2)`` rather than converting the literal; the failure is Trino's for that call.
    """
    m = _NO_MATCH.search(text)
    if not m:
        return None
    args = re.search(r"argument types '[^(]*\(([^)]*)\)'", text)
    first = (args.group(1).split(",")[0] if args else "").strip()
    calls = ctx.function_failures
    name = m.group(1).lower()
    found = calls.get(name) or calls.get(_duckdb_aliases().get(name, ""))
    if not found:
        bound = [c for cs in calls.values() for c in cs if c[1]]
        found = bound if len(bound) == 1 else None
    if not found:
        return None
    failure: QueryError = found[0][0]
    if "{arg0}" in str(failure):  # a guard on an operand only DuckDB types: its type is in DuckDB's words
        message = str(failure).replace("{arg0}", _duckdb_type_in_trino(first) if first else "?")
        return QueryError(message, failure.error_type)
    return failure


def _kinds(t: str | None) -> set[str]:
    """What a type may stand for in a signature: its family, and ``integral`` for an integer type."""
    fam = _family(t)
    if fam is None:
        return set()
    return {fam, "integral"} if t in _INTEGRAL else {fam}


_ROUNDING: dict[type[exp.Expr], str] = {exp.Round: "round", exp.Floor: "floor", exp.Ceil: "ceiling"}
#: Meta key that ties a node of the query to its copy in sqlglot's type annotation.
_NODE = "athena_node"


def _annotated_type(node: exp.Expr) -> str | None:
    """sqlglot's type of ``node`` in this module's spelling (None where sqlglot does not know it)."""
    found = node.type if isinstance(node.type, exp.DataType) else None
    if found is None or found.this in (exp.DataType.Type.UNKNOWN, exp.DataType.Type.NULL):
        return None
    text = found.sql("trino").lower().replace(" ", "")
    if text == "decimal":
        return "decimal"  # a decimal of a precision sqlglot does not know: a number, not a decimal(p,s)
    return _norm(text)


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
        self.annotated: dict[int, str] = {}  # sqlglot's types, where this module's rules say nothing

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
            self._check_set_operation(scope)
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

    def _annotate(self, query: exp.Expr) -> None:
        """sqlglot's Trino types of every expression (``qualify`` and ``annotate_types`` on a copy).

        These serve where this module's own rules (Trino's exact types) know nothing: columns of
        subqueries and correlated columns, and the functions sqlglot knows the result of.
        """
        nodes = list(query.walk())
        for i, node in enumerate(nodes):
            node.meta[_NODE] = i
        try:
            copy = query.copy()
        finally:
            for node in nodes:
                node.meta.pop(_NODE, None)
        ctes = {cte.alias_or_name.lower() for cte in copy.find_all(exp.CTE)}
        schema: dict[str, Any] = {}
        for table in copy.find_all(exp.Table):
            if not isinstance(table.this, exp.Identifier) or (not table.db and table.name.lower() in ctes):
                continue
            cols = self._table_columns(table)
            if cols:
                schema.setdefault((table.db or self.ctx.database).lower(), {})[table.name.lower()] = cols
        try:
            mapping = MappingSchema(schema, dialect="trino")
            qualified = qualify(
                copy,
                schema=mapping,
                db=self.ctx.database,
                dialect="trino",
                validate_qualify_columns=False,
                quote_identifiers=False,
                identify=False,
            )
            annotate_types(qualified, schema=mapping, dialect="trino")
        except (SqlglotError, KeyError, ValueError, AttributeError, TypeError):
            return  # a query sqlglot cannot resolve: only this module's own rules type it
        for node in qualified.walk():
            index = node.meta.get(_NODE)
            found = _annotated_type(node)
            if index is not None and found is not None:
                self.annotated[id(nodes[index])] = found

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
        self._annotate(query)
        for scope in scopes:
            self._visit(scope.expression, scope, order_aliases={})
            self._record_outputs(scope)

    def _visit(self, node: exp.Expr, scope: Scope, order_aliases: dict[str, str | None]) -> str | None:
        if node is not scope.expression and isinstance(node, (exp.Query, exp.Subquery)):
            inner = node.this if isinstance(node, exp.Subquery) else node
            outs = list(self.outputs.get(id(inner), {}).values())
            known = outs[0] if len(outs) == 1 else None
            return known if known is not None else self.annotated.get(id(node))
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
        if t is None:
            t = self.annotated.get(id(node))
        self.types[id(node)] = t
        self._check(node, scope)
        if isinstance(node, exp.Func):
            self._bind_literals(node)
        return t

    def _bind_literals(self, node: exp.Func) -> None:
        """Bind a call's string literal arguments as VARCHARs and remember Trino's failure for the call.

        DuckDB converts an untyped string literal to the number (or date) a function takes; Trino converts
        no varchar implicitly. Bound as a VARCHAR, the literal makes DuckDB refuse the call, and
        :func:`function_error` answers Trino's ``FUNCTION_NOT_FOUND`` for it.
        """
        if isinstance(node, _KEEP_LITERALS) or not isinstance(node.parent, exp.Expr):
            return
        try:
            duck = node.sql("duckdb")
            trino = node.sql("trino")
        except SqlglotError:
            return
        call = re.match(r"\s*([A-Za-z_][A-Za-z_0-9]*)\s*\(", duck)
        named = re.match(r"\s*([A-Za-z_][A-Za-z_0-9]*)\s*\(", trino)
        if call is None or named is None:
            return  # sqlglot writes it as something other than a call: leave its literals alone
        args = [
            a
            for key, value in node.args.items()
            if key not in _LITERAL_KEYS
            for a in (value if isinstance(value, list) else [value])
            if isinstance(a, exp.Expr)
        ]
        types = [self._of(a) for a in args]
        bound = False
        for a in args:
            if isinstance(a, exp.Literal) and a.is_string:
                new = exp.cast(a.copy(), _dt("VARCHAR"))
                new.meta[BOUND_LITERAL] = True
                a.replace(new)
                self.replaced.append(a)
                self.types[id(new)] = _literal_type(a)
                bound = True
        if any(t is None for t in types):
            return  # an argument whose type is not known: DuckDB's words stand
        name = (node.name if isinstance(node, exp.Anonymous) else named.group(1)).lower()
        shown = ", ".join(t or "?" for t in types)
        failure = QueryError(
            f"FUNCTION_NOT_FOUND: {self._function_at(node, name)}Unexpected parameters ({shown}) for function {name}",
            "FUNCTION_NOT_FOUND",
        )
        self.ctx.function_failures.setdefault(call.group(1).lower(), []).append((failure, bound))

    def of(self, node: exp.Expr | None, scope: Scope | None = None) -> str | None:
        """The type found for ``node`` (the interface of typecheck's comparison checks)."""
        return self._of(node)

    def _guard(self, operand: exp.Expr | None, other: str | None, message: str) -> None:
        """An operand only DuckDB types, compared with a string or a number: bound so that DuckDB refuses
        another kind instead of converting (``ltrim(x, '')`` binds a VARCHAR only, ``add(x, 0)`` a number
        only); the refusal answers ``message`` (``{arg0}`` for the operand's type)."""
        fam = _family(other)
        if operand is None or self._of(operand) is not None or fam not in ("string", "number"):
            return
        if isinstance(operand, (exp.Null, exp.Placeholder, exp.Parameter)):
            return
        name, extra = ("ltrim", exp.Literal.string("")) if fam == "string" else ("add", exp.Literal.number(0))
        guarded = exp.Anonymous(this=name, expressions=[operand.copy(), extra])
        operand.replace(guarded)
        self.replaced.append(operand)
        self.types[id(guarded)] = None
        failure = QueryError(message, "TYPE_MISMATCH")
        self.ctx.function_failures.setdefault(name, []).append((failure, False))

    def _check(self, node: exp.Expr, scope: Scope) -> None:
        """Trino's comparison rules (typecheck's), with the types this pass found for every operand."""
        if isinstance(node, tuple(_OPERATORS)):
            left, right = self._of(node.args.get("this")), self._of(node.args.get("expression"))
            where = _operator_position(node, self.tokens)
            symbol = _OPERATORS[type(node)]
            message = f"TYPE_MISMATCH: {where}Cannot apply operator: "
            self._guard(node.args.get("this"), right, f"{message}{{arg0}} {symbol} {right}")
            self._guard(node.args.get("expression"), left, f"{message}{left} {symbol} {{arg0}}")
            if _incompatible(_family(left), _family(right)):
                raise _mismatch(
                    f"{_operator_position(node, self.tokens)}Cannot apply operator: {left} "
                    f"{_OPERATORS[type(node)]} {right}"
                )
        elif isinstance(node, exp.In):
            _check_in(node, self, scope)  # type: ignore[arg-type]
            items = [node.this, *node.expressions]
            known = next((self._of(i) for i in items if _family(self._of(i)) in ("string", "number")), None)
            for item in items:
                self._guard(
                    item,
                    known,
                    f"TYPE_MISMATCH: {_start(node)}IN value and list items must be the same type or coercible to a "
                    f"common type. Cannot find common type between {known} and {{arg0}}, all types (without "
                    f"duplicates): [{known}, {{arg0}}]",
                )
        elif isinstance(node, exp.Between):
            _check_between(node, self, scope)  # type: ignore[arg-type]
            parts = [node.args.get(k) for k in ("this", "low", "high")]
            known = next((self._of(p) for p in parts if _family(self._of(p)) in ("string", "number")), None)
            for i, part in enumerate(parts):
                shown = ["{arg0}" if j == i else (self._of(p) or "?") for j, p in enumerate(parts)]
                self._guard(
                    part,
                    known,
                    f"TYPE_MISMATCH: {_start(node)}Cannot check if {shown[0]} is BETWEEN {shown[1]} and {shown[2]}",
                )

    def _check_set_operation(self, scope: Scope) -> None:
        query = scope.expression
        name = next((n for cls, n in _SET_OPERATIONS.items() if isinstance(query, cls)), None)
        if name is None or len(scope.set_operation_scopes) != 2:
            return
        left, right = (list(self.outputs.get(id(s.expression), {}).values()) for s in scope.set_operation_scopes)
        if len(left) != len(right):
            return
        for i, (a, b) in enumerate(zip(left, right, strict=True), start=1):
            if _incompatible(_family(a), _family(b)):
                raise _mismatch(
                    f"{_token_after(query.args.get('this'), self.tokens, _SET_TOKENS)}column {i} in {name} query "
                    f"has incompatible types: {a}, {b}"
                )

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
        if isinstance(node, exp.DateTrunc):
            return self._date_trunc(node)
        if isinstance(node, (exp.Window, exp.Filter)):
            return self._window(node)
        if isinstance(node, (exp.Round, exp.Floor, exp.Ceil)):
            return self._rounding(node)
        if type(node) in _SIGNATURES:
            return self._call(node, _SIGNATURES[type(node)])
        if isinstance(node, (exp.Coalesce, exp.Case, exp.If, exp.Greatest, exp.Least, exp.Nullif)):
            return self._common(node)
        return None

    def _common(self, node: exp.Expr) -> str | None:
        """Operands Trino coerces to one type (COALESCE, CASE / IF results, greatest, least, NULLIF):
        a string and a number, a boolean and another kind have none, and Trino fails."""
        if isinstance(node, exp.Case):
            items = [i.args.get("true") for i in node.args.get("ifs") or []] + [node.args.get("default")]
        elif isinstance(node, exp.If):
            items = [node.args.get("true"), node.args.get("false")]
        elif isinstance(node, exp.Nullif):
            items = [node.this, node.expression]
        else:
            items = [node.this, *node.expressions]
        operands = [i for i in items if i is not None]
        types = [self._of(i) for i in operands]
        seen: list[str] = []
        for t in types:
            if t is not None and t != "unknown" and t not in seen:
                seen.append(t)
        fams = [_family(t) for t in seen]
        clash = next(
            ((seen[0], seen[i]) for i in range(1, len(seen)) if _incompatible(fams[0], fams[i])), None
        )
        if clash is None:
            known = [t for t in types if t not in (None, "unknown")]
            return known[0] if known and len(set(known)) == 1 and None not in types else None
        keywords: dict[type[exp.Expr], str] = {
            exp.Coalesce: "coalesce",
            exp.Case: "case",
            exp.If: "if",
            exp.Nullif: "nullif",
        }
        keyword = keywords.get(type(node), "")
        where = self._function_at(node, keyword) or _start(node)
        if isinstance(node, (exp.Greatest, exp.Least)):
            name = _COMMON_TYPE[type(node)]
            shown = ", ".join(t or "?" for t in types)
            raise QueryError(
                f"FUNCTION_NOT_FOUND: {self._function_at(node, name)}Unexpected parameters ({shown}) for function "
                f"{name}",
                "FUNCTION_NOT_FOUND",
            )
        if isinstance(node, exp.Nullif):
            raise _mismatch(f"{where}Types are not comparable with NULLIF: {clash[0]} vs {clash[1]}")
        what = "All COALESCE operands" if isinstance(node, exp.Coalesce) else "All CASE results"
        raise _mismatch(
            f"{where}{what} must be the same type or coercible to a common type. Cannot find common type between "
            f"{clash[0]} and {clash[1]}, all types (without duplicates): [{', '.join(seen)}]"
        )

    def _cast(self, node: exp.Cast | exp.TryCast) -> str | None:
        target = _norm(node.to.sql("trino"))
        source = self._of(node.this)
        strict = None
        if _family(source) == "string":
            strict = _strict_cast(node.this, target, node.to, isinstance(node, exp.TryCast))
        elif source in ("double", "real") and target in _INTEGRAL:
            strict = _float_to_integer(node.this, source, target, node.to, isinstance(node, exp.TryCast))
        elif source is None:  # DuckDB knows the type: Trino's parsing if it is a string
            strict = _runtime_strict_cast(node.this, target, node.to, isinstance(node, exp.TryCast))
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
            if bad and isinstance(node, exp.Mod) and not self._operator_at(node, kind):
                raise QueryError(  # mod(a, b): Trino's function, not the operator
                    f"FUNCTION_NOT_FOUND: {self._function_at(node, 'mod')}Unexpected parameters ({left}, {right}) "
                    "for function mod",
                    "FUNCTION_NOT_FOUND",
                )
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
        if result in ("double", "real") and isinstance(node, (exp.Div, exp.Mod)):
            return self._ieee_divide(node, result)
        if result is None and isinstance(node, (exp.Div, exp.Mod)) and "decimal" in (left, right):
            raise QueryError(
                f"NOT_SUPPORTED: {self._operator_at(node, kind)}Decimal {symbol} of an operand whose decimal precision "
                "the sandbox does not know is not emulated by the sandbox (CAST it to a decimal(p,s))",
                "NOT_SUPPORTED",
            )
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

    def _ieee_divide(self, node: exp.Expr, result: str) -> str:
        """Double division and remainder by zero answer Infinity, -Infinity or NaN (IEEE 754), as Trino."""
        n, d = node.args["this"], node.args["expression"]
        zero = exp.EQ(this=d.copy(), expression=exp.Literal.number(0))
        if isinstance(node, exp.Div):  # n * (1 / d) with d a signed zero: the IEEE quotient
            by_zero: exp.Expr = exp.Mul(
                this=n.copy(), expression=exp.Anonymous(this="pow", expressions=[d.copy(), exp.Literal.number(-1)])
            )
        else:
            by_zero = exp.cast(exp.Literal.string("NaN"), _dt("DOUBLE"))
        new = exp.cast(exp.Case(ifs=[exp.If(this=zero, true=by_zero)], default=node.copy()), _dt(result.upper()))
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
        if dec is None or t is None or not t.startswith("decimal"):
            return None
        if isinstance(node.parent, (exp.Window, exp.Filter)):
            return t  # rewritten with its FILTER and OVER, by _window
        return self._decimal_average(node, node, t)

    def _decimal_average(self, avg: exp.Avg, outer: exp.Expr, t: str) -> str:
        """Trino: the average of a decimal(p,s) is a decimal(p,s), rounded half up (``outer`` wraps it)."""
        p, s = decimal_of(t) or (38, 0)
        parts: list[exp.Expr] = []
        for agg in (exp.Sum(this=avg.this.copy()), exp.Count(this=avg.this.copy())):
            part: exp.Expr = agg
            if isinstance(avg.parent, exp.Filter):
                part = exp.Filter(this=part, expression=avg.parent.expression.copy())
            if isinstance(outer, exp.Window):
                window = outer.copy()
                window.set("this", part)
                part = window
            parts.append(part)
        # no value to average (count 0): NULL, as Trino's avg answers, not a division by zero
        count = exp.Nullif(this=parts[1], expression=exp.Literal.number(0))
        new = _decimal_divide(parts[0], count, (38, s), (19, 0), f"decimal({p},{s})")
        outer.replace(new)
        self.replaced.append(outer)
        self.types[id(new)] = t
        return t

    def _window(self, node: exp.Window | exp.Filter) -> str | None:
        """``agg(x) OVER (...)`` and ``agg(x) FILTER (WHERE ...)`` have the aggregate's type."""
        inner = node.this
        t = self._of(inner)
        avg = inner.this if isinstance(inner, exp.Filter) else inner
        if not isinstance(avg, exp.Avg) or not (t or "").startswith("decimal"):
            return t
        if isinstance(node, exp.Filter) and isinstance(node.parent, exp.Window):
            return t  # rewritten with its OVER
        assert t is not None
        return self._decimal_average(avg, node, t)

    def _rounding(self, node: exp.Expr) -> str | None:
        """Trino's ``round``, ``floor``, ``ceiling`` of a decimal(p,s): round(x, d) is a decimal(p+1,s),
        round(x), floor(x), ceiling(x) a decimal(p-s+min(s,1),0); of another number, the same type."""
        t = self._of(node.this)
        fam = _family(t)
        if fam not in (None, "number") and "unknown" != t:
            name = _ROUNDING[type(node)]
            types = [self._of(a) for a in (node.this, node.args.get("decimals")) if a is not None]
            shown = ", ".join(x or "?" for x in types)
            raise QueryError(
                f"FUNCTION_NOT_FOUND: {self._function_at(node, name)}Unexpected parameters ({shown}) for function "
                f"{name}",
                "FUNCTION_NOT_FOUND",
            )
        dec = decimal_of(t)
        if dec is None or t is None or not t.startswith("decimal"):
            return t
        p, s = dec
        digits = node.args.get("decimals")
        result = f"decimal({min(38, p + 1)},{s})" if digits is not None else f"decimal({min(38, p - s + min(s, 1))},0)"
        new = exp.cast(node.copy(), _dt(result.upper()))
        node.replace(new)
        self.replaced.append(node)
        self.types[id(new)] = result
        return result

    def _date_add(self, node: exp.DateAdd) -> str | None:
        return self._date_stays_a_date(node)

    def _date_trunc(self, node: exp.DateTrunc) -> str | None:
        """Trino's ``date_trunc`` answers the type it was given: a date stays a date (DuckDB's is a timestamp)."""
        return self._date_stays_a_date(node)

    def _date_stays_a_date(self, node: exp.DateAdd | exp.DateTrunc) -> str | None:
        """``date_add`` / ``date_trunc`` of a date by a date unit is a date in Trino; a time unit fails."""
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
