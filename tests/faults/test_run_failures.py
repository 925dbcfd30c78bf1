"""Row 5: the AWS run fails, times out, or is stopped outside Airflow: the task fails with the reason."""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import AirflowException

from airflow_sfn_etl_sandbox import databrew as sandbox_databrew
from airflow_sfn_etl_sandbox import glue_jobs as sandbox_glue

from . import harness as h
from .test_triggerer_restart import CLASSES

REASON = "sandbox says: disk quota exceeded on worker 7"


def _fail(service: str, admin, aws, count: int | None = None) -> None:
    target = {
        "glue_job": ("glue_job", h.GLUE_JOB),
        "crawler": ("crawler", h.CRAWLER),
        "databrew": ("databrew_job", h.DATABREW_JOB),
        "sfn": ("sfn_execution", h.STATE_MACHINE),
    }
    if service == "athena":
        admin.fail("athena_query", pattern="SELECT 42", message=REASON, count=count)
    else:
        admin.fail(target[service][0], target[service][1], message=REASON, count=count)


@pytest.mark.parametrize("deferrable", [False, True], ids=["worker", "deferred"])
@pytest.mark.parametrize("service", h.SERVICES)
def test_failed_run_fails_the_task_with_the_service_reason(aws, admin, flows_databrew, service, deferrable):
    kwargs = h.slow_run(service, aws, admin, 0.5)
    _fail(service, admin, aws)
    op = CLASSES[service](task_id=f"fail_{service}", deferrable=deferrable, **kwargs)
    with pytest.raises(AirflowException, match=REASON):
        h.run_task(op, h.context(f"fail_{service}"))
    assert len(h.runs(service, aws)) == 1


@pytest.mark.parametrize("service", h.SERVICES)
def test_retry_after_a_failed_run_runs_again_and_succeeds(aws, admin, flows_databrew, service):
    """``retries`` retry a failed run: try 2 of the chain starts a new run instead of re-attaching."""
    kwargs = h.slow_run(service, aws, admin, 0.2)
    _fail(service, admin, aws, count=1)
    task_id = f"retry_{service}"
    with pytest.raises(AirflowException, match=REASON):
        h.run_task(CLASSES[service](task_id=task_id, deferrable=False, **kwargs), h.context(task_id))
    h.run_task(CLASSES[service](task_id=task_id, deferrable=False, **kwargs), h.context(task_id, try_number=2))
    states = [state for _, state in h.runs(service, aws)]
    assert len(states) == 2 and states.count("FAILED") == 1, states
    assert {state for state in states if state != "FAILED"} <= h.SUCCESS_STATES, states


@pytest.mark.parametrize("service", h.SERVICES)
def test_run_stopped_outside_airflow_fails_the_task(aws, admin, flows_databrew, service):
    op = CLASSES[service](
        task_id=f"ext_stop_{service}", deferrable=False, **h.slow_run(service, aws, admin, 20)
    )
    task = h.Background(op, h.context(f"ext_stop_{service}"))
    h.wait_for(lambda: h.running(service, aws), what=f"the {service} run")
    h.stop_outside_airflow(service, aws)
    task.join()
    assert isinstance(task.error, AirflowException), task.error
    message = str(task.error)
    assert any(word in message for word in ("STOPPED", "CANCELLED", "ABORTED")), message
    if service == "sfn":
        assert "Console.Stop" in message and "stopped by an operator" in message


def test_glue_job_timeout_fails_the_task_with_timeout(aws, admin, monkeypatch):
    monkeypatch.setattr(sandbox_glue, "TIMEOUT_UNIT_SECONDS", 0.5)
    aws["glue"].create_job(
        Name="fj_timeout",
        Role=h.ROLE_ARN,
        Timeout=1,
        MaxCapacity=0.0625,
        Command={"Name": "pythonshell", "ScriptLocation": f"s3://{h.BUCKET}/scripts/job.py"},
    )
    admin.delay("glue_job", "fj_timeout", seconds=10)
    op = CLASSES["glue_job"](task_id="glue_timeout", job_name="fj_timeout", poll_interval=0.2)
    with pytest.raises(AirflowException, match="TIMEOUT: Job run timed out"):
        h.run_task(op, h.context("glue_timeout"))


def test_databrew_timeout_fails_the_task_with_timeout(aws, admin, flows_databrew, monkeypatch):
    monkeypatch.setattr(sandbox_databrew, "TIMEOUT_UNIT_SECONDS", 0.5)
    job = aws["databrew"].describe_job(Name=flows_databrew)
    aws["databrew"].update_recipe_job(
        Name=flows_databrew, RoleArn=job["RoleArn"], Outputs=job["Outputs"], Timeout=1
    )
    admin.delay("databrew_job", flows_databrew, seconds=10)
    op = CLASSES["databrew"](
        task_id="brew_timeout", job_name=flows_databrew, poll_interval=0.2, deferrable=True
    )
    with pytest.raises(AirflowException, match="TIMEOUT"):
        h.run_task(op, h.context("brew_timeout"))
