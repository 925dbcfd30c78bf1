"""Base trigger that polls one AWS run with backoff and stops it when the task is killed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from functools import cached_property
from typing import Any, ClassVar

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_sfn_etl.utils.polling import ERROR, TIMEOUT, RunStatus, backoff_delays, wait_until_done

MAX_CONSECUTIVE_ERRORS = 5


class AwsPollingTrigger(BaseTrigger):
    """Poll an AWS run until it ends; emit one event with the outcome and the service's reason.

    The AWS calls are the same synchronous hook calls the operators use in the worker, run in a
    thread (``asyncio.to_thread``) so the triggerer's event loop never blocks. This keeps one
    implementation of each status check for the worker, the sensor and the triggerer, and needs
    no ``aiobotocore``.

    Kill: Airflow 3.3 calls :meth:`on_kill` on a trigger only when a user acts on the deferred
    task (mark failed / success, clear); it then stops the AWS run when ``cancel_on_kill`` is
    true. It is *not* called on triggerer shutdown, on redistribution to another triggerer, or
    when the defer timeout expires, so those leave the AWS run going (it is re-attached to by
    the next try). :meth:`cleanup` runs on every exit and only releases the hook.

    :param poll_interval: seconds before the second poll; later polls back off.
    :param backoff_factor: factor applied to the delay after each poll.
    :param max_poll_interval: upper bound of the delay between polls, in seconds.
    :param max_polls: emit a ``timeout`` event after this many polls (``None``: no limit).
    :param polls_done: polls already made before this trigger started (e.g. the sensor's first
        check in the worker); they count towards ``max_polls``.
    :param first_poll_delay: seconds to wait before the first poll (default: poll at once).
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
        cancel_on_kill: bool = True,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict | None = None,
    ) -> None:
        super().__init__()
        self.poll_interval = poll_interval
        self.backoff_factor = backoff_factor
        self.max_poll_interval = max_poll_interval
        self.max_polls = max_polls
        self.polls_done = polls_done
        self.first_poll_delay = first_poll_delay
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
                "cancel_on_kill": self.cancel_on_kill,
                "aws_conn_id": self.aws_conn_id,
                "region_name": self.region_name,
                "verify": self.verify,
                "botocore_config": self.botocore_config,
            },
        )

    @cached_property
    def hook(self) -> Any:
        """The upstream hook used for the AWS calls."""
        return self.hook_class(
            aws_conn_id=self.aws_conn_id,
            region_name=self.region_name,
            verify=self.verify,
            config=self.botocore_config,
        )

    def wait_sync(self, hook: Any | None = None, *, sleep: Any = time.sleep) -> RunStatus:
        """Poll in the calling thread until the run ends; raise ``PollTimeout`` after ``max_polls``."""
        used = hook if hook is not None else self.hook
        return wait_until_done(
            lambda: self.check(used),
            poll_interval=self.poll_interval,
            backoff_factor=self.backoff_factor,
            max_poll_interval=self.max_poll_interval,
            max_polls=self.max_polls,
            timeout_message=self.timeout_message,
            sleep=sleep,
        )

    def _event(self, payload: dict[str, Any]) -> TriggerEvent:
        return TriggerEvent({**self.fields(), **payload})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll with backoff until the run ends, then yield one event."""
        delays = backoff_delays(self.poll_interval, self.backoff_factor, self.max_poll_interval)
        polls = self.polls_done
        errors = 0
        if self.first_poll_delay > 0:
            await asyncio.sleep(self.first_poll_delay)
        while True:
            try:
                status = await asyncio.to_thread(self.check, self.hook)
            except Exception as error:  # noqa: BLE001 - reported in the event after a few tries
                errors += 1
                self.log.warning("Polling %s failed (%d in a row): %s", self.describe(), errors, error)
                if errors >= MAX_CONSECUTIVE_ERRORS:
                    yield self._event(
                        {"status": ERROR, "message": f"Could not poll {self.describe()}: {error}"}
                    )
                    return
                await asyncio.sleep(next(delays))
                continue
            errors = 0
            polls += 1
            if status.done:
                yield self._event(status.event())
                return
            if self.max_polls is not None and polls >= self.max_polls:
                yield self._event(
                    {"status": TIMEOUT, "state": status.state, "message": self.timeout_message(polls)}
                )
                return
            delay = next(delays)
            self.log.info("%s is %s; next poll in %.1fs", self.describe(), status.state, delay)
            await asyncio.sleep(delay)

    async def on_kill(self) -> None:
        """Stop the AWS run when a user kills the deferred task (Airflow >= 3.3)."""
        if not self.cancel_on_kill:
            return
        self.log.info("Task killed: stopping %s", self.describe())
        await asyncio.to_thread(self.stop, self.hook)
