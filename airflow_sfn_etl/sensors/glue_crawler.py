"""Deferrable sensor for a Glue crawl, judged by ``LastCrawl.Status``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.providers.amazon.aws.hooks.glue_crawler import GlueCrawlerHook
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields

from airflow_sfn_etl.sensors.base import AwsRunSensor
from airflow_sfn_etl.triggers.glue_crawler import GlueCrawlerTrigger


class GlueCrawlerSensor(AwsRunSensor):
    """Wait until a Glue crawler is READY; fail when its last crawl FAILED or was CANCELLED.

    Upstream's sensor is not deferrable and ignores the crawl's own outcome.

    :param crawler_name: name of the Glue crawler.
    """

    aws_hook_class = GlueCrawlerHook
    template_fields: Sequence[str] = aws_template_fields("crawler_name")

    def __init__(self, *, crawler_name: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.crawler_name = crawler_name

    def make_trigger(self, **common: Any) -> GlueCrawlerTrigger:
        return GlueCrawlerTrigger(crawler_name=self.crawler_name, **common)

    def result(self, event: dict[str, Any]) -> str:
        return self.crawler_name
