"""DataBrew operator, sensor and trigger: FAILED/STOPPED/TIMEOUT fail (upstream counts them as success)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from airflow.providers.common.compat.sdk import AirflowException, TaskDeferred

from airflow_sfn_etl.operators.databrew import DataBrewStartJobOperator
from airflow_sfn_etl.sensors.databrew import DataBrewJobSensor
from airflow_sfn_etl.triggers.databrew import DataBrewJobTrigger

from .provider_support import client_error, collect, make_context, mock_hook, roundtrip


def run(state: str, run_id: str = "db_1", error: str | None = None, day: int = 1) -> dict:
    data = {"RunId": run_id, "State": state, "StartedOn": datetime(2024, 1, day, tzinfo=timezone.utc)}
    if error:
        data["ErrorMessage"] = error
    return data


def make_op(hook, **kwargs) -> DataBrewStartJobOperator:
    op = DataBrewStartJobOperator(task_id="brew", job_name="clean_sales", poll_interval=0, **kwargs)
    op.hook = hook
    return op


def new_hook(*states: dict, runs: list | None = None):
    hook = mock_hook()
    hook.conn.list_job_runs.return_value = {"JobRuns": runs or []}
    hook.conn.start_job_run.return_value = {"RunId": "db_1"}
    hook.conn.describe_job_run.side_effect = list(states)
    return hook


def test_runs_job_to_success():
    hook = new_hook(run("STARTING"), run("RUNNING"), run("SUCCEEDED"))
    assert make_op(hook).execute(make_context()) == "db_1"
    hook.conn.start_job_run.assert_called_once_with(Name="clean_sales")
    assert hook.conn.describe_job_run.call_count == 3


@pytest.mark.parametrize("state", ["FAILED", "STOPPED", "TIMEOUT"])
def test_failure_states_fail_with_error_message(state):
    hook = new_hook(run("RUNNING"), run(state, error="Recipe step 3: column 'date' not found"))
    with pytest.raises(AirflowException, match=rf"run db_1 {state}: Recipe step 3: column 'date' not found"):
        make_op(hook).execute(make_context())


def test_retry_attaches_to_running_run_instead_of_starting():
    runs = [run("SUCCEEDED", "db_old", day=1), run("RUNNING", "db_live", day=2)]
    hook = new_hook(run("SUCCEEDED", "db_live"), runs=runs)
    retry = make_context(try_number=2, max_tries=1, retries=1)
    assert make_op(hook).execute(retry) == "db_live"
    hook.conn.start_job_run.assert_not_called()
    hook.conn.describe_job_run.assert_called_with(Name="clean_sales", RunId="db_live")


def test_unknown_job_fails_with_fix():
    hook = mock_hook()
    hook.conn.list_job_runs.side_effect = client_error("ResourceNotFoundException")
    with pytest.raises(AirflowException, match="DataBrew job 'clean_sales' does not exist.*fix job_name"):
        make_op(hook).execute(make_context())


def test_on_kill_stops_run():
    hook = new_hook()
    op = make_op(hook, wait_for_completion=False)
    assert op.execute(make_context()) == "db_1"
    op.on_kill()
    hook.conn.stop_job_run.assert_called_once_with(Name="clean_sales", RunId="db_1")


def test_deferrable_defers_then_complete_checks_event():
    hook = new_hook()
    op = make_op(hook, deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(make_context())
    trigger = deferred.value.trigger
    assert isinstance(trigger, DataBrewJobTrigger) and trigger.run_id == "db_1"
    assert op.execute_complete(make_context(), {"status": "success", "run_id": "db_1"}) == "db_1"
    with pytest.raises(AirflowException, match="STOPPED: Stopped by user"):
        op.execute_complete(
            make_context(), {"status": "failed", "message": "run db_1 STOPPED: Stopped by user"}
        )
    with pytest.raises(AirflowException, match="no event"):
        op.execute_complete(make_context(), None)


def test_trigger_serialize_roundtrip():
    trigger = DataBrewJobTrigger(job_name="clean_sales", run_id="db_1", poll_interval=1, backoff_factor=2)
    again = roundtrip(trigger)
    assert again.serialize() == trigger.serialize()
    assert (again.job_name, again.run_id, again.backoff_factor) == ("clean_sales", "db_1", 2)


async def test_trigger_run_success():
    trigger = DataBrewJobTrigger(job_name="clean_sales", run_id="db_1", poll_interval=0)
    trigger.hook = new_hook(run("RUNNING"), run("SUCCEEDED"))
    [event] = await collect(trigger)
    assert event == {
        "job_name": "clean_sales",
        "run_id": "db_1",
        "status": "success",
        "state": "SUCCEEDED",
        "message": "DataBrew job 'clean_sales' run db_1 succeeded",
    }


@pytest.mark.parametrize("state", ["FAILED", "STOPPED", "TIMEOUT"])
async def test_trigger_run_failure_states(state):
    trigger = DataBrewJobTrigger(job_name="clean_sales", run_id="db_1", poll_interval=0)
    trigger.hook = new_hook(run(state, error="Access denied to s3://out"))
    [event] = await collect(trigger)
    assert event["status"] == "failed"
    assert event["message"] == f"DataBrew job 'clean_sales' run db_1 {state}: Access denied to s3://out"


async def test_trigger_on_kill_stops_run():
    trigger = DataBrewJobTrigger(job_name="clean_sales", run_id="db_1")
    trigger.hook = mock_hook()
    await trigger.on_kill()
    trigger.hook.conn.stop_job_run.assert_called_once_with(Name="clean_sales", RunId="db_1")


def test_sensor_poke_states():
    sensor = DataBrewJobSensor(task_id="wait", job_name="clean_sales", run_id="db_1")
    sensor.hook = new_hook(
        run("RUNNING"), run("SUCCEEDED"), run("TIMEOUT", error="Job timed out after 60 min")
    )
    assert sensor.poke(make_context()) is False
    assert sensor.poke(make_context()).xcom_value == "db_1"
    with pytest.raises(AirflowException, match="TIMEOUT: Job timed out after 60 min"):
        sensor.poke(make_context())


def test_sensor_deferrable_returns_immediately_when_done():
    sensor = DataBrewJobSensor(task_id="wait", job_name="clean_sales", run_id="db_1", deferrable=True)
    sensor.hook = new_hook(run("SUCCEEDED"))
    assert sensor.execute(make_context()) == "db_1"
