"""Type steps: CHANGE_DATA_TYPE and the TO_*_COLUMN shorthands.

A value that cannot be converted becomes null, as DataBrew documents. Booleans are read from
true/false, yes/no, t/f, y/n and 1/0 (any case). Dates and timestamps are read as DATE_FORMAT reads
them: slashed dates in the one order the column's values allow, and a column whose slashed dates fit
both orders fails the step (DataBrew documents neither the order nor a parameter giving it).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from .base import Operation, RecipeError, column, operation, replace, require

_TRUE = ["true", "yes", "t", "y", "1"]
_FALSE = ["false", "no", "f", "n", "0"]
_INT_TYPES = {"byte": pa.int8(), "short": pa.int16(), "int": pa.int32(), "integer": pa.int32(),
              "long": pa.int64(), "bigint": pa.int64()}
_FLOAT_TYPES = {"float": pa.float32(), "double": pa.float64(), "number": pa.float64()}


def to_boolean(values: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_boolean(values.type):
        return values
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
        return pc.not_equal(values, 0)
    text = pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(values, pa.string())))
    is_true = pc.is_in(text, pa.array(_TRUE))
    is_false = pc.is_in(text, pa.array(_FALSE))
    return pc.if_else(is_true, True, pc.if_else(is_false, False, pa.scalar(None, pa.bool_())))


def _numeric_text(values: pa.ChunkedArray, pattern: str) -> pa.ChunkedArray:
    text = pc.utf8_trim_whitespace(pc.cast(values, pa.string()))
    ok = pc.match_substring_regex(text, pattern)
    return pc.if_else(ok, text, pa.scalar(None, pa.string()))


def to_integer(values: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    if pa.types.is_integer(values.type):
        wide = pc.cast(values, pa.int64())
    elif pa.types.is_floating(values.type):
        wide = pc.cast(pc.trunc(values), pa.int64(), safe=False)
    elif pa.types.is_boolean(values.type):
        wide = pc.cast(values, pa.int64())
    else:
        text = _numeric_text(values, r"^[+-]?\d+(\.\d*)?$")
        wide = pc.cast(pc.trunc(pc.cast(text, pa.float64())), pa.int64())
    info = {pa.int8(): 2**7, pa.int16(): 2**15, pa.int32(): 2**31}.get(target)
    if info is not None:
        fits = pc.and_(pc.greater_equal(wide, -info), pc.less(wide, info))
        wide = pc.if_else(fits, wide, pa.scalar(None, pa.int64()))
    return pc.cast(wide, target)


def to_float(values: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    kind = values.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        return pc.cast(values, target)
    text = _numeric_text(values, r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
    return pc.cast(text, target)


def to_string(values: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.cast(values, pa.string())


def convert(values: pa.ChunkedArray, data_type: str, name: str = "the column") -> pa.ChunkedArray:
    """``values`` (column ``name``) as DataBrew type ``data_type`` (unconvertible values become null)."""
    kind = data_type.strip().lower()
    if kind == "boolean":
        return to_boolean(values)
    if kind in _INT_TYPES:
        return to_integer(values, _INT_TYPES[kind])
    if kind in _FLOAT_TYPES:
        return to_float(values, _FLOAT_TYPES[kind])
    if kind.startswith("decimal"):
        return pc.cast(to_float(values, pa.float64()), pa.decimal128(38, 18), safe=False)
    if kind == "string":
        return to_string(values)
    if kind in ("date", "timestamp"):
        from .dates import parse_dates, slashed_order

        fix = ("CHANGE_DATA_TYPE takes no parameter for the order it reads: give it dates that fit one order only, "
               "or yyyy-mm-dd dates")
        parsed = parse_dates(values, slashed_order(values, name, fix=fix))
        return parsed if kind == "timestamp" else pc.cast(parsed, pa.date32())
    raise RecipeError(f"unsupported columnDataType {data_type!r}; use one of byte, short, int, long, "
                      "float, double, decimal, string, boolean, date, timestamp")


@operation("CHANGE_DATA_TYPE", parameters=("sourceColumn", "columnDataType"))
def change_data_type(table: pa.Table, params: dict[str, str]) -> pa.Table:
    source = require(params, "sourceColumn")
    return replace(table, source, convert(column(table, source), require(params, "columnDataType"), source))


def _shorthand(kind: str) -> Operation:
    def apply(table: pa.Table, params: dict[str, str]) -> pa.Table:
        source = require(params, "sourceColumn")
        return replace(table, source, convert(column(table, source), kind, source))

    return apply


operation("TO_BOOLEAN_COLUMN", parameters=("sourceColumn",))(_shorthand("boolean"))
operation("TO_DOUBLE_COLUMN", parameters=("sourceColumn",))(_shorthand("double"))
operation("TO_NUMBER_COLUMN", parameters=("sourceColumn",))(_shorthand("double"))
operation("TO_STRING_COLUMN", parameters=("sourceColumn",))(_shorthand("string"))
