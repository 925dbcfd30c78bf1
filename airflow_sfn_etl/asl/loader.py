"""Load the DAGs a Python file defines and compile one (the CLI and the deploy operator).

The file is parsed by Airflow's own DAG loader (:class:`airflow.dag_processing.dagbag.DagBag`), so
the compiler sees exactly the DAGs Airflow would: DAG objects at module level, DAGs created in a
``with DAG(...)`` block and ``@dag`` functions that are called without assigning the result.
Parsing a DAG file runs its top-level code (DAG files do no work at import), nothing else: no AWS
call, no sandbox, no metadata database.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow.sdk import DAG

from airflow_sfn_etl.asl.builder import build_state_machine
from airflow_sfn_etl.asl.errors import DagFileError
from airflow_sfn_etl.asl.ir import StateMachine


def load_dags(path: str) -> dict[str, DAG]:
    """Parse a DAG file with Airflow's DagBag and return its DAGs by dag_id (sorted).

    The file's folder is on ``sys.path`` while it is parsed (as the DAGs folder is for Airflow), so
    it can import modules next to it. Raises :class:`FileNotFoundError` when there is no such file
    and :class:`~airflow_sfn_etl.asl.errors.DagFileError` when Airflow reports import errors for it.
    """
    from airflow.dag_processing.dagbag import DagBag

    file = Path(path).resolve()
    if not file.is_file():
        raise FileNotFoundError(f"DAG file not found: {path}")
    folder = str(file.parent)
    sys.path.insert(0, folder)
    try:
        # safe_mode=False: parse the file even when it does not contain the words "airflow" and "dag".
        # Airflow logs to stdout; while parsing, that goes to stderr (stdout may carry the definition).
        with contextlib.redirect_stdout(sys.stderr):
            bag = DagBag(dag_folder=str(file), safe_mode=False)
    finally:
        sys.path.remove(folder)
    if bag.import_errors:
        details = "\n".join(f"{where}:\n{error.rstrip()}" for where, error in sorted(bag.import_errors.items()))
        raise DagFileError(f"Airflow could not load the DAG file {path}:\n{details}")
    return dict(sorted(bag.dags.items()))


def pick_dag(dags: dict[str, DAG], dag_id: str | None, path: str) -> DAG:
    """The DAG named ``dag_id``, or the file's only DAG; the error lists the DAG ids found."""
    found = ", ".join(dags) or "none"
    if dag_id:
        if dag_id not in dags:
            raise LookupError(f"{path} has no DAG '{dag_id}' (DAGs found: {found})")
        return dags[dag_id]
    if not dags:
        raise LookupError(
            f"{path} defines no DAG that Airflow finds (a DAG object at module level, a `with DAG(...)` "
            "block, or a called @dag function)"
        )
    if len(dags) != 1:
        raise LookupError(f"{path} defines {len(dags)} DAGs ({found}); choose one with --dag-id")
    return next(iter(dags.values()))


def compile_dag_file(
    path: str,
    dag_id: str | None = None,
    *,
    region: str | None = None,
    account: str | None = None,
    strict_shape: bool = False,
) -> StateMachine:
    """Compile the DAG ``dag_id`` (or the only DAG) of a DAG file to the state machine IR.

    Raises :class:`LookupError` when the DAG is not there and
    :class:`~airflow_sfn_etl.asl.errors.AslError` when the file cannot be loaded or the DAG compiled.
    ``strict_shape`` refuses a DAG that is not series-parallel instead of adding dependencies.
    """
    return build_state_machine(
        pick_dag(load_dags(path), dag_id, path), region=region, account=account, strict_shape=strict_shape
    )
