"""What the provider's waits hand back when the run they watched succeeded.

A success event is ``RunStatus.event()`` of the run's last status: ``status`` (``"success"``),
``state`` (the service's own terminal state), ``message`` and the details the trigger's check
adds. An event that comes back from the triggerer also carries the trigger's constructor
arguments. Any other outcome is a :class:`WaitFailed`; ``raise_for_event`` turns it into an
error and returns the success event typed as the trigger's, so an operator's ``execute_complete``
(or a sensor's ``result``) reads one of these. The event arrives as plain JSON: a trigger names
its success event (``AwsPollingTrigger[GlueJobSucceeded]``) and the readers are typed after it.
"""

from __future__ import annotations

from typing import TypedDict


class SucceededEvent(TypedDict):
    """What every success event holds."""

    status: str
    state: str
    message: str


class _WaitEnded(TypedDict):
    status: str
    message: str


class WaitFailed(_WaitEnded, total=False):
    """An event of a wait that did not succeed: ``status`` is ``failed`` (the run failed, ``message``
    has the service's reason), ``timeout`` (``max_polls`` used up) or ``error`` (the status could
    not be read); ``state`` is the run's last state, when one was read."""

    state: str


class GlueJobSucceeded(SucceededEvent):
    """:class:`~airflow_sfn_etl.triggers.glue.GlueJobTrigger`: the run that succeeded."""

    job_name: str
    run_id: str


class DataBrewJobSucceeded(SucceededEvent):
    """:class:`~airflow_sfn_etl.triggers.databrew.DataBrewJobTrigger`: the run that succeeded."""

    job_name: str
    run_id: str


class GlueCrawlSucceeded(SucceededEvent):
    """:class:`~airflow_sfn_etl.triggers.glue_crawler.GlueCrawlerTrigger`: the crawler and its last
    crawl's status."""

    crawler_name: str
    crawl_status: str


class AthenaQuerySucceeded(SucceededEvent):
    """:class:`~airflow_sfn_etl.triggers.athena.AthenaQueryTrigger`: the query and its scan statistics."""

    query_execution_id: str
    data_scanned_bytes: int | None
    engine_execution_time_ms: int | None


class StepFunctionExecutionSucceeded(SucceededEvent):
    """:class:`~airflow_sfn_etl.triggers.step_function.StepFunctionExecutionTrigger`: the execution and
    its output (JSON text)."""

    execution_arn: str
    output: str | None


class SnsMessage(TypedDict):
    """An SNS notification taken from an SQS queue (the envelope unwrapped)."""

    message_id: str | None
    topic_arn: str | None
    subject: str | None
    message: str
    attributes: dict[str, str | None]
    timestamp: str | None


class SnsMessageReceived(TypedDict):
    """:class:`~airflow_sfn_etl.triggers.sns.SnsMessageTrigger`: the matching message, under ``message``
    (where the other events carry their text)."""

    status: str
    state: str
    message: SnsMessage
