"""The one waiting policy: delays (backoff, cap, expected end, worker window, resume), errors, and its users.

Expected delays are worked out by hand from the documented rules (5 s x1.5: 5, 7.5, 11.25, ...),
never read back from the policy.
"""

from __future__ import annotations

import random
from unittest.mock import MagicMock

import pytest
from airflow.providers.common.compat.sdk import AirflowException
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, NoCredentialsError

from airflow_sfn_etl.operators.base import check_before_defer
from airflow_sfn_etl.sensors.glue_crawler import GlueCrawlerSensor
from airflow_sfn_etl.triggers.glue import GlueJobTrigger
from airflow_sfn_etl.utils.polling import RunStatus, wait_until_done
from airflow_sfn_etl.utils.start_once import start_once
from airflow_sfn_etl.utils.waiting import TRANSIENT_CODES, WaitPolicy, is_transient

from .provider_support import client_error, collect, make_context, mock_hook


def throttled() -> Exception:
    return client_error("ThrottlingException", "Rate exceeded")


def server_error(status: int = 503) -> Exception:
    error = client_error("SomethingNew", "try later")
    error.response["ResponseMetadata"] = {"HTTPStatusCode": status}
    return error


def simulate(policy: WaitPolicy, polls: int) -> tuple[list[float], float]:
    """The delays of a wait whose polls take no time; returns them and the elapsed time at the end."""
    waiting, elapsed, delays = policy.start(), 0.0, []
    for _ in range(polls):
        delay = waiting.next_delay(elapsed)
        delays.append(delay)
        elapsed += delay
    return delays, elapsed


# -- delays -----------------------------------------------------------------------------------
def test_backoff_grows_by_factor_up_to_cap():
    delays, _ = simulate(WaitPolicy(poll_interval=5, backoff_factor=1.5, max_poll_interval=60), 9)
    assert delays == pytest.approx([5, 7.5, 11.25, 16.875, 25.3125, 37.96875, 56.953125, 60, 60])


def test_cap_is_never_below_the_poll_interval_and_a_factor_of_one_is_fixed():
    assert simulate(WaitPolicy(poll_interval=90, max_poll_interval=60), 3)[0] == [90, 90, 90]
    assert simulate(WaitPolicy(poll_interval=7, backoff_factor=1.0, max_poll_interval=60), 3)[0] == [7, 7, 7]
    assert simulate(WaitPolicy(poll_interval=0), 3)[0] == [0, 0, 0]


def test_expected_end_stops_short_of_it_then_polls_every_interval_until_one_and_a_half_times_it():
    policy = WaitPolicy(poll_interval=5, backoff_factor=1.5, max_poll_interval=60, expected_seconds=100)
    delays, _ = simulate(policy, 20)
    # Backoff 5, 7.5, 11.25, 16.875, 25.3125 (t = 65.9375), then cut to land on 100 - 5 = 95;
    # every 5 s from 95 until 1.5 x 100 + 5 = 155 (12 polls); then the backoff, at its cap by now.
    assert delays == pytest.approx([5, 7.5, 11.25, 16.875, 25.3125, 29.0625] + [5] * 12 + [60, 60])
    assert sum(delays[:6]) == pytest.approx(95)


def test_without_expected_end_the_same_wait_backs_off():
    delays, _ = simulate(WaitPolicy(poll_interval=5, backoff_factor=1.5, max_poll_interval=60), 7)
    assert delays[5] == pytest.approx(37.96875) and delays[6] == pytest.approx(56.953125)


def test_worker_window_first_look_after_half_a_second_then_x1_5_up_to_the_interval_until_defer_after():
    looks = WaitPolicy(poll_interval=5).looks_before_deferring(10)
    waiting, elapsed, delays = looks.start(), 0.0, []
    while not waiting.ended(elapsed):
        delays.append(waiting.next_delay(elapsed))
        elapsed += delays[-1]
    # 0.5, 0.75, 1.125, 1.6875, 2.53125 (t = 6.59375), then cut to end at 10 s.
    assert delays == pytest.approx([0.5, 0.75, 1.125, 1.6875, 2.53125, 3.40625])
    assert simulate(WaitPolicy(poll_interval=2).looks_before_deferring(60), 5)[0] == pytest.approx(
        [0.5, 0.75, 1.125, 1.6875, 2]
    )


