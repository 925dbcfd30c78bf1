"""GROUP_BY: one row per group of ``sourceColumns`` values, with aggregates of each group.

``groupByAggFunctionOptions`` is a JSON list of ``{sourceColumnName, targetColumnName,
targetColumnDataType, functionName}`` (DataBrew's example). The result replaces the rows
(``useNewDataFrame`` ``true``): the group columns, then one column per function, groups in the
order their first row appears; missing values (null) form a group of their own. Functions:

- ``COUNT``: the values that are not null; ``COUNT_DISTINCT``: the distinct values that are not null;
- ``SUM``, ``MIN``, ``MAX`` of the values that are not null;
- of a number column's values that are not null: ``AVERAGE`` (a double), ``MEDIAN`` (the middle value,
  or the mean of the two middle values, as FILL_WITH_MEDIAN), ``MODE`` (the most frequent value; a
  group whose most frequent values are tied fails the step, as DataBrew does not say which one a
  GROUP_BY takes), ``VARIANCE`` (DataBrew's documented Sum((X - mean(X))^2) / Count(X)); a group
  without values gets null. On a text column they fail the step.

The result column is converted to ``targetColumnDataType`` as CHANGE_DATA_TYPE converts. Another
function (``STANDARD_DEVIATION``: whether it is the sample or the population deviation is not
documented; ``ANY``, ``KTH_LARGEST``, ...), ``useNewDataFrame`` other than ``true`` (what DataBrew
then does with the rows is not documented) and ``groupByAggFunctions`` (its form is not documented)
fail the step as not emulated by the sandbox.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .base import RecipeError, column, operation, require, source_columns
from .types import convert

_FUNCTIONS: dict[str, tuple[str, Any]] = {
    "COUNT": ("count", None), "COUNT_DISTINCT": ("count_distinct", None), "SUM": ("sum", None),
    "MIN": ("min", None), "MAX": ("max", None), "AVERAGE": ("mean", None),
    "VARIANCE": ("variance", pc.VarianceOptions(ddof=0)),
    # Exact median and mode per group: the group's values, reduced below.
    "MEDIAN": ("list", None), "MODE": ("list", None),
}
_NUMBERS_ONLY = ("AVERAGE", "MEDIAN", "MODE", "VARIANCE")
_NOT_EMULATED = {
    "STANDARD_DEVIATION": "whether it is the sample or the population deviation is not documented; VARIANCE is "
                          "emulated",
}
_OPTION_KEYS = {"sourceColumnName", "targetColumnName", "targetColumnDataType", "functionName"}


def _options(raw: str) -> list[dict[str, Any]]:
    try:
        options = json.loads(raw)
    except ValueError:
        options = None
    if not isinstance(options, list) or not options or not all(isinstance(o, dict) for o in options):
        raise RecipeError(f"groupByAggFunctionOptions must be a JSON list of aggregations, got {raw!r}")
    for number, option in enumerate(options, start=1):
        unknown = sorted(set(option) - _OPTION_KEYS)
        if unknown:
            raise RecipeError(f"aggregation {number}: unknown key {', '.join(map(repr, unknown))}; an aggregation "
                              f"takes {', '.join(sorted(_OPTION_KEYS))}")
        for key in ("sourceColumnName", "targetColumnName", "functionName"):
            if not option.get(key):
                raise RecipeError(f"aggregation {number}: {key} is required")
        function = str(option["functionName"]).upper()
        if function in _NOT_EMULATED:
            raise RecipeError(f"aggregation {number}: functionName {function} is not emulated by the sandbox "
                              f"({_NOT_EMULATED[function]})")
        if function not in _FUNCTIONS:
            raise RecipeError(f"aggregation {number}: functionName {option['functionName']!r} is not emulated by the "
                              f"sandbox (it computes {', '.join(_FUNCTIONS)})")
    return options


@operation("GROUP_BY", parameters=("sourceColumns", "groupByAggFunctionOptions", "groupByAggFunctions",
                                   "useNewDataFrame"))
def group_by(table: pa.Table, params: dict[str, str]) -> pa.Table:
    if "groupByAggFunctions" in params:
        raise RecipeError("groupByAggFunctions is not emulated by the sandbox (its form is not documented); "
                          "use groupByAggFunctionOptions")
    if (params.get("useNewDataFrame") or "").strip().lower() != "true":
        raise RecipeError("useNewDataFrame other than true is not emulated by the sandbox")
    require(params, "sourceColumns")
    keys = source_columns(params)
    for name in keys:
        column(table, name)
    options = _options(require(params, "groupByAggFunctionOptions"))
    targets = [str(o["targetColumnName"]) for o in options]
    clash = sorted({t for t in targets if t in keys or targets.count(t) > 1})
    if clash:
        raise RecipeError(f"target column(s) {clash} repeat a group column or another target")
    position = "__sandbox_row_position"
    numbered = table.append_column(position, pa.array(range(table.num_rows), pa.int64()))
    aggregations: list[tuple[Any, ...]] = [(position, "min")]
    for number, option in enumerate(options, start=1):
        source, function = str(option["sourceColumnName"]), str(option["functionName"]).upper()
        kind = column(table, source).type
        if function in _NUMBERS_ONLY and not (pa.types.is_integer(kind) or pa.types.is_floating(kind)
                                              or pa.types.is_decimal(kind)):
            raise RecipeError(f"aggregation {number}: {function} of column {source!r} of type {kind}: the column "
                              "is not a number column")
        name, fn_options = _FUNCTIONS[function]
        aggregations.append((source, name, fn_options) if fn_options is not None else (source, name))
    grouped = numbered.group_by(keys, use_threads=False).aggregate(aggregations)
    first = grouped.column_names.index(f"{position}_min")
    grouped = grouped.take(pc.array_sort_indices(grouped.column(first)))
    out = pa.table([grouped.column(k) for k in keys], names=keys)
    # aggregate() gives the results in the order asked, one column each ("<column>_<function>").
    for offset, option in enumerate(options, start=1):
        values = grouped.column(first + offset)
        function = str(option["functionName"]).upper()
        if function == "MEDIAN":
            values = pa.array([_median(v) for v in values.to_pylist()], pa.float64())
        elif function == "MODE":
            values = pa.array([_mode(v, str(option["sourceColumnName"]), keys, row)
                               for v, row in zip(values.to_pylist(), grouped.select(keys).to_pylist(), strict=True)],
                              table.schema.field(str(option["sourceColumnName"])).type)
        if option.get("targetColumnDataType"):
            values = convert(values, str(option["targetColumnDataType"]), str(option["targetColumnName"]))
        out = out.append_column(str(option["targetColumnName"]), values)
    return out


def _median(values: list[Any]) -> float | None:
    present = sorted(float(v) for v in values if v is not None)
    if not present:
        return None
    middle = len(present) // 2
    return present[middle] if len(present) % 2 else (present[middle - 1] + present[middle]) / 2


def _mode(values: list[Any], name: str, keys: list[str], group: dict[str, Any]) -> Any:
    counts: dict[Any, int] = {}
    for value in values:
        if value is not None:
            counts[value] = counts.get(value, 0) + 1
    if not counts:
        return None
    top = max(counts.values())
    modes = sorted(v for v, n in counts.items() if n == top)
    if len(modes) > 1:
        raise RecipeError(f"MODE of {name!r} in the group {group}: the most frequent values are tied "
                          f"({', '.join(map(repr, modes[:10]))}); which one GROUP_BY takes is not documented, so "
                          "this is not emulated by the sandbox")
    return modes[0]
