"""Deferrable sensor for a Glue crawl, judged by ``LastCrawl.Status``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.glue_crawler import GlueCrawlerHook
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowException

from airflow_sfn_etl.sensors.base import AwsRunSensor
from airflow_sfn_etl.triggers.glue_crawler import GlueCrawlerTrigger
from airflow_sfn_etl.utils.events import GlueCrawlSucceeded

if TYPE_CHECKING:
    from airflow.sdk import Context
    from typing_extensions import Unpack

    from airflow_sfn_etl.triggers.base import PollingOptions
    from airflow_sfn_etl.utils.lineage import Lineage


def seconds_of(value: int | float | str, *, task_id: str, field: str = "wait_time") -> int:
    """Return a whole, positive number of seconds from an int or its rendered text; fail clearly."""
    if isinstance(value, bool):
        raise AirflowException(f"Task '{task_id}': {field} must be a whole number of seconds, not {value!r}")
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise AirflowException(
            f"Task '{task_id}': {field}={value!r} is not a whole number of seconds; "
            "give an int or a template such as '{{ params.wait_time }}' whose value is one"
        ) from None
    if number != int(number) or number < 1:
        raise AirflowException(
            f"Task '{task_id}': {field} must be a whole number of seconds >= 1, not {value!r}"
        )
    return int(number)


class GlueCrawlerSensor(AwsRunSensor[GlueCrawlSucceeded]):
    """Wait until a Glue crawler is READY; fail when its last crawl FAILED or was CANCELLED.

    Upstream's sensor is not deferrable and ignores the crawl's own outcome. With ``wait_time``
    the crawler is checked exactly every ``wait_time`` seconds (no backoff), in poke and
    deferrable mode; with ``max_polls`` the task fails with
    "Timed out: Glue crawler '<name>' did not finish after N polls".

    :param crawler_name: name of the Glue crawler.
    :param wait_time: seconds between two checks (int, or a template such as
        ``"{{ params.wait_time }}"`` rendered to an int at run time); ``None``: ``poke_interval``
        with the trigger's backoff.
    :param max_polls: fail after this many checks without the crawl ending (``None``: no limit).
    """

    aws_hook_class = GlueCrawlerHook
    template_fields: Sequence[str] = aws_template_fields("crawler_name", "wait_time")

    def __init__(self, *, crawler_name: str, wait_time: int | str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if wait_time is not None and not (isinstance(wait_time, str) and "{" in wait_time):
            seconds_of(wait_time, task_id=self.task_id)
        self.crawler_name = crawler_name
        self.wait_time = wait_time

    def prepare(self, context: Context) -> None:
        """Turn the rendered ``wait_time`` into a fixed poke interval."""
        if self.wait_time is None:
            return
        seconds = seconds_of(self.wait_time, task_id=self.task_id)
        self.wait_time = seconds
        self.poke_interval = float(seconds)
        self.exponential_backoff = False
        self.backoff_factor = 1.0
        self._trigger = None

    def make_trigger(self, **common: Unpack[PollingOptions]) -> GlueCrawlerTrigger:
        return GlueCrawlerTrigger(crawler_name=self.crawler_name, **common)

    def result(self, event: GlueCrawlSucceeded) -> str:
        return self.crawler_name

    def get_openlineage_facets_on_complete(self, task_instance: object = None) -> Lineage:
        """The crawl this sensor saw succeed: S3 targets read -> catalog tables written.

        With :class:`~airflow_sfn_etl.operators.glue_crawler.GlueCrawlerOperator` started without
        waiting, the tables the crawl wrote are known here, when the crawl has ended.
        """
        from airflow_sfn_etl.utils.lineage import AwsCatalog, crawler_lineage

        return crawler_lineage(AwsCatalog(self), self.crawler_name)
