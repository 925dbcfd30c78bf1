"""Deferrable sensor for a DataBrew job run (upstream has none)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.glue_databrew import GlueDataBrewHook
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields

from airflow_sfn_etl.sensors.base import AwsRunSensor
from airflow_sfn_etl.triggers.databrew import DataBrewJobTrigger
from airflow_sfn_etl.utils.events import DataBrewJobSucceeded

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from airflow_sfn_etl.triggers.base import PollingOptions


class DataBrewJobSensor(AwsRunSensor[DataBrewJobSucceeded]):
    """Wait for a DataBrew job run; FAILED, STOPPED and TIMEOUT fail with the run's ErrorMessage.

    :param job_name: DataBrew job name.
    :param run_id: job run id.
    """

    aws_hook_class = GlueDataBrewHook
    template_fields: Sequence[str] = aws_template_fields("job_name", "run_id")

    def __init__(self, *, job_name: str, run_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job_name = job_name
        self.run_id = run_id

    def make_trigger(self, **common: Unpack[PollingOptions]) -> DataBrewJobTrigger:
        return DataBrewJobTrigger(job_name=self.job_name, run_id=self.run_id, **common)

    def result(self, event: DataBrewJobSucceeded) -> str:
        return self.run_id
