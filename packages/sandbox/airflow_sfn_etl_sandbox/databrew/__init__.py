"""DataBrew job runs: StartJobRun applies the job's recipe to its dataset and writes the outputs.

Datasets, recipes (create, publish, versions) and jobs stay moto's. This package owns the runs
(StartJobRun, DescribeJobRun, ListJobRuns, StopJobRun) and keeps the job ``Timeout`` and
``JobSample`` moto drops (saved with the runs in the sandbox's snapshots, :mod:`..persist`).
Runs follow the sandbox's shared lifecycle (:mod:`..runs`): STARTING -> RUNNING -> SUCCEEDED |
FAILED | STOPPED | TIMEOUT, one run per job at a time (ConflictException otherwise), fault rules
with target ``databrew_job``.

- :mod:`.job_runs`: a run's state and its DescribeJobRun description;
- :mod:`.recipe_job`: what a recipe job run does: read the dataset, apply the recipe, write the outputs;
- :mod:`.profile_job`: what a profile job run does: profile the dataset (or its sample) and write
  the statistics as JSON to the job's ``OutputLocation``;
- :mod:`.inputs`: reading a dataset from S3 (one object or every object under a prefix; CSV with
  or without a header, Parquet, JSON lines), CSV columns typed as DataBrew types them;
- :mod:`.logs`: a run's lines in CloudWatch Logs (``/aws-glue-databrew/jobs/<job name>``);
- :mod:`.outputs`: writing one of the job's ``Outputs`` (CSV, JSON or Parquet, compressed,
  Hive-style partition folders, Overwrite) into moto's S3 in-process.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from .. import state
from ..aws import AwsError, Call, paged
from ..routes import FORWARD, route
from .job_runs import ACTIVE_STATES, FINAL_STATES, RUNS, JobRun
from .logs import logged
from .profile_job import run_profile_job
from .recipe_job import run_recipe_job

__all__ = ["ACTIVE_STATES", "DEFAULT_TIMEOUT_MINUTES", "FINAL_STATES", "TIMEOUT_UNIT_SECONDS", "JobRun", "reset"]

#: Seconds per unit of a job's ``Timeout`` (minutes on AWS); tests may shrink it.
TIMEOUT_UNIT_SECONDS = 60.0
DEFAULT_TIMEOUT_MINUTES = 2880

#: The ``Timeout`` of each job (moto drops it), per (region, job name).
_timeouts: dict[tuple[str, str], int] = {}
#: The ``JobSample`` of each profile job (moto drops it), per (region, job name).
_samples: dict[tuple[str, str], dict[str, Any]] = {}


def _job_name(call: Call) -> str:
    return call.path_params.get("name") or call.params.get("name") or call.params.get("Name", "")


def _moto_job(region: str, name: str) -> Any:
    try:
        return state.databrew_backend(region).describe_job(name)
    except Exception as exc:
        raise AwsError("ResourceNotFoundException", f"Job {name} wasn't found.", 404) from exc


@route("databrew", "CreateRecipeJob", "CreateProfileJob", "UpdateRecipeJob", "UpdateProfileJob")
def remember_timeout(call: Call) -> Any:
    """Keep the job's Timeout and JobSample (moto drops them) and let moto create/update the job."""
    status, headers, body = call.forward()
    if status < 400:
        name = call.params.get("Name") or _job_name(call)
        if call.params.get("Timeout") is not None:
            _timeouts[(call.region, name)] = int(call.params["Timeout"])
        elif call.operation.startswith("Create"):
            _timeouts.pop((call.region, name), None)
        if call.params.get("JobSample") is not None:
            _samples[(call.region, name)] = dict(call.params["JobSample"])
        elif call.operation.startswith("Create"):
            _samples.pop((call.region, name), None)
    return status, headers, body


@route("databrew", "DescribeJob")
def describe_job(call: Call) -> dict[str, Any]:
    """moto's description, with what it leaves out: Timeout, JobSample, a profile job's
    ProfileConfiguration (AWS's DescribeJob has no OutputLocation)."""
    data = call.forward_json()
    key = (call.region, data.get("Name", ""))
    kept = _moto_job(call.region, key[1]).as_dict()
    if kept.get("Configuration") and "ProfileConfiguration" not in data:
        data["ProfileConfiguration"] = kept["Configuration"]
    data["Timeout"] = _timeouts.get(key, DEFAULT_TIMEOUT_MINUTES)
    if key in _samples:
        data["JobSample"] = _samples[key]
    return data


