"""Operator that runs a Glue crawler (or joins its running crawl) and judges the crawl itself."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.glue_crawler import GlueCrawlerHook
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowException
from botocore.exceptions import ClientError

from airflow_sfn_etl.links.glue import GlueCrawlerLink
from airflow_sfn_etl.operators.base import DEFER_AFTER_SECONDS, StopsRunOnKill, wait_or_defer
from airflow_sfn_etl.triggers.glue_crawler import GlueCrawlerTrigger
from airflow_sfn_etl.utils.aws import default_deferrable, error_code, persist_link, trigger_kwargs
from airflow_sfn_etl.utils.polling import RunStatus, raise_for_event, wait_until_done
from airflow_sfn_etl.utils.start_once import single_attempt_client, start_once

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_sfn_etl.utils.events import GlueCrawlSucceeded, WaitFailed
    from airflow_sfn_etl.utils.lineage import Lineage


def get_crawler_or_fail(hook: GlueCrawlerHook, crawler_name: str) -> dict[str, Any]:
    """Return ``GetCrawler``'s description, or fail with a message naming the missing crawler."""
    try:
        return hook.get_crawler(crawler_name)
    except ClientError as error:
        if error_code(error) == "EntityNotFoundException":
            raise AirflowException(
                f"Glue crawler '{crawler_name}' does not exist in region {hook.conn_region_name}: "
                "create it first (e.g. GlueCrawlerCreateOperator) or fix crawler_name"
            ) from error
        raise


class GlueCrawlerOperator(StopsRunOnKill, AwsBaseOperator[GlueCrawlerHook]):
    """Start a Glue crawl and wait for it; a crawl already running is joined, not failed on.

    Success means ``State`` READY and ``LastCrawl.Status`` SUCCEEDED; FAILED and CANCELLED crawls
    fail the task with ``LastCrawl.ErrorMessage``. Returns the crawler name.

    OpenLineage (with the ``openlineage`` extra): the crawler's S3 targets are the inputs, the
    catalog tables it created or updated the outputs (:func:`~airflow_sfn_etl.utils.lineage.
    crawler_lineage`). Without ``wait_for_completion`` the outputs are those of the crawler's
    previous crawls: the task ends before this crawl writes the catalog.

    :param crawler_name: name of the Glue crawler.
    :param wait_for_completion: wait for the crawl to end.
    :param poll_interval: seconds between the first polls (later polls back off up to a minute).
    :param max_polls: fail after this many polls without the crawl ending (``None``: no limit).
    :param deferrable: wait on the triggerer instead of the worker.
    :param defer_after: when deferrable, seconds to poll the run in the worker before deferring; a
        run that ends sooner needs no deferral (0: defer after one look).
    """

    aws_hook_class = GlueCrawlerHook
    run_attribute = "_crawl_owned"
    template_fields: Sequence[str] = aws_template_fields("crawler_name")
    operator_extra_links = (GlueCrawlerLink(),)
    ui_color = "#ededed"

    def __init__(
        self,
        *,
        crawler_name: str,
        wait_for_completion: bool = True,
        poll_interval: float = 5,
        max_polls: int | None = None,
        deferrable: bool = default_deferrable(),
        defer_after: float = DEFER_AFTER_SECONDS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if max_polls is not None and max_polls < 1:
            raise ValueError(f"max_polls must be a positive number of polls or None, not {max_polls!r}")
        self.crawler_name = crawler_name
        self.wait_for_completion = wait_for_completion
        self.poll_interval = poll_interval
        self.max_polls = max_polls
        self.deferrable = deferrable
        self.defer_after = defer_after
        self._crawl_owned = False

    def make_trigger(self) -> GlueCrawlerTrigger:
        """Return the trigger that waits for this crawler."""
        return GlueCrawlerTrigger(
            crawler_name=self.crawler_name,
            poll_interval=self.poll_interval,
            max_polls=self.max_polls,
            **trigger_kwargs(self),
        )

    def _wait_until_not_stopping(self, crawler: dict[str, Any]) -> None:
        """Wait, as the trigger's policy says, until a previous crawl has stopped (bounded by ``max_polls``)."""
        if crawler.get("State") != "STOPPING":
            return
        self.log.info("Glue crawler '%s' is stopping a previous crawl; waiting", self.crawler_name)

        def check() -> RunStatus:
            state = get_crawler_or_fail(self.hook, self.crawler_name).get("State", "UNKNOWN")
            return RunStatus(state=state, done=state != "STOPPING", ok=True)

        wait_until_done(
            check,
            self.make_trigger().policy,
            look_first=False,
            timeout_message=lambda polls: (
                f"Timed out: Glue crawler '{self.crawler_name}' was still STOPPING after {polls} polls"
            ),
        )

    def _start_or_join(self) -> None:
        crawler = get_crawler_or_fail(self.hook, self.crawler_name)
        if crawler.get("State") == "RUNNING":
            self.log.info("Glue crawler '%s' is already running: joining that crawl", self.crawler_name)
            return
        self._wait_until_not_stopping(crawler)
        before = (crawler.get("LastCrawl") or {}).get("StartTime")
        client = single_attempt_client(self.hook, "glue_client")

        def find() -> dict[str, Any] | None:
            # A lost StartCrawler response: the crawl runs (or already ran) if the crawler says so.
            now = get_crawler_or_fail(self.hook, self.crawler_name)
            started = (now.get("LastCrawl") or {}).get("StartTime")
            return now if now.get("State") in ("RUNNING", "STOPPING") or started != before else None

        try:
            _, attached = start_once(
                lambda: client.start_crawler(Name=self.crawler_name),
                find,
                what=f"Glue crawler '{self.crawler_name}' crawl",
            )
            self.log.info("%s Glue crawler '%s'", "Joined" if attached else "Started", self.crawler_name)
        except ClientError as error:
            if error_code(error) != "CrawlerRunningException":
                raise
            self.log.info("Glue crawler '%s' is already running: joining that crawl", self.crawler_name)

    def execute(self, context: Context) -> str:
        self._start_or_join()
        self._crawl_owned = True
        self.raise_if_killed()
        persist_link(GlueCrawlerLink, context, self, crawler_name=self.crawler_name)
        if self.wait_for_completion:
            wait_or_defer(self, self.make_trigger())
            self.log.info("Glue crawler '%s' succeeded", self.crawler_name)
        return self.crawler_name

    def execute_complete(
        self, context: Context, event: GlueCrawlSucceeded | WaitFailed | None = None
    ) -> str:
        """Resume after the trigger: fail with the crawl's error, or return the crawler name."""
        raise_for_event(event)
        self.log.info("Glue crawler '%s' succeeded", self.crawler_name)
        return self.crawler_name

    def get_openlineage_facets_on_complete(self, task_instance: object = None) -> Lineage:
        """S3 targets read -> catalog tables written by the crawler."""
        from airflow_sfn_etl.utils.lineage import AwsCatalog, crawler_lineage

        return crawler_lineage(AwsCatalog(self), self.crawler_name)
