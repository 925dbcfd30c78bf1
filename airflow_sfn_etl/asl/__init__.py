"""DAG-to-Step-Functions compiler: IR, builder, renderers (ASL JSON, Mermaid, IAM) and validator.

Pure: it never calls AWS and does not import the sandbox.

    machine = compile_dag(dag)                  # IR (raises AslCompileError on what it cannot map)
    text = render_json(machine)                 # deterministic ASL JSON
    validate_or_raise(json.loads(text))         # checks before any deploy
    render_mermaid(machine); render_iam_policy(machine, region=..., account=...)
"""

from __future__ import annotations

from airflow_sfn_etl.asl.builder import build_state_machine as compile_dag
from airflow_sfn_etl.asl.context import AslContext
from airflow_sfn_etl.asl.errors import (
    AslCompileError,
    AslError,
    AslValidationError,
    DagFileError,
    DagShapeError,
    DagShapeWarning,
    TemplateMappingError,
    UnsupportedOperatorError,
    UnsupportedTasksError,
)
from airflow_sfn_etl.asl.iam import build_iam_policy, render_iam_policy
from airflow_sfn_etl.asl.ir import Fragment, StateMachine
from airflow_sfn_etl.asl.mermaid import render_mermaid
from airflow_sfn_etl.asl.render_json import definition, render_json
from airflow_sfn_etl.asl.validate import validate, validate_or_raise

__all__ = [
    "AslCompileError",
    "AslContext",
    "AslError",
    "AslValidationError",
    "DagFileError",
    "DagShapeError",
    "DagShapeWarning",
    "Fragment",
    "StateMachine",
    "TemplateMappingError",
    "UnsupportedOperatorError",
    "UnsupportedTasksError",
    "build_iam_policy",
    "compile_dag",
    "definition",
    "render_iam_policy",
    "render_json",
    "render_mermaid",
    "validate",
    "validate_or_raise",
]
