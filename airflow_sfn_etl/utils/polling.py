"""Run states and the synchronous wait shared by operators, sensors and triggers (delays: ``waiting``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar, cast

from airflow.providers.common.compat.sdk import AirflowException

from airflow_sfn_etl.utils.waiting import WaitPolicy

if TYPE_CHECKING:
    from airflow_sfn_etl.utils.events import WaitFailed

log = logging.getLogger(__name__)

SUCCESS = "success"
FAILED = "failed"
TIMEOUT = "timeout"
ERROR = "error"

#: The success event of a wait (one of the TypedDicts in :mod:`airflow_sfn_etl.utils.events`).
EventT = TypeVar("EventT", bound=Mapping[str, object])


@dataclass(frozen=True)
class RunStatus:
    """One observation of an AWS run.

    :param state: the service's own state name (``RUNNING``, ``SUCCEEDED``, ...).
    :param done: whether the run reached a terminal state.
    :param ok: whether that terminal state is a success.
    :param message: human-readable reason, with the service's own error text on failure.
    :param details: JSON-serializable extras passed on in the trigger event (the fields of the
        trigger's success event beyond ``status``, ``state`` and ``message``, see
        :mod:`airflow_sfn_etl.utils.events`); the trigger types them (``AwsPollingTrigger.succeeded``).
    """

    state: str
    done: bool = False
    ok: bool = False
    message: str = ""
    details: Mapping[str, object] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """Terminal and not a success."""
        return self.done and not self.ok

    def event(self) -> dict[str, object]:
        """Return the trigger event payload for a terminal status."""
        return {
            "status": SUCCESS if self.ok else FAILED,
            "state": self.state,
            "message": self.message,
            **self.details,
        }


def job_run_status(*, service: str, job_name: str, run_id: str, state: str, error_message: str | None,
                   failed_states: Collection[str]) -> RunStatus:
    """Judge a job run: SUCCEEDED is success; a state in ``failed_states`` fails with the service's reason."""
    details = {"job_name": job_name, "run_id": run_id}
    label = f"{service} job '{job_name}' run {run_id}"
    if state == "SUCCEEDED":
        return RunStatus(state=state, done=True, ok=True, message=f"{label} succeeded", details=details)
    if state in failed_states:
        reason = error_message or f"{service} reported no error message"
        return RunStatus(state=state, done=True, message=f"{label} {state}: {reason}",
                         details={**details, "error_message": error_message})
    return RunStatus(state=state)


class PollTimeout(AirflowException):
    """The run did not reach a terminal state within the allowed number of polls."""


def wait_until_done(
    check: Callable[[], RunStatus],
    policy: WaitPolicy | None = None,
    *,
    poll_interval: float = 5.0,
    backoff_factor: float = 1.5,
    max_poll_interval: float = 60.0,
    max_polls: int | None = None,
    timeout_message: Callable[[int], str] | None = None,
    look_first: bool = True,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> RunStatus:
    """Call ``check`` until it reports a terminal state; raise :class:`PollTimeout` after ``max_polls``.

    The delays, the errors waited through and the poll limit are ``policy``'s (by default a
    :class:`~airflow_sfn_etl.utils.waiting.WaitPolicy` of the keyword arguments). An error the
    policy does not tolerate is raised. ``look_first=False`` sleeps one delay before the first call.
    """
    if policy is None:
        policy = WaitPolicy(poll_interval=poll_interval, backoff_factor=backoff_factor,
                            max_poll_interval=max_poll_interval, max_polls=max_polls)
    pause = sleep or time.sleep
    began = clock()
    waiting = policy.start()
    if not look_first:
        pause(waiting.next_delay(0.0))
    while True:
        try:
            status = check()
        except Exception as error:
            if not waiting.failed(error):
                raise
            delay = waiting.next_delay(clock() - began)
            log.warning("Poll failed (%d in a row), polling again in %.1fs: %s", waiting.errors, delay, error)
            pause(delay)
            continue
        waiting.polled()
        if status.done:
            return status
        if waiting.exhausted:
            polls = waiting.polls
            raise PollTimeout(
                timeout_message(polls) if timeout_message else f"Still {status.state} after {polls} polls"
            )
        delay = waiting.next_delay(clock() - began)
        log.info("State: %s; next poll in %.1fs", status.state, delay)
        pause(delay)


def raise_for_event(event: EventT | WaitFailed | None) -> EventT:
    """Return a success event unchanged; raise with the event's reason for anything else."""
    if not event:
        raise AirflowException("The trigger returned no event; the run's outcome is unknown.")
    if event.get("status") != SUCCESS:
        raise AirflowException(event.get("message") or f"Trigger ended with status {event.get('status')!r}")
    # A success event (status "success") is the trigger's EventT, not a WaitFailed.
    return cast("EventT", event)
