"""Glue job runs: StartJobRun / GetJobRun / GetJobRuns / BatchStopJobRun, with real Python shell runs.

Jobs themselves (CreateJob, GetJob, UpdateJob, DeleteJob) stay moto's. This module owns the
runs: a ``pythonshell`` job's script is downloaded from S3 and run as a subprocess pointed at
the sandbox, with the job's arguments as ``--key value`` pairs; the run state follows the
process (STARTING -> RUNNING -> SUCCEEDED | FAILED | STOPPED | TIMEOUT). Output and error
lines go to CloudWatch Logs (``/aws-glue/python-jobs/output`` and ``/error``, stream = run id),
where ``GetLogEvents`` reads them. ``glueetl`` (Spark) jobs run on local PySpark
(:mod:`.glue_spark`) where it is installed; otherwise they fail saying so. Failed runs are retried ``MaxRetries`` times.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import faults, runtime, state
from .app import AwsError, Call, paged, route

#: Seconds per unit of a job's ``Timeout`` (minutes on AWS); tests may shrink it.
TIMEOUT_UNIT_SECONDS = 60.0
#: How long a run stays STARTING before its process is launched.
STARTING_SECONDS = 0.1
#: Default Timeout (minutes) when neither the job nor the run sets one.
DEFAULT_TIMEOUT_MINUTES = 2880
ACTIVE_STATES = ("STARTING", "RUNNING", "STOPPING")
FINAL_STATES = ("SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT", "ERROR")
LOG_GROUPS = {"pythonshell": "/aws-glue/python-jobs", "glueetl": "/aws-glue/jobs",
              "gluestreaming": "/aws-glue/jobs", "glueray": "/aws-glue/ray"}

_lock = threading.RLock()
_runs: dict[tuple[str, str], list[JobRun]] = {}
_logs_lock = threading.Lock()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class JobSpec:
    """The parts of a job definition a run needs, copied when the run starts."""

    name: str
    command: dict[str, Any]
    default_arguments: dict[str, str]
    non_overridable_arguments: dict[str, str]
    max_retries: int
    timeout: int | None
    glue_version: str | None
    worker_type: str | None
    number_of_workers: int | None
    max_capacity: float | None
    allocated_capacity: int | None
    execution_class: str | None

    @classmethod
    def from_moto(cls, job: Any) -> JobSpec:
        return cls(
            name=job.name, command=dict(job.command or {}),
            default_arguments=dict(job.default_arguments or {}),
            non_overridable_arguments=dict(job.non_overridable_arguments or {}),
            max_retries=int(job.max_retries or 0), timeout=job.timeout,
            glue_version=job.glue_version, worker_type=job.worker_type,
            number_of_workers=job.number_of_workers, max_capacity=job.max_capacity,
            allocated_capacity=job.allocated_capacity, execution_class=job.execution_class,
        )

    @property
    def kind(self) -> str:
        return str(self.command.get("Name") or "glueetl")


@dataclass
class JobRun:
    """One run of a Glue job, as GetJobRun reports it."""

    id: str
    job_name: str
    region: str
    spec: JobSpec
    arguments: dict[str, str]
    timeout: int
    attempt: int = 0
    previous_run_id: str | None = None
    state: str = "STARTING"
    error_message: str | None = None
    started_on: dt.datetime = field(default_factory=_now)
    last_modified_on: dt.datetime = field(default_factory=_now)
    completed_on: dt.datetime | None = None
    running_since: float | None = None
    execution_seconds: int = 0
    overrides: dict[str, Any] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)
    process: subprocess.Popen[bytes] | None = None

    @property
    def log_group(self) -> str:
        return LOG_GROUPS.get(self.spec.kind, "/aws-glue/jobs")

    def set_state(self, new_state: str, message: str | None = None) -> None:
        with _lock:
            if self.state in FINAL_STATES:
                return
            now = _now()
            if new_state == "RUNNING" and self.running_since is None:
                self.running_since = time.monotonic()
            self.state = new_state
            self.last_modified_on = now
            if message is not None:
                self.error_message = message
            if new_state in FINAL_STATES:
                self.completed_on = now
                if self.running_since is not None:
                    self.execution_seconds = int(round(time.monotonic() - self.running_since))

    def as_dict(self) -> dict[str, Any]:
        spec = self.spec
        out: dict[str, Any] = {
            "Id": self.id,
            "Attempt": self.attempt,
            "JobName": self.job_name,
            "JobMode": "SCRIPT",
            "StartedOn": self.started_on,
            "LastModifiedOn": self.last_modified_on,
            "JobRunState": self.state,
            "Arguments": dict(self.arguments),
            "PredecessorRuns": [],
            "ExecutionTime": self.execution_seconds if self.state in FINAL_STATES else int(
                time.monotonic() - self.running_since) if self.running_since else 0,
            "Timeout": self.timeout,
            "LogGroupName": self.log_group,
            "GlueVersion": self.overrides.get("GlueVersion") or spec.glue_version or (
                "3.0" if spec.kind == "pythonshell" else "4.0"),
            "ExecutionClass": self.overrides.get("ExecutionClass") or spec.execution_class or "STANDARD",
        }
        max_capacity = self.overrides.get("MaxCapacity") or spec.max_capacity
        if spec.kind == "pythonshell":
            out["MaxCapacity"] = max_capacity if max_capacity is not None else 0.0625
            out["AllocatedCapacity"] = 0
        else:
            ov = self.overrides
            for key, value in (("WorkerType", ov.get("WorkerType") or spec.worker_type),
                               ("NumberOfWorkers", ov.get("NumberOfWorkers") or spec.number_of_workers),
                               ("MaxCapacity", max_capacity),
                               ("AllocatedCapacity", ov.get("AllocatedCapacity") or spec.allocated_capacity)):
                if value is not None:
                    out[key] = value
        if self.completed_on is not None:
            out["CompletedOn"] = self.completed_on
        if self.error_message:
            out["ErrorMessage"] = self.error_message
        if self.previous_run_id:
            out["PreviousRunId"] = self.previous_run_id
        for key in ("SecurityConfiguration", "NotificationProperty"):
            if self.overrides.get(key):
                out[key] = self.overrides[key]
        return out


# --------------------------------------------------------------------------- CloudWatch Logs


def put_log_lines(region: str, group: str, stream: str, lines: list[str]) -> None:
    """Append ``lines`` to a CloudWatch Logs stream in moto's logs backend (created on demand)."""
    if not lines:
        return
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.logs.models import logs_backends

    backend = logs_backends[DEFAULT_ACCOUNT_ID][region]
    stamp = int(time.time() * 1000)
    with _logs_lock:
        if group not in backend.groups:
            backend.create_log_group(group, {})
        backend.ensure_log_stream(group, stream)
        backend.put_log_events(group, stream, [{"timestamp": stamp, "message": ln} for ln in lines])


