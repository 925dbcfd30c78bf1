"""Errors raised by the DAG-to-ASL compiler."""

from __future__ import annotations

from typing import Any


class AslError(Exception):
    """Base class of every compiler and validator error."""


class DagFileError(AslError):
    """Airflow's DAG loader reported import errors for a DAG file; the message holds them."""


class AslCompileError(AslError):
    """The DAG cannot be compiled to a state machine; the message says which task and why."""


class UnsupportedOperatorError(AslCompileError):
    """A task's operator has no Step Functions mapping."""


class UnsupportedTasksError(UnsupportedOperatorError):
    """Tasks the compiler refuses; ``refusals`` holds one entry per task problem (reason and what would
    compile instead), all named in the message."""

    def __init__(self, dag_id: str, refusals: list[Any], shape_error: Exception | None = None) -> None:
        self.dag_id = dag_id
        self.refusals = sorted(refusals, key=lambda r: str(r.task_id))
        tasks = sorted({r.task_id for r in refusals})
        lines = [
            f"DAG '{dag_id}' cannot be compiled to Step Functions: {len(tasks)} task(s) cannot compile "
            f"({', '.join(tasks)}):",
            *(r.line() for r in self.refusals),
        ]
        if shape_error is not None:
            lines.append(f"Besides: {shape_error}")
        super().__init__("\n".join(lines))


class DagShapeError(AslCompileError):
    """The DAG's dependencies do not form a series-parallel graph (raised with ``strict_shape``)."""


class DagShapeWarning(UserWarning):
    """The compiler added dependencies to nest a DAG that is not series-parallel; the message names them."""


class TemplateMappingError(AslCompileError):
    """A templated field holds Jinja that cannot be mapped to the execution input."""


class AslValidationError(AslError):
    """A definition is not valid ASL; ``errors`` holds one message per problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("invalid state machine definition:\n" + "\n".join(f"- {e}" for e in errors))
