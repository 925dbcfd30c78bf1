"""Operator that runs a DataBrew job and fails on FAILED, STOPPED and TIMEOUT runs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.glue_databrew import GlueDataBrewHook
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowException
from botocore.exceptions import ClientError

from airflow_sfn_etl.links.databrew import DataBrewJobLink
from airflow_sfn_etl.operators.base import DEFER_AFTER_SECONDS, StopsRunOnKill, wait_or_defer
from airflow_sfn_etl.triggers.databrew import DataBrewJobTrigger
from airflow_sfn_etl.utils.aws import default_deferrable, error_code, persist_link, trigger_kwargs
from airflow_sfn_etl.utils.events import DataBrewJobSucceeded, WaitFailed
from airflow_sfn_etl.utils.polling import raise_for_event
from airflow_sfn_etl.utils.start_once import single_attempt_client, start_once

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_sfn_etl.utils.lineage import Lineage


REATTACH_STATES = ("STARTING", "RUNNING")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class DataBrewStartJobOperator(StopsRunOnKill, AwsBaseOperator[GlueDataBrewHook]):
    """Start a DataBrew job run and wait for it; only SUCCEEDED passes.

    Upstream's ``job_complete`` waiter treats FAILED, STOPPED and TIMEOUT as success; here they
    fail the task with the run's ``ErrorMessage``.

    Re-attach: DataBrew runs carry no caller-defined tag, and a job runs one run at a time by
    default (``MaxConcurrentRuns``), so before starting, ``ListJobRuns`` is read and the newest
    STARTING/RUNNING run is attached to instead of starting another. A retry after the worker was
    lost therefore waits for the run the earlier try started. Returns the run id.

    OpenLineage (with the ``openlineage`` extra): the job's dataset source (S3 object or catalog
    table) is the input, its S3 and Data Catalog outputs the outputs, the run the external run.

    :param job_name: name of the DataBrew job (it must exist).
    :param wait_for_completion: wait for the run to end.
    :param poll_interval: seconds between the first polls (later polls back off up to a minute).
    :param deferrable: wait on the triggerer instead of the worker.
    :param defer_after: when deferrable, seconds to poll the run in the worker before deferring; a
        run that ends sooner needs no deferral (0: defer after one look).
    """

    aws_hook_class = GlueDataBrewHook
    template_fields: Sequence[str] = aws_template_fields("job_name")
    operator_extra_links = (DataBrewJobLink(),)
    ui_color = "#ededed"

    def __init__(
        self,
        *,
        job_name: str,
        wait_for_completion: bool = True,
        poll_interval: float = 5,
        deferrable: bool = default_deferrable(),
        defer_after: float = DEFER_AFTER_SECONDS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.job_name = job_name
        self.wait_for_completion = wait_for_completion
        self.poll_interval = poll_interval
        self.deferrable = deferrable
        self.defer_after = defer_after
        self.run_id: str | None = None

    def _not_found(self, error: ClientError) -> AirflowException:
        return AirflowException(
            f"DataBrew job '{self.job_name}' does not exist in region {self.hook.conn_region_name}: "
            "create the job first or fix job_name"
        )

    def find_active_run(self) -> dict[str, Any] | None:
        """Return the newest STARTING/RUNNING run of the job, if any."""
        try:
            runs = self.hook.conn.list_job_runs(Name=self.job_name, MaxResults=100).get("JobRuns", [])
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                raise self._not_found(error) from error
            raise
        active = [run for run in runs if run.get("State") in REATTACH_STATES]
        active.sort(key=lambda run: run.get("StartedOn") or _EPOCH, reverse=True)
        return active[0] if active else None

    def _start(self) -> str:
        """Start one run; after a lost response or a ConflictException, attach to the active run."""
        client = single_attempt_client(self.hook)

        def find() -> str | None:
            run = self.find_active_run()
            return run["RunId"] if run else None

        run_id: str
        try:
            run_id, attached = start_once(
                lambda: client.start_job_run(Name=self.job_name)["RunId"],
                find,
                what=f"DataBrew job '{self.job_name}' run",
            )
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                raise self._not_found(error) from error
            if error_code(error) != "ConflictException":
                raise
            # Another start won the race (e.g. our own earlier call whose answer was lost).
            found = find()
            if found is None:
                raise
            run_id, attached = found, True
        if attached:
            self.log.info("DataBrew job '%s' run %s was already started: attaching", self.job_name, run_id)
        else:
            self.log.info("Started DataBrew job '%s' run %s", self.job_name, run_id)
        return run_id

    def make_trigger(self) -> DataBrewJobTrigger:
        """Return the trigger that waits for this task's run."""
        if self.run_id is None:
            raise AirflowException("No DataBrew job run to wait for: execute() has not started one")
        return DataBrewJobTrigger(
            job_name=self.job_name,
            run_id=self.run_id,
            poll_interval=self.poll_interval,
            **trigger_kwargs(self),
        )

    def execute(self, context: Context) -> str:
        existing = self.find_active_run()
        if existing:
            self.run_id = existing["RunId"]
            self.log.info(
                "DataBrew job '%s' already has run %s (%s): attaching to it",
                self.job_name,
                self.run_id,
                existing.get("State"),
            )
        else:
            self.run_id = self._start()
        self.raise_if_killed()
        persist_link(DataBrewJobLink, context, self, job_name=self.job_name)
        if self.wait_for_completion:
            wait_or_defer(self, self.make_trigger())
            self.log.info("DataBrew job '%s' run %s succeeded", self.job_name, self.run_id)
        return self.run_id

    def execute_complete(
        self, context: Context, event: DataBrewJobSucceeded | WaitFailed | None = None
    ) -> str:
        """Resume after the trigger: fail with the run's ErrorMessage, or return the run id."""
        succeeded = raise_for_event(event)
        self.run_id = succeeded["run_id"]
        self.log.info("DataBrew job '%s' run %s succeeded", self.job_name, succeeded["run_id"])
        return succeeded["run_id"]

    def get_openlineage_facets_on_complete(self, task_instance: object = None) -> Lineage:
        """The job's dataset source -> its outputs."""
        from airflow_sfn_etl.utils.lineage import AwsCatalog, databrew_job_lineage

        return databrew_job_lineage(AwsCatalog(self), self.job_name, self.run_id)
