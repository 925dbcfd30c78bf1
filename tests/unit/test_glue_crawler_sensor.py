"""GlueCrawlerSensor's ``wait_time`` (fixed interval, templated) and ``max_polls``, in both modes."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from airflow.providers.common.compat.sdk import AirflowException, TaskDeferred
from airflow.sdk import DAG

from airflow_sfn_etl.asl import compile_dag, definition, validate
from airflow_sfn_etl.sensors.glue_crawler import GlueCrawlerSensor
from airflow_sfn_etl.triggers.glue_crawler import GlueCrawlerTrigger

from .provider_support import collect, make_context, mock_hook, roundtrip

TIMEOUT = "Timed out: Glue crawler 'sales' did not finish after 3 polls"


def crawler(state: str, status: str | None = None) -> dict:
    data: dict = {"Name": "sales", "State": state}
    if status:
        data["LastCrawl"] = {"Status": status}
    return data


def make_sensor(**kwargs) -> GlueCrawlerSensor:
    sensor = GlueCrawlerSensor(task_id="wait", crawler_name="sales", **kwargs)
    sensor.hook = mock_hook()
    return sensor


def test_poke_mode_polls_every_wait_time_and_times_out_after_max_polls(monkeypatch):
    sleeps: list[float] = []
    monkeypatch.setattr("time.sleep", sleeps.append)
    sensor = make_sensor(wait_time="{{ params.wait_time }}", max_polls=3, deferrable=False)
    sensor.wait_time = "7"  # as rendered from "{{ params.wait_time }}"
    sensor.hook.get_crawler.return_value = crawler("RUNNING")
    with pytest.raises(AirflowException, match=TIMEOUT):
        sensor.execute(make_context())
    assert sensor.hook.get_crawler.call_count == 3
    assert sleeps == [7.0, 7.0]
    assert sensor.wait_time == 7 and sensor.poke_interval == 7.0


def test_poke_mode_succeeds_within_max_polls(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    sensor = make_sensor(wait_time=2, max_polls=3, deferrable=False)
    sensor.hook.get_crawler.side_effect = [
        crawler("RUNNING"),
        crawler("RUNNING"),
        crawler("READY", "SUCCEEDED"),
    ]
    assert sensor.execute(make_context()) == "sales"


def test_deferrable_first_check_counts_and_trigger_polls_at_fixed_interval():
    sensor = make_sensor(wait_time="{{ params.wait_time }}", max_polls=3, deferrable=True, timeout=600)
    sensor.wait_time = "30"
    sensor.hook.get_crawler.return_value = crawler("RUNNING")
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(make_context())
    trigger = deferred.value.trigger
    assert isinstance(trigger, GlueCrawlerTrigger)
    assert (trigger.poll_interval, trigger.backoff_factor, trigger.max_poll_interval) == (30.0, 1.0, 30.0)
    assert (trigger.max_polls, trigger.polls_done, trigger.first_poll_delay) == (3, 1, 30.0)
    again = roundtrip(trigger)
    assert again.serialize() == trigger.serialize()


def test_deferrable_max_polls_one_fails_in_the_worker():
    sensor = make_sensor(wait_time=5, max_polls=1, deferrable=True)
    sensor.hook.get_crawler.return_value = crawler("RUNNING")
    with pytest.raises(AirflowException, match="did not finish after 1 polls"):
        sensor.execute(make_context())


async def test_trigger_waits_exactly_wait_time_and_counts_the_worker_poll(monkeypatch):
    delays: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        delays.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    trigger = GlueCrawlerTrigger(
        crawler_name="sales",
        poll_interval=30,
        backoff_factor=1.0,
        max_poll_interval=30,
        max_polls=3,
        polls_done=1,
        first_poll_delay=30,
    )
    trigger.hook = mock_hook()
    trigger.hook.get_crawler.return_value = crawler("RUNNING")
    [event] = await collect(trigger)
    assert event["status"] == "timeout" and event["message"] == TIMEOUT
    assert trigger.hook.get_crawler.call_count == 2
    assert delays == [30, 30]


def test_without_wait_time_the_trigger_backs_off():
    sensor = make_sensor(poke_interval=4, deferrable=True)
    sensor.hook.get_crawler.return_value = crawler("RUNNING")
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(make_context())
    assert deferred.value.trigger.backoff_factor == 1.5
    assert deferred.value.trigger.max_polls is None


@pytest.mark.parametrize("bad", ["soon", "0", "2.5", -1, True])
def test_bad_wait_time_fails_clearly(bad):
    if isinstance(bad, str):
        sensor = make_sensor(wait_time="{{ params.wait_time }}")
        sensor.wait_time = bad
        with pytest.raises(AirflowException, match="Task 'wait': wait_time"):
            sensor.execute(make_context())
    else:
        with pytest.raises(AirflowException, match="Task 'wait': wait_time"):
            make_sensor(wait_time=bad)


def test_bad_max_polls_and_reschedule_are_refused():
    with pytest.raises(ValueError, match="max_polls must be a positive"):
        make_sensor(max_polls=0)
    with pytest.raises(ValueError, match="mode='reschedule'"):
        make_sensor(max_polls=2, mode="reschedule")


def _compile(**kwargs) -> dict:
    with DAG(dag_id="s", schedule=None, start_date=datetime(2026, 1, 1), params={"wait_time": 60}) as dag:
        GlueCrawlerSensor(task_id="wait", crawler_name="cr", **kwargs)
    doc = definition(compile_dag(dag))
    assert validate(doc) == []
    return doc


def test_sensor_compiles_to_wait_seconds_path_and_bounded_loop():
    states = _compile(wait_time="{{ params.wait_time }}", max_polls=3)["States"]
    assert states["wait: Init Poll Count"]["Next"] == "wait: Wait"
    assert states["wait: Wait"]["SecondsPath"] == "$.wait_time"
    assert states["wait: Count Poll"]["Parameters"] == {"count.$": "States.MathAdd($.wait_polls.count, 1)"}
    assert states["wait: Timed Out"] == {
        "Type": "Fail",
        "Error": "Glue.CrawlerTimeout",
        "Cause": "Crawler cr did not finish after 3 polls",
    }
    assert "aws-sdk:glue:startCrawler" not in str(states)


def test_sensor_compiles_literal_wait_time_and_unbounded_loop():
    states = _compile(wait_time=15)["States"]
    assert states["wait: Wait"]["Seconds"] == 15
    assert states["wait: Ready?"]["Default"] == "wait: Wait"
    assert "wait: Count Poll" not in states


def test_sensor_without_wait_time_uses_poke_interval():
    assert _compile(poke_interval=20)["States"]["wait: Wait"]["Seconds"] == 20


def test_sensor_wait_time_with_other_jinja_is_refused():
    from airflow_sfn_etl.asl import AslCompileError

    with pytest.raises(AslCompileError, match="wait_time"):
        _compile(wait_time="{{ params.wait_time }}0")
