"""Base sensor that pokes with a trigger's status check and defers to that trigger."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic

from airflow.providers.amazon.aws.sensors.base_aws import AwsBaseSensor
from airflow.providers.common.compat.sdk import AirflowException
from airflow.sdk.bases.sensor import PokeReturnValue

from airflow_sfn_etl.triggers.base import AwsPollingTrigger, PollingOptions
from airflow_sfn_etl.utils.aws import default_deferrable
from airflow_sfn_etl.utils.polling import EventT, RunStatus, raise_for_event
from airflow_sfn_etl.utils.waiting import Waiting

if TYPE_CHECKING:
    from airflow.sdk import Context
    from typing_extensions import Unpack

    from airflow_sfn_etl.utils.events import WaitFailed


class AwsRunSensor(AwsBaseSensor[Any], Generic[EventT]):
    """Wait for an AWS run to end: success returns, a failed run raises with the service's reason.

    In deferrable mode the sensor checks once in the worker, then defers to the trigger, which
    waits ``poke_interval`` seconds, then polls with backoff up to ``max_poll_interval`` and stops
    the run when a user kills the task (``cancel_on_kill``). With ``max_polls`` the wait fails
    after that many checks (the worker's first check included) without the run ending, in poke
    and deferrable mode alike.

    Every mode waits by the trigger's policy (:class:`~airflow_sfn_etl.utils.waiting.WaitPolicy`):
    in poke and reschedule mode too, the delay between checks starts at ``poke_interval`` and
    backs off by ``backoff_factor`` up to ``max_poll_interval`` (Airflow's ``exponential_backoff``
    and ``max_wait`` are not used), and a check that meets throttling, a 5xx answer or a lost
    connection counts as "not done yet"; the fifth such error in a row fails the task (in
    reschedule mode each check runs in a new process, so errors are not counted across checks).
    Any other error fails the task at once.

    :param deferrable: wait on the triggerer instead of the worker.
    :param max_poll_interval: upper bound of the delay between two checks, in seconds (every mode).
    :param max_polls: fail after this many checks without the run ending (``None``: no limit).
    :param cancel_on_kill: stop the AWS run when a user kills the deferred task.

    ``EventT`` is the success event of the sensor's trigger, which :meth:`result` reads.
    """

    #: Factor applied to the delay after each check (1.0: a fixed interval), in every mode.
    backoff_factor: float = 1.5

    def __init__(
        self,
        *,
        deferrable: bool = default_deferrable(),
        max_poll_interval: float = 60,
        max_polls: int | None = None,
        cancel_on_kill: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if max_polls is not None and (isinstance(max_polls, bool) or int(max_polls) < 1):
            raise ValueError(
                f"Task '{self.task_id}': max_polls must be a positive number of polls or None, "
                f"not {max_polls!r}"
            )
        if max_polls is not None and self.mode == "reschedule":
            raise ValueError(
                f"Task '{self.task_id}': max_polls counts the checks of one worker run and cannot be used "
                "with mode='reschedule'; use mode='poke' or deferrable=True"
            )
        self.deferrable = deferrable
        self.max_poll_interval = max_poll_interval
        self.max_polls = int(max_polls) if max_polls is not None else None
        self.cancel_on_kill = cancel_on_kill
        self._trigger: AwsPollingTrigger[EventT] | None = None
        self._waiting: Waiting | None = None

    def make_trigger(self, **common: Unpack[PollingOptions]) -> AwsPollingTrigger[EventT]:
        """Return the trigger for the watched run, built with ``common`` keyword arguments."""
        raise NotImplementedError

    def result(self, event: EventT) -> Any:
        """Return the XCom value for a success event (default: nothing)."""
        return None

    @property
    def trigger(self) -> AwsPollingTrigger[EventT]:
        """The trigger, built once after templates are rendered."""
        if self._trigger is None:
            fixed = self.backoff_factor == 1.0
            self._trigger = self.make_trigger(
                poll_interval=self.poke_interval,
                backoff_factor=self.backoff_factor,
                max_poll_interval=self.poke_interval
                if fixed
                else max(self.max_poll_interval, self.poke_interval),
                max_polls=self.max_polls,
                cancel_on_kill=self.cancel_on_kill,
                aws_conn_id=self.aws_conn_id,
                region_name=self.region_name,
                verify=self.verify,
                botocore_config=self.botocore_config,
            )
        return self._trigger

    @property
    def waiting(self) -> Waiting:
        """This worker run's wait under the trigger's policy: its checks, errors in a row and next delay."""
        if self._waiting is None:
            self._waiting = self.trigger.policy.start()
        return self._waiting

    def _judge(self, status: RunStatus) -> PokeReturnValue | bool:
        if status.failed:
            raise AirflowException(status.message)
        if status.done:
            return PokeReturnValue(is_done=True, xcom_value=self.result(self.trigger.succeeded(status)))
        self.log.info("%s is %s", self.trigger.describe(), status.state)
        return False

    def poke(self, context: Context) -> PokeReturnValue | bool:
        try:
            status = self.trigger.check(self.hook)
        except Exception as error:
            if not self.waiting.failed(error):
                raise
            self.log.warning("Could not check %s (%d in a row): %s", self.trigger.describe(),
                             self.waiting.errors, error)
            return False
        outcome = self._judge(status)
        self.waiting.polled()
        if outcome is False and self.waiting.exhausted:
            raise AirflowException(self.trigger.timeout_message(self.waiting.polls))
        return outcome

    def _get_next_poke_interval(
        self, started_at: datetime | float, run_duration: Callable[[], float], poke_count: int
    ) -> float:
        """The delay before the next check in poke and reschedule mode: the trigger's policy decides."""
        if self.reschedule:
            return self.trigger.policy.delay_at(run_duration())
        return self.waiting.next_delay(run_duration())

    def prepare(self, context: Context) -> None:
        """Check rendered template values before the first poll (subclasses extend it)."""

    def execute(self, context: Context) -> Any:
        self.prepare(context)
        self._waiting = None
        if not self.deferrable:
            return super().execute(context)
        outcome = self.poke(context)
        if isinstance(outcome, PokeReturnValue):
            return outcome.xcom_value
        trigger = self.trigger
        trigger.polls_done = self.waiting.polls
        trigger.first_poll_delay = self.poke_interval
        self.defer(
            trigger=trigger,
            method_name="execute_complete",
            timeout=timedelta(seconds=float(self.timeout)),
        )

    def execute_complete(self, context: Context, event: EventT | WaitFailed | None = None) -> Any:
        """Resume after the trigger: raise with the service's reason, or return the result."""
        return self.result(raise_for_event(event))