class _LogPump:
    """Forwards complete lines of a growing file to a log stream."""

    def __init__(self, path: Path, region: str, group: str, stream: str) -> None:
        self.path, self.region, self.group, self.stream = path, region, group, stream
        self.offset = 0
        self.rest = b""
        self.lines: list[str] = []

    def pump(self, final: bool = False) -> None:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read()
        except FileNotFoundError:
            return
        self.offset += len(chunk)
        data = self.rest + chunk
        parts = data.split(b"\n")
        self.rest = parts.pop()
        if final and self.rest:
            parts.append(self.rest)
            self.rest = b""
        lines = [p.decode("utf-8", "replace").rstrip("\r") for p in parts]
        self.lines.extend(lines)
        put_log_lines(self.region, self.group, self.stream, [ln for ln in lines if ln] or [])


# --------------------------------------------------------------------------- API handlers


def _moto_job(region: str, name: str) -> Any:
    try:
        return state.glue_backend(region).get_job(name)
    except Exception as exc:
        raise AwsError("EntityNotFoundException", f"Job with name: {name} not found") from exc


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
    arguments = {str(k): str(v) for k, v in (p.get("Arguments") or {}).items()}
    timeout = int(p.get("Timeout") or spec.timeout or DEFAULT_TIMEOUT_MINUTES)
    overrides = {k: p[k] for k in ("MaxCapacity", "AllocatedCapacity", "WorkerType", "NumberOfWorkers",
                                   "SecurityConfiguration", "NotificationProperty", "ExecutionClass")
                 if p.get(k) is not None}
    with _lock:
        runs = _runs.setdefault((call.region, name), [])
        active = [r for r in runs if r.state in ACTIVE_STATES]
        if len(active) >= max_runs:
            raise AwsError("ConcurrentRunsExceededException",
                           f"Concurrent runs exceeded for {name}: {len(active)} active run(s), "
                           f"MaxConcurrentRuns is {max_runs}")
        run = JobRun(id=_new_run_id(), job_name=name, region=call.region, spec=spec, arguments=arguments,
                     timeout=timeout, previous_run_id=p.get("JobRunId"), overrides=overrides)
        runs.append(run)
    runtime.submit(_execute, run)
    return {"JobRunId": run.id}


