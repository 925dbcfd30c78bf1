"""Deferrable sensor for a Glue job run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.glue import GlueJobHook
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields

from airflow_sfn_etl.sensors.base import AwsRunSensor
from airflow_sfn_etl.triggers.glue import GlueJobTrigger
from airflow_sfn_etl.utils.events import GlueJobSucceeded

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from airflow_sfn_etl.triggers.base import PollingOptions


class GlueJobSensor(AwsRunSensor[GlueJobSucceeded]):
    """Wait for a Glue job run; FAILED/TIMEOUT/STOPPED/ERROR fail with the run's ErrorMessage.

    :param job_name: Glue job name.
    :param run_id: job run id.
    :param verbose: copy the run's CloudWatch log lines into the log while waiting.
    """

    aws_hook_class = GlueJobHook
    template_fields: Sequence[str] = aws_template_fields("job_name", "run_id")

    def __init__(self, *, job_name: str, run_id: str, verbose: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job_name = job_name
        self.run_id = run_id
        self.verbose = verbose

    def make_trigger(self, **common: Unpack[PollingOptions]) -> GlueJobTrigger:
        return GlueJobTrigger(job_name=self.job_name, run_id=self.run_id, verbose=self.verbose, **common)

    def result(self, event: GlueJobSucceeded) -> str:
        return self.run_id
