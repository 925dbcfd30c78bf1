"""Errors raised by the DAG-to-ASL compiler."""

from __future__ import annotations


class AslError(Exception):
    """Base class of every compiler and validator error."""


class DagFileError(AslError):
    """Airflow's DAG loader reported import errors for a DAG file; the message holds them."""


class AslCompileError(AslError):
    """The DAG cannot be compiled to a state machine; the message says which task and why."""


class UnsupportedOperatorError(AslCompileError):
    """A task's operator has no Step Functions mapping."""


class DagShapeError(AslCompileError):
    """The DAG's dependencies do not form a series-parallel graph."""


class TemplateMappingError(AslCompileError):
    """A templated field holds Jinja that cannot be mapped to the execution input."""


class AslValidationError(AslError):
    """A definition is not valid ASL; ``errors`` holds one message per problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("invalid state machine definition:\n" + "\n".join(f"- {e}" for e in errors))