def test_worker_window_edges():
    # defer_after=0: one look (after the first look delay), then defer.
    looks = WaitPolicy(poll_interval=5).looks_before_deferring(0)
    waiting = looks.start()
    assert waiting.next_delay(0.0) == 0.5 and not waiting.ended(0.0) and waiting.ended(0.5)
    # A zero poll interval looks every 0.05 s, not in a spin.
    assert simulate(WaitPolicy(poll_interval=0).looks_before_deferring(10), 3)[0] == [0.05, 0.05, 0.05]
    # A run known to take longer than the window: no look at all.
    assert WaitPolicy(poll_interval=5, expected_seconds=600).looks_before_deferring(10) is None
    assert WaitPolicy(poll_interval=5, expected_seconds=8).looks_before_deferring(10) is not None


def test_reschedule_delay_is_the_backoff_reached_at_the_elapsed_time():
    policy = WaitPolicy(poll_interval=5, backoff_factor=1.5, max_poll_interval=60)
    # Polls at 0, 5, 12.5, 23.75, 40.625: 30 s in, the 16.875 s delay is in effect.
    assert [policy.delay_at(t) for t in (0, 4, 30, 10_000)] == pytest.approx([5, 5, 16.875, 60])


# -- resume after a triggerer restart ---------------------------------------------------------
def test_fresh_wait_waits_its_first_delay_and_starts_the_backoff_at_the_interval():
    policy = WaitPolicy(poll_interval=5)
    assert policy.resume(0.5, 30.0, random.Random(1)) == (30.0, 5.0)
    assert policy.resume(31.9, 30.0, random.Random(1)) == (30.0, 5.0)  # within the 2 s grace


@pytest.mark.parametrize("seed", range(20))
def test_resumed_wait_continues_the_backoff_and_jitters_its_first_poll_within_that_delay(seed):
    policy = WaitPolicy(poll_interval=5, backoff_factor=1.5, max_poll_interval=60)
    # First poll at 0, then 5, 12.5, 23.75, 40.625: 30 s in, the 16.875 s delay is in effect.
    first, backoff = policy.resume(30.0, 0.0, random.Random(seed))
    assert backoff == pytest.approx(16.875)
    assert 0.0 <= first <= 16.875
    assert first == random.Random(seed).uniform(0.0, 16.875)
    first, backoff = policy.resume(86_400.0, 5.0, random.Random(seed))  # a day later: at the cap
    assert backoff == 60 and 0.0 <= first <= 60


def test_resumed_jitter_spreads_the_first_polls():
    policy = WaitPolicy(poll_interval=5, max_poll_interval=60)
    rng = random.Random(42)
    firsts = [policy.resume(3_600.0, 0.0, rng)[0] for _ in range(200)]
    assert all(0.0 <= f <= 60 for f in firsts)
    assert min(firsts) < 10 and max(firsts) > 50  # spread over the delay, not all at once


def test_resumed_first_poll_near_the_expected_end_comes_within_one_interval():
    policy = WaitPolicy(poll_interval=5, max_poll_interval=60, expected_seconds=35)
    for seed in range(20):
        first, _ = policy.resume(31.0, 0.0, random.Random(seed))
        assert 0.0 <= first <= 5


# -- errors -----------------------------------------------------------------------------------
def test_transient_errors_are_throttling_5xx_and_lost_connections():
    assert is_transient(throttled())
    assert is_transient(client_error("ServiceUnavailableException"))
    assert is_transient(server_error(500)) and is_transient(server_error(503))
    assert is_transient(EndpointConnectionError(endpoint_url="https://glue.us-east-1.amazonaws.com"))
    assert is_transient(ConnectTimeoutError(endpoint_url="https://glue.us-east-1.amazonaws.com"))
    assert not is_transient(client_error("AccessDeniedException"))
    assert not is_transient(server_error(400))
    assert not is_transient(NoCredentialsError())
    assert not is_transient(ValueError("bug"))
    assert {"Throttling", "ThrottlingException", "TooManyRequestsException", "InternalFailure"} <= TRANSIENT_CODES


def test_four_transient_errors_in_a_row_are_tolerated_the_fifth_fails():
    policy = WaitPolicy()
    assert [policy.tolerates(throttled(), n) for n in range(1, 7)] == [True] * 4 + [False] * 2
    assert not policy.tolerates(client_error("AccessDeniedException"), 1)
    waiting = policy.start()
    assert [waiting.failed(throttled()) for _ in range(4)] == [True] * 4
    waiting.polled()  # an answer ends the series
    assert [waiting.failed(throttled()) for _ in range(5)] == [True] * 4 + [False]
    assert WaitPolicy(tolerated_errors=0).tolerates(throttled(), 1) is False


