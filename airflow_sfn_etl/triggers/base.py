"""Base trigger that polls one AWS run with backoff and stops it when the task is killed."""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections.abc import AsyncIterator, Callable
from functools import cached_property
from typing import Any, ClassVar, Generic, cast

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_sfn_etl.utils.aws import AwsConnectionKwargs
from airflow_sfn_etl.utils.polling import ERROR, TIMEOUT, EventT, RunStatus, wait_until_done
from airflow_sfn_etl.utils.waiting import WaitPolicy

#: Draws the first poll of a resumed trigger (see :meth:`WaitPolicy.resume`).
_jitter = random.Random()


#: Seconds a shared hook is handed to new triggers before a fresh one is built (picks up
#: connection changes; triggers already running keep the hook they have).
SHARED_HOOK_TTL = 900.0
_shared_hooks: dict[tuple[Any, ...], tuple[float, Any]] = {}
_shared_hooks_lock = threading.Lock()


def shared_hook(hook_class: type[AwsBaseHook], *, aws_conn_id: str | None, region_name: str | None,
                verify: bool | str | None, botocore_config: dict[str, Any] | None) -> Any:
    """One hook per (hook class, connection arguments) in this process, rebuilt after ``SHARED_HOOK_TTL``."""
    config = json.dumps(botocore_config, sort_keys=True, default=str)
    key = (hook_class, aws_conn_id, region_name, repr(verify), config)
    now = time.monotonic()
    with _shared_hooks_lock:
        entry = _shared_hooks.get(key)
        if entry is None or now - entry[0] > SHARED_HOOK_TTL:
            hook = hook_class(
                aws_conn_id=aws_conn_id, region_name=region_name, verify=verify, config=botocore_config
            )
            entry = _shared_hooks[key] = (now, hook)
        return entry[1]


def clear_shared_hooks() -> None:
    """Forget the shared hooks, so the next trigger builds its hook from the connection as it is now.

    A shared hook keeps the endpoint and credentials it resolved for ``SHARED_HOOK_TTL``; call this
    after changing a connection in the same process (tests pointing Airflow at another sandbox).
    """
    with _shared_hooks_lock:
        _shared_hooks.clear()


class PollingOptions(AwsConnectionKwargs):
    """The waiting and connection arguments a sensor builds its trigger with (``make_trigger``)."""

    poll_interval: float
    backoff_factor: float
    max_poll_interval: float
    max_polls: int | None
    cancel_on_kill: bool


