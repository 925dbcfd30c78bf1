"""Deferrable sensor for a Step Functions execution."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.step_function import StepFunctionHook
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields

from airflow_sfn_etl.sensors.base import AwsRunSensor
from airflow_sfn_etl.triggers.step_function import StepFunctionExecutionTrigger
from airflow_sfn_etl.utils.events import StepFunctionExecutionSucceeded

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from airflow_sfn_etl.triggers.base import PollingOptions


class StepFunctionExecutionSensor(AwsRunSensor[StepFunctionExecutionSucceeded]):
    """Wait for a Step Functions execution; a failure names the failed state, its error and cause.

    Returns the execution output (parsed JSON when possible).

    :param execution_arn: ARN of the execution.
    """

    aws_hook_class = StepFunctionHook
    template_fields: Sequence[str] = aws_template_fields("execution_arn")

    def __init__(self, *, execution_arn: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.execution_arn = execution_arn

    def make_trigger(self, **common: Unpack[PollingOptions]) -> StepFunctionExecutionTrigger:
        return StepFunctionExecutionTrigger(execution_arn=self.execution_arn, **common)

    def result(self, event: StepFunctionExecutionSucceeded) -> Any:
        output = event.get("output")
        if output is None:
            return None
        try:
            return json.loads(output)
        except ValueError:
            return output
