"""Start an AWS run at most once, even when the start call's response is lost.

botocore retries a throttled or 5xx call by itself. For a call that starts a run and has no
idempotency token (Glue ``StartJobRun``, DataBrew ``StartJobRun``, ``StartCrawler``) that is
unsafe: when AWS started the run but the response was lost (HTTP 500 after the fact, a dropped
connection), the SDK's retry starts a *second* run. So start calls go through a client with
SDK retries off, and :func:`start_once` retries them itself: after each transient error it
first looks for the run the failed call may have started (``find``) and attaches to it; only
when there is none does it call start again, after a backoff.

Calls that carry an idempotency token (Athena ``ClientRequestToken``, a Step Functions execution
name) are safe to retry and keep the SDK's retries.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from botocore.config import Config

from airflow_sfn_etl.utils.waiting import TRANSIENT_CODES, WaitPolicy

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Attempts of a start call (the last transient error is raised) and its backoff: 1 s, x2, up to 30 s.
START_ATTEMPTS = 6
START_BACKOFF = 1.0
START_BACKOFF_FACTOR = 2.0
START_MAX_BACKOFF = 30.0


def single_attempt_client(hook: Any, attr: str = "conn") -> Any:
    """The hook's boto3 client with botocore's own retries turned off (one HTTP attempt per call).

    A hook that is not an ``AwsBaseHook`` (a test double) is asked for its client ``attr`` as it is.
    """
    if not isinstance(hook, AwsBaseHook):
        return getattr(hook, attr)
    once = Config(retries={"total_max_attempts": 1, "mode": "standard"})
    config = hook.config.merge(once) if hook.config is not None else once
    return hook.get_client_type(config=config)


def start_once(
    start: Callable[[], T],
    find: Callable[[], T | None],
    *,
    what: str,
    attempts: int | None = None,
    backoff: float | None = None,
    retry_codes: frozenset[str] = frozenset(),
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[T, bool]:
    """Return ``(run, attached)``: ``start()``'s result, or the run ``find()`` found after a lost start.

    Non-transient errors are raised at once (``retry_codes`` adds AWS error codes worth retrying,
    e.g. ``ConcurrentRunsExceededException``); after ``attempts`` transient errors the last is raised.
    """
    attempts = START_ATTEMPTS if attempts is None else attempts
    policy = WaitPolicy(
        poll_interval=START_BACKOFF if backoff is None else backoff,
        backoff_factor=START_BACKOFF_FACTOR,
        max_poll_interval=START_MAX_BACKOFF,
        tolerated_errors=attempts - 1,
        transient_codes=TRANSIENT_CODES | retry_codes,
    )
    retrying = policy.start()
    while True:
        try:
            return start(), False
        except Exception as error:
            if not retrying.failed(error):
                raise
            log.warning("Starting %s failed (%s), attempt %d of %d", what, error, retrying.errors, attempts)
            found = find()
            if found is not None:
                log.warning("%s was started by the call whose response was lost: attaching to it", what)
                return found, True
            sleep(retrying.next_delay())
