"""What a crawl does: find the tables under the targets, write them into the catalog.

The effect of a crawl (:mod:`..runs`): plan the tables (:mod:`.tables`), stop there if the crawl
was asked to, write them (:mod:`.catalog`), then show STOPPING for a moment before the crawl
ends (as Glue's crawlers do); a stop asked meanwhile ends it CANCELLED.
"""

from __future__ import annotations

from .catalog import write_catalog
from .crawls import Crawl
from .tables import plan_tables

#: How long a finished crawl shows State STOPPING before READY.
STOPPING_SECONDS = 0.2


def run_crawl(crawl: Crawl) -> None:
    crawler = crawl.definition
    plans = plan_tables(crawler, crawl.log)
    crawl.checkpoint()
    crawl.log(f"INFO : Classification complete, writing results to database {crawler.database_name}")
    write_catalog(crawl.region, crawler, plans, crawl.changes, crawl.log)
    if not crawl.stop_requested.is_set():
        crawl.set_state(crawl.STATES.stopping)
        crawl.stop_requested.wait(STOPPING_SECONDS)
    crawl.checkpoint()
