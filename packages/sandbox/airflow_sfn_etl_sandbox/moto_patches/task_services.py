"""Task states for Glue ``.sync``, Athena and DataBrew that work, and aws-sdk results that are JSON.

What moto (5.2.5) does wrong or lacks: its Step Functions interpreter picks the class that runs
a Task state with ``state_task_service_factory.state_task_service_for(service_name)``. There

- ``glue`` gets ``StateTaskServiceGlue``, whose ``.sync`` always fails:
  ``StateTaskServiceCallback._eval_integration_pattern`` ends with
  ``callback_endpoint.interrupt_all()`` in a ``finally``, but the callback endpoint exists only
  for ``.waitForTaskToken``, so a ``glue:startJobRun.sync`` task fails with
  ``'NoneType' object has no attribute 'interrupt_all'``;
- ``athena`` and ``databrew`` are in ``_UNSUPPORTED_SERVICE_NAMES`` and get
  ``StateTaskServiceUnsupported``: a request-response call passes through, there is no ``.sync``;
- ``states`` (``StateTaskServiceSfn``, nested executions) fails every call with ``States.Runtime``
  ``'StateMachineArn'``;
- ``aws-sdk`` (``StateTaskServiceAwsSdk``) leaves boto3's ``datetime`` objects in the task result
  (e.g. getCrawler's ``CreationTime``), where AWS gives ISO-8601 strings; DescribeExecution then
  fails with "Object of type datetime is not JSON serializable";
- ``lambda`` (``StateTaskServiceLambda``) answers ``lambda:invoke`` with only the fields of
  Lambda's InvocationResponse, without AWS's ``SdkHttpMetadata`` and ``SdkResponseMetadata``.

What the patch changes: the factory, in its module and in ``state_task_factory`` (which imports
it by name), answers the sandbox's classes (:mod:`..sfn`) for ``glue``, ``athena``, ``databrew``
``states`` and ``aws-sdk``: ``.sync`` polls the run until it ends, fails the task with
``States.TaskFailed`` when the run fails and stops the run when the execution stops waiting for
it; aws-sdk results carry ISO-8601 timestamps; ``lambda`` gets
:class:`..sfn.lambda_invoke.SandboxLambdaService`, which adds the SDK metadata. Every other
service keeps moto's class.

Upstream: the crash is a one-line guard (``if callback_endpoint is not None``) in
``state_task_service_callback.py`` (moto's parser is ported from LocalStack, where the same file
lives); Athena and DataBrew could be offered as ``StateTaskServiceAthena`` and
``StateTaskServiceDataBrew`` beside ``StateTaskServiceGlue``, with a ``_build_sync_resolver``
that polls GetQueryExecution / DescribeJobRun; the aws-sdk timestamps as an ISO-8601
conversion of the response in ``StateTaskServiceAwsSdk._eval_service_task``; the Lambda metadata
from the boto3 answer's ``ResponseMetadata`` in ``lambda_eval_utils.execute_lambda_function_integration``.
"""

from __future__ import annotations

import functools
from typing import Any

from ..sfn.athena import SandboxAthenaService
from ..sfn.aws_sdk import SandboxAwsSdkService
from ..sfn.databrew import SandboxDataBrewService
from ..sfn.glue import SandboxGlueService
from ..sfn.lambda_invoke import SandboxLambdaService
from ..sfn.states import SandboxSfnService
from .support import SFN_PARSER, MotoChanged, moto_attr, once

_SERVICE = f"{SFN_PARSER}.asl.component.state.exec.state_task"

#: Task resource service name -> the sandbox's class for it.
SANDBOX_SERVICES: dict[str, type] = {
    "aws-sdk": SandboxAwsSdkService,
    "glue": SandboxGlueService,
    "athena": SandboxAthenaService,
    "databrew": SandboxDataBrewService,
    "states": SandboxSfnService,
    "lambda": SandboxLambdaService,
}


@once
def apply() -> None:
    factory_module, original = moto_attr(f"{_SERVICE}.service.state_task_service_factory",
                                         "state_task_service_for")
    user_module, user_original = moto_attr(f"{_SERVICE}.state_task_factory", "state_task_service_for")
    if user_original is not original:
        raise MotoChanged("sandbox moto patch: state_task_factory no longer uses "
                          "state_task_service_factory.state_task_service_for")

    @functools.wraps(original)
    def state_task_service_for(service_name: str) -> Any:
        cls = SANDBOX_SERVICES.get(service_name)
        return cls() if cls is not None else original(service_name)

    state_task_service_for.__sandbox_original__ = original  # type: ignore[attr-defined]
    factory_module.state_task_service_for = state_task_service_for
    user_module.state_task_service_for = state_task_service_for
