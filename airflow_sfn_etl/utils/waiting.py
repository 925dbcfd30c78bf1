"""The provider's one waiting policy: when to poll a run next, and which errors a wait goes on after.

Every wait of the provider asks a :class:`WaitPolicy` and does nothing else but sleep, call and
report: the synchronous wait in the worker (:func:`airflow_sfn_etl.utils.polling.wait_until_done`),
the looks a deferrable operator makes before it defers (``operators/base.py``), the trigger on the
triggerer (``triggers/base.py``), the sensors in poke, reschedule and deferrable mode
(``sensors/base.py``), the retries of a start call (``utils/start_once.py``) and the retry of a
state machine deploy while its new role propagates (``utils/sfn_role.py``).

How a poll delay is decided:

- backoff: the first delay is ``poll_interval``, each next one ``backoff_factor`` times the last,
  up to ``max_poll_interval``;
- expected end: with ``expected_seconds`` (how long such a run usually takes), a delay never
  reaches past one poll interval before the expected end; from there to 1.5x the expected time
  the run is polled every ``poll_interval``, then the backoff goes on;
- worker window: a deferrable operator's looks before deferring start after 0.5 s (at most one
  poll interval), grow by x1.5 up to ``poll_interval`` and stop at ``defer_after`` seconds;
- resume: a trigger rebuilt long after its wait began (a triggerer restart) continues at the
  backoff delay its wait had reached, its first poll at a random point of that delay.

Errors: throttling and server-side error codes (:data:`TRANSIENT_CODES`), any HTTP 5xx answer and
a lost connection are transient; a wait goes on after ``tolerated_errors`` (4) of them in a row
and fails at the next one. Any other error fails the wait at once.

The policy is pure: time comes in as ``elapsed`` seconds and randomness from a ``random.Random``
the caller passes, so a seeded generator gives the same delays every time.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, replace

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

#: AWS error codes that mean "try again later": throttling and server-side failures.
TRANSIENT_CODES = frozenset({
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "ProvisionedThroughputExceededException",
    "SlowDown",
    "InternalFailure",
    "InternalError",
    "InternalServerError",
    "InternalServerException",
    "InternalServiceException",
    "InternalServiceError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "RequestTimeout",
    "RequestTimeoutException",
})
#: botocore errors of a call whose connection failed or timed out (no answer from AWS).
CONNECTION_ERRORS = (EndpointConnectionError, ConnectTimeoutError, ConnectionClosedError, ReadTimeoutError)
#: Transient errors in a row a wait goes on after; the next one fails it.
TOLERATED_ERRORS = 4
#: The first look of a deferrable operator before it defers comes after this many seconds (at
#: most one poll interval); the looks then back off by ``LOOK_BACKOFF_FACTOR`` up to the poll interval.
FIRST_LOOK_SECONDS = 0.5
LOOK_BACKOFF_FACTOR = 1.5
#: Floor of the gap between two looks (a zero poll interval must not spin).
MIN_LOOK_SECONDS = 0.05
#: A wait that starts this long after it began (beyond its first delay) is a resumed one.
RESUME_GRACE_SECONDS = 2.0
#: From the expected end to this multiple of the expected duration, the run is polled every poll interval.
EXPECTED_END_SPAN = 1.5


def is_transient(error: BaseException, codes: frozenset[str] = TRANSIENT_CODES) -> bool:
    """Whether ``error`` is throttling, a 5xx answer or a lost connection (worth waiting through).

    :param codes: the AWS error codes counted as transient (default :data:`TRANSIENT_CODES`).
    """
    if isinstance(error, CONNECTION_ERRORS):
        return True
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return code in codes or int(status) >= 500
    return False


def backoff_delays(start: float, factor: float = 1.5, cap: float = 60.0) -> Iterator[float]:
    """Yield delays: ``start``, then growing by ``factor`` up to ``cap`` seconds (0 stays 0)."""
    delay = max(0.0, float(start))
    cap = max(float(cap), delay)
    while True:
        yield delay
        delay = min(cap, delay * factor) if delay else 0.0


@dataclass(frozen=True)
class WaitPolicy:
    """How one wait polls: its delays, the errors it goes on after, and when it gives up.

    :param poll_interval: seconds of the first delay between two polls.
    :param backoff_factor: factor applied to the delay after each poll (1.0: a fixed interval).
    :param max_poll_interval: upper bound of the delay (never below ``poll_interval``).
    :param expected_seconds: how long such a run usually takes, if known (see the module doc).
    :param max_polls: the wait ends without the run's end after this many polls (``None``: no limit).
    :param until: seconds into the wait after which no further poll is made (``None``: no limit);
        the worker window before deferring.
    :param tolerated_errors: transient errors in a row the wait goes on after; the next fails it.
    :param transient_codes: AWS error codes counted as transient (5xx and lost connections always are).
    """

    poll_interval: float = 5.0
    backoff_factor: float = 1.5
    max_poll_interval: float = 60.0
    expected_seconds: float | None = None
    max_polls: int | None = None
    until: float | None = None
    tolerated_errors: int = TOLERATED_ERRORS
    transient_codes: frozenset[str] = TRANSIENT_CODES

    # -- delays -------------------------------------------------------------------------------
    @property
    def cap(self) -> float:
        """The largest delay: ``max_poll_interval``, or ``poll_interval`` when that is larger."""
        return max(float(self.max_poll_interval), max(0.0, float(self.poll_interval)))

    def grow(self, delay: float) -> float:
        """The backoff delay that follows ``delay``."""
        return min(self.cap, delay * float(self.backoff_factor)) if delay else 0.0

    def delays(self) -> Iterator[float]:
        """The plain backoff: ``poll_interval``, growing by ``backoff_factor`` up to the cap."""
        return backoff_delays(self.poll_interval, self.backoff_factor, self.cap)

    def shape(self, delay: float, elapsed: float) -> float:
        """Fit a backoff ``delay`` taken ``elapsed`` seconds into the wait to the expected end."""
        expected = self.expected_seconds
        if not expected or expected <= 0:
            return delay
        interval = float(self.poll_interval)
        near = expected - interval
        if elapsed < near:
            return min(delay, near - elapsed)
        if elapsed < EXPECTED_END_SPAN * expected + interval:
            return min(delay, interval)
        return delay

    def reached(self, elapsed: float, first_poll_delay: float = 0.0) -> float:
        """The backoff delay a wait has reached ``elapsed`` seconds after it began.

        The wait's first poll came ``first_poll_delay`` seconds after it began, each next one a
        backoff delay later; the delay in effect at ``elapsed`` is returned.
        """
        t, delay = float(first_poll_delay), max(0.0, float(self.poll_interval))
        while delay > 0 and t + delay < elapsed:
            t += delay
            grown = self.grow(delay)
            if grown == delay:  # at the cap (or a fixed interval): it stays there
                break
            delay = grown
        return delay

    def delay_at(self, elapsed: float) -> float:
        """The delay before the next poll of a wait that began ``elapsed`` seconds ago and kept no count.

        A sensor in reschedule mode runs each poke in a new process; its wait is known only by
        its duration.
        """
        return self.shape(self.reached(elapsed), elapsed)

    def resume(self, elapsed: float, first_poll_delay: float, rng: random.Random) -> tuple[float, float]:
        """``(seconds before the first poll, backoff delay to go on with)`` of a wait (re)started now.

        A wait started within its first delay (plus a grace of :data:`RESUME_GRACE_SECONDS`) is
        fresh: it waits ``first_poll_delay`` and backs off from ``poll_interval``. A wait started
        later was resumed (a triggerer restart rebuilt it): it goes on at the delay it had
        reached, its first poll at a point of that delay drawn from ``rng``, so the waits of a
        restarted triggerer do not all poll at once.
        """
        if elapsed <= first_poll_delay + RESUME_GRACE_SECONDS:
            return float(first_poll_delay), max(0.0, float(self.poll_interval))
        delay = self.reached(elapsed, first_poll_delay)
        return self.shape(rng.uniform(0.0, delay), elapsed), delay

    def looks_before_deferring(self, defer_after: float) -> WaitPolicy | None:
        """The policy of a deferrable operator's looks in the worker; None: defer without a look.

        The looks start after :data:`FIRST_LOOK_SECONDS` (at most one poll interval), back off by
        :data:`LOOK_BACKOFF_FACTOR` up to ``poll_interval`` and end ``defer_after`` seconds into
        the wait (after the first look, when ``defer_after`` is shorter). When the run usually
        takes longer than that (``expected_seconds``), looks cannot see its end: the operator
        defers at once.
        """
        window = max(0.0, float(defer_after))
        if self.expected_seconds and self.expected_seconds > window:
            return None
        interval = max(0.0, float(self.poll_interval))
        first = max(MIN_LOOK_SECONDS, min(FIRST_LOOK_SECONDS, interval))
        return replace(
            self,
            poll_interval=first,
            backoff_factor=LOOK_BACKOFF_FACTOR,
            max_poll_interval=interval,
            expected_seconds=None,
            until=max(window, first),  # at least one look, even with defer_after=0
        )

    # -- errors and limits --------------------------------------------------------------------
    def is_transient(self, error: BaseException) -> bool:
        """Whether ``error`` is throttling, a 5xx answer or a lost connection."""
        return is_transient(error, self.transient_codes)

    def tolerates(self, error: BaseException, in_a_row: int) -> bool:
        """Whether the wait goes on after ``error``, its ``in_a_row``-th error in a row."""
        return self.is_transient(error) and in_a_row <= self.tolerated_errors

    def out_of_polls(self, polls: int) -> bool:
        """Whether ``polls`` polls used up ``max_polls``."""
        return self.max_polls is not None and polls >= self.max_polls

    def start(self, *, delay: float | None = None, polls: int = 0) -> Waiting:
        """Begin a wait whose next backoff delay is ``delay`` (default ``poll_interval``)."""
        return Waiting(self, max(0.0, float(self.poll_interval if delay is None else delay)), polls)


@dataclass
class Waiting:
    """One wait in progress under a :class:`WaitPolicy`: its next backoff delay, polls and errors.

    A loop calls :meth:`polled` after each poll that answered, :meth:`failed` after each error,
    and sleeps :meth:`next_delay` before polling again.
    """

    policy: WaitPolicy
    backoff: float
    polls: int = 0
    errors: int = 0

    def polled(self) -> None:
        """Count a poll that answered (it ends a series of errors)."""
        self.polls += 1
        self.errors = 0

    def failed(self, error: BaseException) -> bool:
        """Count a failed poll; return whether the wait goes on after it."""
        self.errors += 1
        return self.policy.tolerates(error, self.errors)

    @property
    def exhausted(self) -> bool:
        """Whether the polls made used up ``max_polls``."""
        return self.policy.out_of_polls(self.polls)

    def ended(self, elapsed: float) -> bool:
        """Whether the wait is over its ``until`` bound, ``elapsed`` seconds after it began."""
        return self.policy.until is not None and elapsed >= self.policy.until

    def next_delay(self, elapsed: float = 0.0) -> float:
        """The seconds to sleep before the next poll, ``elapsed`` seconds into the wait."""
        delay = self.backoff
        self.backoff = self.policy.grow(delay)
        delay = self.policy.shape(delay, elapsed)
        if self.policy.until is not None:
            delay = min(delay, max(0.0, self.policy.until - elapsed))
        return delay
