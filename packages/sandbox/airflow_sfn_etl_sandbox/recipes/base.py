"""The recipe operation registry and column helpers shared by the operation modules."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import pyarrow as pa

Operation = Callable[[pa.Table, dict[str, str]], pa.Table]
OPERATIONS: dict[str, Operation] = {}
#: The parameter names each operation takes (DataBrew's names); any other fails the step.
PARAMETERS: dict[str, frozenset[str]] = {}
#: Operations that take the step's ``ConditionExpressions`` (a list of {Condition, Value, TargetColumn}).
ConditionalOperation = Callable[[pa.Table, dict[str, str], list[dict[str, Any]]], pa.Table]
CONDITIONAL_OPERATIONS: dict[str, ConditionalOperation] = {}


class RecipeError(ValueError):
    """A recipe step that cannot be applied; the message says which step and why."""


def operation(*names: str, parameters: Iterable[str]) -> Callable[[Operation], Operation]:
    """Register a function as the implementation of DataBrew operations ``names``, taking ``parameters``."""
    accepted = frozenset(parameters)

    def register(fn: Operation) -> Operation:
        for name in names:
            OPERATIONS[name] = fn
            PARAMETERS[name] = accepted
        return fn

    return register


def conditional_operation(*names: str, parameters: Iterable[str]) -> Callable[[ConditionalOperation],
                                                                             ConditionalOperation]:
    """Register a function as DataBrew operations ``names`` that take ``ConditionExpressions``."""
    accepted = frozenset(parameters)

    def register(fn: ConditionalOperation) -> ConditionalOperation:
        for name in names:
            CONDITIONAL_OPERATIONS[name] = fn
            PARAMETERS[name] = accepted
        return fn

    return register


def require(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise RecipeError(f"parameter {name!r} is required")
    return value


def column(table: pa.Table, name: str) -> pa.ChunkedArray:
    if name not in table.column_names:
        raise RecipeError(f"column {name!r} not found; columns are {table.column_names}")
    return table.column(name)


def source_columns(params: dict[str, str]) -> list[str]:
    """``sourceColumns`` (a JSON list) or ``sourceColumn``."""
    raw = params.get("sourceColumns")
    if raw:
        try:
            names = json.loads(raw)
        except ValueError as exc:
            raise RecipeError(f"sourceColumns must be a JSON list of column names, got {raw!r}") from exc
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise RecipeError(f"sourceColumns must be a JSON list of column names, got {raw!r}")
        return names
    return [require(params, "sourceColumn")]


def replace(table: pa.Table, name: str, values: pa.ChunkedArray | pa.Array) -> pa.Table:
    return table.set_column(table.column_names.index(name), name, values)


def put(table: pa.Table, name: str, values: pa.ChunkedArray | pa.Array) -> pa.Table:
    """Set column ``name``: replaced in place when it exists, else appended."""
    if name in table.column_names:
        return replace(table, name, values)
    return table.append_column(name, values)


def source_or_value(table: pa.Table, params: dict[str, str]) -> pa.ChunkedArray | pa.Array:
    """The input of a function step: column ``sourceColumn`` or the constant ``value``."""
    if params.get("sourceColumn"):
        return column(table, params["sourceColumn"])
    if "value" in params:
        return pa.array([params["value"]] * table.num_rows, pa.string())
    raise RecipeError("either sourceColumn or value is required")


#: Reads a secondary input of a JOIN or UNION step: ``{"DatasetName": ..., "S3InputDefinition": {...}}``
#: (either or both) -> its rows. A job run provides one (:func:`reading_inputs`); problems raise RecipeError.
InputReader = Callable[[dict[str, Any]], pa.Table]
_input_reader: ContextVar[InputReader | None] = ContextVar("recipe_input_reader", default=None)


@contextmanager
def reading_inputs(reader: InputReader | None) -> Iterator[None]:
    """Let the steps applied inside read secondary inputs with ``reader``."""
    token = _input_reader.set(reader)
    try:
        yield
    finally:
        _input_reader.reset(token)


def read_input(spec: dict[str, Any]) -> pa.Table:
    """The rows of a secondary input (a dataset name and/or an S3 location)."""
    reader = _input_reader.get()
    if reader is None:
        raise RecipeError("this step reads a second dataset, and no dataset reader was given (apply_recipe's "
                          "read_input)")
    return reader(spec)


def json_param(params: dict[str, str], name: str, kind: type, what: str) -> Any:
    """Required parameter ``name`` parsed as JSON of type ``kind`` (list or dict)."""
    raw = require(params, name)
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, kind):
        raise RecipeError(f"{name} must be {what}, got {raw!r}")
    return value
