"""The ``.sync`` (Run a Job) integration pattern for moto's interpreter, done the sandbox's way.

moto's ``StateTaskServiceCallback._eval_integration_pattern`` always ends with
``callback_endpoint.interrupt_all()``; for integrations without ``.waitForTaskToken`` (Glue,
Athena, DataBrew) the endpoint is ``None``, so every ``.sync`` task fails with
``'NoneType' object has no attribute 'interrupt_all'``. :class:`SyncTaskMixin` replaces that
method for ``.sync``-only integrations: it polls the run until it ends, fails the task with
``States.TaskFailed`` (cause: the run's description as JSON, as AWS does) when the run fails,
and stops the run (BatchStopJobRun, StopQueryExecution, StopJobRun) when the execution is
aborted, the task times out, or a sibling Parallel branch fails while the run is going.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from botocore.exceptions import ClientError
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

from .results import compact_json

LOG = logging.getLogger(__name__)

#: Error codes of a poll call that are retried instead of failing the task (AWS polls again).
TRANSIENT_CODES = frozenset({
    "ThrottlingException", "Throttling", "TooManyRequestsException", "InternalFailure",
    "InternalServerException", "InternalServiceError", "ServiceUnavailable", "ServiceUnavailableException",
})


@dataclass(frozen=True)
class SyncRun:
    """A started AWS run that a ``.sync`` task waits for.

    :param label: names the run in logs, e.g. ``Glue job run se2_job0/jr_1``.
    :param describe: returns the run's current description, JSON-safe; it is the task's result.
    :param state_of: picks the run state out of a description.
    :param succeeded: run states that end the task successfully.
    :param failed: run states that fail the task with ``States.TaskFailed``.
    :param stop: stops the run (called when the task is abandoned while the run is going).
    """

    label: str
    describe: Callable[[], dict[str, Any]]
    state_of: Callable[[dict[str, Any]], str]
    succeeded: frozenset[str]
    failed: frozenset[str]
    stop: Callable[[], Any]


class RunAbandoned(Exception):
    """The execution stopped (abort, timeout, failed sibling branch) while a ``.sync`` run went on."""

    def __init__(self, output: Any) -> None:
        super().__init__("the execution stopped while the task waited for its run")
        self.output = output


def task_failure(task: Any, env: Any, error: str, cause: str) -> FailureEventException:
    """A ``TaskFailed`` failure of ``task`` with ``error`` and ``cause``, ready to raise."""
    if error.startswith("States."):
        error_name: Any = StatesErrorName.from_name(error)
    else:
        error_name = CustomErrorName(error_name=error)
    return FailureEventException(FailureEvent(
        env=env,
        error_name=error_name,
        event_type=HistoryEventType.TaskFailed,
        # moto declares EventDetails with every key required, yet builds it (as here) with the one
        # key of the event's type.
        event_details=EventDetails(  # type: ignore[typeddict-item]
            taskFailedEventDetails=TaskFailedEventDetails(
                error=error, cause=cause, resource=task._get_sfn_resource(),
                resourceType=task._get_sfn_resource_type())),
    ))


class SyncTaskMixin:
    """Mixin (before moto's ``StateTaskServiceCallback`` in the bases) for ``.sync``-only services.

    Subclasses set :attr:`ERROR_PREFIX` and :attr:`SYNC_ACTIONS` and implement
    :meth:`_start_sync_run`.
    """

    #: Prefix of API error names, e.g. ``Glue`` -> ``Glue.EntityNotFoundException``.
    ERROR_PREFIX: ClassVar[str] = ""
    #: Lower-cased API actions that allow ``.sync``, e.g. ``{"startjobrun"}``.
    SYNC_ACTIONS: ClassVar[frozenset[str]] = frozenset()
    #: Seconds between two polls of the run.
    POLL_SECONDS: ClassVar[float] = 0.5

    resource: Any

    def _start_sync_run(self, env: Any, start_output: dict[str, Any], resource_runtime_part: Any,
                        normalised_parameters: dict[str, Any], state_credentials: Any) -> SyncRun:
        """Describe how to follow the run that the request-response call just started."""
        raise NotImplementedError

    def _validate_service_integration_is_supported(self) -> None:
        super()._validate_service_integration_is_supported()  # type: ignore[misc]
        condition = self.resource.condition
        if condition is None:
            return
        if condition != ResourceCondition.Sync or self.resource.api_action.lower() not in self.SYNC_ACTIONS:
            raise ValueError(
                f"The resource provided {self.resource.resource_arn} not recognized: "
                f"'.{condition}' is not supported for {self.resource.api_name}:{self.resource.api_action}.")

    def _from_error(self, env: Any, ex: Exception) -> Any:
        if isinstance(ex, ClientError):
            code = ex.response.get("Error", {}).get("Code", "Exception")
            message = ex.response.get("Error", {}).get("Message", "")
            meta = ex.response.get("ResponseMetadata", {})
            cause = (f"{message} (Service: {self.ERROR_PREFIX}, Status Code: {meta.get('HTTPStatusCode')}, "
                     f"Error Code: {code}, Request ID: {meta.get('RequestId')})")
            return task_failure(self, env, f"{self.ERROR_PREFIX}.{code}", cause).failure_event
        return super()._from_error(env=env, ex=ex)  # type: ignore[misc]

    def _eval_integration_pattern(self, env: Any, resource_runtime_part: Any, normalised_parameters: dict,
                                  state_credentials: Any) -> None:
        start_output = env.stack.pop()
        if self.resource.condition != ResourceCondition.Sync:
            raise RuntimeError(f"Unsupported {self.resource.condition} integration pattern in resource "
                               f"{self.resource.resource_arn}")
        run = self._start_sync_run(env, start_output, resource_runtime_part, normalised_parameters,
                                   state_credentials)
        env.stack.append(self._wait_for(env, run, start_output))

    def _wait_for(self, env: Any, run: SyncRun, start_output: Any) -> dict[str, Any]:
        """Poll ``run`` until it ends; stop it and raise :class:`RunAbandoned` if the task is abandoned."""
        while True:
            if not env.is_running():
                self._stop(run)
                raise RunAbandoned(start_output)
            try:
                description = run.describe()
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") not in TRANSIENT_CODES:
                    raise
                LOG.info("%s: transient error while polling, polling again: %s", run.label, err)
            else:
                state = run.state_of(description)
                if state in run.succeeded:
                    return description
                if state in run.failed:
                    raise task_failure(self, env, StatesErrorNameType.StatesTaskFailed.to_name(),
                                       compact_json(description))
            # Woken early when the execution is stopped (the frame's state event is set).
            env.program_state_event.wait(self.POLL_SECONDS)

    @staticmethod
    def _stop(run: SyncRun) -> None:
        try:
            run.stop()
            LOG.info("%s: stopped because its execution stopped waiting for it", run.label)
        except Exception as err:  # the run may have ended meanwhile; AWS ignores this too
            LOG.warning("%s: could not be stopped: %s", run.label, err)

    def _after_eval_execution(self, env: Any, resource_runtime_part: Any, normalised_parameters: dict,
                              state_credentials: Any) -> None:
        try:
            super()._after_eval_execution(  # type: ignore[misc]
                env=env, resource_runtime_part=resource_runtime_part,
                normalised_parameters=normalised_parameters, state_credentials=state_credentials)
        except RunAbandoned as abandoned:
            # No TaskSucceeded event: the execution is over; leave the start answer as the result.
            env.stack.append(abandoned.output)
