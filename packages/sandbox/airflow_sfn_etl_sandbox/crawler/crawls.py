"""A crawl: one run of a crawler, with the shared lifecycle, as GetCrawler, ListCrawls and
GetCrawlerMetrics describe it.

A crawl is RUNNING, then STOPPING (asked to stop, or for a moment after it succeeded) and ends
SUCCEEDED, FAILED or CANCELLED (``LastCrawl.Status``). Its log lines go to CloudWatch Logs
(group ``/aws-glue/crawlers``, stream = crawler name, each line prefixed with the crawl id).
"""

from __future__ import annotations

import statistics
import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .. import state
from ..runs import Run, RunFailed, RunRegistry, States
from .catalog import CatalogChanges

LOG_GROUP = "/aws-glue/crawlers"
#: ListCrawls' ``State`` of an ended crawl, by its ``LastCrawl.Status``.
_HISTORY_STATES = {"SUCCEEDED": "COMPLETED", "FAILED": "FAILED", "CANCELLED": "STOPPED"}


@dataclass(kw_only=True, eq=False)
class Crawl(Run):
    """One run of a crawler."""

    STATES: ClassVar[States] = States(initial="RUNNING", final=frozenset(_HISTORY_STATES), stopped="CANCELLED")
    FAULT_TARGET: ClassVar[str] = "crawler"
    INTERNAL_ERROR: ClassVar[str] = "Internal Service Exception: "

    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    changes: CatalogChanges = field(default_factory=CatalogChanges)
    definition: Any = None  #: moto's crawler, read when the crawl begins
    folders: frozenset[str] = frozenset()  #: the S3 folders the crawl read (``s3://bucket/dir/``)

    @property
    def crawler(self) -> str:
        return self.name

    def begin(self) -> None:
        self.definition = state.glue_backend(self.region).crawlers.get(self.name)
        if self.definition is None:
            raise RunFailed(f"Crawler {self.name} was deleted while it ran")
        self.log(f"BENCHMARK : Running Start Crawl for Crawler {self.name}")

    def finished(self) -> None:
        if self.error_message:
            self.log(f"ERROR : {self.error_message}")
        self.log("BENCHMARK : Crawler has finished running and is in state READY")

    def log(self, *lines: str) -> None:
        try:
            state.put_log_lines(self.region, LOG_GROUP, self.name, [f"[{self.id}] {ln}" for ln in lines])
        except Exception:  # logging must never break a crawl
            pass

    def last_crawl(self) -> dict[str, Any]:
        """GetCrawler's ``LastCrawl`` for this (ended) crawl."""
        out: dict[str, Any] = {"Status": self.state, "LogGroup": LOG_GROUP, "LogStream": self.name,
                               "MessagePrefix": self.id, "StartTime": self.started_on}
        if self.error_message:
            out["ErrorMessage"] = self.error_message
        return out

    def history(self) -> dict[str, Any]:
        """ListCrawls' entry for this crawl."""
        changes = self.changes
        out: dict[str, Any] = {
            "CrawlId": self.id,
            "State": "RUNNING" if self.active else _HISTORY_STATES[self.state],
            "StartTime": self.started_on, "LogGroup": LOG_GROUP, "LogStream": self.name,
            "MessagePrefix": self.id, "DPUHour": round(max(self.run_seconds, 1.0) / 3600, 6),
        }
        if self.completed_on:
            out["EndTime"] = self.completed_on
            out["Summary"] = (f'{{"TABLE":{{"ADD":{{"Count":{changes.tables_created}}},'
                              f'"UPDATE":{{"Count":{changes.tables_updated}}},'
                              f'"DELETE":{{"Count":{changes.tables_deleted}}}}},'
                              f'"PARTITION":{{"ADD":{{"Count":{changes.partitions_added}}}}}}}')
        if self.error_message:
            out["ErrorMessage"] = self.error_message
        return out


#: Every crawl the sandbox knows, per (region, crawler name).
CRAWLS: RunRegistry[Crawl] = RunRegistry()


def metrics(region: str, name: str) -> dict[str, Any]:
    """GetCrawlerMetrics' entry for crawler ``name``."""
    crawls = CRAWLS.runs(region, name)
    ended = [c for c in crawls if not c.active]
    latest = crawls[-1] if crawls else None
    last = ended[-1] if ended else None
    median = statistics.median([c.run_seconds for c in ended]) if ended else 0.0
    running = latest is not None and latest.active
    elapsed = latest.elapsed_seconds() if running and latest else 0.0
    return {
        "CrawlerName": name,
        "TimeLeftSeconds": round(max(0.0, median - elapsed), 3) if running else 0.0,
        "StillEstimating": bool(running and not ended),
        "LastRuntimeSeconds": round(last.run_seconds, 3) if last else 0.0,
        "MedianRuntimeSeconds": round(median, 3),
        "TablesCreated": last.changes.tables_created if last else 0,
        "TablesUpdated": last.changes.tables_updated if last else 0,
        "TablesDeleted": last.changes.tables_deleted if last else 0,
    }
