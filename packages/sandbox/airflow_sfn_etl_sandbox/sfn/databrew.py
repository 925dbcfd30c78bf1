"""``arn:aws:states:::databrew:startJobRun[.sync]``: the DataBrew integration (absent in moto)."""

from __future__ import annotations

from typing import Any, ClassVar, Final

from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_callback as _callback,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition

from . import boto_api
from .results import epoch_millis
from .sync import SyncRun, SyncTaskMixin

#: The DataBrew APIs Step Functions integrates.
OPERATIONS: Final[frozenset[str]] = frozenset({"StartJobRun"})


class SandboxDataBrewService(SyncTaskMixin, _callback.StateTaskServiceCallback):
    """DataBrew StartJobRun; ``.sync`` polls DescribeJobRun until the run ends.

    The task's result is the DescribeJobRun answer. FAILED, STOPPED and TIMEOUT fail the task
    with ``States.TaskFailed`` (cause: that answer as JSON, with ``ErrorMessage``); API errors
    are ``DataBrew.<ErrorCode>``. An aborted execution stops the run (StopJobRun).
    """

    ERROR_PREFIX: ClassVar[str] = "DataBrew"
    SYNC_ACTIONS: ClassVar[frozenset[str]] = frozenset({"startjobrun"})

    def __init__(self) -> None:
        # moto annotates the patterns as set[ResourceCondition], yet its constants are plain str.
        super().__init__(supported_integration_patterns={ResourceCondition.Sync})  # type: ignore[arg-type]

    def _get_supported_parameters(self) -> set[str] | None:
        return boto_api.supported_parameters("databrew", self.resource.api_action, OPERATIONS)

    def _eval_service_task(self, env: Any, resource_runtime_part: Any, normalised_parameters: dict,
                           state_credentials: Any) -> None:
        response = boto_api.call("databrew", resource_runtime_part.region, state_credentials,
                                 self._get_boto_service_action(), normalised_parameters)
        env.stack.append(epoch_millis(response))

    def _start_sync_run(self, env: Any, start_output: dict[str, Any], resource_runtime_part: Any,
                        normalised_parameters: dict[str, Any], state_credentials: Any) -> SyncRun:
        client = boto_api.client_for("databrew", resource_runtime_part.region, state_credentials)
        job_name: str = normalised_parameters["Name"]
        run_id: str = start_output["RunId"]

        def describe() -> dict[str, Any]:
            response = dict(client.describe_job_run(Name=job_name, RunId=run_id))
            response.pop("ResponseMetadata", None)
            return epoch_millis(response)

        return SyncRun(
            label=f"DataBrew job run {job_name}/{run_id}",
            describe=describe,
            state_of=lambda run: run["State"],
            succeeded=frozenset({"SUCCEEDED"}),
            failed=frozenset({"FAILED", "STOPPED", "TIMEOUT"}),
            stop=lambda: client.stop_job_run(Name=job_name, RunId=run_id),
        )
