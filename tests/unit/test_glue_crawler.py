"""Glue crawler operator, sensor and trigger: LastCrawl judges the crawl, running crawls are joined."""

from __future__ import annotations

import boto3
import pytest
from airflow.providers.common.compat.sdk import AirflowException, TaskDeferred
from moto import mock_aws

from airflow_sfn_etl.operators.glue_crawler import GlueCrawlerOperator
from airflow_sfn_etl.sensors.glue_crawler import GlueCrawlerSensor
from airflow_sfn_etl.triggers.glue_crawler import GlueCrawlerTrigger

from .provider_support import client_error, collect, make_context, mock_hook, roundtrip


def crawler(state: str, status: str | None = None, error: str | None = None) -> dict:
    data = {"Name": "sales", "State": state}
    if status:
        data["LastCrawl"] = {"Status": status, **({"ErrorMessage": error} if error else {})}
    return data


def make_op(**kwargs) -> GlueCrawlerOperator:
    return GlueCrawlerOperator(task_id="crawl", crawler_name="sales", poll_interval=0, **kwargs)


def create_crawler(name: str = "sales") -> None:
    boto3.client("glue").create_crawler(
        Name=name, Role="arn:aws:iam::123456789012:role/glue", Targets={"S3Targets": [{"Path": "s3://b/p/"}]}
    )


@mock_aws
def test_starts_crawl_and_returns_name_without_waiting():
    create_crawler()
    op = make_op(wait_for_completion=False)
    assert op.execute(make_context()) == "sales"
    assert boto3.client("glue").get_crawler(Name="sales")["Crawler"]["State"] == "RUNNING"


@mock_aws
def test_running_crawl_is_joined_not_failed():
    create_crawler()
    boto3.client("glue").start_crawler(Name="sales")
    op = make_op(wait_for_completion=False)
    assert op.execute(make_context()) == "sales"  # upstream raises CrawlerRunningException here


@mock_aws
def test_max_polls_times_out_naming_crawler_and_polls():
    create_crawler()  # moto's crawl never finishes
    op = make_op(max_polls=3)
    with pytest.raises(AirflowException, match=r"Glue crawler 'sales' did not finish after 3 polls"):
        op.execute(make_context())


@mock_aws
def test_unknown_crawler_fails_with_fix():
    op = make_op()
    with pytest.raises(AirflowException, match=r"Glue crawler 'sales' does not exist.*fix crawler_name"):
        op.execute(make_context())


def test_crawler_running_exception_on_start_joins():
    hook = mock_hook()
    hook.get_crawler.side_effect = [
        crawler("READY", "SUCCEEDED"),
        crawler("RUNNING"),
        crawler("READY", "SUCCEEDED"),
    ]
    hook.glue_client.start_crawler.side_effect = client_error("CrawlerRunningException")
    op = make_op()
    op.hook = hook
    assert op.execute(make_context()) == "sales"
    assert hook.get_crawler.call_count == 3


def test_success_requires_last_crawl_succeeded():
    hook = mock_hook()
    hook.get_crawler.side_effect = [
        crawler("READY"),
        crawler("RUNNING"),
        crawler("STOPPING"),
        crawler("READY", "SUCCEEDED"),
    ]
    op = make_op()
    op.hook = hook
    assert op.execute(make_context()) == "sales"
    hook.glue_client.start_crawler.assert_called_once_with(Name="sales")


@pytest.mark.parametrize("status", ["FAILED", "CANCELLED"])
def test_failed_crawl_fails_with_error_message(status):
    hook = mock_hook()
    hook.get_crawler.side_effect = [
        crawler("READY"),
        crawler("READY", status, "Insufficient Lake Formation permission(s) on s3://b/p"),
    ]
    op = make_op()
    op.hook = hook
    with pytest.raises(AirflowException, match=rf"crawl {status}: Insufficient Lake Formation permission"):
        op.execute(make_context())


def test_deferrable_defers_to_trigger_and_complete_raises_reason():
    hook = mock_hook()
    hook.get_crawler.return_value = crawler("READY")
    op = make_op(deferrable=True, max_polls=7)
    op.hook = hook
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(make_context())
    trigger = deferred.value.trigger
    assert isinstance(trigger, GlueCrawlerTrigger)
    assert (trigger.crawler_name, trigger.max_polls) == ("sales", 7)
    assert op.execute_complete(make_context(), {"status": "success"}) == "sales"
    with pytest.raises(AirflowException, match="crawl FAILED: boom"):
        op.execute_complete(
            make_context(), {"status": "failed", "message": "Glue crawler 'sales' crawl FAILED: boom"}
        )


