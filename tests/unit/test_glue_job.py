"""Glue job operator, sensor and trigger: one run per try chain, failures carry ErrorMessage."""

from __future__ import annotations

from datetime import datetime, timezone

import boto3
import pytest
from airflow.providers.common.compat.sdk import AirflowException, TaskDeferred
from moto import mock_aws

from airflow_sfn_etl.operators.glue import RUN_KEY_ARGUMENT, GlueJobOperator
from airflow_sfn_etl.sensors.glue import GlueJobSensor
from airflow_sfn_etl.triggers.glue import GlueJobTrigger
from airflow_sfn_etl.utils.polling import RunStatus

from .provider_support import client_error, collect, make_context, mock_hook, roundtrip


def create_job(name: str = "load_sales") -> None:
    boto3.client("glue").create_job(
        Name=name,
        Role="arn:aws:iam::123456789012:role/glue",
        Command={"Name": "pythonshell", "ScriptLocation": "s3://b/job.py"},
    )


def job_runs(name: str = "load_sales") -> list[dict]:
    return boto3.client("glue").get_job_runs(JobName=name)["JobRuns"]


def job_run(state: str, error: str | None = None, run_id: str = "jr_1", key: str | None = None) -> dict:
    run = {
        "Id": run_id,
        "JobName": "load_sales",
        "JobRunState": state,
        "StartedOn": datetime(2024, 1, 1, tzinfo=timezone.utc),
    }
    if error:
        run["ErrorMessage"] = error
    if key:
        run["Arguments"] = {RUN_KEY_ARGUMENT: key}
    return run


def make_op(**kwargs) -> GlueJobOperator:
    return GlueJobOperator(task_id="load", job_name="load_sales", poll_interval=0, **kwargs)


@mock_aws
def test_runs_job_to_success_with_args_and_run_key():
    create_job()
    op = make_op(script_args={"--day": "2024-01-01"})
    run_id = op.execute(make_context(task_id="load"))
    [run] = job_runs()
    assert run["Id"] == run_id and run["JobRunState"] == "SUCCEEDED"
    assert run["Arguments"] == {
        "--day": "2024-01-01",
        RUN_KEY_ARGUMENT: "etl_dag/manual__2024-01-01T00:00:00+00:00/load",
    }


@mock_aws
def test_retry_reattaches_instead_of_starting_second_run():
    create_job()
    first = make_op(wait_for_completion=False).execute(make_context(task_id="load"))
    retry_context = make_context(task_id="load", try_number=2, max_tries=2, retries=2)
    second = make_op(wait_for_completion=False).execute(retry_context)
    assert second == first
    assert len(job_runs()) == 1


@mock_aws
def test_cleared_task_starts_new_run():
    create_job()
    first = make_op(wait_for_completion=False).execute(make_context(task_id="load"))
    # Clearing after try 3 with retries=2 sets max_tries = 3 + 2; the new chain starts at try 4.
    cleared = make_context(task_id="load", try_number=4, max_tries=5, retries=2)
    second = make_op(wait_for_completion=False).execute(cleared)
    assert second != first
    keys = sorted(run["Arguments"][RUN_KEY_ARGUMENT] for run in job_runs())
    assert keys == [
        "etl_dag/manual__2024-01-01T00:00:00+00:00/load",
        "etl_dag/manual__2024-01-01T00:00:00+00:00/load#4",
    ]


@mock_aws
def test_unknown_job_fails_with_fix():
    with pytest.raises(AirflowException, match="Glue job 'load_sales' does not exist.*fix job_name"):
        make_op().execute(make_context())


def test_bad_script_args_fail_early():
    with pytest.raises(ValueError, match=r"must start with '--'"):
        make_op(script_args={"day": "x"}).execute(make_context())
    with pytest.raises(ValueError, match="script_args must be a dict"):
        make_op(script_args=["--day"])


@pytest.mark.parametrize("state", ["FAILED", "TIMEOUT", "STOPPED", "ERROR"])
def test_every_failure_state_fails_with_error_message(state):
    hook = mock_hook()
    hook.conn.get_job_runs.return_value = {"JobRuns": []}
    hook.conn.start_job_run.return_value = {"JobRunId": "jr_1"}
    hook.conn.get_job_run.side_effect = [
        {"JobRun": job_run("RUNNING")},
        {"JobRun": job_run(state, "NameError: name 'spark' is not defined")},
    ]
    op = make_op()
    op.hook = hook
    with pytest.raises(AirflowException, match=rf"run jr_1 {state}: NameError: name 'spark' is not defined"):
        op.execute(make_context())


