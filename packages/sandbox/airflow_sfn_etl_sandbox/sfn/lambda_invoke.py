"""``arn:aws:states:::lambda:invoke[.waitForTaskToken]``: moto's Lambda integration, answered as AWS.

moto's interpreter invokes the function with boto3 on the sandbox's endpoint, so the function
runs in the sandbox's Lambda runtime (:mod:`..lambda_functions`); a function error fails the task
with the error object's ``errorType`` as ``Error`` and the error object (JSON) as ``Cause``. moto
keeps only ``StatusCode``, ``FunctionError``, ``LogResult``, ``Payload`` and ``ExecutedVersion`` of
the answer; AWS's result also has the HTTP answer's ``SdkHttpMetadata`` (``AllHttpHeaders``,
``HttpHeaders``, ``HttpStatusCode``) and ``SdkResponseMetadata`` (``RequestId``), which this class adds.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_lambda import (
    StateTaskServiceLambda,
)
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

#: Header names as Lambda spells them (botocore hands them over lower-cased).
_HEADER_CASE = {"x-amzn-requestid": "x-amzn-RequestId", "x-amzn-remapped-content-length":
                "x-amzn-Remapped-Content-Length", "x-amzn-trace-id": "X-Amzn-Trace-Id"}


def _header_name(name: str) -> str:
    return _HEADER_CASE.get(name.lower()) or "-".join(part.capitalize() for part in name.split("-"))


def sdk_metadata(response_metadata: dict[str, Any]) -> dict[str, Any]:
    """``SdkHttpMetadata`` and ``SdkResponseMetadata`` of an answer, from boto3's ``ResponseMetadata``."""
    headers = {_header_name(k): str(v) for k, v in (response_metadata.get("HTTPHeaders") or {}).items()}
    return {
        "SdkHttpMetadata": {"AllHttpHeaders": {k: [v] for k, v in headers.items()}, "HttpHeaders": headers,
                            "HttpStatusCode": int(response_metadata.get("HTTPStatusCode") or 200)},
        "SdkResponseMetadata": {"RequestId": str(response_metadata.get("RequestId") or "")},
    }


class SandboxLambdaService(StateTaskServiceLambda):
    """Lambda ``invoke``: moto's, with AWS's ``SdkHttpMetadata`` / ``SdkResponseMetadata`` in the result."""

    def _eval_service_task(self, env: Any, resource_runtime_part: Any, normalised_parameters: dict,
                           state_credentials: Any) -> None:
        if env.is_mocked_mode():
            super()._eval_service_task(env, resource_runtime_part, normalised_parameters, state_credentials)
            return
        response = lambda_eval_utils._invoke_lambda_function(
            parameters=normalised_parameters, region=resource_runtime_part.region,
            state_credentials=state_credentials)
        function_error = response.get("FunctionError")
        if function_error:
            raise lambda_eval_utils.LambdaFunctionErrorException(
                function_error, to_json_str(response["Payload"], separators=(",", ":")))
        metadata = sdk_metadata(response.get("ResponseMetadata") or {})
        result = {key: response[key] for key in ("ExecutedVersion", "FunctionError", "LogResult", "Payload",
                                                 "StatusCode") if key in response}
        env.stack.append({**result, **metadata})
