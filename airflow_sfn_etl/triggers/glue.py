"""Trigger that waits for a Glue job run and fails with the run's ``ErrorMessage``."""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.hooks.glue import GlueJobHook

from airflow_sfn_etl.triggers.base import AwsPollingTrigger
from airflow_sfn_etl.utils.events import GlueJobSucceeded
from airflow_sfn_etl.utils.polling import RunStatus, job_run_status

JOB_FAILED_STATES = ("FAILED", "TIMEOUT", "STOPPED", "ERROR")


def glue_job_run_status(job_run: dict[str, Any]) -> RunStatus:
    """Judge a ``GetJobRun`` ``JobRun``: SUCCEEDED is success; FAILED/TIMEOUT/STOPPED/ERROR fail."""
    return job_run_status(service="Glue", job_name=job_run.get("JobName", "?"), run_id=job_run.get("Id", "?"),
                          state=job_run.get("JobRunState", "UNKNOWN"), error_message=job_run.get("ErrorMessage"),
                          failed_states=JOB_FAILED_STATES)


def stop_job_run(hook: GlueJobHook, job_name: str, run_id: str) -> None:
    """Stop one Glue job run with ``BatchStopJobRun``."""
    response = hook.conn.batch_stop_job_run(JobName=job_name, JobRunIds=[run_id])
    for error in response.get("Errors", []):
        hook.log.warning("Could not stop Glue job run %s: %s", run_id, error.get("ErrorDetail"))
    hook.log.info("Stop requested for Glue job '%s' run %s", job_name, run_id)


class GlueJobTrigger(AwsPollingTrigger[GlueJobSucceeded]):
    """Wait for a Glue job run; with ``verbose`` copy its CloudWatch log lines into the log.

    :param job_name: Glue job name.
    :param run_id: job run id.
    :param verbose: print the run's driver log lines while waiting.
    """

    hook_class = GlueJobHook

    def __init__(self, *, job_name: str, run_id: str, verbose: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job_name = job_name
        self.run_id = run_id
        self.verbose = verbose
        # Upstream's LogContinuationTokens.__init__ has no annotations.
        self._log_tokens = GlueJobHook.LogContinuationTokens()  # type: ignore[no-untyped-call]

    def fields(self) -> dict[str, Any]:
        return {"job_name": self.job_name, "run_id": self.run_id, "verbose": self.verbose}

    def describe(self) -> str:
        return f"Glue job '{self.job_name}' run {self.run_id}"

    def check(self, hook: GlueJobHook) -> RunStatus:
        job_run = hook.conn.get_job_run(JobName=self.job_name, RunId=self.run_id)["JobRun"]
        if self.verbose:
            try:
                hook.print_job_logs(self.job_name, self.run_id, self._log_tokens)
            except Exception as error:  # noqa: BLE001 - logs are best effort, the state is what counts
                hook.log.warning("Could not read Glue job logs: %s", error)
        return glue_job_run_status(job_run)

    def stop(self, hook: GlueJobHook) -> None:
        stop_job_run(hook, self.job_name, self.run_id)
