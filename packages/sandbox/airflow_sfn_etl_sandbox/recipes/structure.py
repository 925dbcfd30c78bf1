"""Column structure and order steps: SPLIT_COLUMN_SINGLE_DELIMITER, MERGE, SORT.

- SPLIT_COLUMN_SINGLE_DELIMITER splits ``sourceColumn`` at each occurrence of the literal
  ``pattern``, at most ``limit`` (1..20) times, into ``limit + 1`` text columns named
  ``<sourceColumn>_1`` .. ``<sourceColumn>_<limit + 1>`` that take the source column's place; a
  value with fewer parts leaves the last columns null. ``includeInSplit`` ``true`` (where DataBrew
  puts the delimiter is not documented) fails the step as not emulated by the sandbox.
- MERGE joins the ``sourceColumns`` values with ``delimiter`` into the new ``targetColumn``
  (appended); null values are left out of the joined text, a row whose values are all null
  gets null.
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


def _flag(params: dict[str, str], name: str) -> bool:
    raw = (params.get(name) or "false").strip().lower()
    if raw not in ("true", "false"):
        raise RecipeError(f"parameter {name!r} must be true or false, got {params[name]!r}")
    return raw == "true"


@operation("SPLIT_COLUMN_SINGLE_DELIMITER", parameters=("sourceColumn", "pattern", "limit", "includeInSplit"))
def split_column_single_delimiter(table: pa.Table, params: dict[str, str]) -> pa.Table:
    name = require(params, "sourceColumn")
    pattern = require(params, "pattern")
    raw_limit = require(params, "limit")
    try:
        limit = int(raw_limit)
    except ValueError:
        raise RecipeError(f"limit must be a whole number from 1 to 20, got {raw_limit!r}") from None
    if not 1 <= limit <= 20:
        raise RecipeError(f"limit must be from 1 to 20, got {limit}")
    if _flag(params, "includeInSplit"):
        raise RecipeError("includeInSplit true is not emulated by the sandbox (false is)")
    values = column(table, name)
    text = values if pa.types.is_string(values.type) else pc.cast(values, pa.string())
    parts = pc.split_pattern(text, pattern, max_splits=limit).to_pylist()
    targets = [f"{name}_{i}" for i in range(1, limit + 2)]
    clash = [t for t in targets if t in table.column_names]
    if clash:
        raise RecipeError(f"the split columns {clash} already exist")
    index = table.column_names.index(name)
    table = table.remove_column(index)
    for offset, target in enumerate(targets):
        piece = pa.array([p[offset] if p is not None and offset < len(p) else None for p in parts], pa.string())
        table = table.add_column(index + offset, target, piece)
    return table


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
        texts.append(values if pa.types.is_string(values.type) else pc.cast(values, pa.string()))
    delimiter = params.get("delimiter", "")
    merged = pc.binary_join_element_wise(*texts, delimiter, null_handling="skip")
    all_null = texts[0].is_null()
    for text in texts[1:]:
        all_null = pc.and_(all_null, text.is_null())
    return put(table, target, pc.if_else(all_null, pa.scalar(None, pa.string()), merged))


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
