"""Step Functions operators: deploy a state machine, run it once per task try chain.

They live in :mod:`~airflow_sfn_etl.operators.step_function_deploy` and
:mod:`~airflow_sfn_etl.operators.step_function_run`; DAGs import them from here.
"""

from __future__ import annotations

from airflow_sfn_etl.operators.step_function_deploy import StepFunctionDeployOperator
from airflow_sfn_etl.operators.step_function_run import OUTPUT_XCOM_KEY, StepFunctionRunOperator

__all__ = ["OUTPUT_XCOM_KEY", "StepFunctionDeployOperator", "StepFunctionRunOperator"]