class AwsPollingTrigger(BaseTrigger, Generic[EventT]):
    """Poll an AWS run until it ends; emit one event with the outcome and the service's reason.

    ``EventT`` is the trigger's success event (a TypedDict of :mod:`airflow_sfn_etl.utils.events`):
    what :meth:`succeeded` returns and what a task reads after ``raise_for_event``.

    The AWS calls are the same synchronous hook calls the operators use in the worker, run in a
    thread (``asyncio.to_thread``) so the triggerer's event loop never blocks. This keeps one
    implementation of each status check for the worker, the sensor and the triggerer, and needs
    no ``aiobotocore``.

    Kill: Airflow 3.3 calls :meth:`on_kill` on a trigger only when a user acts on the deferred
    task (mark failed / success, clear); it then stops the AWS run when ``cancel_on_kill`` is
    true. It is *not* called on triggerer shutdown, on redistribution to another triggerer, or
    when the defer timeout expires, so those leave the AWS run going (it is re-attached to by
    the next try). :meth:`cleanup` runs on every exit and only releases the hook.

    Waiting: the delays, the errors polled through (throttling, 5xx, lost connections; four in a
    row, the fifth yields an ``error`` event; any other error yields it at once) and ``max_polls``
    are decided by :attr:`policy`, the provider's one
    :class:`~airflow_sfn_etl.utils.waiting.WaitPolicy`, built from the arguments below.

    :param poll_interval: seconds before the second poll; later polls back off.
    :param backoff_factor: factor applied to the delay after each poll.
    :param max_poll_interval: upper bound of the delay between polls, in seconds.
    :param max_polls: emit a ``timeout`` event after this many polls (``None``: no limit).
    :param polls_done: polls already made before this trigger started (e.g. the sensor's first
        check in the worker); they count towards ``max_polls``.
    :param first_poll_delay: seconds to wait before the first poll (default: poll at once).
    :param expected_seconds: how long such a run usually takes (e.g. the median of the job's recent
        runs), if known: the backoff never sleeps past ``expected_seconds - poll_interval``, and from
        then until 1.5x the expected time the run is polled every ``poll_interval``, so the end is
        noticed within one poll interval at a fraction of the calls of a fixed interval.
    :param started_at: epoch seconds when the wait began (set at construction, i.e. when the task
        defers, and kept in the serialized trigger): a trigger rebuilt after a triggerer restart
        resumes its backoff where it was, first poll spread at random over that interval, instead
        of every trigger polling at once and at the fastest interval (a call storm).
    :param cancel_on_kill: stop the AWS run when a user kills the deferred task.
    :param aws_conn_id: Airflow connection for AWS credentials.
    :param region_name: AWS region.
    :param verify: SSL certificate verification setting.
    :param botocore_config: botocore client configuration.
    """

    hook_class: ClassVar[type[AwsBaseHook]]

    def __init__(
        self,
        *,
        poll_interval: float = 5,
        backoff_factor: float = 1.5,
        max_poll_interval: float = 60,
        max_polls: int | None = None,
        polls_done: int = 0,
        first_poll_delay: float = 0,
        expected_seconds: float | None = None,
        started_at: float | None = None,
        cancel_on_kill: bool = True,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # BaseTrigger.__init__ has no annotations
        self.poll_interval = poll_interval
        self.backoff_factor = backoff_factor
        self.max_poll_interval = max_poll_interval
        self.max_polls = max_polls
        self.polls_done = polls_done
        self.first_poll_delay = first_poll_delay
        self.expected_seconds = expected_seconds
        self.started_at = time.time() if started_at is None else float(started_at)
        self.cancel_on_kill = cancel_on_kill
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.verify = verify
        self.botocore_config = botocore_config

    # -- what subclasses provide ------------------------------------------------------------
    def fields(self) -> dict[str, Any]:
        """Return the subclass's own constructor arguments (JSON-serializable)."""
        raise NotImplementedError

    def check(self, hook: Any) -> RunStatus:
        """Observe the run once (synchronous; called in a thread by :meth:`run`)."""
        raise NotImplementedError

    def stop(self, hook: Any) -> None:
        """Stop the run (synchronous); the default does nothing."""

    def timeout_message(self, polls: int) -> str:
        """Return the failure message used after ``max_polls`` polls."""
        return f"{self.describe()} did not finish after {polls} polls"

    def succeeded(self, status: RunStatus) -> EventT:
        """The success event of a run whose last status is ``status`` (a success)."""
        # RunStatus.event() holds status, state, message and the details this trigger's check put
        # in: the fields of EventT.
        return cast("EventT", status.event())

    def describe(self) -> str:
        """Return a short name of the watched run for messages."""
        return ", ".join(f"{k}={v}" for k, v in self.fields().items())

    # -- machinery --------------------------------------------------------------------------
    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the class path and the keyword arguments that rebuild this trigger."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                **self.fields(),
                "poll_interval": self.poll_interval,
                "backoff_factor": self.backoff_factor,
                "max_poll_interval": self.max_poll_interval,
                "max_polls": self.max_polls,
                "polls_done": self.polls_done,
                "first_poll_delay": self.first_poll_delay,
                "expected_seconds": self.expected_seconds,
                "started_at": self.started_at,
                "cancel_on_kill": self.cancel_on_kill,
                "aws_conn_id": self.aws_conn_id,
                "region_name": self.region_name,
                "verify": self.verify,
                "botocore_config": self.botocore_config,
            },
        )

    @cached_property
    def hook(self) -> Any:
        """The upstream hook used for the AWS calls, shared by the triggers of this process.

        Triggers with the same hook class and connection arguments share one hook (and so one
        thread-safe boto3 client): building a client costs tens of ms of CPU and ~2 MiB, which
        per trigger made a triggerer with hundreds of waits slow to start polling and large.
        """
        return shared_hook(self.hook_class, aws_conn_id=self.aws_conn_id, region_name=self.region_name,
                           verify=self.verify, botocore_config=self.botocore_config)

    @property
    def policy(self) -> WaitPolicy:
        """The waiting policy of this trigger's arguments (delays, errors waited through, poll limit)."""
        return WaitPolicy(
            poll_interval=float(self.poll_interval),
            backoff_factor=float(self.backoff_factor),
            max_poll_interval=float(self.max_poll_interval),
            expected_seconds=self.expected_seconds,
            max_polls=self.max_polls,
        )

    def wait_sync(self, hook: Any | None = None, *, sleep: Callable[[float], None] | None = None) -> RunStatus:
        """Poll in the calling thread until the run ends; raise ``PollTimeout`` after ``max_polls``."""
        used = hook if hook is not None else self.hook
        return wait_until_done(
            lambda: self.check(used), self.policy, timeout_message=self.timeout_message, sleep=sleep
        )

    def _event(self, payload: dict[str, object]) -> TriggerEvent:
        return TriggerEvent({**self.fields(), **payload})  # type: ignore[no-untyped-call]  # unannotated upstream

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll as :attr:`policy` says until the run ends, then yield one event."""
        policy = self.policy
        first, backoff = policy.resume(self._elapsed(), float(self.first_poll_delay), _jitter)
        waiting = policy.start(delay=backoff, polls=self.polls_done)
        if first > 0:
            await asyncio.sleep(first)
        while True:
            try:
                status = await asyncio.to_thread(self.check, self.hook)
            except Exception as error:  # noqa: BLE001 - the policy decides; reported in the event
                if not waiting.failed(error):
                    yield self._event({"status": ERROR, "message": f"Could not poll {self.describe()}: {error}"})
                    return
                self.log.warning("Polling %s failed (%d in a row): %s", self.describe(), waiting.errors, error)
                await asyncio.sleep(waiting.next_delay(self._elapsed()))
                continue
            waiting.polled()
            if status.done:
                yield self._event(status.event())
                return
            if waiting.exhausted:
                yield self._event(
                    {"status": TIMEOUT, "state": status.state, "message": self.timeout_message(waiting.polls)}
                )
                return
            delay = waiting.next_delay(self._elapsed())
            self.log.info("%s is %s; next poll in %.1fs", self.describe(), status.state, delay)
            await asyncio.sleep(delay)

    def _elapsed(self) -> float:
        """Seconds since the wait began (``started_at``, wall clock: it survives a triggerer restart)."""
        return max(0.0, time.time() - self.started_at)

    async def on_kill(self) -> None:
        """Stop the AWS run when a user kills the deferred task (Airflow >= 3.3)."""
        if not self.cancel_on_kill:
            return
        self.log.info("Task killed: stopping %s", self.describe())
        await asyncio.to_thread(self.stop, self.hook)
