"""Trigger rules that compile besides all_done/one_failed, and two that do not.

- ``corpus_none_failed``: fan-out branches whose joins use ``none_failed`` and
  ``none_failed_min_one_success`` (no upstream task is ever skipped, so they run as ``all_success``),
  then a summary that runs when all its upstream tasks ended and at least one succeeded
  (``all_done_min_one_success``): after a failed publish, not after a failed join.
- ``corpus_crawl_then_cleanup``: a cleanup after a crawler (``all_done``), whose poll loop's own Fail
  states are caught through a Parallel state around it.
- ``corpus_rules_refused``: ``one_success`` over two upstream tasks (Airflow starts it when the
  first succeeds) and ``all_skipped`` (nothing upstream is ever skipped, so it would never run).
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_sfn_etl.operators.glue import GlueJobOperator
from airflow_sfn_etl.operators.glue_crawler import GlueCrawlerOperator
from airflow_sfn_etl.operators.sns import SnsPublishOperator

with DAG(dag_id="corpus_none_failed", schedule=None, start_date=datetime(2026, 1, 1)):
    extract = GlueJobOperator(task_id="extract", job_name="corpus_extract")
    orders = GlueJobOperator(task_id="orders", job_name="corpus_orders")
    customers = GlueJobOperator(task_id="customers", job_name="corpus_customers")
    join = GlueJobOperator(task_id="join", job_name="corpus_join", trigger_rule="none_failed")
    publish = GlueJobOperator(task_id="publish", job_name="corpus_publish", trigger_rule="none_failed_min_one_success")
    summary = SnsPublishOperator(
        task_id="summary", target="corpus-topic", message="done", trigger_rule="all_done_min_one_success"
    )
    extract >> [orders, customers] >> join >> publish >> summary
    join >> summary

with DAG(dag_id="corpus_rules_refused", schedule=None, start_date=datetime(2026, 1, 1)):
    first = GlueJobOperator(task_id="first", job_name="corpus_first")
    second = GlueJobOperator(task_id="second", job_name="corpus_second")
    either = GlueJobOperator(task_id="either", job_name="corpus_either", trigger_rule="one_success")
    never = SnsPublishOperator(task_id="never", target="corpus-topic", message="m", trigger_rule="all_skipped")
    [first, second] >> either >> never

with DAG(dag_id="corpus_crawl_then_cleanup", schedule=None, start_date=datetime(2026, 1, 1)):
    # The crawler's poll loop fails through a Fail state of its own: it runs inside a Parallel state
    # whose Catch leads to the cleanup.
    crawl = GlueCrawlerOperator(task_id="crawl", crawler_name="corpus_crawler", max_polls=10)
    cleanup = SnsPublishOperator(
        task_id="cleanup", target="corpus-topic", message="crawl ended", trigger_rule="all_done"
    )
    crawl >> cleanup
