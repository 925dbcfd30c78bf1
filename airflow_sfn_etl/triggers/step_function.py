"""Trigger that waits for a Step Functions execution, logging each state, and explains failures."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.step_function import StepFunctionHook

from airflow_sfn_etl.triggers.base import AwsPollingTrigger
from airflow_sfn_etl.utils.events import StepFunctionExecutionSucceeded
from airflow_sfn_etl.utils.polling import RunStatus

if TYPE_CHECKING:
    from airflow_sfn_etl.utils.logs import InfoLog

EXECUTION_FAILED_STATES = ("FAILED", "TIMED_OUT", "ABORTED")
_EXECUTION_END_EVENTS = ("ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted")
_FAILURE_SUFFIXES = ("Failed", "TimedOut", "Aborted")
MAX_CAUSE_CHARS = 2000


def _details(event: dict[str, Any]) -> dict[str, Any]:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            return value
    return {}


def explain_failure(
    events: Iterable[dict[str, Any]], description: dict[str, Any]
) -> tuple[str | None, str | None, str | None]:
    """Return ``(failed_state, error, cause)`` from an execution's history (oldest event first).

    The failed state is the innermost state that was entered and not left when the execution
    ended; error and cause come from the execution's end event, else from ``DescribeExecution``,
    else from the last failure event of a state.
    """
    open_states: list[str] = []
    failed_state: str | None = None
    state_error: tuple[str | None, str | None] = (None, None)
    end_error: tuple[str | None, str | None] = (None, None)
    for event in events:
        kind = event.get("type", "")
        details = _details(event)
        if kind.endswith("StateEntered"):
            open_states.append(details.get("name", "?"))
        elif kind.endswith("StateExited"):
            name = details.get("name")
            if name in open_states:
                open_states.reverse()
                open_states.remove(name)
                open_states.reverse()
        elif kind in _EXECUTION_END_EVENTS:
            end_error = (details.get("error"), details.get("cause"))
            failed_state = open_states[-1] if open_states else failed_state
        elif kind.endswith(_FAILURE_SUFFIXES):
            state_error = (details.get("error"), details.get("cause"))
            failed_state = open_states[-1] if open_states else failed_state
    error = end_error[0] or description.get("error") or state_error[0]
    cause = end_error[1] or description.get("cause") or state_error[1]
    if cause and len(cause) > MAX_CAUSE_CHARS:
        cause = cause[:MAX_CAUSE_CHARS] + "..."
    return failed_state, error, cause


def execution_history(hook: StepFunctionHook, execution_arn: str) -> list[dict[str, Any]]:
    """Return the whole history of an execution, oldest event first."""
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
    while True:
        page = hook.conn.get_execution_history(**kwargs)
        events.extend(page.get("events", []))
        token = page.get("nextToken")
        if not token:
            return events
        kwargs["nextToken"] = token


def failure_message(description: dict[str, Any], events: list[dict[str, Any]]) -> str:
    """Build the task's failure message: execution, status, failed state, error and cause."""
    state, error, cause = explain_failure(events, description)
    where = f" in state '{state}'" if state else ""
    return (
        f"Step Functions execution {description.get('executionArn', '?')} {description.get('status')}"
        f"{where}: error={error or 'not reported'}; cause={cause or 'not reported'}"
    )


class StepFunctionExecutionTrigger(AwsPollingTrigger[StepFunctionExecutionSucceeded]):
    """Wait for a Step Functions execution; log states as they are entered and left.

    :param execution_arn: ARN of the execution.
    :param log_states: log each state entered/exited from the execution history while waiting.
    """

    hook_class = StepFunctionHook

    def __init__(self, *, execution_arn: str, log_states: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.execution_arn = execution_arn
        self.log_states = log_states
        self._seen_event_id = 0

    def fields(self) -> dict[str, Any]:
        return {"execution_arn": self.execution_arn, "log_states": self.log_states}

    def describe(self) -> str:
        return f"Step Functions execution {self.execution_arn}"

    def _log_new_states(self, events: list[dict[str, Any]], logger: InfoLog) -> None:
        for event in events:
            event_id = event.get("id", 0)
            if event_id <= self._seen_event_id:
                continue
            self._seen_event_id = event_id
            kind = event.get("type", "")
            if kind.endswith("StateEntered"):
                logger.info(
                    "State entered: %s (%s)", _details(event).get("name"), kind[: -len("StateEntered")]
                )
            elif kind.endswith("StateExited"):
                logger.info("State exited: %s", _details(event).get("name"))
            elif kind.endswith(_FAILURE_SUFFIXES):
                details = _details(event)
                logger.info("%s: error=%s cause=%s", kind, details.get("error"), details.get("cause"))

    def check(self, hook: StepFunctionHook) -> RunStatus:
        description = hook.describe_execution(self.execution_arn)
        status = description.get("status", "UNKNOWN")
        events: list[dict[str, Any]] | None = None
        if self.log_states:
            events = execution_history(hook, self.execution_arn)
            self._log_new_states(events, self.log)
        details = {"execution_arn": self.execution_arn}
        if status == "SUCCEEDED":
            return RunStatus(
                state=status,
                done=True,
                ok=True,
                message=f"Step Functions execution {self.execution_arn} succeeded",
                details={**details, "output": description.get("output")},
            )
        if status in EXECUTION_FAILED_STATES:
            if events is None:
                events = execution_history(hook, self.execution_arn)
            return RunStatus(
                state=status, done=True, message=failure_message(description, events), details=details
            )
        return RunStatus(state=status)

    def stop(self, hook: StepFunctionHook) -> None:
        hook.conn.stop_execution(
            executionArn=self.execution_arn, error="Airflow.TaskKilled", cause="The Airflow task was killed"
        )
        hook.log.info("Stop requested for %s", self.execution_arn)
