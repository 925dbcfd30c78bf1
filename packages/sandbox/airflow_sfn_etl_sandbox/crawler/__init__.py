"""Glue crawler runs: StartCrawler really crawls the S3 targets and writes the Glue catalog.

Crawler definitions (CreateCrawler, GetCrawler's static fields, DeleteCrawler) stay moto's;
CreateCrawler and UpdateCrawler are checked as Glue checks them (:func:`.settings.check_definition`)
and UpdateCrawler, which moto lacks, changes moto's crawler. This package owns the runs:
``State`` (READY -> RUNNING -> STOPPING -> READY), ``LastCrawl`` (SUCCEEDED | FAILED | CANCELLED
with ``ErrorMessage``), ``ListCrawls`` and ``GetCrawlerMetrics``, with the sandbox's shared run
lifecycle (:mod:`..runs`; fault rules with target ``crawler``).

- :mod:`.crawls`: a crawl's state and how the API describes it;
- :mod:`.crawl`: what a crawl does;
- :mod:`.settings`: the crawler's Configuration, SchemaChangePolicy and RecrawlPolicy;
- :mod:`.tables`: which tables the S3 targets hold (classification, schema merge, partitions);
- :mod:`.catalog`: creating and updating those tables and partitions in the crawler's database.
"""

from __future__ import annotations

from typing import Any

from .. import state
from ..aws import AwsError, Call, paged
from ..routes import FORWARD, route
from . import classifiers
from .crawl import run_crawl
from .crawls import CRAWLS, Crawl, metrics
from .settings import check_definition

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


#: UpdateCrawler's fields -> moto's FakeCrawler attributes.
_UPDATABLE = {"Role": "role", "DatabaseName": "database_name", "Description": "description", "Targets": "targets",
              "Classifiers": "classifiers", "TablePrefix": "table_prefix",
              "SchemaChangePolicy": "schema_change_policy", "RecrawlPolicy": "recrawl_policy",
              "LineageConfiguration": "lineage_configuration", "Configuration": "configuration",
              "CrawlerSecurityConfiguration": "crawler_security_configuration"}


def _refuse_while_running(region: str, name: str) -> None:
    latest = CRAWLS.latest(region, name)
    if latest is not None and latest.active:
        raise AwsError("CrawlerRunningException", f"Crawler with name {name} is running")


@route("glue", "CreateCrawler")
def create_crawler(call: Call) -> Any:
    """moto's CreateCrawler, after Glue's checks of the settings."""
    check_definition(call.params)
    return FORWARD


@route("glue", "UpdateCrawler")
def update_crawler(call: Call) -> dict[str, Any]:
    """Change moto's crawler (moto has no UpdateCrawler): the fields given replace the stored ones."""
    import datetime as dt

    name = call.params.get("Name", "")
    crawler = _moto_crawler(call.region, name)
    current = {field: getattr(crawler, attr) for field, attr in _UPDATABLE.items()}
    unsupported = sorted(k for k in call.params if k not in _UPDATABLE and k not in ("Name", "Schedule"))
    if unsupported:
        raise AwsError("InvalidInputException",
                       f"UpdateCrawler {', '.join(unsupported)} is not emulated by the sandbox")
    check_definition(call.params, current)
    with CRAWLS.lock:
        _refuse_while_running(call.region, name)
        for field, attr in _UPDATABLE.items():
            if call.params.get(field) is not None:
                setattr(crawler, attr, call.params[field])
        if call.params.get("Schedule") is not None:
            crawler.schedule = call.params["Schedule"] or None
        crawler.version += 1
        crawler.last_updated = dt.datetime.now(dt.timezone.utc)
    return {}


@route("glue", "DeleteCrawler")
def delete_crawler(call: Call) -> Any:
    """Delete a crawler (moto's), refused while it runs."""
    name = call.params.get("Name", "")
    with CRAWLS.lock:
        _refuse_while_running(call.region, name)
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
    """Forget all crawls (running ones are cancelled) and custom classifiers."""
    CRAWLS.clear()
    classifiers.reset()


def export_state() -> dict[str, Any]:
    """The runs and the custom classifiers, for a snapshot (:mod:`..persist`)."""
    return {"crawls": CRAWLS.export(), "classifiers": classifiers.export_state()}


def import_state(saved: dict[Any, Any]) -> None:
    """Take back what :func:`export_state` saved (or the runs alone, as older snapshots have them)."""
    if set(saved) <= {"crawls", "classifiers"}:
        CRAWLS.restore(saved.get("crawls") or {})
        classifiers.import_state(saved.get("classifiers") or {})
    else:
        CRAWLS.restore(saved)
