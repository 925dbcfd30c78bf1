"""``arn:aws:states:::glue:startJobRun[.sync]``: moto's Glue integration with a working ``.sync``."""

from __future__ import annotations

from typing import Any, ClassVar

from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_glue import (
    StateTaskServiceGlue,
)

from .results import epoch_millis
from .sync import SyncRun, SyncTaskMixin


class SandboxGlueService(SyncTaskMixin, StateTaskServiceGlue):
    """Glue StartJobRun; ``.sync`` polls GetJobRun and answers the job run, as AWS does.

    Only SUCCEEDED ends the task successfully: FAILED, TIMEOUT, ERROR and STOPPED (a run stopped
    from outside the execution) fail it with ``States.TaskFailed`` (cause: the job run as JSON,
    with ``JobRunState`` and ``ErrorMessage``). An aborted execution stops the run with
    BatchStopJobRun.
    """

    ERROR_PREFIX: ClassVar[str] = "Glue"
    SYNC_ACTIONS: ClassVar[frozenset[str]] = frozenset({"startjobrun"})

    def _start_sync_run(self, env: Any, start_output: dict[str, Any], resource_runtime_part: Any,
                        normalised_parameters: dict[str, Any], state_credentials: Any) -> SyncRun:
        client = self._get_glue_client(resource_runtime_part=resource_runtime_part,
                                       state_credentials=state_credentials)
        job_name: str = start_output["JobName"]
        run_id: str = start_output["JobRunId"]

        def describe() -> dict[str, Any]:
            job_run = dict(client.get_job_run(JobName=job_name, RunId=run_id)["JobRun"])
            job_run.setdefault("JobName", job_name)
            return epoch_millis(job_run)

        return SyncRun(
            label=f"Glue job run {job_name}/{run_id}",
            describe=describe,
            state_of=lambda run: run["JobRunState"],
            succeeded=frozenset({"SUCCEEDED"}),
            failed=frozenset({"FAILED", "TIMEOUT", "ERROR", "STOPPED"}),
            stop=lambda: client.batch_stop_job_run(JobName=job_name, JobRunIds=[run_id]),
        )
