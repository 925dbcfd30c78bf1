"""A DataBrew job run's log in CloudWatch Logs: group ``/aws-glue-databrew/jobs/<job name>``, one
stream per run (its run id), unless the job's ``LogSubscription`` is ``DISABLE``.

The lines are the sandbox's (what the run read, what it wrote, why it failed or ended), not
DataBrew's own messages.
"""

from __future__ import annotations

from collections.abc import Callable

from ..runs import RunEnded, RunFailed
from ..state import put_log_lines
from .job_runs import JobRun

LOG_GROUP_PREFIX = "/aws-glue-databrew/jobs/"


def log_group(job_name: str) -> str:
    return LOG_GROUP_PREFIX + job_name


def _log(run: JobRun, *lines: str) -> None:
    if (run.job.get("LogSubscription") or "ENABLE") != "DISABLE":
        put_log_lines(run.region, log_group(run.name), run.id, list(lines))


def _summary(run: JobRun) -> list[str]:
    metrics = run.metrics
    lines = []
    if "rows_in" in metrics:
        lines.append(f"Read {metrics['rows_in']} rows of dataset {run.job.get('DatasetName')}")
    if "rows_profiled" in metrics:
        lines.append(f"Profiled {metrics['rows_profiled']} rows; statistics written to {metrics.get('output')}")
    if "rows_out" in metrics:
        lines.append(f"Wrote {metrics['rows_out']} rows in {metrics.get('files', 0)} objects")
    return lines


def logged(effect: Callable[[JobRun], None]) -> Callable[[JobRun], None]:
    """``effect`` writing the run's start, summary and end (or failure) to its log stream."""

    def run_and_log(run: JobRun) -> None:
        _log(run, f"Job run {run.id} of {run.job.get('Type', 'RECIPE').lower()} job {run.name} started")
        try:
            effect(run)
        except RunFailed as failure:
            _log(run, *_summary(run), f"Job run failed: {failure}")
            raise
        except RunEnded as ended:
            _log(run, *_summary(run), f"Job run ended {ended.state}: {ended.message or ended.state}")
            raise
        _log(run, *_summary(run), "Job run succeeded")

    return run_and_log
