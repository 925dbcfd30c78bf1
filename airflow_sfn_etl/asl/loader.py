"""Load the DAGs a Python file defines and compile one (the CLI and the deploy operator).

Importing a DAG file runs its top-level code (DAG files do no work at import), nothing else:
no AWS call, no sandbox.
"""

from __future__ import annotations

import importlib.util
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow.sdk import DAG

from airflow_sfn_etl.asl.builder import build_state_machine
from airflow_sfn_etl.asl.ir import StateMachine


def load_dags(path: str) -> dict[str, DAG]:
    """Import a DAG file and return its DAGs by dag_id (top-level DAG objects, sorted)."""
    from airflow.sdk import DAG

    file = Path(path).resolve()
    if not file.is_file():
        raise FileNotFoundError(f"DAG file not found: {path}")
    name = f"sfn_etl_dag_{uuid.uuid5(uuid.NAMESPACE_URL, str(file)).hex}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, str(file.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(file.parent))
    dags = {obj.dag_id: obj for obj in vars(module).values() if isinstance(obj, DAG)}
    return dict(sorted(dags.items()))


def pick_dag(dags: dict[str, DAG], dag_id: str | None, path: str) -> DAG:
    """The DAG named ``dag_id``, or the file's only DAG."""
    if dag_id:
        if dag_id not in dags:
            raise LookupError(f"{path} has no DAG '{dag_id}' (found: {', '.join(dags) or 'none'})")
        return dags[dag_id]
    if len(dags) != 1:
        raise LookupError(
            f"{path} defines {len(dags)} DAGs ({', '.join(dags) or 'none'}); choose one with --dag-id"
        )
    return next(iter(dags.values()))


def compile_dag_file(
    path: str, dag_id: str | None = None, *, region: str | None = None, account: str | None = None
) -> StateMachine:
    """Compile the DAG ``dag_id`` (or the only DAG) of a DAG file to the state machine IR.

    Raises :class:`LookupError` when the DAG is not there and
    :class:`~airflow_sfn_etl.asl.errors.AslError` when it cannot be compiled.
    """
    return build_state_machine(pick_dag(load_dags(path), dag_id, path), region=region, account=account)