@route("databrew", "DeleteJob")
def delete_job(call: Call) -> Any:
    """Delete a job (moto's), refused while it runs; its runs and Timeout are forgotten."""
    name = _job_name(call)
    with RUNS.lock:
        if any(r.active for r in RUNS.runs(call.region, name)):
            raise AwsError("ConflictException",
                           f"Job {name} has a run in progress and cannot be deleted", 409)
        RUNS.forget(call.region, name)
        _timeouts.pop((call.region, name), None)
        _samples.pop((call.region, name), None)
    return FORWARD


def _one_at_a_time(name: str) -> Callable[[list[JobRun]], None]:
    def admit(active: list[JobRun]) -> None:
        if active:
            raise AwsError("ConflictException", f"Job {name} is already running; a job can have only one "
                                                "run at a time", 409)

    return admit


@route("databrew", "StartJobRun")
def start_job_run(call: Call) -> dict[str, Any]:
    """Start a run (ConflictException while the job already runs)."""
    name = _job_name(call)
    job = _moto_job(call.region, name)
    timeout = _timeouts.get((call.region, name), DEFAULT_TIMEOUT_MINUTES)
    described = job.as_dict()
    if (call.region, name) in _samples:
        described["JobSample"] = _samples[(call.region, name)]
    run = JobRun(id="db_" + secrets.token_hex(28), name=name, region=call.region, job=described,
                 timeout=timeout, timeout_seconds=timeout * TIMEOUT_UNIT_SECONDS)
    effect = run_profile_job if described.get("Type") == "PROFILE" else run_recipe_job
    RUNS.launch(run, logged(effect), _one_at_a_time(name))
    return {"RunId": run.id}


def _find_run(region: str, name: str, run_id: str) -> JobRun:
    run = RUNS.find(region, name, run_id)
    if run is None:
        raise AwsError("ResourceNotFoundException", f"Job run {run_id} of job {name} wasn't found.", 404)
    return run


def _run_id(call: Call) -> str:
    return call.path_params.get("runId") or call.params.get("runId", "")


@route("databrew", "DescribeJobRun")
def describe_job_run(call: Call) -> dict[str, Any]:
    name = _job_name(call)
    _moto_job(call.region, name)
    run = _find_run(call.region, name, _run_id(call))
    with RUNS.lock:
        return run.as_dict()


@route("databrew", "ListJobRuns")
def list_job_runs(call: Call) -> dict[str, Any]:
    """The job's runs, newest first."""
    name = _job_name(call)
    _moto_job(call.region, name)
    p = call.params
    with RUNS.lock:
        described = [r.as_dict() for r in RUNS.newest_first(call.region, name)]
    return paged(described, "JobRuns", p.get("nextToken") or p.get("NextToken"),
                 p.get("maxResults") or p.get("MaxResults"))


@route("databrew", "StopJobRun")
def stop_job_run(call: Call) -> dict[str, Any]:
    """Stop a run: it ends STOPPED and writes nothing more."""
    name = _job_name(call)
    _moto_job(call.region, name)
    run_id = _run_id(call)
    run = _find_run(call.region, name, run_id)
    if not run.request_stop():
        raise AwsError("ValidationException", f"Job run {run_id} is {run.state} and cannot be stopped")
    return {"RunId": run_id}


def reset() -> None:
    """Forget all runs and remembered timeouts; running runs are stopped."""
    RUNS.clear()
    _timeouts.clear()
    _samples.clear()


def export_state() -> dict[str, Any]:
    """The runs and each job's Timeout and JobSample (moto's job keeps neither), for a snapshot
    (:mod:`..persist`)."""
    with RUNS.lock:
        return {"runs": RUNS.export(), "timeouts": dict(_timeouts),
                "samples": {key: dict(sample) for key, sample in _samples.items()}}


def import_state(saved: dict[Any, Any]) -> None:
    """Take back what :func:`export_state` saved (a snapshot holding only runs is read too)."""
    if "runs" not in saved:  # a snapshot from before Timeout and JobSample were saved: runs only
        RUNS.restore(saved)
        return
    RUNS.restore(saved["runs"])
    with RUNS.lock:
        _timeouts.update(saved.get("timeouts") or {})
        _samples.update(saved.get("samples") or {})