def test_reattach_ignores_failed_runs_and_other_tasks():
    key = "etl_dag/manual__2024-01-01T00:00:00+00:00/load"
    hook = mock_hook()
    hook.conn.get_job_runs.return_value = {
        "JobRuns": [
            job_run("FAILED", run_id="jr_old", key=key),
            job_run("RUNNING", run_id="jr_other", key="x/y/z"),
        ]
    }
    hook.conn.start_job_run.return_value = {"JobRunId": "jr_new"}
    op = make_op(wait_for_completion=False)
    op.hook = hook
    assert op.execute(make_context()) == "jr_new"
    hook.conn.start_job_run.assert_called_once()


def test_verbose_streams_logs():
    hook = mock_hook()
    hook.conn.get_job_runs.return_value = {"JobRuns": []}
    hook.conn.start_job_run.return_value = {"JobRunId": "jr_1"}
    hook.conn.get_job_run.side_effect = [{"JobRun": job_run("RUNNING")}, {"JobRun": job_run("SUCCEEDED")}]
    op = make_op(verbose=True)
    op.hook = hook
    assert op.execute(make_context()) == "jr_1"
    assert hook.print_job_logs.call_count == 2
    assert hook.print_job_logs.call_args.args[:2] == ("load_sales", "jr_1")


def test_on_kill_batch_stops_run():
    hook = mock_hook()
    hook.conn.get_job_runs.return_value = {"JobRuns": []}
    hook.conn.start_job_run.return_value = {"JobRunId": "jr_1"}
    hook.conn.batch_stop_job_run.return_value = {
        "SuccessfulSubmissions": [{"JobRunId": "jr_1"}],
        "Errors": [],
    }
    op = make_op(wait_for_completion=False)
    op.hook = hook
    op.execute(make_context())
    op.on_kill()
    hook.conn.batch_stop_job_run.assert_called_once_with(JobName="load_sales", JobRunIds=["jr_1"])


@mock_aws
def test_deferrable_run_already_ended_at_first_look_does_not_defer():
    create_job()
    op = make_op(deferrable=True)
    run_id = op.execute(make_context())
    [run] = job_runs()
    assert run["Id"] == run_id and run["JobRunState"] == "SUCCEEDED"


@mock_aws
def test_deferrable_defers_and_complete_returns_run_id(monkeypatch):
    create_job()
    # moto's runs end at once; the run is still going at the operator's one look before deferring.
    monkeypatch.setattr(GlueJobTrigger, "check", lambda self, hook: RunStatus(state="RUNNING"))
    op = make_op(deferrable=True, verbose=True, defer_after=0)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(make_context())
    trigger = deferred.value.trigger
    assert isinstance(trigger, GlueJobTrigger) and trigger.verbose
    assert trigger.polls_done == 1  # the look before deferring counts as the trigger's first poll
    assert (
        op.execute_complete(make_context(), {"status": "success", "run_id": trigger.run_id}) == trigger.run_id
    )
    with pytest.raises(AirflowException, match="TIMEOUT: Job timed out"):
        op.execute_complete(
            make_context(), {"status": "failed", "message": "run jr_1 TIMEOUT: Job timed out"}
        )


def test_trigger_serialize_roundtrip():
    trigger = GlueJobTrigger(job_name="load_sales", run_id="jr_1", verbose=True, poll_interval=3)
    again = roundtrip(trigger)
    assert again.serialize() == trigger.serialize()
    assert (again.job_name, again.run_id, again.verbose) == ("load_sales", "jr_1", True)


async def test_trigger_run_success():
    trigger = GlueJobTrigger(job_name="load_sales", run_id="jr_1", poll_interval=0)
    trigger.hook = mock_hook()
    trigger.hook.conn.get_job_run.side_effect = [
        {"JobRun": job_run("STARTING")},
        {"JobRun": job_run("SUCCEEDED")},
    ]
    [event] = await collect(trigger)
    assert (event["status"], event["state"], event["run_id"]) == ("success", "SUCCEEDED", "jr_1")


@pytest.mark.parametrize("state", ["FAILED", "TIMEOUT", "STOPPED", "ERROR"])
async def test_trigger_run_failure_states(state):
    trigger = GlueJobTrigger(job_name="load_sales", run_id="jr_1", poll_interval=0)
    trigger.hook = mock_hook()
    trigger.hook.conn.get_job_run.return_value = {"JobRun": job_run(state, "Out of memory")}
    [event] = await collect(trigger)
    assert event["status"] == "failed"
    assert event["message"] == f"Glue job 'load_sales' run jr_1 {state}: Out of memory"


