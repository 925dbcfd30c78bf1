"""Deferrable sensor for an Athena query execution."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.athena import AthenaHook
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields

from airflow_sfn_etl.sensors.base import AwsRunSensor
from airflow_sfn_etl.triggers.athena import AthenaQueryTrigger
from airflow_sfn_etl.utils.events import AthenaQuerySucceeded

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from airflow_sfn_etl.triggers.base import PollingOptions


class AthenaQuerySensor(AwsRunSensor[AthenaQuerySucceeded]):
    """Wait for an Athena query; FAILED and CANCELLED fail with ``StateChangeReason``.

    :param query_execution_id: Athena query execution id.
    """

    aws_hook_class = AthenaHook
    template_fields: Sequence[str] = aws_template_fields("query_execution_id")

    def __init__(self, *, query_execution_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.query_execution_id = query_execution_id

    def make_trigger(self, **common: Unpack[PollingOptions]) -> AthenaQueryTrigger:
        return AthenaQueryTrigger(query_execution_id=self.query_execution_id, **common)

    def result(self, event: AthenaQuerySucceeded) -> str:
        return self.query_execution_id
