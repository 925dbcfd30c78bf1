"""Trigger that waits for a Glue crawl and judges it by ``LastCrawl.Status``."""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.hooks.glue_crawler import GlueCrawlerHook
from botocore.exceptions import ClientError

from airflow_sfn_etl.triggers.base import AwsPollingTrigger
from airflow_sfn_etl.utils.events import GlueCrawlSucceeded
from airflow_sfn_etl.utils.polling import RunStatus

CRAWL_FAILED_STATES = ("FAILED", "CANCELLED")


def crawler_status(crawler: dict[str, Any]) -> RunStatus:
    """Judge a ``GetCrawler`` description: done when READY, ok when ``LastCrawl.Status`` is SUCCEEDED."""
    name = crawler.get("Name", "?")
    state = crawler.get("State", "UNKNOWN")
    last = crawler.get("LastCrawl") or {}
    if state != "READY":
        return RunStatus(state=state)
    status = last.get("Status")
    if status is None:
        # READY and never crawled: the crawl has not started yet.
        return RunStatus(state="READY")
    details = {"crawler_name": name, "crawl_status": status}
    if status == "SUCCEEDED":
        return RunStatus(
            state=status, done=True, ok=True, message=f"Glue crawler '{name}' succeeded", details=details
        )
    reason = last.get("ErrorMessage") or "Glue reported no error message"
    return RunStatus(
        state=status,
        done=True,
        message=f"Glue crawler '{name}' crawl {status}: {reason}",
        details={**details, "error_message": last.get("ErrorMessage")},
    )


def stop_crawler(hook: GlueCrawlerHook, crawler_name: str) -> None:
    """Stop a running crawl; a crawler that is not running is left alone."""
    try:
        hook.glue_client.stop_crawler(Name=crawler_name)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code not in ("CrawlerNotRunningException", "CrawlerStoppingException"):
            raise
    hook.log.info("Stop requested for Glue crawler '%s'", crawler_name)


class GlueCrawlerTrigger(AwsPollingTrigger[GlueCrawlSucceeded]):
    """Wait until a Glue crawler is READY again; succeed only if ``LastCrawl.Status`` is SUCCEEDED.

    :param crawler_name: name of the Glue crawler.
    """

    hook_class = GlueCrawlerHook

    def __init__(self, *, crawler_name: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.crawler_name = crawler_name

    def fields(self) -> dict[str, Any]:
        return {"crawler_name": self.crawler_name}

    def describe(self) -> str:
        return f"Glue crawler '{self.crawler_name}'"

    def timeout_message(self, polls: int) -> str:
        return f"Timed out: Glue crawler '{self.crawler_name}' did not finish after {polls} polls"

    def check(self, hook: GlueCrawlerHook) -> RunStatus:
        return crawler_status(hook.get_crawler(self.crawler_name))

    def stop(self, hook: GlueCrawlerHook) -> None:
        stop_crawler(hook, self.crawler_name)
