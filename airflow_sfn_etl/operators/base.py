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
from datetime import timedelta
from typing import Any, NoReturn, Protocol

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from airflow.providers.common.compat.sdk import AirflowException
from airflow.triggers.base import BaseTrigger

from airflow_sfn_etl.triggers.base import AwsPollingTrigger
from airflow_sfn_etl.utils.polling import EventT, RunStatus

#: Default ``defer_after``: seconds a deferrable operator polls its just-started run in the worker
#: before it defers (a run that ends sooner needs no deferral). The looks' delays are the waiting
#: policy's (:meth:`~airflow_sfn_etl.utils.waiting.WaitPolicy.looks_before_deferring`).
DEFER_AFTER_SECONDS = 10.0


class RunOwner(Protocol):
    """What :class:`StopsRunOnKill` uses of the operator it is mixed into."""

    run_attribute: str
    _kill_requested: bool
    _stop_sent: bool

    @property
    def task_id(self) -> str: ...

    @property
    def hook(self) -> AwsBaseHook: ...

    def make_trigger(self) -> AwsPollingTrigger[Any]: ...

    def _stop_once(self: RunOwner) -> None: ...


class TaskLog(Protocol):
    """What the worker window logs with: a ``logging.Logger`` or an operator's ``self.log``."""

    def info(self, msg: str, /, *args: object) -> object: ...

    def warning(self, msg: str, /, *args: object) -> object: ...


class WaitingTask(Protocol):
    """What :func:`wait_or_defer` and the worker window (:func:`check_before_defer`) use of an operator.

    An optional ``defer_after`` (seconds of the worker window) is read with ``getattr``; without it
    the window is :data:`DEFER_AFTER_SECONDS`.
    """

    @property
    def deferrable(self) -> bool: ...

    @property
    def hook(self) -> AwsBaseHook: ...

    @property
    def log(self) -> TaskLog: ...

    @property
    def execution_timeout(self) -> timedelta | None: ...

    def defer(
        self,
        *,
        trigger: BaseTrigger,
        method_name: str,
        kwargs: dict[str, Any] | None = None,
        timeout: timedelta | int | float | None = None,
    ) -> NoReturn: ...


class StopsRunOnKill:
    """``on_kill`` for an operator that owns one AWS run, including a kill during the start call.

    A subclass names the attribute that holds its run (``run_attribute``), builds the run's
    trigger (whose ``stop`` ends the run) and calls :meth:`raise_if_killed` right after that
    attribute is set.
    """

    run_attribute: str = "run_id"
    _kill_requested = False
    _stop_sent = False

    def on_kill(self: RunOwner) -> None:
        """Stop the run this task started or attached to; remember the kill if it is still starting."""
        self._kill_requested = True
        if getattr(self, self.run_attribute, None):
            self._stop_once()

    def raise_if_killed(self: RunOwner) -> None:
        """Stop the just-started run and fail, when a kill arrived while it was starting."""
        if self._kill_requested:
            self._stop_once()
            raise AirflowException(f"Task '{self.task_id}' was killed while its run was starting; the run was stopped")

    def _stop_once(self: RunOwner) -> None:
        if self._stop_sent:
            return
        self._stop_sent = True
        self.make_trigger().stop(self.hook)


def check_before_defer(operator: WaitingTask, trigger: AwsPollingTrigger[Any]) -> RunStatus | None:
    """Poll the run in the worker for up to ``defer_after`` s; return its status if it ended, else None.

    Deferring has a fixed cost: the task process exits, the triggerer polls, the scheduler queues
    the task again and a second task process starts to run ``execute_complete``, seconds of
    latency and CPU per task. A run that ends within the window (Athena statements, short jobs)
    skips all of it, and on Airflow 3.3 LocalExecutor also escapes a scheduler race that fails a
    task whose trigger fires before the scheduler has seen the worker exit after ``defer()`` (the
    task is then retried). A run still going after the window defers; the looks made count as the
    trigger's first polls, and the trigger starts one poll interval after the last look.

    The looks follow the trigger's policy (:meth:`WaitPolicy.looks_before_deferring`): none when
    the run's history says it takes longer than the window; throttling, 5xx and lost connections
    are looked through as in every wait. An error the policy does not wait through ends the
    window: the task defers and the trigger, under the same policy, reports it. Looks also stop
    when they used up ``max_polls`` (the trigger then reports the timeout).
    """
    interval = float(trigger.poll_interval)
    looks = trigger.policy.looks_before_deferring(getattr(operator, "defer_after", DEFER_AFTER_SECONDS))
    if looks is None:
        trigger.first_poll_delay = max(float(trigger.first_poll_delay), interval)
        return None
    waiting = looks.start(polls=trigger.polls_done)
    began = time.monotonic()
    delay = waiting.next_delay(0.0)
    while True:
        time.sleep(delay)
        try:
            status = trigger.check(operator.hook)
        except Exception as error:  # noqa: BLE001 - the policy decides; the trigger reports what ends the wait
            if not waiting.failed(error):
                operator.log.info("Could not check %s before deferring: %s", trigger.describe(), error)
                break
            operator.log.warning("Could not check %s before deferring (%d in a row): %s",
                                 trigger.describe(), waiting.errors, error)
        else:
            if status.done:
                return status
            waiting.polled()
            trigger.polls_done = waiting.polls
        elapsed = time.monotonic() - began
        if waiting.ended(elapsed) or waiting.exhausted:
            break
        delay = waiting.next_delay(elapsed)
    operator.log.info("%s is still running: deferring", trigger.describe())
    trigger.first_poll_delay = max(float(trigger.first_poll_delay), interval)
    trigger.started_at = time.time()  # the trigger's wait begins now (a later start means a resume)
    return None


def wait_or_defer(operator: WaitingTask, trigger: AwsPollingTrigger[EventT]) -> EventT:
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
            return trigger.succeeded(status)
    status = trigger.wait_sync(operator.hook)
    if not status.ok:
        raise AirflowException(status.message)
    return trigger.succeeded(status)
