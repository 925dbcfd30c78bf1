"""Row filters with ``ConditionExpressions``: REMOVE_VALUES.

A step's ``ConditionExpressions`` are ``{Condition, Value, TargetColumn}``; a row meets them when it
meets every one (they are combined with AND). The conditions, as DataBrew documents them:

- ``IS`` / ``IS_NOT``: the value is (is not) one of ``Value``, a JSON list of values
  (``"[\\"draw\\"]"``) or a single value; in a number column the values are compared as numbers;
- ``CONTAINS``, ``STARTS_WITH``, ``ENDS_WITH`` and their ``NOT_`` forms: the text of the value
  contains, starts or ends with ``Value`` (case-sensitive);
- ``LESS_THAN``, ``LESS_THAN_EQUAL``, ``GREATER_THAN``, ``GREATER_THAN_EQUAL``: compared with the
  number ``Value``, in a number column;
- ``IS_MISSING``: the value is null or, in a text column, empty (``Value`` is not used).

A missing value meets no condition but ``IS_MISSING``. ``IS_BETWEEN`` (the form of its ``Value``
is not documented), ``IS_INVALID`` (what makes a value invalid is not documented), an order
comparison on a text column and any other condition fail the step as not emulated by the sandbox.
REMOVE_VALUES removes the rows that meet the conditions and keeps the others in order.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .base import RecipeError, column, conditional_operation, require
from .quality import missing

_ORDER = {"LESS_THAN": pc.less, "LESS_THAN_EQUAL": pc.less_equal,
          "GREATER_THAN": pc.greater, "GREATER_THAN_EQUAL": pc.greater_equal}
_TEXT = {"CONTAINS": (pc.match_substring, False), "NOT_CONTAINS": (pc.match_substring, True),
         "STARTS_WITH": (pc.starts_with, False), "NOT_STARTS_WITH": (pc.starts_with, True),
         "ENDS_WITH": (pc.ends_with, False), "NOT_ENDS_WITH": (pc.ends_with, True)}
_NOT_EMULATED = {
    "IS_BETWEEN": "the form of its Value is not documented; use GREATER_THAN_EQUAL and LESS_THAN_EQUAL "
                  "conditions",
    "IS_INVALID": "what makes a value invalid for its data type is not documented",
}
CONDITIONS = ("IS", "IS_NOT", *_TEXT, *_ORDER, "IS_MISSING")
_CONDITION_KEYS = {"Condition", "Value", "TargetColumn"}


def _is_number(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)


def _number(raw: str, condition: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise RecipeError(f"condition {condition}: Value {raw!r} is not a number") from None


def _listed(raw: str) -> list[Any]:
    try:
        values = json.loads(raw)
    except ValueError:
        return [raw]
    return values if isinstance(values, list) else [raw]


def _meets(values: pa.ChunkedArray, condition: str, raw: str | None, name: str) -> pa.ChunkedArray:
    """True where a value meets one condition (false where it is missing, but for IS_MISSING)."""
    absent = missing(values)
    if condition == "IS_MISSING":
        return absent
    if condition in _NOT_EMULATED:
        raise RecipeError(f"condition {condition} is not emulated by the sandbox ({_NOT_EMULATED[condition]})")
    if condition not in CONDITIONS:
        raise RecipeError(f"condition {condition!r} is not emulated by the sandbox (it knows {', '.join(CONDITIONS)})")
    if raw is None:
        raise RecipeError(f"condition {condition} needs a Value")
    number = _is_number(values.type)
    if condition in ("IS", "IS_NOT"):
        listed = _listed(raw)
        if number:
            wanted = pa.array([_number(str(v), condition) for v in listed], pa.float64())
            found = pc.is_in(pc.cast(values, pa.float64()), value_set=wanted)
        else:
            found = pc.is_in(pc.cast(values, pa.string()), value_set=pa.array([str(v) for v in listed], pa.string()))
        met = pc.invert(found) if condition == "IS_NOT" else found
    elif condition in _ORDER:
        if not number:
            raise RecipeError(f"condition {condition} on column {name!r} of type {values.type} is not emulated by "
                              "the sandbox (it compares number columns)")
        met = _ORDER[condition](pc.cast(values, pa.float64()), _number(raw, condition))
    else:
        fn, negate = _TEXT[condition]
        found = fn(pc.cast(values, pa.string()), pattern=raw)
        met = pc.invert(found) if negate else found
    return pc.and_(pc.fill_null(met, False), pc.invert(absent))


def conditions_mask(table: pa.Table, conditions: list[dict[str, Any]]) -> pa.ChunkedArray:
    """True for each row that meets every condition."""
    mask: pa.ChunkedArray | None = None
    for number, expression in enumerate(conditions, start=1):
        if not isinstance(expression, dict):
            raise RecipeError(f"condition expression {number} must be an object with Condition, Value, TargetColumn")
        unknown = sorted(set(expression) - _CONDITION_KEYS)
        if unknown:
            raise RecipeError(f"condition expression {number}: unknown key {', '.join(map(repr, unknown))}; "
                              "it takes Condition, Value, TargetColumn")
        condition = str(expression.get("Condition") or "")
        target = str(expression.get("TargetColumn") or "")
        if not condition or not target:
            raise RecipeError(f"condition expression {number}: Condition and TargetColumn are required")
        value = expression.get("Value")
        met = _meets(column(table, target), condition, None if value is None else str(value), target)
        mask = met if mask is None else pc.and_(mask, met)
    if mask is None:
        raise RecipeError("ConditionExpressions are required")
    return mask


@conditional_operation("REMOVE_VALUES", parameters=("sourceColumn",))
def remove_values(table: pa.Table, params: dict[str, str], conditions: list[dict[str, Any]]) -> pa.Table:
    column(table, require(params, "sourceColumn"))
    return table.filter(pc.invert(conditions_mask(table, conditions)))