def test_extra_codes_and_poll_limit():
    policy = WaitPolicy(transient_codes=TRANSIENT_CODES | {"ConcurrentRunsExceededException"}, max_polls=2)
    assert policy.tolerates(client_error("ConcurrentRunsExceededException"), 1)
    assert not WaitPolicy().tolerates(client_error("ConcurrentRunsExceededException"), 1)
    waiting = policy.start()
    waiting.polled()
    assert not waiting.exhausted
    waiting.polled()
    assert waiting.exhausted


# -- the waits that use it --------------------------------------------------------------------
def flaky(errors: list[Exception], then: RunStatus):
    calls = []

    def check() -> RunStatus:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return then

    return check, calls


def test_synchronous_wait_polls_through_four_transient_errors_and_fails_at_the_fifth():
    done = RunStatus("SUCCEEDED", done=True, ok=True)
    check, calls = flaky([throttled(), server_error(), throttled(), throttled()], done)
    slept: list[float] = []
    assert wait_until_done(check, WaitPolicy(poll_interval=1, backoff_factor=2), sleep=slept.append) is done
    assert len(calls) == 5 and slept == [1, 2, 4, 8]
    check, calls = flaky([throttled()] * 5, done)
    with pytest.raises(Exception, match="Rate exceeded"):
        wait_until_done(check, WaitPolicy(poll_interval=0), sleep=lambda _: None)
    assert len(calls) == 5
    check, calls = flaky([client_error("AccessDeniedException", "not authorized")], done)
    with pytest.raises(Exception, match="not authorized"):
        wait_until_done(check, WaitPolicy(poll_interval=0), sleep=lambda _: None)
    assert len(calls) == 1


def test_synchronous_wait_uses_the_expected_end():
    running = RunStatus("RUNNING")
    states = iter([running] * 7 + [RunStatus("SUCCEEDED", done=True, ok=True)])
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    policy = WaitPolicy(poll_interval=5, backoff_factor=1.5, max_poll_interval=60, expected_seconds=100)
    wait_until_done(lambda: next(states), policy, sleep=sleep, clock=lambda: now[0])
    assert slept == pytest.approx([5, 7.5, 11.25, 16.875, 25.3125, 29.0625, 5])


async def test_trigger_polls_through_transient_errors_and_reports_the_fifth_in_a_row():
    trigger = GlueJobTrigger(job_name="load_sales", run_id="jr_1", poll_interval=0)
    trigger.hook = mock_hook()
    trigger.hook.conn.get_job_run.side_effect = [throttled()] * 4 + [
        {"JobRun": {"JobName": "load_sales", "Id": "jr_1", "JobRunState": "SUCCEEDED"}}
    ]
    [event] = await collect(trigger)
    assert event["status"] == "success" and trigger.hook.conn.get_job_run.call_count == 5

    trigger = GlueJobTrigger(job_name="load_sales", run_id="jr_1", poll_interval=0)
    trigger.hook = mock_hook()
    trigger.hook.conn.get_job_run.side_effect = throttled()
    [event] = await collect(trigger)
    assert event["status"] == "error" and "Rate exceeded" in event["message"]
    assert trigger.hook.conn.get_job_run.call_count == 5


async def test_trigger_reports_a_non_transient_error_at_once():
    trigger = GlueJobTrigger(job_name="load_sales", run_id="jr_1", poll_interval=0)
    trigger.hook = mock_hook()
    trigger.hook.conn.get_job_run.side_effect = client_error("AccessDeniedException", "not authorized")
    [event] = await collect(trigger)
    assert event["status"] == "error" and "not authorized" in event["message"]
    assert trigger.hook.conn.get_job_run.call_count == 1


def window_operator(defer_after: float) -> MagicMock:
    """An operator as check_before_defer sees it: a hook, a log and ``defer_after``."""
    return MagicMock(name="operator", defer_after=defer_after)


