"""Trino/Hive (Athena) SQL -> DuckDB SQL, with catalog tables swapped for registered views."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from .context import Context


@dataclass(frozen=True)
class TableRef:
    database: str
    name: str
    view: str
    meta: tuple[tuple[str, int], ...]


#: Athena's hidden columns of a Hive table.
HIDDEN_COLUMNS = frozenset({"$path", "$file_size", "$file_modified_time", "$partition"})


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


quote = _quote


def name_unnamed_columns(query: exp.Expr) -> None:
    """Trino names an unaliased select expression ``_col<N>``; DuckDB would use its text."""
    select = query
    while isinstance(select, exp.SetOperation):
        select = select.this
    if not isinstance(select, exp.Select):
        return
    for i, item in enumerate(list(select.expressions)):
        if isinstance(item, (exp.Alias, exp.Column, exp.Star)) or item.is_star:
            continue
        item.replace(exp.alias_(item.copy(), f"_col{i}"))


def bind_tables(query: exp.Expr, ctx: Context) -> list[TableRef]:
    """Replace every catalog table reference by a view name; returns the references (deduplicated).

    Unqualified names resolve against the context database; CTE names are left alone.
    """
    ctes = {cte.alias_or_name.lower() for cte in query.find_all(exp.CTE)}
    refs: dict[tuple[str, str], TableRef] = {}
    from .errors import coded

    for table in list(query.find_all(exp.Table)):
        if not isinstance(table.this, exp.Identifier):
            raise coded(
                "NOT_SUPPORTED",
                f"Table functions are not emulated by the sandbox: {table.sql('trino')}",
                table.meta or None,
            )
        name = table.name.lower()
        if not table.db and name in ctes:
            continue
        db = (table.db or ctx.database).lower()
        if db == "information_schema":
            raise coded(
                "NOT_SUPPORTED",
                "information_schema is not emulated by the sandbox",
                (table.args.get("db") or table.this).meta or None,
            )
        key = (db, name)
        if key not in refs:
            refs[key] = TableRef(db, name, f"__athena_t{len(refs)}", tuple(sorted(table.this.meta.items())))
        alias = table.alias or name
        table.set("catalog", None)
        table.set("db", None)
        table.set("this", exp.to_identifier(refs[key].view))
        table.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
    for column in query.find_all(exp.Column):
        if column.name.lower() in HIDDEN_COLUMNS:
            raise coded(
                "NOT_SUPPORTED",
                f'Hidden column "{column.name}" is not emulated by the sandbox',
                column.this.meta or None,
            )
        if column.args.get("db") is not None:  # db.table.column -> table.column
            column.set("catalog", None)
            column.set("db", None)
    return list(refs.values())


#: Joda pattern letters (Trino's ``format_datetime``) -> strftime, by how many times the letter repeats
#: (the last entry also serves longer runs); letters missing here fail as not emulated.
_JODA: dict[str, dict[int, str]] = {
    "y": {1: "%Y", 2: "%y", 3: "%Y", 4: "%Y"},
    "Y": {1: "%Y", 2: "%y", 3: "%Y", 4: "%Y"},
    "M": {1: "%-m", 2: "%m", 3: "%b", 4: "%B"},
    "d": {1: "%-d", 2: "%d"},
    "D": {1: "%-j", 3: "%j"},
    "H": {1: "%-H", 2: "%H"},
    "h": {1: "%-I", 2: "%I"},
    "m": {1: "%-M", 2: "%M"},
    "s": {1: "%-S", 2: "%S"},
    "S": {3: "%g", 6: "%f"},
    "a": {1: "%p"},
    "E": {1: "%a", 2: "%a", 3: "%a", 4: "%A"},
}
_LONGER_RUNS = {"y", "Y", "M", "E"}
#: strftime directives whose meaning matches Trino's date_format specifier they come from.
_DATE_FORMAT_OK = re.compile(r"%(?:-?[mdHIMSj]|[YyfpaAbBwG%])")


def joda_to_strftime(pattern: str, meta: dict[str, int] | None = None) -> str:
    """A Joda-Time pattern (Trino's ``format_datetime``) as a DuckDB ``strftime`` format.

    Quoted text is literal (``''`` is a quote); a pattern letter this cannot translate exactly fails as
    not emulated rather than formatting something else.
    """
    from .errors import coded

    out, i, n = [], 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "'":
            end = i + 1
            text = []
            while end < n:
                if pattern[end] == "'":
                    if end + 1 < n and pattern[end + 1] == "'":
                        text.append("'")
                        end += 2
                        continue
                    break
                text.append(pattern[end])
                end += 1
            out.append("'" if end == i + 1 else "".join(text).replace("%", "%%"))
            i = end + 1
            continue
        if ch.isalpha():
            run = 1
            while i + run < n and pattern[i + run] == ch:
                run += 1
            forms = _JODA.get(ch, {})
            form = forms.get(run) or (forms[max(forms)] if ch in _LONGER_RUNS and run > max(forms) else None)
            if form is None:
                raise coded(
                    "NOT_SUPPORTED",
                    f"format_datetime pattern '{ch * run}' (in '{pattern}') is not emulated by the sandbox",
                    meta,
                )
            out.append(form)
            i += run
            continue
        out.append("%%" if ch == "%" else ch)
        i += 1
    return "".join(out)


def _unbind(node: exp.Expr) -> exp.Expr:
    """A string literal that the typing pass bound as a VARCHAR, as the literal (other nodes as they are)."""
    if isinstance(node, exp.Cast) and node.meta.get("athena_bound_literal"):
        return node.this
    return node


def _datetime_formats(query: exp.Expr) -> None:
    """``format_datetime`` (Joda patterns) -> DuckDB ``strftime``; ``date_format`` checked for what maps exactly."""
    from .errors import coded

    for node in list(query.find_all(exp.Anonymous)):
        if str(node.this).lower() != "format_datetime" or len(node.expressions) != 2:
            continue
        value, fmt = node.expressions
        fmt = _unbind(fmt)
        if not (isinstance(fmt, exp.Literal) and fmt.is_string):
            raise coded(
                "NOT_SUPPORTED", "format_datetime with a pattern that is not a literal is not emulated by the sandbox"
            )
        strftime = exp.Literal.string(joda_to_strftime(fmt.this))
        node.replace(exp.Anonymous(this="STRFTIME", expressions=[value, strftime]))
    for to_str in list(query.find_all(exp.TimeToStr)):
        fmt = to_str.args.get("format")
        if not (isinstance(fmt, exp.Literal) and fmt.is_string):
            raise coded(
                "NOT_SUPPORTED", "date_format with a format that is not a literal is not emulated by the sandbox"
            )
        leftover = _DATE_FORMAT_OK.sub("", fmt.this)
        if "%" in leftover:
            spec = leftover[leftover.index("%") : leftover.index("%") + 2]
            raise coded(
                "NOT_SUPPORTED",
                f"date_format specifier {spec} (as DuckDB writes it) is not emulated by the sandbox",
            )


def to_duckdb(query: exp.Expr) -> str:
    _datetime_formats(query)
    return query.sql(dialect="duckdb")
