"""``arn:aws:states:::aws-sdk:<service>:<action>``: moto's AWS SDK integration, with AWS's casing and JSON results."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from botocore.exceptions import UnknownServiceError
from botocore.model import ListShape, MapShape, OperationNotFoundError, StructureShape
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (
    StateTaskServiceAwsSdk,
)

from . import boto_api
from .results import iso_timestamps


def _sfn_cased(value: Any, shape: Any) -> Any:
    """An SDK answer with its member names as Step Functions gives them: first letter upper case."""
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        return {key[:1].upper() + key[1:]: _sfn_cased(item, shape.members.get(key)) for key, item in value.items()}
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [_sfn_cased(item, shape.member) for item in value]
    if isinstance(shape, MapShape) and isinstance(value, dict):
        return {key: _sfn_cased(item, shape.value) for key, item in value.items()}
    return value


class SandboxAwsSdkService(StateTaskServiceAwsSdk):
    """moto's AWS SDK integration with the request and answer casing of AWS, and JSON-safe results.

    - Parameters are given as Step Functions spells them (``TaskToken``); for APIs whose members
      are camelCase (Step Functions, e.g. ``sfn:sendTaskSuccess`` takes ``taskToken``) moto passes
      them to boto3 as they are and the call fails with ``KeyError``; here they are mapped onto
      the API's member names (moto's ``_to_boto_request``, which moto leaves unused).
    - The answer's member names start upper case (``ExecutionArn``), as AWS renders SDK results.
    - S3's ``CopySource`` is given URL-encoded, as the S3 API takes it (AWS passes it on as it is);
      boto3 encodes a text ``CopySource`` itself, so it gets the decoded text and sends it encoded once.
    - moto leaves boto3's ``datetime`` objects in the result (e.g. ``getCrawler``'s
      ``CreationTime``), which breaks DescribeExecution's output and any later JSON use; they are
      ISO-8601 strings, as AWS gives them.
    """

    def _operation_model(self) -> Any | None:
        action = self.resource.api_action
        try:
            model = boto_api.service_model(self._get_boto_service_name())
            return model.operation_model(action[:1].upper() + action[1:])
        except (OperationNotFoundError, UnknownServiceError):  # then the call itself fails, naming it
            return None

    def _normalise_parameters(self, parameters: dict, boto_service_name: str | None = None,
                              service_action_name: str | None = None) -> None:
        operation = self._operation_model()
        if operation is not None and operation.input_shape is not None:
            self._to_boto_request(parameters, operation.input_shape)
        if self._get_boto_service_name() == "s3" and isinstance(parameters.get("CopySource"), str):
            parameters["CopySource"] = unquote(parameters["CopySource"])

    def _eval_service_task(self, env: Any, resource_runtime_part: Any, normalised_parameters: dict,
                           state_credentials: Any) -> None:
        super()._eval_service_task(env=env, resource_runtime_part=resource_runtime_part,
                                   normalised_parameters=normalised_parameters,
                                   state_credentials=state_credentials)
        result = iso_timestamps(env.stack.pop())
        operation = self._operation_model()
        if operation is not None and operation.output_shape is not None:
            result = _sfn_cased(result, operation.output_shape)
        env.stack.append(result)
