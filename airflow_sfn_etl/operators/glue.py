"""Operator that runs a Glue job once per task try chain and fails with the run's ErrorMessage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.glue import GlueJobHook
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowException
from botocore.exceptions import ClientError

from airflow_sfn_etl.links.glue import GlueJobRunLink
from airflow_sfn_etl.operators.base import DEFER_AFTER_SECONDS, StopsRunOnKill, wait_or_defer
from airflow_sfn_etl.triggers.glue import GlueJobTrigger
from airflow_sfn_etl.utils.aws import default_deferrable, error_code, persist_link, trigger_kwargs
from airflow_sfn_etl.utils.events import GlueJobSucceeded, WaitFailed
from airflow_sfn_etl.utils.polling import raise_for_event
from airflow_sfn_etl.utils.run_key import run_key
from airflow_sfn_etl.utils.start_once import single_attempt_client, start_once

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_sfn_etl.utils.lineage import Lineage


RUN_KEY_ARGUMENT = "--airflow_run_key"
REATTACH_STATES = ("STARTING", "RUNNING", "WAITING", "SUCCEEDED")
MAX_RUN_PAGES = 5
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def validate_script_args(script_args: object) -> dict[str, str]:
    """Return Glue job arguments as ``{"--name": "value"}`` strings, failing on bad names."""
    if script_args is None:
        return {}
    if not isinstance(script_args, dict):
        raise ValueError(f"script_args must be a dict of '--name': value, not {type(script_args).__name__}")
    for name in script_args:
        if not isinstance(name, str) or not name.startswith("--"):
            raise ValueError(f"Glue job argument {name!r} must start with '--' (e.g. '--{name}')")
    if RUN_KEY_ARGUMENT in script_args:
        raise ValueError(f"{RUN_KEY_ARGUMENT} is set by the operator; remove it from script_args")
    return {name: str(value) for name, value in script_args.items()}


def typical_duration(runs: list[dict[str, Any]], last: int = 5) -> float | None:
    """Median duration in seconds of the newest ``last`` SUCCEEDED runs (None without any).

    The operator already lists the job's runs to re-attach; their durations tell the trigger when
    this run will likely end, so it can poll sparsely before and closely around that time.
    """
    done = [
        r for r in runs
        if r.get("JobRunState") == "SUCCEEDED" and r.get("StartedOn") and r.get("CompletedOn")
    ]
    done.sort(key=lambda r: r["StartedOn"], reverse=True)
    seconds = sorted((r["CompletedOn"] - r["StartedOn"]).total_seconds() for r in done[:last])
    if not seconds:
        return None
    return float(seconds[len(seconds) // 2])


class GlueJobOperator(StopsRunOnKill, AwsBaseOperator[GlueJobHook]):
    """Run an existing Glue job and wait for it; a retry re-attaches to the run it started.

    Re-attach: each run is started with the argument ``--airflow_run_key=<dag_id>/<run_id>/
    <task_id>[/<map_index>][#<first try of the chain>]``. Before starting, ``GetJobRuns`` is searched
    (newest first, up to 1000 runs) for a STARTING/RUNNING/WAITING/SUCCEEDED run carrying this
    task's key; if one exists it is attached to instead of starting a second run. Clearing the task
    starts a new try chain, hence a new key and a new run. Job scripts must tolerate the extra
    argument (``getResolvedOptions`` and ``argparse.parse_known_args`` do).

    Returns the job run id. FAILED, TIMEOUT, STOPPED and ERROR fail the task with the run's
    ``ErrorMessage``.

    OpenLineage (with the ``openlineage`` extra): the run is the external run; inputs and outputs
    are the catalog tables and S3 locations named by the job's arguments (the run's over the
    job's defaults; :meth:`~airflow_sfn_etl.utils.lineage.AwsCatalog.arguments_datasets` says which).

    :param job_name: name of the Glue job (it must exist).
    :param script_args: job arguments, e.g. ``{"--day": "{{ ds }}"}``.
    :param wait_for_completion: wait for the run to end.
    :param poll_interval: seconds between the first polls (later polls back off up to a minute).
    :param verbose: copy the run's CloudWatch log lines into the task log while waiting.
    :param deferrable: wait on the triggerer instead of the worker.
    :param defer_after: when deferrable, seconds to poll the run in the worker before deferring; a
        run that ends sooner needs no deferral (0: defer after one look).
    """

    aws_hook_class = GlueJobHook
    template_fields: Sequence[str] = aws_template_fields("job_name", "script_args")
    template_fields_renderers = {"script_args": "json"}
    operator_extra_links = (GlueJobRunLink(),)
    ui_color = "#ededed"

    def __init__(
        self,
        *,
        job_name: str,
        script_args: dict[str, Any] | None = None,
        wait_for_completion: bool = True,
        poll_interval: float = 5,
        verbose: bool = False,
        deferrable: bool = default_deferrable(),
        defer_after: float = DEFER_AFTER_SECONDS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if script_args is not None and not isinstance(script_args, dict):
            raise ValueError(
                f"script_args must be a dict of '--name': value, not {type(script_args).__name__}"
            )
        self.job_name = job_name
        self.script_args = script_args
        self.wait_for_completion = wait_for_completion
        self.poll_interval = poll_interval
        self.verbose = verbose
        self.deferrable = deferrable
        self.defer_after = defer_after
        self.run_id: str | None = None
        self._expected_seconds: float | None = None

    def find_run(self, key: str) -> dict[str, Any] | None:
        """Return the newest re-attachable run of this job started with ``key``, if any."""
        runs: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"JobName": self.job_name, "MaxResults": 200}
        for _ in range(MAX_RUN_PAGES):
            try:
                page = self.hook.conn.get_job_runs(**kwargs)
            except ClientError as error:
                if error_code(error) == "EntityNotFoundException":
                    raise self._not_found() from error
                raise
            runs.extend(page.get("JobRuns", []))
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
        self._expected_seconds = typical_duration(runs)
        mine = [
            run
            for run in runs
            if (run.get("Arguments") or {}).get(RUN_KEY_ARGUMENT) == key
            and run.get("JobRunState") in REATTACH_STATES
        ]
        mine.sort(key=lambda run: run.get("StartedOn") or _EPOCH, reverse=True)
        return mine[0] if mine else None

    def _start(self, arguments: dict[str, str]) -> str:
        """Start one run; after a lost response, attach to the run it started (no SDK auto-retry)."""
        client = single_attempt_client(self.hook)
        key = arguments[RUN_KEY_ARGUMENT]

        def find() -> str | None:
            run = self.find_run(key)
            return run["Id"] if run else None

        run_id: str
        try:
            run_id, _ = start_once(
                lambda: client.start_job_run(JobName=self.job_name, Arguments=arguments)["JobRunId"],
                find,
                what=f"Glue job '{self.job_name}' run",
                # Another DAG run holds the job's last concurrent-run slot: wait for it, with backoff.
                retry_codes=frozenset({"ConcurrentRunsExceededException"}),
            )
            return run_id
        except ClientError as error:
            if error_code(error) == "EntityNotFoundException":
                raise self._not_found() from error
            raise

    def _not_found(self) -> AirflowException:
        return AirflowException(
            f"Glue job '{self.job_name}' does not exist in region {self.hook.conn_region_name}: "
            "create the job first or fix job_name"
        )

    def make_trigger(self) -> GlueJobTrigger:
        """Return the trigger that waits for this task's run."""
        if self.run_id is None:
            raise AirflowException("No Glue job run to wait for: execute() has not started one")
        return GlueJobTrigger(
            job_name=self.job_name,
            run_id=self.run_id,
            verbose=self.verbose,
            poll_interval=self.poll_interval,
            expected_seconds=self._expected_seconds,
            **trigger_kwargs(self),
        )

    def execute(self, context: Context) -> str:
        arguments = validate_script_args(self.script_args)
        key = run_key(context)
        existing = self.find_run(key)
        if existing:
            self.run_id = existing["Id"]
            self.log.info(
                "Re-attaching to Glue job '%s' run %s (%s) started by this task",
                self.job_name,
                self.run_id,
                existing.get("JobRunState"),
            )
        else:
            self.run_id = self._start({**arguments, RUN_KEY_ARGUMENT: key})
            self.log.info("Started Glue job '%s' run %s", self.job_name, self.run_id)
        self.raise_if_killed()
        persist_link(GlueJobRunLink, context, self, job_name=self.job_name, run_id=self.run_id)
        if self.wait_for_completion:
            wait_or_defer(self, self.make_trigger())
            self.log.info("Glue job '%s' run %s succeeded", self.job_name, self.run_id)
        return self.run_id

    def execute_complete(self, context: Context, event: GlueJobSucceeded | WaitFailed | None = None) -> str:
        """Resume after the trigger: fail with the run's ErrorMessage, or return the run id."""
        succeeded = raise_for_event(event)
        self.run_id = succeeded["run_id"]
        self.log.info("Glue job '%s' run %s succeeded", self.job_name, succeeded["run_id"])
        return succeeded["run_id"]

    def get_openlineage_facets_on_complete(self, task_instance: object = None) -> Lineage:
        """The run's datasets, from its arguments over the job's default arguments."""
        from airflow_sfn_etl.utils.lineage import AwsCatalog, glue_job_lineage

        return glue_job_lineage(AwsCatalog(self), self.job_name, validate_script_args(self.script_args), self.run_id)
