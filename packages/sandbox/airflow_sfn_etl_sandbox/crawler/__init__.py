"""Glue crawler runs: StartCrawler really crawls the S3 targets and writes the Glue catalog.

Crawler definitions (CreateCrawler, GetCrawler's static fields, UpdateCrawler, DeleteCrawler)
stay moto's. This package owns the runs: ``State`` (READY -> RUNNING -> STOPPING -> READY),
``LastCrawl`` (SUCCEEDED | FAILED | CANCELLED with ``ErrorMessage``), ``ListCrawls`` and
``GetCrawlerMetrics``, with the sandbox's shared run lifecycle (:mod:`..runs`; fault rules with
target ``crawler``).

- :mod:`.crawls`: a crawl's state and how the API describes it;
- :mod:`.crawl`: what a crawl does;
- :mod:`.tables`: which tables the S3 targets hold (classification, schema merge, partitions);
- :mod:`.catalog`: creating and updating those tables and partitions in the crawler's database.
"""

from __future__ import annotations

from typing import Any

from .. import state
from ..aws import AwsError, Call, paged
from ..routes import FORWARD, route
from .crawl import run_crawl
from .crawls import CRAWLS, Crawl, metrics

__all__ = ["Crawl", "reset"]


def _moto_crawler(region: str, name: str) -> Any:
    try:
        return state.glue_backend(region).get_crawler(name)
    except Exception as exc:
        raise AwsError("EntityNotFoundException", f"Crawler with name {name} not found") from exc


def _describe(region: str, crawler: dict[str, Any]) -> dict[str, Any]:
    """Overlay the run state on moto's crawler description."""
    name = crawler.get("Name", "")
    with CRAWLS.lock:
        latest = CRAWLS.latest(region, name)
        running = latest is not None and latest.active
        crawler["State"] = latest.state if running and latest else "READY"
        crawler["CrawlElapsedTime"] = int(latest.elapsed_seconds() * 1000) if running and latest else 0
        ended = CRAWLS.last_ended(region, name)
        if ended is not None:
            crawler["LastCrawl"] = ended.last_crawl()
        else:
            crawler.pop("LastCrawl", None)
    return crawler


@route("glue", "GetCrawler")
def get_crawler(call: Call) -> dict[str, Any]:
    data = call.forward_json()
    _describe(call.region, data["Crawler"])
    return data


@route("glue", "GetCrawlers", "BatchGetCrawlers")
def get_crawlers(call: Call) -> dict[str, Any]:
    data = call.forward_json()
    for crawler in data.get("Crawlers", []):
        _describe(call.region, crawler)
    return data


@route("glue", "StartCrawler")
def start_crawler(call: Call) -> dict[str, Any]:
    """Start a crawl in the background (CrawlerRunningException while one runs)."""
    name = call.params.get("Name", "")
    _moto_crawler(call.region, name)

    def admit(active: list[Crawl]) -> None:
        if active:
            raise AwsError("CrawlerRunningException", f"Crawler with name {name} has already started")

    CRAWLS.launch(Crawl(name=name, region=call.region), run_crawl, admit)
    return {}


@route("glue", "StopCrawler")
def stop_crawler(call: Call) -> dict[str, Any]:
    """Cancel the running crawl: it ends with LastCrawl.Status CANCELLED."""
    name = call.params.get("Name", "")
    _moto_crawler(call.region, name)
    with CRAWLS.lock:
        latest = CRAWLS.latest(call.region, name)
        if latest is None or not latest.active:
            raise AwsError("CrawlerNotRunningException", f"Crawler with name {name} isn't running")
        if not latest.request_stop():
            raise AwsError("CrawlerStoppingException", f"Crawler with name {name} is stopping")
    return {}


@route("glue", "DeleteCrawler", "UpdateCrawler")
def change_crawler(call: Call) -> Any:
    """Delete/update a crawler (moto's), refused while it runs."""
    name = call.params.get("Name", "")
    with CRAWLS.lock:
        latest = CRAWLS.latest(call.region, name)
        if latest is not None and latest.active:
            raise AwsError("CrawlerRunningException", f"Crawler with name {name} is running")
        if call.operation == "DeleteCrawler":
            CRAWLS.forget(call.region, name)
    return FORWARD


@route("glue", "ListCrawls")
def list_crawls(call: Call) -> dict[str, Any]:
    """The crawler's crawl history, newest first (``Filters`` are not applied)."""
    name = call.params.get("CrawlerName", "")
    _moto_crawler(call.region, name)
    with CRAWLS.lock:
        crawls = [c.history() for c in CRAWLS.newest_first(call.region, name)]
    return paged(crawls, "Crawls", call.params.get("NextToken"), call.params.get("MaxResults"), default_limit=20)


@route("glue", "GetCrawlerMetrics")
def get_crawler_metrics(call: Call) -> dict[str, Any]:
    """Run-time statistics of crawlers (moto does not implement this call)."""
    backend = state.glue_backend(call.region)
    names = call.params.get("CrawlerNameList") or sorted(backend.crawlers)
    with CRAWLS.lock:
        found = [metrics(call.region, name) for name in names if name in backend.crawlers]
    return paged(found, "CrawlerMetricsList", call.params.get("NextToken"), call.params.get("MaxResults"))


def reset() -> None:
    """Forget all crawls (running ones are cancelled)."""
    CRAWLS.clear()


def export_state() -> dict[tuple[str, str], Any]:
    """The runs, for a snapshot (:mod:`..persist`)."""
    return CRAWLS.export()


def import_state(saved: dict[tuple[str, str], Any]) -> None:
    """Take back the runs :func:`export_state` saved."""
    CRAWLS.restore(saved)
