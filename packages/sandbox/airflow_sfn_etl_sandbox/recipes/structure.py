"""Column structure and order steps: MERGE, SORT.

- MERGE joins the ``sourceColumns`` values with ``delimiter`` into the new ``targetColumn``
  (appended). DataBrew does not document what a missing (null) value does to the merged text (left
  out, merged as empty text, or a missing result), so a row with one fails the step, saying to fill
  the values first.
- SORT orders the rows by its ``expressions`` (``sourceColumn``, ``ordering`` ASCENDING or
  DESCENDING, ``nullsOrdering`` NULLS_TOP or NULLS_BOTTOM, by default nulls first when ascending
  and last when descending, as Spark orders); the sort is stable. ``customOrder`` fails the step as
  not emulated by the sandbox.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .base import RecipeError, column, operation, put, require, source_columns


@operation("MERGE", parameters=("sourceColumns", "delimiter", "targetColumn"))
def merge(table: pa.Table, params: dict[str, str]) -> pa.Table:
    require(params, "sourceColumns")
    names = source_columns(params)
    target = require(params, "targetColumn")
    if target in table.column_names:
        raise RecipeError(f"a column {target!r} already exists")
    texts = []
    for name in names:
        values = column(table, name)
        if values.null_count:
            raise RecipeError(f"column {name!r} has missing values ({values.null_count} rows); what MERGE makes of a "
                              "missing value is not documented (left out, empty text or a missing result), so this "
                              "is not emulated by the sandbox: fill them first with FILL_WITH_EMPTY or "
                              "FILL_WITH_CUSTOM, or remove the rows with REMOVE_MISSING")
        texts.append(values if pa.types.is_string(values.type) else pc.cast(values, pa.string()))
    delimiter = params.get("delimiter", "")
    return put(table, target, pc.binary_join_element_wise(*texts, delimiter))


_EXPRESSION_KEYS = {"sourceColumn", "ordering", "nullsOrdering", "customOrder", "isCustomOrderCaseSensitive"}


def _sort_expressions(raw: str) -> list[dict[str, Any]]:
    try:
        expressions = json.loads(raw)
    except ValueError:
        raise RecipeError(f"expressions must be a JSON list of sort expressions, got {raw!r}") from None
    if isinstance(expressions, dict):
        expressions = [expressions]
    if not isinstance(expressions, list) or not expressions or not all(isinstance(e, dict) for e in expressions):
        raise RecipeError(f"expressions must be a JSON list of sort expressions, got {raw!r}")
    for number, expression in enumerate(expressions, start=1):
        unknown = sorted(set(expression) - _EXPRESSION_KEYS)
        if unknown:
            raise RecipeError(f"sort expression {number}: unknown key {', '.join(map(repr, unknown))}; "
                              f"a sort expression takes {', '.join(sorted(_EXPRESSION_KEYS))}")
        if expression.get("customOrder"):
            raise RecipeError(f"sort expression {number}: customOrder is not emulated by the sandbox")
        if not expression.get("sourceColumn"):
            raise RecipeError(f"sort expression {number}: sourceColumn is required")
    return expressions


@operation("SORT", parameters=("expressions",))
def sort(table: pa.Table, params: dict[str, str]) -> pa.Table:
    expressions = _sort_expressions(require(params, "expressions"))
    indices = pa.array(range(table.num_rows), pa.int64())
    # A stable sort by each key, least significant first, orders by all keys with each its own
    # null placement.
    for number, expression in reversed(list(enumerate(expressions, start=1))):
        ordering = str(expression.get("ordering") or "ASCENDING").upper()
        if ordering not in ("ASCENDING", "DESCENDING"):
            raise RecipeError(f"sort expression {number}: ordering must be ASCENDING or DESCENDING, "
                              f"got {expression['ordering']!r}")
        default_nulls = "NULLS_TOP" if ordering == "ASCENDING" else "NULLS_BOTTOM"
        nulls = str(expression.get("nullsOrdering") or default_nulls).upper()
        if nulls not in ("NULLS_TOP", "NULLS_BOTTOM"):
            raise RecipeError(f"sort expression {number}: nullsOrdering must be NULLS_TOP or NULLS_BOTTOM, "
                              f"got {expression['nullsOrdering']!r}")
        values = column(table, expression["sourceColumn"]).take(indices).combine_chunks()
        order = pc.array_sort_indices(values, order=ordering.lower(),
                                      null_placement="at_start" if nulls == "NULLS_TOP" else "at_end")
        indices = indices.take(order)
    return table.take(indices)
