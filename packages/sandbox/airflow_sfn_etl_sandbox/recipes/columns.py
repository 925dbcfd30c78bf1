"""Basic column steps: RENAME, DELETE, DUPLICATE, MOVE_TO_START, MOVE_TO_END."""

from __future__ import annotations

import pyarrow as pa

from .base import RecipeError, column, operation, require, source_columns


@operation("RENAME", parameters=("sourceColumn", "targetColumn"))
def rename(table: pa.Table, params: dict[str, str]) -> pa.Table:
    source, target = require(params, "sourceColumn"), require(params, "targetColumn")
    column(table, source)
    if target != source and target in table.column_names:
        raise RecipeError(f"cannot rename {source!r} to {target!r}: a column {target!r} already exists")
    return table.rename_columns([target if n == source else n for n in table.column_names])


@operation("DELETE", parameters=("sourceColumns", "sourceColumn"))
def delete(table: pa.Table, params: dict[str, str]) -> pa.Table:
    names = source_columns(params)
    for name in names:
        column(table, name)
    return table.drop_columns(names)


@operation("DUPLICATE", parameters=("sourceColumn", "targetColumn"))
def duplicate(table: pa.Table, params: dict[str, str]) -> pa.Table:
    source, target = require(params, "sourceColumn"), require(params, "targetColumn")
    if target in table.column_names:
        raise RecipeError(f"a column {target!r} already exists")
    return table.append_column(target, column(table, source))


def _move(table: pa.Table, params: dict[str, str], to_start: bool) -> pa.Table:
    source = require(params, "sourceColumn")
    column(table, source)
    rest = [n for n in table.column_names if n != source]
    return table.select([source, *rest] if to_start else [*rest, source])


@operation("MOVE_TO_START", parameters=("sourceColumn",))
def move_to_start(table: pa.Table, params: dict[str, str]) -> pa.Table:
    return _move(table, params, to_start=True)


@operation("MOVE_TO_END", parameters=("sourceColumn",))
def move_to_end(table: pa.Table, params: dict[str, str]) -> pa.Table:
    return _move(table, params, to_start=False)