def _find_run(region: str, name: str, run_id: str) -> JobRun:
    with _lock:
        for run in _runs.get((region, name), []):
            if run.id == run_id:
                return run
    raise AwsError("EntityNotFoundException", f"Job Run with id: {run_id} not found for job {name}")


@route("glue", "GetJobRun")
def get_job_run(call: Call) -> dict[str, Any]:
    name, run_id = call.params.get("JobName", ""), call.params.get("RunId", "")
    _moto_job(call.region, name)
    run = _find_run(call.region, name, run_id)
    with _lock:
        return {"JobRun": run.as_dict()}


@route("glue", "GetJobRuns")
def get_job_runs(call: Call) -> dict[str, Any]:
    name = call.params.get("JobName", "")
    _moto_job(call.region, name)
    with _lock:
        runs = sorted(_runs.get((call.region, name), []), key=lambda r: r.started_on, reverse=True)
        described = [r.as_dict() for r in runs]
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
        with _lock:
            if run.state not in ("STARTING", "RUNNING"):
                errors.append({"JobName": name, "JobRunId": run_id, "ErrorDetail": {
                    "ErrorCode": "InvalidInputException",
                    "ErrorMessage": f"Job Run {run_id} is in state {run.state} and cannot be stopped"}})
                continue
            run.set_state("STOPPING")
            run.stop.set()
        ok.append({"JobName": name, "JobRunId": run_id})
    return {"SuccessfulSubmissions": ok, "Errors": errors}


# --------------------------------------------------------------------------- running


def _execute(run: JobRun) -> None:
    """The life of one run, in a background thread."""
    try:
        _execute_inner(run)
    except Exception as exc:  # a sandbox defect must still end the run
        run.set_state("FAILED", f"Sandbox internal error while running the job: {type(exc).__name__}: {exc}")
    if run.state == "FAILED" and run.attempt < run.spec.max_retries:
        _retry(run)


def _retry(run: JobRun) -> None:
    root = run.previous_run_id if run.attempt and run.previous_run_id else run.id
    root = root.split("_attempt_")[0]
    with _lock:
        retry = JobRun(id=f"{root}_attempt_{run.attempt + 1}", job_name=run.job_name, region=run.region,
                       spec=run.spec, arguments=dict(run.arguments), timeout=run.timeout,
                       attempt=run.attempt + 1, previous_run_id=run.id, overrides=dict(run.overrides))
        _runs.setdefault((run.region, run.job_name), []).append(retry)
    _execute(retry)


def _execute_inner(run: JobRun) -> None:
    fail_message, delay = faults.run_faults("glue_job", run.job_name)
    if run.stop.wait(STARTING_SECONDS):
        run.set_state("STOPPED")
        return
    run.set_state("RUNNING")
    deadline = time.monotonic() + run.timeout * TIMEOUT_UNIT_SECONDS
    if delay:
        end = min(time.monotonic() + delay, deadline)
        if run.stop.wait(max(0.0, end - time.monotonic())):
            run.set_state("STOPPED")
            return
        if time.monotonic() >= deadline:
            run.set_state("TIMEOUT", f"Job run timed out after {run.timeout} minutes")
            return
    if fail_message:
        run.set_state("FAILED", fail_message)
        return
    kind = run.spec.kind
    if kind == "pythonshell":
        _run_script(run, deadline)
    elif kind == "glueetl":
        from .glue_spark import run_glueetl

        run.set_state(*run_glueetl(
            run.job_name, run.id, _script_args(run), region=run.region,
            script_location=str(run.spec.command.get("ScriptLocation") or ""), deadline=deadline,
            timeout_minutes=run.timeout, stop=run.stop,
            log=lambda stream, lines: put_log_lines(run.region, f"{run.log_group}/{stream}", run.id, lines)))
    else:
        run.set_state("FAILED", f"Job command {kind!r} is not supported by the sandbox "
                                "(supported: pythonshell, and glueetl where pyspark is installed)")


