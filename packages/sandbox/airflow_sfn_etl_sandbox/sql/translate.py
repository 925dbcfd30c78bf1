"""Trino/Hive (Athena) SQL -> DuckDB SQL, with catalog tables swapped for registered views."""

from __future__ import annotations

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


def to_duckdb(query: exp.Expr) -> str:
    return query.sql(dialect="duckdb")