def test_on_kill_stops_crawl():
    hook = mock_hook()
    hook.get_crawler.return_value = crawler("READY")
    op = make_op(wait_for_completion=False)
    op.hook = hook
    op.execute(make_context())
    op.on_kill()
    hook.glue_client.stop_crawler.assert_called_once_with(Name="sales")


@mock_aws
def test_on_kill_stops_crawl_in_moto():
    create_crawler()
    op = make_op(wait_for_completion=False)
    op.execute(make_context())
    op.on_kill()
    assert boto3.client("glue").get_crawler(Name="sales")["Crawler"]["State"] != "RUNNING"


def test_trigger_serialize_roundtrip():
    trigger = GlueCrawlerTrigger(crawler_name="sales", poll_interval=2, max_polls=9, region_name="eu-west-1")
    again = roundtrip(trigger)
    assert again.serialize() == trigger.serialize()
    assert again.crawler_name == "sales" and again.max_polls == 9 and again.region_name == "eu-west-1"


async def test_trigger_run_success_after_running():
    trigger = GlueCrawlerTrigger(crawler_name="sales", poll_interval=0)
    trigger.hook = mock_hook()
    trigger.hook.get_crawler.side_effect = [crawler("RUNNING"), crawler("READY", "SUCCEEDED")]
    events = await collect(trigger)
    assert events == [
        {
            "crawler_name": "sales",
            "status": "success",
            "state": "SUCCEEDED",
            "message": "Glue crawler 'sales' succeeded",
            "crawl_status": "SUCCEEDED",
        }
    ]


@pytest.mark.parametrize("status", ["FAILED", "CANCELLED"])
async def test_trigger_run_failure_carries_error_message(status):
    trigger = GlueCrawlerTrigger(crawler_name="sales", poll_interval=0)
    trigger.hook = mock_hook()
    trigger.hook.get_crawler.return_value = crawler("READY", status, "Schema inference failed")
    [event] = await collect(trigger)
    assert event["status"] == "failed"
    assert event["message"] == f"Glue crawler 'sales' crawl {status}: Schema inference failed"


async def test_trigger_run_timeout_after_max_polls():
    trigger = GlueCrawlerTrigger(crawler_name="sales", poll_interval=0, max_polls=2)
    trigger.hook = mock_hook()
    trigger.hook.get_crawler.return_value = crawler("RUNNING")
    [event] = await collect(trigger)
    assert event["status"] == "timeout"
    assert event["message"] == "Timed out: Glue crawler 'sales' did not finish after 2 polls"


async def test_trigger_on_kill_stops_crawler():
    trigger = GlueCrawlerTrigger(crawler_name="sales")
    trigger.hook = mock_hook()
    await trigger.on_kill()
    trigger.hook.glue_client.stop_crawler.assert_called_once_with(Name="sales")


def test_sensor_poke_and_failure():
    sensor = GlueCrawlerSensor(task_id="wait", crawler_name="sales", poke_interval=1)
    sensor.hook = mock_hook()
    sensor.hook.get_crawler.return_value = crawler("RUNNING")
    assert sensor.poke(make_context()) is False
    sensor.hook.get_crawler.return_value = crawler("READY", "SUCCEEDED")
    assert sensor.poke(make_context()).xcom_value == "sales"
    sensor.hook.get_crawler.return_value = crawler("READY", "FAILED", "Access denied")
    with pytest.raises(AirflowException, match="crawl FAILED: Access denied"):
        sensor.poke(make_context())


def test_sensor_deferrable_defers_with_poke_interval():
    sensor = GlueCrawlerSensor(
        task_id="wait", crawler_name="sales", poke_interval=4, deferrable=True, timeout=60
    )
    sensor.hook = mock_hook()
    sensor.hook.get_crawler.return_value = crawler("RUNNING")
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(make_context())
    assert deferred.value.trigger.poll_interval == 4
    assert deferred.value.timeout.total_seconds() == 60
    with pytest.raises(AirflowException, match="Access denied"):
        sensor.execute_complete(
            make_context(), {"status": "failed", "message": "crawl FAILED: Access denied"}
        )