def _script_args(run: JobRun) -> list[str]:
    """argv after the script, as Glue builds it: job defaults, run arguments, fixed ones."""
    merged = dict(run.spec.default_arguments)
    merged.update(run.arguments)
    merged.update(run.spec.non_overridable_arguments)
    argv = ["--JOB_ID", "j_" + hashlib.sha256(run.job_name.encode()).hexdigest(), "--JOB_RUN_ID", run.id,
            "--JOB_NAME", run.job_name]
    for key, value in merged.items():
        if key.lstrip("-") in ("JOB_ID", "JOB_RUN_ID", "JOB_NAME"):
            continue
        argv += [key if key.startswith("--") else f"--{key}", value]
    return argv


_AWSGLUE_UTILS = '''"""Sandbox stand-in for awsglue.utils (as available in Glue Python shell jobs)."""
import argparse


class GlueArgumentError(Exception):
    pass


def getResolvedOptions(args, options):
    """Values of the ``--name value`` options in ``args`` for each name in ``options``."""
    parser = argparse.ArgumentParser(add_help=False)
    for option in options:
        parser.add_argument("--" + option, required=True)
    try:
        parsed, _ = parser.parse_known_args(list(args)[1:])
    except SystemExit as exc:
        raise GlueArgumentError("missing job arguments: %s" % ", ".join(options)) from exc
    return vars(parsed)
'''


def _glue_lib_dir() -> Path:
    lib = runtime.data_dir() / "glue-python-lib"
    pkg = lib / "awsglue"
    if not (pkg / "utils.py").exists():
        pkg.mkdir(parents=True, exist_ok=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "utils.py").write_text(_AWSGLUE_UTILS)
    return lib


def _script_env(run: JobRun) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "AIRFLOW_CONN_AWS"))}
    env.update({
        "AWS_ENDPOINT_URL": runtime.endpoint_url(),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": run.region,
        "AWS_REGION": run.region,
        "PYTHONUNBUFFERED": "1",
        "GLUE_JOB_NAME": run.job_name,
        "GLUE_JOB_RUN_ID": run.id,
    })
    extra = str(_glue_lib_dir())
    env["PYTHONPATH"] = extra + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _last_error_line(lines: list[str]) -> str:
    for line in reversed(lines):
        if line.strip():
            return line.strip()
    return ""


def _run_script(run: JobRun, deadline: float) -> None:
    location = str(run.spec.command.get("ScriptLocation") or "")
    try:
        bucket, key = state.split_s3_uri(location)
        source = state.s3_get(bucket, key)
    except AwsError as err:
        run.set_state("FAILED", f"Cannot read the job script {location}: {err.code}: {err.message}")
        return
    except Exception as exc:
        run.set_state("FAILED", f"Cannot read the job script {location!r}: {type(exc).__name__}: {exc}")
        return
    workdir = runtime.data_dir() / "glue-jobs" / run.id
    workdir.mkdir(parents=True, exist_ok=True)
    script = workdir / (Path(key).name or "script.py")
    script.write_bytes(source)
    out_path, err_path = workdir / "stdout.log", workdir / "stderr.log"
    out_pump = _LogPump(out_path, run.region, f"{run.log_group}/output", run.id)
    err_pump = _LogPump(err_path, run.region, f"{run.log_group}/error", run.id)
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen([sys.executable, str(script), *_script_args(run)], cwd=workdir,
                                env=_script_env(run), stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    run.process = proc
    outcome: tuple[str, str | None] | None = None
    while True:
        code = proc.poll()
        out_pump.pump()
        err_pump.pump()
        if code is not None:
            break
        if run.stop.is_set():
            _kill(proc)
            outcome = ("STOPPED", None)
            break
        if time.monotonic() >= deadline:
            _kill(proc)
            outcome = ("TIMEOUT", f"Job run timed out after {run.timeout} minutes")
            break
        run.stop.wait(0.1)
    out_pump.pump(final=True)
    err_pump.pump(final=True)
    if outcome is not None:
        run.set_state(*outcome)
    elif code == 0:
        run.set_state("SUCCEEDED")
    else:
        detail = _last_error_line(err_pump.lines) or f"the script exited with status {code}"
        run.set_state("FAILED", detail)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """End a job process (and its children): SIGTERM, then SIGKILL after 3 seconds."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=3)
    except ProcessLookupError:
        pass


def reset() -> None:
    """Forget all runs; stop the ones still running."""
    with _lock:
        runs = [r for rs in _runs.values() for r in rs]
        _runs.clear()
    for run in runs:
        run.stop.set()
        if run.process is not None and run.process.poll() is None:
            _kill(run.process)
