"""Glue job runs: StartJobRun / GetJobRun / GetJobRuns / BatchStopJobRun, with real job executions.

Jobs themselves (CreateJob, GetJob, DeleteJob) stay moto's, with UpdateJob added here (moto has
none): as on AWS, the JobUpdate replaces the whole definition. This package owns the runs;
their lifecycle is the sandbox's shared one (:mod:`..runs`): STARTING -> RUNNING ->
SUCCEEDED | FAILED | STOPPED | TIMEOUT, with fault rules (target ``glue_job``), BatchStopJobRun,
the run's ``Timeout`` and ``MaxRetries`` retries (run ids ``<first id>_attempt_<n>``).

- :mod:`.job_runs`: a run's definition snapshot, its state and its GetJobRun description;
- :mod:`.runners`: what a run executes, chosen by the job's ``Command.Name``:
  :mod:`.python_shell` (``pythonshell``: the script from S3 as a subprocess pointed at the
  sandbox) and :mod:`.spark` (``glueetl``: the script on local PySpark with the ``awsglue`` API,
  :mod:`..glue_spark`; where PySpark is missing the run fails saying so);
- :mod:`.logs`: a run's output and error lines in CloudWatch Logs (``/aws-glue/python-jobs/`` for
  Python shell, ``/aws-glue/jobs/`` for Spark: ``output`` and ``error``, stream = run id).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from typing import Any

from .. import state
from ..aws import AwsError, Call, paged
from ..routes import route
from .job_runs import ACTIVE_STATES, FINAL_STATES, RUNS, JobRun, JobSpec
from .runners import run_job

__all__ = ["ACTIVE_STATES", "DEFAULT_TIMEOUT_MINUTES", "FINAL_STATES", "TIMEOUT_UNIT_SECONDS", "JobRun",
           "JobSpec", "reset"]

#: Seconds per unit of a job's ``Timeout`` (minutes on AWS); tests may shrink it.
TIMEOUT_UNIT_SECONDS = 60.0
#: Default Timeout (minutes) when neither the job nor the run sets one.
DEFAULT_TIMEOUT_MINUTES = 2880
#: StartJobRun parameters a run keeps as overrides of the job's settings.
_OVERRIDES = ("MaxCapacity", "AllocatedCapacity", "WorkerType", "NumberOfWorkers", "SecurityConfiguration",
              "NotificationProperty", "ExecutionClass")


def _moto_job(region: str, name: str) -> Any:
    try:
        return state.glue_backend(region).get_job(name)
    except Exception as exc:
        raise AwsError("EntityNotFoundException", f"Job with name: {name} not found") from exc


#: JobUpdate fields -> moto FakeJob attributes (what UpdateJob replaces; absent fields are cleared).
_JOB_FIELDS = {
    "Description": "description", "LogUri": "log_uri", "Role": "role", "ExecutionProperty": "execution_property",
    "Command": "command", "DefaultArguments": "default_arguments",
    "NonOverridableArguments": "non_overridable_arguments", "Connections": "connections",
    "MaxRetries": "max_retries", "AllocatedCapacity": "allocated_capacity", "Timeout": "timeout",
    "MaxCapacity": "max_capacity", "SecurityConfiguration": "security_configuration",
    "NotificationProperty": "notification_property", "GlueVersion": "glue_version",
    "NumberOfWorkers": "number_of_workers", "WorkerType": "worker_type",
    "CodeGenConfigurationNodes": "code_gen_configuration_nodes", "ExecutionClass": "execution_class",
    "SourceControlDetails": "source_control_details",
}


@route("glue", "UpdateJob")
def update_job(call: Call) -> dict[str, Any]:
    """Replace a job's definition with ``JobUpdate`` (AWS overwrites it completely); runs and tags stay."""
    name = call.params.get("JobName", "")
    update = call.params.get("JobUpdate") or {}
    if not update.get("Role") or not update.get("Command"):
        raise AwsError("InvalidInputException", "JobUpdate needs Role and Command")
    job = _moto_job(call.region, name)
    for key, attr in _JOB_FIELDS.items():
        value = update.get(key)
        if key in ("ExecutionProperty", "DefaultArguments"):
            value = value or {}
        elif key == "ExecutionClass":
            value = value or "STANDARD"
        setattr(job, attr, value)
    job.last_modified_on = datetime.now(timezone.utc)
    return {"JobName": name}