async def test_trigger_reports_error_after_repeated_api_failures():
    trigger = GlueJobTrigger(job_name="load_sales", run_id="jr_1", poll_interval=0)
    trigger.hook = mock_hook()
    trigger.hook.conn.get_job_run.side_effect = client_error("AccessDeniedException", "not authorized")
    [event] = await collect(trigger)
    assert event["status"] == "error"
    assert "not authorized" in event["message"]


async def test_trigger_on_kill_stops_run():
    trigger = GlueJobTrigger(job_name="load_sales", run_id="jr_1")
    trigger.hook = mock_hook()
    trigger.hook.conn.batch_stop_job_run.return_value = {"Errors": []}
    await trigger.on_kill()
    trigger.hook.conn.batch_stop_job_run.assert_called_once_with(JobName="load_sales", JobRunIds=["jr_1"])


async def test_trigger_without_cancel_on_kill_leaves_run():
    trigger = GlueJobTrigger(job_name="load_sales", run_id="jr_1", cancel_on_kill=False)
    trigger.hook = mock_hook()
    await trigger.on_kill()
    trigger.hook.conn.batch_stop_job_run.assert_not_called()


@mock_aws
def test_sensor_succeeds_on_moto_run():
    create_job()
    run_id = boto3.client("glue").start_job_run(JobName="load_sales")["JobRunId"]
    sensor = GlueJobSensor(task_id="wait", job_name="load_sales", run_id=run_id, poke_interval=0)
    assert sensor.execute(make_context()) == run_id


def test_sensor_failure_raises_error_message():
    sensor = GlueJobSensor(task_id="wait", job_name="load_sales", run_id="jr_1")
    sensor.hook = mock_hook()
    sensor.hook.conn.get_job_run.return_value = {"JobRun": job_run("ERROR", "Internal service error")}
    with pytest.raises(AirflowException, match="run jr_1 ERROR: Internal service error"):
        sensor.poke(make_context())


def test_kill_during_the_start_call_stops_the_run_once_its_id_arrives():
    hook = mock_hook()
    hook.conn.get_job_runs.return_value = {"JobRuns": []}
    hook.conn.batch_stop_job_run.return_value = {"SuccessfulSubmissions": [{"JobRunId": "jr_1"}], "Errors": []}
    op = make_op(wait_for_completion=True)
    op.hook = hook

    def start_job_run(**kwargs):
        op.on_kill()  # SIGTERM lands while the start call is in flight: no run id yet
        hook.conn.batch_stop_job_run.assert_not_called()
        return {"JobRunId": "jr_1"}

    hook.conn.start_job_run.side_effect = start_job_run
    with pytest.raises(AirflowException, match="killed while its run was starting"):
        op.execute(make_context())
    op.on_kill()  # a second kill (the runner's, after the failure) sends no second stop
    hook.conn.batch_stop_job_run.assert_called_once_with(JobName="load_sales", JobRunIds=["jr_1"])
    hook.conn.get_job_run.assert_not_called()  # the task failed instead of waiting


@mock_aws
def test_deferrable_run_that_ends_within_defer_after_needs_no_deferral(monkeypatch):
    create_job()
    real_check, looks = GlueJobTrigger.check, []

    def check(self, hook):  # RUNNING at the first two looks, then what moto says (SUCCEEDED)
        looks.append(1)
        return RunStatus(state="RUNNING") if len(looks) < 3 else real_check(self, hook)

    monkeypatch.setattr(GlueJobTrigger, "check", check)
    op = make_op(deferrable=True, defer_after=30)
    assert op.execute(make_context()) == job_runs()[0]["Id"]  # no TaskDeferred: the worker saw the end
    assert len(looks) == 3


@mock_aws
def test_deferrable_run_known_to_be_long_defers_without_a_look(monkeypatch):
    create_job()
    looks = []
    monkeypatch.setattr(GlueJobTrigger, "check", lambda self, hook: looks.append(1) or RunStatus(state="RUNNING"))
    op = make_op(deferrable=True, defer_after=30)
    op._expected_seconds = 600.0  # what the job's run history says
    monkeypatch.setattr(GlueJobOperator, "find_run", lambda self, key: None)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(make_context())
    trigger = deferred.value.trigger
    assert looks == [] and trigger.polls_done == 0 and trigger.first_poll_delay == op.poll_interval
