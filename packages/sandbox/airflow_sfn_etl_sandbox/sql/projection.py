"""Partition projection: a table's partitions computed from its properties, not read from the catalog.

With ``projection.enabled`` = ``true`` Athena ignores the partitions registered in Glue and projects
them from ``projection.<column>.type`` (``enum``, ``integer``, ``date``, ``injected``) and its
properties, at ``storage.location.template`` (``${column}`` placeholders) or Hive-style
``<location>/column=value/``. A projected partition whose location holds no data is just empty.

The query's ``WHERE`` prunes the projection where it pins a partition column down with plain
conjuncts (``=``, ``IN``, ``<``, ``<=``, ``>``, ``>=``, ``BETWEEN`` against literals): other
predicates leave the column's every value projected, and the query itself still filters the rows.
A scan that would project more than :data:`MAX_PARTITIONS` partitions fails as Trino's
``hive.max-partitions-per-scan`` (1,000,000) fails it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from .catalog import Partition, TableInfo
from .errors import QueryError, coded

#: Most partitions one table scan may project (Trino's ``hive.max-partitions-per-scan`` default).
MAX_PARTITIONS = 1_000_000
TYPES = ("enum", "integer", "date", "injected")
_INTEGER_TYPES = {"tinyint", "smallint", "int", "integer", "bigint"}
_NOW = re.compile(
    r"\s*NOW\s*(?:([+-])\s*([0-9]+)\s*(YEARS?|MONTHS?|WEEKS?|DAYS?|HOURS?|MINUTES?|SECONDS?)\s*)?\Z"
)
#: ChronoUnit names (``interval.unit``, ``NOW+N UNIT``) -> the timedelta of one, or months for the calendar units
_UNITS: dict[str, dt.timedelta | int] = {
    "YEARS": 12,
    "MONTHS": 1,
    "WEEKS": dt.timedelta(weeks=1),
    "DAYS": dt.timedelta(days=1),
    "HOURS": dt.timedelta(hours=1),
    "MINUTES": dt.timedelta(minutes=1),
    "SECONDS": dt.timedelta(seconds=1),
    "MILLIS": dt.timedelta(milliseconds=1),
    "MILLISECONDS": dt.timedelta(milliseconds=1),
}


def _shift(value: dt.datetime, unit: str, n: int) -> dt.datetime:
    """``value`` plus ``n`` units, as java.time adds them (a month step keeps the day, clamped to the month's end)."""
    one = _UNITS[unit]
    if isinstance(one, dt.timedelta):
        return value + one * n
    months = value.year * 12 + value.month - 1 + one * n
    year, month = divmod(months, 12)
    day = min(value.day, calendar.monthrange(year, month + 1)[1])
    return value.replace(year=year, month=month + 1, day=day)


def enabled(table: TableInfo) -> bool:
    return table.parameters.get("projection.enabled", "").strip().lower() == "true"


def _invalid(table: TableInfo, prop: str, problem: str) -> QueryError:
    return coded(
        "INVALID_TABLE_PROPERTY",
        f"Table {table.qualified} is configured for partition projection, but its table property "
        f"'{prop}' {problem}",
    )


# --------------------------------------------------------------------------- Java date patterns

_PATTERN_LETTERS = {"y", "u", "M", "d", "H", "m", "s", "S"}


def _pattern_tokens(table: TableInfo, prop: str, pattern: str) -> list[tuple[str, int | str]]:
    """A ``DateTimeFormatter`` pattern as (letter, count) and ("'", literal text) tokens."""
    out: list[tuple[str, int | str]] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "'":
            end = pattern.find("'", i + 1)
            if end < 0:
                raise _invalid(table, prop, f"value '{pattern}' has an unclosed quote: quote literal text as 'text'")
            out.append(("'", "'" if end == i + 1 else pattern[i + 1 : end]))
            i = end + 1
        elif ch.isascii() and ch.isalpha():
            n = 1
            while i + n < len(pattern) and pattern[i + n] == ch:
                n += 1
            if ch not in _PATTERN_LETTERS:
                raise coded(
                    "NOT_SUPPORTED",
                    f"Date pattern letter '{ch}' in table property '{prop}' of table {table.qualified} is not "
                    "emulated by the sandbox (y, u, M, d, H, m, s and S are)",
                )
            out.append((ch, n))
            i += n
        elif ch in "[]{}#":
            raise coded(
                "NOT_SUPPORTED",
                f"Date pattern character '{ch}' in table property '{prop}' of table {table.qualified} is "
                "not emulated by the sandbox",
            )
        else:
            out.append(("'", ch))
            i += 1
    return out


@dataclass
class DateFormat:
    """A Java ``DateTimeFormatter`` pattern with the letters partition paths use."""

    pattern: str
    tokens: list[tuple[str, int | str]]
    regex: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        parts = []
        for kind, n in self.tokens:
            if kind == "'":
                parts.append(re.escape(str(n)))
            elif kind == "M" and isinstance(n, int) and n >= 3:
                names = calendar.month_abbr[1:] if n == 3 else calendar.month_name[1:]
                parts.append(f"(?P<M{len(parts)}>{'|'.join(names)})")
            elif kind in ("y", "u") and n != 2:
                parts.append(f"(?P<{kind}{len(parts)}>[0-9]{{{max(4, int(n))},}})")
            else:
                width = int(n) if n != 1 else None
                parts.append(f"(?P<{kind}{len(parts)}>[0-9]{{{width}}})" if width else
                             f"(?P<{kind}{len(parts)}>[0-9]{{1,2}})")
        self.regex = re.compile("".join(parts) + r"\Z")

    @property
    def letters(self) -> set[str]:
        return {k for k, _ in self.tokens if k != "'"}

    def format(self, value: dt.datetime) -> str:
        out = []
        for kind, n in self.tokens:
            if kind == "'":
                out.append(str(n))
                continue
            width = int(n)
            if kind in ("y", "u"):
                out.append(f"{value.year % 100:02d}" if width == 2 else f"{value.year:0{width}d}")
            elif kind == "M":
                out.append(
                    calendar.month_abbr[value.month] if width == 3
                    else calendar.month_name[value.month] if width >= 4
                    else f"{value.month:0{width}d}"
                )
            elif kind == "S":
                out.append(f"{value.microsecond:06d}"[:width].ljust(width, "0"))
            else:
                number = {"d": value.day, "H": value.hour, "m": value.minute, "s": value.second}[kind]
                out.append(f"{number:0{width}d}")
        return "".join(out)

    def parse(self, text: str) -> dt.datetime:
        """The text as a UTC datetime; ValueError when it does not match the pattern."""
        m = self.regex.match(text)
        if m is None:
            raise ValueError(f"'{text}' does not match the pattern '{self.pattern}'")
        fields = {"y": 1970, "M": 1, "d": 1, "H": 0, "m": 0, "s": 0, "S": 0}
        for name, raw in m.groupdict().items():
            kind = name[0]
            if kind == "M" and not raw.isdigit():
                names = list(calendar.month_abbr) if len(raw) == 3 else list(calendar.month_name)
                fields["M"] = names.index(raw)
            elif kind in ("y", "u"):
                fields["y"] = 2000 + int(raw) if len(raw) == 2 else int(raw)
            elif kind == "S":
                fields["S"] = int(raw.ljust(6, "0")[:6])
            else:
                fields[kind] = int(raw)
        return dt.datetime(
            fields["y"], fields["M"], fields["d"], fields["H"], fields["m"], fields["s"], fields["S"]
        )

    def truncate(self, value: dt.datetime) -> dt.datetime:
        """The value at the pattern's precision (as Athena formats a ``NOW`` bound and reads it back)."""
        return self.parse(self.format(value))


# --------------------------------------------------------------------------- column projections


@dataclass
class Column:
    """One partition column's projection: its values as the column holds them and as paths spell them."""

    name: str
    hive_type: str
    kind: str
    #: (value as text, as the catalog would hold it; the same value in the location) in order
    values: Callable[[], Iterator[tuple[str, str]]] = lambda: iter(())


def _prop(table: TableInfo, props: dict[str, str], col: str, suffix: str) -> str | None:
    return props.get(f"projection.{col}.{suffix}")


def _required(table: TableInfo, props: dict[str, str], col: str, suffix: str, kind: str, fix: str) -> str:
    value = _prop(table, props, col, suffix)
    if value is None or not value.strip():
        raise _invalid(table, f"projection.{col}.{suffix}", f"is missing: a {kind} projection requires it ({fix})")
    return value


def _positive(table: TableInfo, props: dict[str, str], col: str, suffix: str, default: int) -> int:
    raw = _prop(table, props, col, suffix)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        value = 0
    if value <= 0:
        raise _invalid(table, f"projection.{col}.{suffix}", f"value '{raw}' is not a positive integer")
    return value


def _integer(table: TableInfo, props: dict[str, str], col: str, hive: str) -> Column:
    prop = f"projection.{col}.range"
    raw = _required(table, props, col, "range", "integer", "two comma-separated integers, e.g. '0,23'")
    try:
        low, high = (int(v.strip()) for v in raw.split(","))
    except ValueError:
        raise _invalid(table, prop, f"value '{raw}' is not two comma-separated integers, e.g. '0,23'") from None
    interval = _positive(table, props, col, "interval", 1)
    digits = _positive(table, props, col, "digits", 0) if _prop(table, props, col, "digits") is not None else 0
    as_int = hive.lower() in _INTEGER_TYPES

    def values() -> Iterator[tuple[str, str]]:
        for n in range(low, high + 1, interval):
            text = f"{n:0{digits}d}" if digits else str(n)
            yield (str(n) if as_int else text), text

    return Column(col, hive, "integer", values)


def _enum(table: TableInfo, props: dict[str, str], col: str, hive: str) -> Column:
    raw = _required(table, props, col, "values", "enum", "a comma-separated list of values, e.g. 'a,b,c'")
    items = raw.split(",")
    return Column(col, hive, "enum", lambda: ((v, v) for v in items))


def _bound(table: TableInfo, prop: str, text: str, fmt: DateFormat, now: dt.datetime) -> dt.datetime:
    m = _NOW.match(text)
    if m is not None:
        value = now
        if m.group(1):
            unit = m.group(3).upper()
            count = int(m.group(2))
            value = _shift(value, unit if unit.endswith("S") else unit + "S", count if m.group(1) == "+" else -count)
        return fmt.truncate(value)
    try:
        return fmt.parse(text)
    except ValueError as exc:
        raise _invalid(
            table, prop,
            f"value has '{text}', which is neither a date formatted as '{fmt.pattern}' nor NOW[+-N UNIT] "
            f"(e.g. NOW-3DAYS): {exc}",
        ) from None


def _date(table: TableInfo, props: dict[str, str], col: str, hive: str, now: dt.datetime) -> Column:
    pattern = _required(table, props, col, "format", "date", "a Java DateTimeFormatter pattern, e.g. 'yyyy-MM-dd'")
    fmt = DateFormat(pattern, _pattern_tokens(table, f"projection.{col}.format", pattern))
    range_prop = f"projection.{col}.range"
    raw = _required(table, props, col, "range", "date", f"two comma-separated dates formatted as '{pattern}', or NOW")
    bounds = raw.split(",")
    if len(bounds) != 2:
        raise _invalid(table, range_prop, f"value '{raw}' is not two comma-separated dates (a comma, not a hyphen)")
    low, high = (_bound(table, range_prop, b, fmt, now) for b in bounds)
    if low > high:
        raise _invalid(table, range_prop, f"value '{raw}' starts after it ends")
    unit_prop = f"projection.{col}.interval.unit"
    unit_raw = _prop(table, props, col, "interval.unit")
    letters = fmt.letters
    if unit_raw is None:
        if letters & {"H", "m", "s", "S"} or not letters & {"d", "M"}:
            raise _invalid(
                table, unit_prop,
                f"is missing: it is required unless the format '{pattern}' is at single-day or single-month "
                "precision (e.g. DAYS or HOURS)",
            )
        unit = "DAYS" if "d" in letters else "MONTHS"
    else:
        unit = unit_raw.strip().upper()
        if unit not in _UNITS:
            raise _invalid(
                table, unit_prop,
                f"value '{unit_raw}' is not one of YEARS, MONTHS, WEEKS, DAYS, HOURS, MINUTES, SECONDS, MILLISECONDS",
            )
    interval = _positive(table, props, col, "interval", 1)
    kind = hive.lower()

    def values() -> Iterator[tuple[str, str]]:
        current = low  # each value steps from the one before (a month step from Jan 31 gives Feb 29, Mar 29)
        while current <= high:
            path = fmt.format(current)
            if kind == "date":
                text = current.date().isoformat()
            elif kind.startswith("timestamp"):
                text = current.isoformat(sep=" ")
            else:
                text = path
            yield text, path
            current = _shift(current, unit, interval)

    return Column(col, hive, "date", values)


def columns(table: TableInfo, now: dt.datetime | None = None) -> list[Column]:
    """The partition columns' projections, validated; fails naming the property that is wrong."""
    props = {k.strip().lower(): v for k, v in table.parameters.items()}
    missing = [c for c, _ in table.partition_keys if f"projection.{c}.type" not in props]
    if missing:
        raise coded(
            "HIVE_METASTORE_ERROR",
            f"Table {table.qualified} is configured for partition projection, but the following partition "
            f"columns are missing projection configuration: [{', '.join(missing)}] (table {table.qualified})",
        )
    template = props.get("storage.location.template")
    if template is not None:
        absent = [c for c, _ in table.partition_keys if "${" + c + "}" not in template]
        if absent:
            raise _invalid(
                table, "storage.location.template",
                f"value '{template}' has no placeholder for the partition column(s) {', '.join(absent)}: it must "
                "contain templates for all partition columns, e.g. ${" + absent[0] + "}",
            )
    now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    out = []
    for col, hive in table.partition_keys:
        kind = props[f"projection.{col}.type"].strip().lower()
        if kind == "integer":
            out.append(_integer(table, props, col, hive))
        elif kind == "enum":
            out.append(_enum(table, props, col, hive))
        elif kind == "date":
            out.append(_date(table, props, col, hive, now))
        elif kind == "injected":
            out.append(Column(col, hive, "injected"))
        else:
            raise _invalid(
                table, f"projection.{col}.type",
                f"value '{props[f'projection.{col}.type']}' is not a projection type: use one of {', '.join(TYPES)}",
            )
    return out


# --------------------------------------------------------------------------- WHERE conjuncts


@dataclass
class Filter:
    """What plain conjuncts of one scan's ``WHERE`` say about a partition column (all must hold)."""

    #: each an (operator, literal node) with operator one of = < <= > >= ; IN lists as several "in" sets
    tests: list[tuple[str, Any]] = field(default_factory=list)
    #: the column also appears in a conjunct that is not a static equality (for ``injected``)
    other: bool = False


_OPS = {exp.EQ: "=", exp.LT: "<", exp.LTE: "<=", exp.GT: ">", exp.GTE: ">="}
_FLIP = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _static(node: exp.Expr) -> bool:
    if isinstance(node, exp.Literal):
        return True
    if isinstance(node, exp.Neg):
        return isinstance(node.this, exp.Literal) and not node.this.is_string
    if isinstance(node, exp.Cast):
        return isinstance(node.this, exp.Literal)
    return False


def _conjuncts(node: exp.Expr | None) -> list[exp.Expr]:
    if node is None:
        return []
    if isinstance(node, exp.Paren):
        return _conjuncts(node.this)
    if isinstance(node, exp.And):
        return _conjuncts(node.this) + _conjuncts(node.expression)
    return [node]


def _disjuncts(node: exp.Expr) -> list[exp.Expr]:
    if isinstance(node, exp.Paren):
        return _disjuncts(node.this)
    if isinstance(node, exp.Or):
        return _disjuncts(node.this) + _disjuncts(node.expression)
    return [node]


def scan_filters(table: exp.Table) -> dict[str, Filter] | None:
    """For one table in a query, the conjuncts of its ``SELECT``'s ``WHERE`` on its columns, by name.

    None when the table does not sit directly in a ``FROM`` or ``JOIN`` (no ``WHERE`` to read).
    Every conjunct read here rejects NULLs, so it holds for the table's own rows in any join.
    """
    holder = table.parent
    select = holder.parent if isinstance(holder, (exp.From, exp.Join)) else None
    if not isinstance(select, exp.Select):
        return None
    alias = (table.alias_or_name or "").lower()

    def key_of(node: exp.Expr) -> str | None:
        if isinstance(node, exp.Column) and node.table.lower() in ("", alias):
            return node.name.lower()
        return None

    out: dict[str, Filter] = {}
    for conj in _conjuncts(select.args.get("where") and select.args["where"].this):
        found = _read_conjunct(conj, key_of)
        if found is not None:
            col, tests = found
            out.setdefault(col, Filter()).tests.extend(tests)
            continue
        for node in conj.find_all(exp.Column):
            if node.find_ancestor(exp.Select) is not select:
                continue  # a subquery's own column
            mentioned = key_of(node)
            if mentioned is not None:
                out.setdefault(mentioned, Filter()).other = True
    return out


def _read_conjunct(
    conj: exp.Expr, key_of: Callable[[exp.Expr], str | None]
) -> tuple[str, list[tuple[str, Any]]] | None:
    for cls, op in _OPS.items():
        if isinstance(conj, cls):
            left, right = conj.this, conj.expression
            if key_of(left) and _static(right):
                return key_of(left) or "", [(op, right)]
            if key_of(right) and _static(left):
                return key_of(right) or "", [(_FLIP[op], left)]
            return None
    if isinstance(conj, exp.In) and key_of(conj.this) and not conj.args.get("query"):
        items = conj.expressions
        if items and all(_static(i) for i in items):
            return key_of(conj.this) or "", [("in", items)]
        return None
    if isinstance(conj, exp.Between) and key_of(conj.this):
        low, high = conj.args.get("low"), conj.args.get("high")
        if low is not None and high is not None and _static(low) and _static(high):
            return key_of(conj.this) or "", [(">=", low), ("<=", high)]
        return None
    if isinstance(conj, (exp.Or, exp.Paren)):
        arms = _disjuncts(conj)
        col, items = None, []
        for arm in arms:
            if not isinstance(arm, exp.EQ):
                return None
            found = _read_conjunct(arm, key_of)
            if found is None or (col is not None and found[0] != col):
                return None
            col = found[0]
            items.append(found[1][0][1])
        if col is not None:
            return col, [("in", items)]
    return None


def collect(query: exp.Expr, database: str) -> dict[tuple[str, str], list[dict[str, Filter] | None]]:
    """Per catalog table (database, name) a query reads, each scan's :func:`scan_filters`."""
    ctes = {cte.alias_or_name.lower() for cte in query.find_all(exp.CTE)}
    out: dict[tuple[str, str], list[dict[str, Filter] | None]] = {}
    for table in query.find_all(exp.Table):
        name = table.name.lower()
        if not isinstance(table.this, exp.Identifier) or (not table.db and name in ctes):
            continue
        out.setdefault(((table.db or database).lower(), name), []).append(scan_filters(table))
    return out


# --------------------------------------------------------------------------- values and pruning


def _typed(hive: str, text: str) -> Any:
    """A partition value (text as the catalog holds it) as a comparable Python value; None if it is not one."""
    kind = hive.lower()
    try:
        if kind in _INTEGER_TYPES:
            return int(text)
        if kind == "date":
            return dt.date.fromisoformat(text)
        if kind.startswith("timestamp"):
            return dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if kind == "string" or kind.startswith(("varchar", "char")):
        return text
    return None


def _literal(hive: str, node: exp.Expr) -> Any:
    """A static literal as the column's Python value; None when its type does not match the column's."""
    kind = hive.lower()
    negative = isinstance(node, exp.Neg)
    if negative:
        node = node.this
    cast_to = ""
    if isinstance(node, exp.Cast):
        cast_to = node.to.sql("trino").lower()
        node = node.this
    if not isinstance(node, exp.Literal):
        return None
    text = ("-" if negative else "") + str(node.this)
    if kind in _INTEGER_TYPES:
        if node.is_string and cast_to not in _INTEGER_TYPES:
            return None
        try:
            return int(text)
        except ValueError:
            return None
    if kind == "date" and (cast_to == "date" or node.is_string):
        return _typed("date", text)
    if kind.startswith("timestamp") and cast_to.startswith("timestamp"):
        return _typed("timestamp", text)
    if (kind == "string" or kind.startswith(("varchar", "char"))) and node.is_string and not cast_to:
        return text
    return None


def _passes(value: Any, tests: list[tuple[str, Any]], hive: str) -> bool:
    """Whether a projected value can satisfy every test (a test this cannot judge passes it)."""
    for op, node in tests:
        if op == "in":
            wanted = [_literal(hive, n) for n in node]
            if any(w is None for w in wanted):
                continue
            if value not in wanted:
                return False
            continue
        other = _literal(hive, node)
        if other is None:
            continue
        ok = {
            "=": value == other, "<": value < other, "<=": value <= other, ">": value > other, ">=": value >= other,
        }[op]
        if not ok:
            return False
    return True


def _injected_values(table: TableInfo, col: Column, flt: Filter | None) -> list[tuple[str, str]]:
    error = coded(
        "CONSTRAINT_VIOLATION",
        f"For the injected projected partition column {col.name}, the WHERE clause must contain only static "
        "equality conditions, and at least one such condition must be present.",
    )
    if flt is None or flt.other or not flt.tests or any(op not in ("=", "in") for op, _ in flt.tests):
        raise error
    sets: list[set[str]] = []
    for op, node in flt.tests:
        nodes = node if op == "in" else [node]
        items = set()
        for n in nodes:
            value = _literal(col.hive_type, n)
            if value is None:
                raise error
            items.add(str(value))
        sets.append(items)
    chosen = set.intersection(*sets)
    return [(v, v) for v in sorted(chosen)]


def partitions(
    table: TableInfo, scans: list[dict[str, Filter] | None], now: dt.datetime | None = None
) -> list[Partition]:
    """The table's projected partitions for the scans of one query (each scan's filters, or None)."""
    cols = columns(table, now)
    template = next(
        (v for k, v in table.parameters.items() if k.strip().lower() == "storage.location.template"), None
    )
    base = table.location if table.location.endswith("/") else table.location + "/"
    chosen: dict[tuple[str, ...], str] = {}
    for scan in scans or [None]:
        per_column: list[list[tuple[str, str]]] = []
        total = 1
        for col in cols:
            flt = (scan or {}).get(col.name)
            if col.kind == "injected":
                kept = _injected_values(table, col, flt)
            else:
                tests = flt.tests if flt is not None else []
                kept = []
                for text, path in col.values():
                    if tests:
                        value = _typed(col.hive_type, text)
                        if value is not None and not _passes(value, tests, col.hive_type):
                            continue
                    kept.append((text, path))
                    if len(kept) > MAX_PARTITIONS:
                        break
            per_column.append(kept)
            total *= len(kept)
        if total + len(chosen) > MAX_PARTITIONS:
            raise coded(
                "HIVE_EXCEEDED_PARTITION_LIMIT",
                f"Query over table '{table.qualified}' can potentially read more than {MAX_PARTITIONS} partitions",
            )
        for combo in itertools.product(*per_column):
            values = tuple(text for text, _ in combo)
            if values in chosen:
                continue
            if template is not None:
                location = template
                for col, (_, path) in zip(cols, combo, strict=True):
                    location = location.replace("${" + col.name + "}", path)
            else:
                location = base + "".join(f"{col.name}={path}/" for col, (_, path) in zip(cols, combo, strict=True))
            chosen[values] = location if location.endswith("/") else location + "/"
    return [Partition(list(v), loc) for v, loc in chosen.items()]
