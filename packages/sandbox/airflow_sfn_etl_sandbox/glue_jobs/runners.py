"""What a Glue job run executes, chosen by the job's ``Command.Name``.

A runner is the effect of a run (:mod:`..runs`): it gets the :class:`~.job_runs.JobRun` once it
is RUNNING, returns when the job succeeded, raises :class:`~..runs.RunFailed` when it failed, and
calls ``run.checkpoint()`` while it works so that a stop or the timeout ends it. To run another
kind of job, add its runner to :data:`RUNNERS`.
"""

from __future__ import annotations

from collections.abc import Callable

from ..runs import RunFailed
from . import python_shell, spark
from .job_runs import JobRun

Runner = Callable[[JobRun], None]

#: ``Command.Name`` -> the runner for jobs of that kind.
RUNNERS: dict[str, Runner] = {
    "pythonshell": python_shell.run_script,
    "glueetl": spark.run_spark_job,
}


def run_job(run: JobRun) -> None:
    """Execute ``run`` with the runner for its job's ``Command.Name``."""
    kind = run.spec.kind
    runner = RUNNERS.get(kind)
    if runner is None:
        raise RunFailed(f"Job command {kind!r} is not supported by the sandbox "
                        f"(it has runners for: {', '.join(sorted(RUNNERS))})")
    runner(run)
