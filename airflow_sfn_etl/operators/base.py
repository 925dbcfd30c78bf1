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
from airflow_sfn_etl.utils.polling import RunStatus

#: Seconds the worker waits before its one look at a just-started run (capped at the poll interval).
PRE_DEFER_CHECK_SECONDS = 1.0


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


def check_before_defer(operator: Any, trigger: AwsPollingTrigger) -> RunStatus | None:
    """Look at the run once before deferring; return its status if it already ended, else None.

    A run that ends within a second (most Athena DDL) then needs no deferral: no triggerer round
    trip and no second task process to resume it, which on Airflow 3.3 LocalExecutor also avoids a
    scheduler race that fails a task whose trigger fires before the scheduler has seen the worker
    exit after ``defer()`` (the task is then retried). When the run is still going, the trigger
    starts one poll interval later (this look counts as its first poll), so the extra look costs no
    extra API call.
    """
    time.sleep(max(0.0, min(PRE_DEFER_CHECK_SECONDS, float(trigger.poll_interval))))
    try:
        status = trigger.check(operator.hook)
    except Exception as error:  # noqa: BLE001 - the trigger polls again, with its own error handling
        operator.log.info("Could not check %s before deferring: %s", trigger.describe(), error)
        return None
    if isinstance(status, RunStatus) and status.done:
        return status
    trigger.polls_done += 1
    trigger.first_poll_delay = max(float(trigger.first_poll_delay), float(trigger.poll_interval))
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
