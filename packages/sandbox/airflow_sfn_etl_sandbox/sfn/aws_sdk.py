"""``arn:aws:states:::aws-sdk:<service>:<action>``: moto's AWS SDK integration, JSON-safe results."""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (
    StateTaskServiceAwsSdk,
)

from .results import iso_timestamps


class SandboxAwsSdkService(StateTaskServiceAwsSdk):
    """moto's AWS SDK integration whose results carry timestamps as ISO-8601 strings.

    moto leaves boto3's ``datetime`` objects in the result (e.g. ``getCrawler``'s
    ``CreationTime``), which breaks DescribeExecution's output and any later JSON use.
    """

    def _eval_service_task(self, env: Any, resource_runtime_part: Any, normalised_parameters: dict,
                           state_credentials: Any) -> None:
        super()._eval_service_task(env=env, resource_runtime_part=resource_runtime_part,
                                   normalised_parameters=normalised_parameters,
                                   state_credentials=state_credentials)
        env.stack.append(iso_timestamps(env.stack.pop()))
