"""Backoff, the worker wait loop and the run key that ties a task try chain to one AWS run."""

from __future__ import annotations

import itertools

import pytest
from airflow.providers.common.compat.sdk import AirflowException

from airflow_sfn_etl.utils.polling import PollTimeout, RunStatus, raise_for_event, wait_until_done
from airflow_sfn_etl.utils.run_key import idempotency_token, run_key, sfn_name, try_chain
from airflow_sfn_etl.utils.waiting import backoff_delays

from .provider_support import make_context


def test_backoff_grows_by_factor_up_to_cap():
    assert list(itertools.islice(backoff_delays(4, 2, 30), 5)) == [4, 8, 16, 30, 30]
    assert list(itertools.islice(backoff_delays(0), 3)) == [0, 0, 0]


def test_wait_until_done_sleeps_with_backoff_and_returns_terminal_status():
    states = iter([RunStatus("RUNNING"), RunStatus("RUNNING"), RunStatus("SUCCEEDED", done=True, ok=True)])
    slept = []
    status = wait_until_done(lambda: next(states), poll_interval=2, backoff_factor=3, sleep=slept.append)
    assert status.state == "SUCCEEDED" and slept == [2, 6]


def test_wait_until_done_times_out_with_message():
    with pytest.raises(PollTimeout, match="gave up after 3"):
        wait_until_done(
            lambda: RunStatus("RUNNING"),
            poll_interval=0,
            max_polls=3,
            timeout_message=lambda n: f"gave up after {n}",
            sleep=lambda _: None,
        )


def test_raise_for_event():
    assert raise_for_event({"status": "success", "x": 1}) == {"status": "success", "x": 1}
    with pytest.raises(AirflowException, match="reason here"):
        raise_for_event({"status": "failed", "message": "reason here"})
    with pytest.raises(AirflowException, match="'error'"):
        raise_for_event({"status": "error"})
    with pytest.raises(AirflowException, match="no event"):
        raise_for_event(None)


def test_run_key_and_try_chain():
    assert run_key(make_context(task_id="t")) == "etl_dag/manual__2024-01-01T00:00:00+00:00/t"
    assert run_key(make_context(task_id="t", map_index=3)).endswith("/t/3")
    # Retries keep the chain; a clear (max_tries = try_number + retries) starts a new one.
    assert try_chain(make_context(try_number=3, max_tries=2, retries=2)) == 1
    assert try_chain(make_context(try_number=4, max_tries=5, retries=2)) == 4
    assert run_key(make_context(task_id="t", try_number=4, max_tries=5, retries=2)).endswith("/t#4")


def test_idempotency_token_depends_on_parts():
    context = make_context()
    assert idempotency_token(context, "a") == idempotency_token(context, "a")
    assert idempotency_token(context, "a") != idempotency_token(context, "b")
    assert idempotency_token(context, "ab") != idempotency_token(context, "a", "b")


def test_sfn_name_keeps_suffix_within_80():
    name = sfn_name("x" * 100, suffix="-r2")
    assert len(name) == 80 and name.endswith("-r2")
    assert sfn_name("a/b:c d") == "a_b_c_d"
