"""Data quality steps: missing values (FILL_WITH_AVERAGE, FILL_WITH_MEDIAN, FILL_WITH_MODE,
FILL_WITH_MOST_FREQUENT, REMOVE_MISSING) and duplicates (REMOVE_DUPLICATES, DELETE_DUPLICATE_ROWS).

A value is *missing* when it is null (an empty CSV cell is read as null) or, in a text column, the
empty string. Statistics are computed over the values that are not missing:

- the average and the median (the middle value, or the mean of the two middle values) need a
  numeric column; an integer column filled with them becomes a double column;
- the mode and the most frequent value are the value that occurs most often; ties are resolved by
  ``modeType`` (``MINIMUM``, ``MAXIMUM``, ``AVERAGE``) as DataBrew documents. A tie that DataBrew
  does not say how to resolve (``modeType`` ``NONE`` or absent, FILL_WITH_MOST_FREQUENT) fails the
  step naming the tied values instead of picking one.

REMOVE_DUPLICATES keeps the first row of each value of ``sourceColumn`` (missing values count as
one value); DELETE_DUPLICATE_ROWS keeps the first of each set of identical rows.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from .base import RecipeError, column, operation, replace, require


def missing(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """True where a value is missing: null, or the empty string in a text column."""
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return pc.or_kleene(pc.is_null(values), pc.equal(values, ""))
    return pc.is_null(values)


def present(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """The values that are not missing."""
    return values.filter(pc.invert(missing(values)))


def _numeric(values: pa.ChunkedArray, name: str) -> pa.ChunkedArray:
    if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)
            or pa.types.is_decimal(values.type)):
        raise RecipeError(f"column {name!r} is {values.type}, not a number column")
    return values


def _fill(table: pa.Table, name: str, fill: pa.Scalar) -> pa.Table:
    values = column(table, name)
    if fill.type != values.type:
        values = pc.cast(values, fill.type)
    return replace(table, name, pc.if_else(missing(column(table, name)), fill, values))


def _no_values(name: str) -> RecipeError:
    return RecipeError(f"column {name!r} has no values to compute the fill value from")


@operation("FILL_WITH_AVERAGE", parameters=("sourceColumn",))
def fill_with_average(table: pa.Table, params: dict[str, str]) -> pa.Table:
    name = require(params, "sourceColumn")
    values = present(_numeric(column(table, name), name))
    if len(values) == 0:
        raise _no_values(name)
    return _fill(table, name, pc.mean(pc.cast(values, pa.float64())))


@operation("FILL_WITH_MEDIAN", parameters=("sourceColumn",))
def fill_with_median(table: pa.Table, params: dict[str, str]) -> pa.Table:
    name = require(params, "sourceColumn")
    values = present(_numeric(column(table, name), name))
    if len(values) == 0:
        raise _no_values(name)
    median = pc.quantile(pc.cast(values, pa.float64()), q=0.5, interpolation="linear")[0]
    return _fill(table, name, median)


def _modes(values: pa.ChunkedArray, name: str) -> pa.Array:
    """The values of ``values`` that occur most often (one, or several when tied)."""
    counts = pc.value_counts(present(values))
    if len(counts) == 0:
        raise _no_values(name)
    occurrences = counts.field("counts")
    return counts.field("values").filter(pc.equal(occurrences, pc.max(occurrences)))


def _tie_error(name: str, modes: pa.Array, hint: str) -> RecipeError:
    shown = ", ".join(repr(v) for v in sorted(modes.to_pylist())[:10])
    return RecipeError(f"the most frequent values of {name!r} are tied ({shown}); {hint}")


@operation("FILL_WITH_MODE", parameters=("sourceColumn", "modeType"))
def fill_with_mode(table: pa.Table, params: dict[str, str]) -> pa.Table:
    name = require(params, "sourceColumn")
    mode_type = (params.get("modeType") or "NONE").upper()
    if mode_type not in ("MINIMUM", "MAXIMUM", "AVERAGE", "NONE"):
        raise RecipeError(f"modeType must be MINIMUM, NONE, AVERAGE or MAXIMUM, got {params['modeType']!r}")
    values = column(table, name)
    modes = _modes(values, name)
    if len(modes) == 1:
        return _fill(table, name, modes[0])
    if mode_type == "MINIMUM":
        return _fill(table, name, pc.min(modes).cast(values.type))
    if mode_type == "MAXIMUM":
        return _fill(table, name, pc.max(modes).cast(values.type))
    if mode_type == "AVERAGE":
        return _fill(table, name, pc.mean(pc.cast(_numeric(pa.chunked_array([modes]), name), pa.float64())))
    raise _tie_error(name, modes, "which one modeType NONE picks is not emulated by the sandbox "
                                  "(use MINIMUM, MAXIMUM or AVERAGE)")


@operation("FILL_WITH_MOST_FREQUENT", parameters=("sourceColumn",))
def fill_with_most_frequent(table: pa.Table, params: dict[str, str]) -> pa.Table:
    name = require(params, "sourceColumn")
    modes = _modes(column(table, name), name)
    if len(modes) > 1:
        raise _tie_error(name, modes, "which one FILL_WITH_MOST_FREQUENT picks is not emulated by the sandbox "
                                      "(FILL_WITH_MODE with a modeType resolves ties)")
    return _fill(table, name, modes[0])


@operation("REMOVE_MISSING", parameters=("sourceColumn",))
def remove_missing(table: pa.Table, params: dict[str, str]) -> pa.Table:
    name = require(params, "sourceColumn")
    return table.filter(pc.invert(missing(column(table, name))))


def _first_of_each(table: pa.Table, keys: list[str]) -> pa.Table:
    """The first row of each group of rows equal on ``keys`` (nulls equal to nulls), in input order."""
    position = "__sandbox_row_position"
    numbered = table.select(keys).append_column(position, pa.array(range(table.num_rows), pa.int64()))
    first = numbered.group_by(keys, use_threads=False).aggregate([(position, "min")])
    positions = first.column(f"{position}_min").combine_chunks()
    return table.take(positions.take(pc.array_sort_indices(positions)))


@operation("REMOVE_DUPLICATES", parameters=("sourceColumn",))
def remove_duplicates(table: pa.Table, params: dict[str, str]) -> pa.Table:
    name = require(params, "sourceColumn")
    column(table, name)
    return _first_of_each(table, [name])


@operation("DELETE_DUPLICATE_ROWS", parameters=())
def delete_duplicate_rows(table: pa.Table, params: dict[str, str]) -> pa.Table:
    return _first_of_each(table, table.column_names)