def test_worker_window_looks_through_a_throttled_look(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    trigger = GlueJobTrigger(job_name="load_sales", run_id="jr_1", poll_interval=5)
    operator = window_operator(30)
    operator.hook.conn.get_job_run.side_effect = [
        throttled(),
        {"JobRun": {"JobName": "load_sales", "Id": "jr_1", "JobRunState": "RUNNING"}},
        {"JobRun": {"JobName": "load_sales", "Id": "jr_1", "JobRunState": "SUCCEEDED"}},
    ]
    status = check_before_defer(operator, trigger)
    assert status is not None and status.state == "SUCCEEDED"
    assert trigger.polls_done == 1  # the RUNNING look; the throttled one is no poll


def test_worker_window_hands_a_non_transient_error_to_the_trigger(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    trigger = GlueJobTrigger(job_name="load_sales", run_id="jr_1", poll_interval=5)
    operator = window_operator(30)
    operator.hook.conn.get_job_run.side_effect = client_error("AccessDeniedException", "not authorized")
    assert check_before_defer(operator, trigger) is None  # defer: the trigger reports the error
    assert operator.hook.conn.get_job_run.call_count == 1 and trigger.polls_done == 0


def test_worker_window_hands_over_at_the_fifth_transient_error_in_a_row(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    trigger = GlueJobTrigger(job_name="load_sales", run_id="jr_1", poll_interval=5)
    operator = window_operator(3_600)
    operator.hook.conn.get_job_run.side_effect = throttled()
    assert check_before_defer(operator, trigger) is None
    assert operator.hook.conn.get_job_run.call_count == 5


def test_worker_window_stops_looking_when_max_polls_is_used_up(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    trigger = GlueJobTrigger(job_name="load_sales", run_id="jr_1", poll_interval=5, max_polls=3)
    operator = window_operator(3_600)
    operator.hook.conn.get_job_run.return_value = {
        "JobRun": {"JobName": "load_sales", "Id": "jr_1", "JobRunState": "RUNNING"}
    }
    assert check_before_defer(operator, trigger) is None
    assert operator.hook.conn.get_job_run.call_count == 3 and trigger.polls_done == 3
    assert trigger.first_poll_delay == 5


def crawl_sensor(**kwargs) -> GlueCrawlerSensor:
    sensor = GlueCrawlerSensor(task_id="wait", crawler_name="sales", deferrable=False, **kwargs)
    sensor.hook = mock_hook()
    return sensor


def test_poke_mode_sensor_backs_off_like_its_trigger(monkeypatch):
    sleeps: list[float] = []
    monkeypatch.setattr("time.sleep", sleeps.append)
    sensor = crawl_sensor(poke_interval=2, max_poll_interval=5)
    sensor.hook.get_crawler.side_effect = [{"Name": "sales", "State": "RUNNING"}] * 4 + [
        {"Name": "sales", "State": "READY", "LastCrawl": {"Status": "SUCCEEDED"}}
    ]
    assert sensor.execute(make_context()) == "sales"
    assert sleeps == [2, 3, 4.5, 5]


def test_poke_mode_sensor_polls_through_throttling_and_fails_at_once_on_other_errors(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    sensor = crawl_sensor(poke_interval=1)
    sensor.hook.get_crawler.side_effect = [throttled(), server_error(), {"Name": "sales", "State": "RUNNING"},
                                           {"Name": "sales", "State": "READY", "LastCrawl": {"Status": "SUCCEEDED"}}]
    assert sensor.execute(make_context()) == "sales"

    sensor = crawl_sensor(poke_interval=1)
    sensor.hook.get_crawler.side_effect = [throttled()] * 5
    with pytest.raises(Exception, match="Rate exceeded"):
        sensor.execute(make_context())
    assert sensor.hook.get_crawler.call_count == 5

    sensor = crawl_sensor(poke_interval=1)
    sensor.hook.get_crawler.side_effect = client_error("AccessDeniedException", "not authorized")
    with pytest.raises(Exception, match="not authorized"):
        sensor.execute(make_context())
    assert sensor.hook.get_crawler.call_count == 1


def test_throttled_checks_do_not_count_towards_max_polls(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    sensor = crawl_sensor(poke_interval=1, max_polls=2)
    sensor.hook.get_crawler.side_effect = [throttled(), {"Name": "sales", "State": "RUNNING"}, throttled(),
                                           {"Name": "sales", "State": "RUNNING"}]
    with pytest.raises(AirflowException, match="did not finish after 2 polls"):
        sensor.execute(make_context())
    assert sensor.hook.get_crawler.call_count == 4


def test_start_call_backs_off_by_doubling_and_gives_up_after_six_attempts():
    attempts: list[int] = []

    def start() -> str:
        attempts.append(1)
        if len(attempts) < 6:
            raise throttled()
        return "jr_1"

    slept: list[float] = []
    assert start_once(start, lambda: None, what="run", sleep=slept.append) == ("jr_1", False)
    assert slept == [1, 2, 4, 8, 16]
    attempts.clear()

    def always_throttled() -> str:
        attempts.append(1)
        raise throttled()

    with pytest.raises(Exception, match="Rate exceeded"):
        start_once(always_throttled, lambda: None, what="run", sleep=lambda _: None)
    assert len(attempts) == 6
