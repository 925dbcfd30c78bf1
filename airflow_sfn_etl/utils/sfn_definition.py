"""The definition of a state machine to deploy: from a dict, JSON text, an ``.asl.json`` file or
an Airflow DAG file (compiled at deploy time), validated before any AWS call.

The compiler (:mod:`airflow_sfn_etl.asl`) is imported inside :func:`compile_source_dag` and
:func:`validate_definition`, which only a deploy runs: importing an operator module (which DAG
files do) never loads it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from airflow.providers.common.compat.sdk import AirflowException

if TYPE_CHECKING:
    from airflow_sfn_etl.utils.logs import InfoLog


class LoadedDefinition(NamedTuple):
    """A definition with the param defaults of its source DAG and a description of where it came from."""

    document: dict[str, Any]
    param_defaults: dict[str, Any]
    source: str


def resolve_file(given: str, base_dir: Path | None) -> Path:
    """``given`` as a path: against the working directory, else (when relative) against ``base_dir``."""
    path = Path(given)
    if not path.is_absolute() and not path.is_file() and base_dir is not None:
        path = base_dir / path
    return path


def load_definition(definition: dict[str, Any] | str, base_dir: Path | None = None) -> dict[str, Any]:
    """Return an ASL definition from a dict, a JSON string, or a path to an ``.asl.json`` file."""
    if isinstance(definition, dict):
        document: Any = definition
    elif isinstance(definition, str):
        text = definition.strip()
        if text.startswith("{"):
            try:
                document = json.loads(text)
            except ValueError as error:
                raise AirflowException(f"The state machine definition is not valid JSON: {error}") from None
        else:
            path = resolve_file(text, base_dir)
            if not path.is_file():
                raise AirflowException(
                    f"State machine definition file not found: {text} (pass a dict, a JSON string, "
                    "or an existing .asl.json path)"
                )
            try:
                document = json.loads(path.read_text())
            except ValueError as error:
                raise AirflowException(f"{path} is not valid JSON: {error}") from None
    else:
        raise AirflowException(
            f"definition must be a dict, a JSON string or a path, not {type(definition).__name__}"
        )
    if (
        not isinstance(document, dict)
        or not isinstance(document.get("States"), dict)
        or not document["States"]
    ):
        raise AirflowException("The state machine definition needs a non-empty 'States' object")
    if document.get("StartAt") not in document["States"]:
        raise AirflowException(
            f"The state machine definition's StartAt {document.get('StartAt')!r} is not one of its States"
        )
    return document


def given_definition(definition: dict[str, Any] | str, base_dir: Path | None) -> LoadedDefinition:
    """A definition given as a dict, JSON text or file path (no param defaults)."""
    source = definition if isinstance(definition, str) and len(definition) < 300 else "given"
    return LoadedDefinition(load_definition(definition, base_dir), {}, f"definition {source}")


def compile_source_dag(
    source_dag_file: str,
    source_dag_id: str | None,
    base_dir: Path | None,
    *,
    state_machine_name: str,
    log: InfoLog,
) -> LoadedDefinition:
    """Compile the DAG of an Airflow DAG file to a definition (with that DAG's param defaults)."""
    from airflow_sfn_etl.asl import AslError, definition
    from airflow_sfn_etl.asl.loader import compile_dag_file

    path = resolve_file(source_dag_file, base_dir)
    if not path.is_file():
        raise AirflowException(
            f"source_dag_file {source_dag_file!r} not found (tried the working directory"
            + (f" and {base_dir}" if base_dir else "")
            + "); give the path of the Airflow DAG file to compile"
        )
    source = f"compiled from DAG file {path}" + (f", DAG '{source_dag_id}'" if source_dag_id else "")
    try:
        machine = compile_dag_file(str(path), source_dag_id)
    except (AslError, LookupError) as error:
        raise AirflowException(
            f"Cannot compile the state machine '{state_machine_name}' ({source}): {error}"
        ) from None
    for warning in machine.warnings:
        log.info("Compiler warning: %s", warning)
    for note in machine.notes:
        log.info("Compiler note: %s", note)
    log.info("Compiled DAG '%s' to %d states", machine.dag_id, len(machine.graph.iter_states()))
    return LoadedDefinition(definition(machine), dict(machine.param_defaults), source)


def invalid_definition_message(name: str, source: str, error: Exception) -> str:
    """The message of an invalid definition: which state machine, from where, and each problem."""
    problems = getattr(error, "errors", None) or [str(error)]
    return (
        f"The definition of state machine '{name}' ({source}) is invalid; nothing was deployed:\n"
        + "\n".join(f"- {p}" for p in problems)
    )


def validate_definition(loaded: LoadedDefinition, state_machine_name: str) -> None:
    """Fail, naming each bad state, when the definition is not valid ASL."""
    from airflow_sfn_etl.asl import AslValidationError, validate_or_raise

    try:
        validate_or_raise(loaded.document)
    except AslValidationError as error:
        raise AirflowException(
            invalid_definition_message(state_machine_name, loaded.source, error)
        ) from None


def canonical_json(document: Any) -> str:
    """Serialize with sorted keys and no spaces, so equal documents compare equal."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"))
