"""Text steps: LOWER_CASE, UPPER_CASE, CAPITAL_CASE (in place); LOWER, UPPER, TRIM (to a target
column); REPLACE_TEXT; FILL_WITH_EMPTY, FILL_WITH_CUSTOM."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from .base import Operation, column, operation, put, replace, require, source_columns, source_or_value

#: A pyarrow compute function from text values to text values (``pc.utf8_lower``, ...).
TextFunction = Callable[[pa.ChunkedArray], pa.ChunkedArray]


def _as_text(values: pa.ChunkedArray) -> pa.ChunkedArray:
    return values if pa.types.is_string(values.type) else pc.cast(values, pa.string())


def _in_place(fn: TextFunction) -> Operation:
    def apply(table: pa.Table, params: dict[str, str]) -> pa.Table:
        for name in source_columns(params):
            table = replace(table, name, fn(_as_text(column(table, name))))
        return table

    return apply


def _to_target(fn: TextFunction) -> Operation:
    def apply(table: pa.Table, params: dict[str, str]) -> pa.Table:
        return put(table, require(params, "targetColumn"), fn(_as_text(source_or_value(table, params))))

    return apply


IN_PLACE = ("sourceColumns", "sourceColumn")
TO_TARGET = ("sourceColumn", "value", "targetColumn")
operation("LOWER_CASE", parameters=IN_PLACE)(_in_place(pc.utf8_lower))
operation("UPPER_CASE", parameters=IN_PLACE)(_in_place(pc.utf8_upper))
operation("CAPITAL_CASE", parameters=IN_PLACE)(_in_place(pc.utf8_title))
operation("LOWER", parameters=TO_TARGET)(_to_target(pc.utf8_lower))
operation("UPPER", parameters=TO_TARGET)(_to_target(pc.utf8_upper))
operation("TRIM", parameters=TO_TARGET)(_to_target(pc.utf8_trim_whitespace))


@operation("REPLACE_TEXT", parameters=("sourceColumn", "pattern", "value"))
def replace_text(table: pa.Table, params: dict[str, str]) -> pa.Table:
    """Replace every match of regex ``pattern`` in ``sourceColumn`` with ``value``."""
    name = require(params, "sourceColumn")
    pattern = require(params, "pattern")
    values = _as_text(column(table, name))
    return replace(table, name, pc.replace_substring_regex(values, pattern, params.get("value", "")))


@operation("FILL_WITH_EMPTY", parameters=("sourceColumn",))
def fill_with_empty(table: pa.Table, params: dict[str, str]) -> pa.Table:
    name = require(params, "sourceColumn")
    return replace(table, name, pc.fill_null(_as_text(column(table, name)), ""))


@operation("FILL_WITH_CUSTOM", parameters=("sourceColumn", "value"))
def fill_with_custom(table: pa.Table, params: dict[str, str]) -> pa.Table:
    name = require(params, "sourceColumn")
    values = column(table, name)
    fill = pc.cast(pa.scalar(params.get("value", "")), values.type) if not pa.types.is_string(
        values.type) else params.get("value", "")
    return replace(table, name, pc.fill_null(values, fill))
