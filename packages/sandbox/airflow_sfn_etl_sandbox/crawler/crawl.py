"""What a crawl does: find the tables under the targets, write them into the catalog.

The effect of a crawl (:mod:`..runs`): read the crawler's settings (:mod:`.settings`), plan the
tables (:mod:`.tables`), fail if there are more than the ``TableThreshold``, stop there if the
crawl was asked to, write them (:mod:`.catalog`), then show STOPPING for a moment before the crawl
ends (as Glue's crawlers do); a stop asked meanwhile ends it CANCELLED.
"""

from __future__ import annotations

from ..runs import RunFailed
from .catalog import write_catalog
from .crawls import CRAWLS, Crawl
from .settings import settings
from .tables import plan_tables

#: How long a finished crawl shows State STOPPING before READY.
STOPPING_SECONDS = 0.2


def run_crawl(crawl: Crawl) -> None:
    crawler = crawl.definition
    opts = settings(crawler)
    with CRAWLS.lock:
        before = frozenset().union(*(c.folders for c in CRAWLS.runs(crawl.region, crawl.name)
                                     if c is not crawl and c.state == "SUCCEEDED"))
    read: set[str] = set()
    plans = plan_tables(crawler, crawl.log, opts, before if opts.new_folders_only else frozenset(), read)
    for plan in plans:
        crawl.log(f"INFO : Table {plan.name} at {plan.location} ({plan.schema.classification}, "
                  f"{len(plan.partitions)} partition(s))")
    if opts.table_threshold is not None and len(plans) > opts.table_threshold:
        raise RunFailed(f"The number of tables detected by crawler: {len(plans)} is greater than the table "
                        f"threshold value provided: {opts.table_threshold}. Failing crawler without writing "
                        "to Data Catalog.")
    crawl.checkpoint()
    crawl.log(f"INFO : Classification complete, writing results to database {crawler.database_name}")
    write_catalog(crawl.region, crawler, plans, crawl.changes, crawl.log, opts)
    crawl.folders = frozenset(read)
    if not crawl.stop_requested.is_set():
        crawl.set_state(crawl.STATES.stopping)
        crawl.stop_requested.wait(STOPPING_SECONDS)
    crawl.checkpoint()
