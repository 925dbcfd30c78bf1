"""What the waiting operators share: wait in the worker, or defer to the run's trigger.

Kill means stop, with these limits:

- Waiting in the worker: Airflow calls the operator's ``on_kill`` when the task process is
  terminated (mark failed/success, clear, execution timeout); each operator stops its AWS run.
- Deferred: the worker is gone, so the trigger's ``on_kill`` stops the run. Airflow >= 3.3 calls
  it when a user acts on the deferred task; it does not call it on triggerer restart, trigger
  redistribution or defer timeout (those leave the run going; the next try re-attaches to it).
  On Airflow < 3.3, whose triggerer has no ``on_kill``, a deferred run is not stopped on kill.
- Starting: Airflow 3's task runner calls ``on_kill`` from its SIGTERM handler and lets
  ``execute`` go on. A kill that lands while the start call is in flight finds no run to stop, so
  it is remembered: the run is stopped as soon as its id is known, and the task fails.
"""

from __future__ import annotations

import time
from typing import Any

from airflow.providers.common.compat.sdk import AirflowException

from airflow_sfn_etl.triggers.base import AwsPollingTrigger
from airflow_sfn_etl.utils.polling import RunStatus, backoff_delays

#: Default ``defer_after``: seconds a deferrable operator polls its just-started run in the worker
#: before it defers (a run that ends sooner needs no deferral).
DEFER_AFTER_SECONDS = 10.0
#: The first look in that window comes after this many seconds (capped at the poll interval); the
#: looks then back off by x1.5, up to the poll interval.
FIRST_LOOK_SECONDS = 0.5
#: Floor of the gap between two looks (a zero poll interval must not spin).
MIN_LOOK_SECONDS = 0.05


class StopsRunOnKill:
    """``on_kill`` for an operator that owns one AWS run, including a kill during the start call.

    A subclass names the attribute that holds its run (``run_attribute``), builds the run's
    trigger (whose ``stop`` ends the run) and calls :meth:`raise_if_killed` right after that
    attribute is set.
    """

    run_attribute: str = "run_id"
    _kill_requested = False
    _stop_sent = False

    def on_kill(self) -> None:
        """Stop the run this task started or attached to; remember the kill if it is still starting."""
        self._kill_requested = True
        if getattr(self, self.run_attribute, None):
            self._stop_once()

    def raise_if_killed(self) -> None:
        """Stop the just-started run and fail, when a kill arrived while it was starting."""
        if self._kill_requested:
            self._stop_once()
            raise AirflowException(f"Task '{self.task_id}' was killed while its run was starting; the run was stopped")

    def _stop_once(self) -> None:
        if self._stop_sent:
            return
        self._stop_sent = True
        self.make_trigger().stop(self.hook)


def defer_window(operator: Any, trigger: AwsPollingTrigger) -> float | None:
    """Seconds to poll in the worker before deferring (``defer_after``); None: defer without a look.

    When the run's history says it usually takes longer than the window (``expected_seconds``),
    the worker defers at once instead of holding its slot for looks that cannot see the end.
    """
    window = max(0.0, float(getattr(operator, "defer_after", DEFER_AFTER_SECONDS)))
    expected = trigger.expected_seconds
    return None if expected and expected > window else window


def check_before_defer(operator: Any, trigger: AwsPollingTrigger) -> RunStatus | None:
    """Poll the run in the worker for up to ``defer_after`` s; return its status if it ended, else None.

    Deferring has a fixed cost: the task process exits, the triggerer polls, the scheduler queues
    the task again and a second task process starts to run ``execute_complete``, seconds of
    latency and CPU per task. A run that ends within the window (Athena statements, short jobs)
    skips all of it, and on Airflow 3.3 LocalExecutor also escapes a scheduler race that fails a
    task whose trigger fires before the scheduler has seen the worker exit after ``defer()`` (the
    task is then retried). A run still going after the window defers; the looks made count as the
    trigger's first polls, and the trigger starts one poll interval after the last look.
    """
    interval = float(trigger.poll_interval)
    window = defer_window(operator, trigger)
    if window is None:
        trigger.first_poll_delay = max(float(trigger.first_poll_delay), interval)
        return None
    deadline = time.monotonic() + window
    delays = backoff_delays(max(MIN_LOOK_SECONDS, min(FIRST_LOOK_SECONDS, interval)), 1.5, interval)
    delay = next(delays)
    while True:
        time.sleep(max(0.0, delay))
        try:
            status = trigger.check(operator.hook)
        except Exception as error:  # noqa: BLE001 - the trigger polls again, with its own error handling
            operator.log.info("Could not check %s before deferring: %s", trigger.describe(), error)
            return None
        if isinstance(status, RunStatus) and status.done:
            return status
        trigger.polls_done += 1
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        delay = min(next(delays), remaining)
    operator.log.info("%s is still running: deferring", trigger.describe())
    trigger.first_poll_delay = max(float(trigger.first_poll_delay), interval)
    trigger.started_at = time.time()  # the trigger's wait begins now (a later start means a resume)
    return None


def wait_or_defer(operator: Any, trigger: AwsPollingTrigger) -> dict[str, Any]:
    """Defer to ``trigger`` when the operator is deferrable, else poll in the worker.

    Returns the success event; raises with the service's reason when the run fails.
    """
    if operator.deferrable:
        status = check_before_defer(operator, trigger)
        if status is None:
            operator.defer(
                trigger=trigger, method_name="execute_complete", timeout=operator.execution_timeout
            )
        elif not status.ok:
            raise AirflowException(status.message)
        else:
            return status.event()
    status = trigger.wait_sync(operator.hook)
    if not status.ok:
        raise AirflowException(status.message)
    return status.event()
