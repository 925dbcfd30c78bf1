"""GROUP_BY: one row per group of ``sourceColumns`` values, with aggregates of each group.

``groupByAggFunctionOptions`` is a JSON list of ``{sourceColumnName, targetColumnName,
targetColumnDataType, functionName}`` (DataBrew's example). The result replaces the rows
(``useNewDataFrame`` ``true``): the group columns, then one column per function, groups in the
order their first row appears; missing values (null) form a group of their own. Functions:

- ``COUNT``: the values that are not null; ``COUNT_DISTINCT``: the distinct values that are not null;
- ``SUM``, ``MIN``, ``MAX`` of the values that are not null.

The result column is converted to ``targetColumnDataType`` as CHANGE_DATA_TYPE converts. Another
function, ``useNewDataFrame`` other than ``true`` (what DataBrew then does with the rows is not
documented) and ``groupByAggFunctions`` (its form is not documented) fail the step as not emulated
by the sandbox.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .base import RecipeError, column, operation, require, source_columns
from .types import convert

_FUNCTIONS = {"COUNT": "count", "COUNT_DISTINCT": "count_distinct", "SUM": "sum", "MIN": "min", "MAX": "max"}
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
    aggregations: list[tuple[str, str]] = [(position, "min")]
    for option in options:
        column(table, str(option["sourceColumnName"]))
        aggregations.append((str(option["sourceColumnName"]), _FUNCTIONS[str(option["functionName"]).upper()]))
    grouped = numbered.group_by(keys, use_threads=False).aggregate(aggregations)
    first = grouped.column_names.index(f"{position}_min")
    grouped = grouped.take(pc.array_sort_indices(grouped.column(first)))
    out = pa.table([grouped.column(k) for k in keys], names=keys)
    # aggregate() gives the results in the order asked, one column each ("<column>_<function>").
    for offset, option in enumerate(options, start=1):
        values = grouped.column(first + offset)
        if option.get("targetColumnDataType"):
            values = convert(values, str(option["targetColumnDataType"]))
        out = out.append_column(str(option["targetColumnName"]), values)
    return out
