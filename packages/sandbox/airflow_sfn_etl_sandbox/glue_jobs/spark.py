"""The ``glueetl`` (Spark) runner: the job's script on local PySpark, with the ``awsglue`` API (:mod:`..glue_spark`).

Where PySpark (or a JVM) is missing, the run fails saying so.
"""

from __future__ import annotations

import math

from ..glue_spark import run_glueetl
from ..runs import RunEnded, RunFailed
from ..state import put_log_lines
from .job_runs import JobRun
from .python_shell import script_args


def run_spark_job(run: JobRun) -> None:
    """Run the job's script on the warm Spark JVM until it ends, is stopped or times out."""
    deadline = run.deadline
    final, message = run_glueetl(
        run.name, run.id, script_args(run), region=run.region,
        script_location=str(run.spec.command.get("ScriptLocation") or ""),
        deadline=math.inf if deadline is None else deadline, timeout_minutes=run.timeout or 0,
        stop=run.stop_requested,
        log=lambda stream, lines: put_log_lines(run.region, f"{run.log_group}/{stream}", run.id, lines),
    )
    if final == "SUCCEEDED":
        return
    if final in ("STOPPED", "TIMEOUT"):
        raise RunEnded(final, run.timeout_message() if final == "TIMEOUT" else message)
    raise RunFailed(message or "the Spark job failed")
