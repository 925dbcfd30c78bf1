"""``arn:aws:states:::athena:<api>[.sync]``: the optimized Athena integration (absent in moto)."""

from __future__ import annotations

from typing import Any, ClassVar, Final

from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_callback as _callback,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition

from . import boto_api
from .results import epoch_millis
from .sync import SyncRun, SyncTaskMixin

#: The Athena APIs Step Functions integrates (request-response; ``.sync`` for the start only).
OPERATIONS: Final[frozenset[str]] = frozenset({
    "StartQueryExecution", "StopQueryExecution", "GetQueryExecution", "GetQueryResults"})


class SandboxAthenaService(SyncTaskMixin, _callback.StateTaskServiceCallback):
    """Athena StartQueryExecution / StopQueryExecution / GetQueryExecution / GetQueryResults.

    ``startQueryExecution.sync`` polls GetQueryExecution until the query ends and answers the
    whole GetQueryExecution response (``{"QueryExecution": {...}}``, so that a next state reads
    ``$.QueryExecution.QueryExecutionId``). FAILED and CANCELLED fail the task with
    ``States.TaskFailed`` (cause: that response as JSON, with ``Status.StateChangeReason``).
    API errors are ``Athena.<ErrorCode>``. An aborted execution stops the query.
    """

    ERROR_PREFIX: ClassVar[str] = "Athena"
    SYNC_ACTIONS: ClassVar[frozenset[str]] = frozenset({"startqueryexecution"})

    def __init__(self) -> None:
        # moto annotates the patterns as set[ResourceCondition], yet its constants are plain str.
        super().__init__(supported_integration_patterns={ResourceCondition.Sync})  # type: ignore[arg-type]

    def _get_supported_parameters(self) -> set[str] | None:
        return boto_api.supported_parameters("athena", self.resource.api_action, OPERATIONS)

    def _eval_service_task(self, env: Any, resource_runtime_part: Any, normalised_parameters: dict,
                           state_credentials: Any) -> None:
        response = boto_api.call("athena", resource_runtime_part.region, state_credentials,
                                 self._get_boto_service_action(), normalised_parameters)
        env.stack.append(epoch_millis(response))

    def _start_sync_run(self, env: Any, start_output: dict[str, Any], resource_runtime_part: Any,
                        normalised_parameters: dict[str, Any], state_credentials: Any) -> SyncRun:
        client = boto_api.client_for("athena", resource_runtime_part.region, state_credentials)
        query_id: str = start_output["QueryExecutionId"]

        def describe() -> dict[str, Any]:
            response = dict(client.get_query_execution(QueryExecutionId=query_id))
            response.pop("ResponseMetadata", None)
            return epoch_millis(response)

        return SyncRun(
            label=f"Athena query {query_id}",
            describe=describe,
            state_of=lambda answer: answer["QueryExecution"]["Status"]["State"],
            succeeded=frozenset({"SUCCEEDED"}),
            failed=frozenset({"FAILED", "CANCELLED"}),
            stop=lambda: client.stop_query_execution(QueryExecutionId=query_id),
        )
