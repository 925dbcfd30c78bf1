"""``arn:aws:states:::states:startExecution[.sync|.sync:2|.waitForTaskToken]``: nested executions.

moto's ``StateTaskServiceSfn`` exists but every call of it fails with ``States.Runtime``
(``'StateMachineArn'``). This class starts the child execution itself and follows it as AWS
documents:

- request-response: the result is ``{"ExecutionArn": ..., "StartDate": <epoch millis>}``;
- ``.sync``: the result is the child's DescribeExecution answer in Step Functions' casing
  (``ExecutionArn``, ``Input``, ``Output``, ``Status``, ``StartDate``, ``StopDate``, ...) with
  ``Input`` and ``Output`` as JSON *strings*;
- ``.sync:2``: the same with ``Input`` and ``Output`` parsed into JSON values;
- ``.waitForTaskToken``: the task waits for SendTaskSuccess / SendTaskFailure with the token the
  child received (moto's callback mechanism).

A child that ends FAILED, TIMED_OUT or ABORTED fails the task with ``States.TaskFailed``, the
cause being that DescribeExecution answer as JSON (it carries the child's ``Error`` and
``Cause``). Aborting the parent stops a ``.sync`` child (StopExecution). API errors are
``StepFunctions.<Code>Exception`` (e.g. ``StepFunctions.StateMachineDoesNotExistException``).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
    StateTaskServiceSfn,
)

from . import boto_api
from .results import epoch_millis
from .sync import SyncRun, SyncTaskMixin

#: Integration patterns of startExecution.
PATTERNS = frozenset({ResourceCondition.Sync, ResourceCondition.Sync2, ResourceCondition.WaitForTaskToken})


def sfn_cased(value: Any) -> Any:
    """boto3's camelCase answer keys as Step Functions renders them (``executionArn`` -> ``ExecutionArn``)."""
    if isinstance(value, dict):
        return {key[:1].upper() + key[1:]: sfn_cased(item) for key, item in value.items()}
    if isinstance(value, list):
        return [sfn_cased(item) for item in value]
    return value


class SandboxSfnService(SyncTaskMixin, StateTaskServiceSfn):
    """Step Functions StartExecution of a child state machine, with ``.sync``, ``.sync:2`` and ``.waitForTaskToken``."""

    ERROR_PREFIX: ClassVar[str] = "StepFunctions"
    SYNC_ACTIONS: ClassVar[frozenset[str]] = frozenset({"startexecution"})

    def _validate_service_integration_is_supported(self) -> None:
        StateTaskServiceSfn._validate_service_integration_is_supported(self)
        condition = self.resource.condition
        if condition is None:
            return
        if condition not in PATTERNS or self.resource.api_action.lower() not in self.SYNC_ACTIONS:
            raise ValueError(
                f"The resource provided {self.resource.resource_arn} not recognized: "
                f"'.{condition}' is not supported for {self.resource.api_name}:{self.resource.api_action}.")

    def _from_error(self, env: Any, ex: Exception) -> Any:
        return StateTaskServiceSfn._from_error(self, env=env, ex=ex)

    def _eval_service_task(self, env: Any, resource_runtime_part: Any, normalised_parameters: dict,
                           state_credentials: Any) -> None:
        client = boto_api.client_for("stepfunctions", resource_runtime_part.region, state_credentials)
        request = {"stateMachineArn": normalised_parameters["StateMachineArn"],
                   "input": normalised_parameters.get("Input", "{}")}
        if normalised_parameters.get("Name"):
            request["name"] = normalised_parameters["Name"]
        response = dict(client.start_execution(**request))
        response.pop("ResponseMetadata", None)
        env.stack.append(epoch_millis(sfn_cased(response)))

    def _eval_integration_pattern(self, env: Any, resource_runtime_part: Any, normalised_parameters: dict,
                                  state_credentials: Any) -> None:
        if self.resource.condition == ResourceCondition.WaitForTaskToken:
            StateTaskServiceCallback._eval_integration_pattern(
                self, env=env, resource_runtime_part=resource_runtime_part,
                normalised_parameters=normalised_parameters, state_credentials=state_credentials)
            return
        start_output = env.stack.pop()
        run = self._start_sync_run(env, start_output, resource_runtime_part, normalised_parameters,
                                   state_credentials)
        env.stack.append(self._wait_for(env, run, start_output))

    def _start_sync_run(self, env: Any, start_output: dict[str, Any], resource_runtime_part: Any,
                        normalised_parameters: dict[str, Any], state_credentials: Any) -> SyncRun:
        client = boto_api.client_for("stepfunctions", resource_runtime_part.region, state_credentials)
        execution_arn: str = start_output["ExecutionArn"]
        parse_json = self.resource.condition == ResourceCondition.Sync2

        def describe() -> dict[str, Any]:
            response = dict(client.describe_execution(executionArn=execution_arn))
            response.pop("ResponseMetadata", None)
            described = epoch_millis(sfn_cased(response))
            if parse_json:
                for key in ("Input", "Output"):
                    if isinstance(described.get(key), str):
                        described[key] = json.loads(described[key])
            return described

        return SyncRun(
            label=f"execution {execution_arn}",
            describe=describe,
            state_of=lambda described: described["Status"],
            succeeded=frozenset({"SUCCEEDED"}),
            failed=frozenset({"FAILED", "TIMED_OUT", "ABORTED"}),
            stop=lambda: client.stop_execution(executionArn=execution_arn),
        )
