"""The ``pythonshell`` runner: the job's script from S3, run as a subprocess pointed at the sandbox.

The script gets Glue's arguments (``--JOB_ID``, ``--JOB_RUN_ID``, ``--JOB_NAME``, then the job's
default arguments, the run's arguments and the non-overridable ones as ``--key value`` pairs),
an environment whose AWS settings point at the sandbox, and an ``awsglue.utils`` stand-in with
``getResolvedOptions``. Its stdout and stderr go to CloudWatch Logs as they come (:mod:`.logs`).
Exit status 0 is success; otherwise the run fails with the last line of stderr. A stop or the
timeout kills the process group.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from .. import runtime, state
from ..aws import AwsError
from ..runs import RunEnded, RunFailed
from .job_runs import JobRun
from .logs import LogPump

#: Seconds between two looks at the process (and its output).
POLL_SECONDS = 0.1


def script_args(run: JobRun) -> list[str]:
    """argv after the script, as Glue builds it: job defaults, run arguments, fixed ones."""
    merged = dict(run.spec.default_arguments)
    merged.update(run.arguments)
    merged.update(run.spec.non_overridable_arguments)
    argv = ["--JOB_ID", "j_" + hashlib.sha256(run.name.encode()).hexdigest(), "--JOB_RUN_ID", run.id,
            "--JOB_NAME", run.name]
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


def sandbox_env(region: str) -> dict[str, str]:
    """A child process's environment: this process's, with AWS settings pointing at the sandbox.

    Also what Lambda functions run with (:mod:`..lambda_functions.python_runtime`).
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "AIRFLOW_CONN_AWS"))}
    env.update({
        "AWS_ENDPOINT_URL": runtime.endpoint_url(),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "PYTHONUNBUFFERED": "1",
    })
    return env


def script_env(run: JobRun) -> dict[str, str]:
    """The script's environment: :func:`sandbox_env`, with the ``awsglue`` stand-in on the path."""
    env = sandbox_env(run.region)
    env.update({"GLUE_JOB_NAME": run.name, "GLUE_JOB_RUN_ID": run.id})
    extra = str(_glue_lib_dir())
    env["PYTHONPATH"] = extra + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _download_script(run: JobRun) -> tuple[str, bytes]:
    """(file name, source) of the job's ``Command.ScriptLocation``."""
    location = str(run.spec.command.get("ScriptLocation") or "")
    try:
        bucket, key = state.split_s3_uri(location)
        return Path(key).name or "script.py", state.s3_get(bucket, key)
    except AwsError as err:
        raise RunFailed(f"Cannot read the job script {location}: {err.code}: {err.message}") from None
    except Exception as exc:
        raise RunFailed(f"Cannot read the job script {location!r}: {type(exc).__name__}: {exc}") from None


def run_script(run: JobRun) -> None:
    """Run the job's script until it exits, is stopped or times out."""
    filename, source = _download_script(run)
    workdir = runtime.data_dir() / "glue-jobs" / run.id
    workdir.mkdir(parents=True, exist_ok=True)
    script = workdir / filename
    script.write_bytes(source)
    out_path, err_path = workdir / "stdout.log", workdir / "stderr.log"
    out_pump = LogPump(out_path, run.region, f"{run.log_group}/output", run.id)
    err_pump = LogPump(err_path, run.region, f"{run.log_group}/error", run.id)
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen([sys.executable, str(script), *script_args(run)], cwd=workdir,
                                env=script_env(run), stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    run.on_cancel(lambda: kill(proc))
    try:
        while True:
            code = proc.poll()
            out_pump.pump()
            err_pump.pump()
            if code is not None:
                break
            try:
                run.checkpoint()
            except RunEnded:
                kill(proc)
                raise
            run.stop_requested.wait(POLL_SECONDS)
    finally:
        out_pump.pump(final=True)
        err_pump.pump(final=True)
    if code != 0:
        raise RunFailed(err_pump.last_line() or f"the script exited with status {code}")


def kill(proc: subprocess.Popen[bytes]) -> None:
    """End a job process (and its children): SIGTERM, then SIGKILL after 3 seconds."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=3)
    except ProcessLookupError:
        pass
