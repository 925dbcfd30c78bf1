"""DataBrew recipe steps applied to an Arrow table, under DataBrew's operation and parameter names.

:func:`apply_recipe` runs a recipe's ``Steps`` in order; an operation the sandbox does not
implement, a parameter the operation does not take (a misspelt ``sourceColum``), a missing column
or ``ConditionExpressions`` on a step that does not filter rows raises :class:`RecipeError` naming
the step number, the operation and the parameter, which fails the job run.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from . import aggregate, columns, combine, dates, filters, quality, structure, text, types  # noqa: F401  (register)
from .base import CONDITIONAL_OPERATIONS, OPERATIONS, PARAMETERS, InputReader, RecipeError, reading_inputs

__all__ = ["NOT_EMULATED", "OPERATIONS", "RecipeError", "apply_recipe", "supported_operations"]

#: Documented operations the sandbox does not apply, and why (the step fails saying so).
NOT_EMULATED = {
    "DATE_DIFF": "DataBrew does not document which date is subtracted from which, nor how a part of a unit "
                 "is counted",
    "SPLIT_COLUMN_SINGLE_DELIMITER": "DataBrew does not document the names of the new columns, where they go, nor "
                                     "whether the source column stays (and the action takes no parameter naming "
                                     "them)",
    "PIVOT": "DataBrew does not document the names of the pivoted columns nor what becomes of the other columns",
    "UNPIVOT": "DataBrew's description does not say which of unpivotColumn and valueColumn gets the column names "
               "(both are described as holding the values)",
}


def supported_operations() -> list[str]:
    """Names of the recipe operations the sandbox implements."""
    return sorted([*OPERATIONS, *CONDITIONAL_OPERATIONS])


def apply_recipe(table: pa.Table, steps: list[dict[str, Any]], read_input: InputReader | None = None) -> pa.Table:
    """``table`` after every step of a DataBrew recipe; ``read_input`` reads the second datasets of JOIN and
    UNION steps."""
    with reading_inputs(read_input):
        return _apply(table, steps)


def _apply(table: pa.Table, steps: list[dict[str, Any]]) -> pa.Table:
    for number, step in enumerate(steps, start=1):
        action = step.get("Action") or {}
        operation = action.get("Operation", "")
        params = {str(k): str(v) for k, v in (action.get("Parameters") or {}).items()}
        conditions = list(step.get("ConditionExpressions") or [])
        if conditions and operation in OPERATIONS:
            raise RecipeError(f"Recipe step {number} ({operation}): ConditionExpressions on {operation} are not "
                              f"emulated by the sandbox (it applies them to "
                              f"{', '.join(sorted(CONDITIONAL_OPERATIONS))})")
        fn = OPERATIONS.get(operation)
        conditional = CONDITIONAL_OPERATIONS.get(operation)
        if operation in NOT_EMULATED:
            raise RecipeError(f"Recipe step {number} ({operation}): {operation} is not emulated by the sandbox: "
                              f"{NOT_EMULATED[operation]}")
        if fn is None and conditional is None:
            raise RecipeError(f"Recipe step {number}: unsupported operation {operation!r}; the sandbox "
                              f"implements {', '.join(supported_operations())}")
        unknown = sorted(set(params) - PARAMETERS[operation])
        if unknown:
            raise RecipeError(f"Recipe step {number} ({operation}): unknown parameter "
                              f"{', '.join(repr(name) for name in unknown)}; {operation} takes "
                              f"{', '.join(sorted(PARAMETERS[operation]))}")
        try:
            if conditional is not None:
                table = conditional(table, params, conditions)
            elif fn is not None:
                table = fn(table, params)
        except RecipeError as exc:
            raise RecipeError(f"Recipe step {number} ({operation}): {exc}") from None
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, KeyError) as exc:
            raise RecipeError(f"Recipe step {number} ({operation}): {type(exc).__name__}: {exc}") from None
    return table
