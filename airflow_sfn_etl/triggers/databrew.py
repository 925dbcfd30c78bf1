"""Trigger that waits for a DataBrew job run; FAILED, STOPPED and TIMEOUT are failures."""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.hooks.glue_databrew import GlueDataBrewHook

from airflow_sfn_etl.triggers.base import AwsPollingTrigger
from airflow_sfn_etl.utils.events import DataBrewJobSucceeded
from airflow_sfn_etl.utils.polling import RunStatus, job_run_status

DATABREW_FAILED_STATES = ("FAILED", "STOPPED", "TIMEOUT")


def databrew_run_status(job_name: str, run: dict[str, Any]) -> RunStatus:
    """Judge a ``DescribeJobRun`` answer: only SUCCEEDED is success."""
    return job_run_status(service="DataBrew", job_name=job_name, run_id=run.get("RunId", "?"),
                          state=run.get("State", "UNKNOWN"), error_message=run.get("ErrorMessage"),
                          failed_states=DATABREW_FAILED_STATES)


def stop_databrew_run(hook: GlueDataBrewHook, job_name: str, run_id: str) -> None:
    """Stop one DataBrew job run."""
    hook.conn.stop_job_run(Name=job_name, RunId=run_id)
    hook.log.info("Stop requested for DataBrew job '%s' run %s", job_name, run_id)


class DataBrewJobTrigger(AwsPollingTrigger[DataBrewJobSucceeded]):
    """Wait for a DataBrew job run (upstream's waiter counts FAILED/STOPPED/TIMEOUT as success).

    :param job_name: DataBrew job name.
    :param run_id: job run id.
    """

    hook_class = GlueDataBrewHook

    def __init__(self, *, job_name: str, run_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job_name = job_name
        self.run_id = run_id

    def fields(self) -> dict[str, Any]:
        return {"job_name": self.job_name, "run_id": self.run_id}

    def describe(self) -> str:
        return f"DataBrew job '{self.job_name}' run {self.run_id}"

    def check(self, hook: GlueDataBrewHook) -> RunStatus:
        return databrew_run_status(
            self.job_name, hook.conn.describe_job_run(Name=self.job_name, RunId=self.run_id)
        )

    def stop(self, hook: GlueDataBrewHook) -> None:
        stop_databrew_run(hook, self.job_name, self.run_id)
