"""Run states, backoff and the worker-side wait loop shared by operators, sensors and triggers."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from airflow.providers.common.compat.sdk import AirflowException

log = logging.getLogger(__name__)

SUCCESS = "success"
FAILED = "failed"
TIMEOUT = "timeout"
ERROR = "error"
#: Transient poll errors in a row tolerated by the worker-side wait before it gives up.
MAX_CONSECUTIVE_POLL_ERRORS = 5


@dataclass(frozen=True)
class RunStatus:
    """One observation of an AWS run.

    :param state: the service's own state name (``RUNNING``, ``SUCCEEDED``, ...).
    :param done: whether the run reached a terminal state.
    :param ok: whether that terminal state is a success.
    :param message: human-readable reason, with the service's own error text on failure.
    :param details: JSON-serializable extras passed on in the trigger event.
    """

    state: str
    done: bool = False
    ok: bool = False
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """Terminal and not a success."""
        return self.done and not self.ok

    def event(self) -> dict[str, Any]:
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


def backoff_delays(start: float, factor: float = 1.5, cap: float = 60.0) -> Iterator[float]:
    """Yield poll delays: ``start``, then growing by ``factor`` up to ``cap`` seconds."""
    delay = max(0.0, float(start))
    cap = max(cap, delay)
    while True:
        yield delay
        delay = min(cap, delay * factor if delay else 0.0)


class PollTimeout(AirflowException):
    """The run did not reach a terminal state within the allowed number of polls."""


def wait_until_done(
    check: Callable[[], RunStatus],
    *,
    poll_interval: float,
    backoff_factor: float = 1.5,
    max_poll_interval: float = 60.0,
    max_polls: int | None = None,
    timeout_message: Callable[[int], str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> RunStatus:
    """Call ``check`` until it reports a terminal state; raise :class:`PollTimeout` after ``max_polls``."""
    from airflow_sfn_etl.utils.start_once import is_transient

    delays = backoff_delays(poll_interval, backoff_factor, max_poll_interval)
    polls = 0
    errors = 0
    while True:
        try:
            status = check()
        except Exception as error:
            # Throttling / 5xx that outlasted botocore's own retries: keep waiting, a few times.
            errors += 1
            if not is_transient(error) or errors >= MAX_CONSECUTIVE_POLL_ERRORS:
                raise
            log.warning("Poll failed (%d in a row): %s", errors, error)
            sleep(next(delays))
            continue
        errors = 0
        polls += 1
        if status.done:
            return status
        if max_polls is not None and polls >= max_polls:
            msg = timeout_message(polls) if timeout_message else f"Still {status.state} after {polls} polls"
            raise PollTimeout(msg)
        delay = next(delays)
        log.info("State: %s; next poll in %.1fs", status.state, delay)
        sleep(delay)


def raise_for_event(event: dict[str, Any] | None) -> dict[str, Any]:
    """Return a success event unchanged; raise with the event's reason for anything else."""
    if not event:
        raise AirflowException("The trigger returned no event; the run's outcome is unknown.")
    if event.get("status") != SUCCESS:
        raise AirflowException(event.get("message") or f"Trigger ended with status {event.get('status')!r}")
    return event