def _new_run_id() -> str:
    return "jr_" + secrets.token_hex(32)


@route("glue", "StartJobRun")
def start_job_run(call: Call) -> dict[str, Any]:
    """Start a run of a job (ConcurrentRunsExceededException past MaxConcurrentRuns)."""
    p = call.params
    name = p.get("JobName")
    if not name:
        raise AwsError("InvalidInputException", "JobName is required")
    job = _moto_job(call.region, name)
    spec = JobSpec.from_moto(job)
    max_runs = int((job.execution_property or {}).get("MaxConcurrentRuns") or 1)
    timeout = int(p.get("Timeout") or spec.timeout or DEFAULT_TIMEOUT_MINUTES)

    def admit(active: list[JobRun]) -> None:
        if len(active) >= max_runs:
            raise AwsError("ConcurrentRunsExceededException",
                           f"Concurrent runs exceeded for {name}: {len(active)} active run(s), "
                           f"MaxConcurrentRuns is {max_runs}")

    run = JobRun(id=_new_run_id(), name=name, region=call.region, spec=spec,
                 arguments={str(k): str(v) for k, v in (p.get("Arguments") or {}).items()},
                 timeout=timeout, timeout_seconds=timeout * TIMEOUT_UNIT_SECONDS,
                 previous_run_id=p.get("JobRunId"),
                 overrides={k: p[k] for k in _OVERRIDES if p.get(k) is not None})
    RUNS.launch(run, run_job, admit)
    return {"JobRunId": run.id}


def _find_run(region: str, name: str, run_id: str) -> JobRun:
    run = RUNS.find(region, name, run_id)
    if run is None:
        raise AwsError("EntityNotFoundException", f"Job Run with id: {run_id} not found for job {name}")
    return run


@route("glue", "GetJobRun")
def get_job_run(call: Call) -> dict[str, Any]:
    name, run_id = call.params.get("JobName", ""), call.params.get("RunId", "")
    _moto_job(call.region, name)
    run = _find_run(call.region, name, run_id)
    with RUNS.lock:
        return {"JobRun": run.as_dict()}


@route("glue", "GetJobRuns")
def get_job_runs(call: Call) -> dict[str, Any]:
    """The job's runs, newest first."""
    name = call.params.get("JobName", "")
    _moto_job(call.region, name)
    with RUNS.lock:
        described = [r.as_dict() for r in RUNS.newest_first(call.region, name)]
    return paged(described, "JobRuns", call.params.get("NextToken"), call.params.get("MaxResults"))


@route("glue", "BatchStopJobRun")
def batch_stop_job_run(call: Call) -> dict[str, Any]:
    """Stop runs: their processes are killed and they end STOPPED."""
    name = call.params.get("JobName", "")
    _moto_job(call.region, name)
    ok, errors = [], []
    for run_id in call.params.get("JobRunIds") or []:
        try:
            run = _find_run(call.region, name, run_id)
        except AwsError as err:
            errors.append({"JobName": name, "JobRunId": run_id,
                           "ErrorDetail": {"ErrorCode": err.code, "ErrorMessage": err.message}})
            continue
        with RUNS.lock:
            if not run.request_stop():
                errors.append({"JobName": name, "JobRunId": run_id, "ErrorDetail": {
                    "ErrorCode": "InvalidInputException",
                    "ErrorMessage": f"Job Run {run_id} is in state {run.state} and cannot be stopped"}})
                continue
        ok.append({"JobName": name, "JobRunId": run_id})
    return {"SuccessfulSubmissions": ok, "Errors": errors}


def reset() -> None:
    """Forget all runs; stop the ones still running (their processes are killed)."""
    RUNS.clear()


def export_state() -> dict[tuple[str, str], Any]:
    """The runs, for a snapshot (:mod:`..persist`)."""
    return RUNS.export()


def import_state(saved: dict[tuple[str, str], Any]) -> None:
    """Take back the runs :func:`export_state` saved."""
    RUNS.restore(saved)
