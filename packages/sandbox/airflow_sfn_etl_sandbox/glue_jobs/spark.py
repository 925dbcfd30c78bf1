"""The ``glueetl`` (Spark) runner: Spark is not available in the sandbox, so such a run fails saying so."""

from __future__ import annotations

from ..runs import RunFailed
from .job_runs import JobRun


def run_spark_job(run: JobRun) -> None:
    """Fail the run: there is no Spark here (a Spark runner would take this place)."""
    raise RunFailed(f"Spark is not available in the sandbox: job {run.name} is a glueetl (Spark) job; "
                    "write it as a Python shell job (Command.Name 'pythonshell') to run it here")
