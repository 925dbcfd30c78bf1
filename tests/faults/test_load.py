"""Row 8: 20 concurrent DAG runs of the crawler flow, deferrable waits, on the sandbox.

Harness (said plainly): not a scheduler. Airflow 3.3 refuses LocalExecutor on SQLite, so a real
scheduler + triggerer would need PostgreSQL. Instead a pool of 4 worker slots (threads) runs the
tasks of 20 DAG runs in dependency order (submit crawler -> wait for crawler -> Glue job), and one
triggerer thread runs every deferred trigger on a single asyncio loop. A slot is held only while
``execute`` / ``execute_complete`` runs; the test counts slots and deferred triggers at each moment.
All 20 runs share ONE crawler: they must join the running crawl, never fail on it.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from airflow.sdk.exceptions import TaskDeferred

from airflow_sfn_etl.operators.glue import RUN_KEY_ARGUMENT, GlueJobOperator
from airflow_sfn_etl.operators.glue_crawler import GlueCrawlerOperator
from airflow_sfn_etl.sensors.glue_crawler import GlueCrawlerSensor

from . import harness as h

pytestmark = [pytest.mark.slow]

RUNS = 20
SLOTS = 4


class Triggerer:
    """One asyncio loop in a thread, running every deferred trigger."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.lock = threading.Lock()
        self.deferred = 0
        self.peak = 0

    def run(self, trigger, done) -> None:
        trigger = h.rebuild(*trigger.serialize())

        async def wait() -> None:
            with self.lock:
                self.deferred += 1
                self.peak = max(self.peak, self.deferred)
            try:
                async for event in trigger.run():
                    done(dict(event.payload))
                    return
            finally:
                with self.lock:
                    self.deferred -= 1

        asyncio.run_coroutine_threadsafe(wait(), self.loop)


def test_twenty_concurrent_crawler_flow_runs(aws, admin):
    admin.delay("crawler", h.CRAWLER, seconds=20)  # long enough for many waits to overlap on a busy machine
    pool = ThreadPoolExecutor(max_workers=SLOTS)
    triggerer = Triggerer()
    lock = threading.Lock()
    slots = {"busy": 0, "peak": 0}
    outcome: dict[int, list] = {i: [] for i in range(RUNS)}
    finished = threading.Semaphore(0)

    def tasks(i: int) -> list:
        return [
            GlueCrawlerOperator(
                task_id="submit_crawler_job",
                crawler_name=h.CRAWLER,
                wait_for_completion=False,
                deferrable=True,
            ),
            GlueCrawlerSensor(
                task_id="wait_for_crawler", crawler_name=h.CRAWLER, wait_time=1, max_polls=60, deferrable=True
            ),
            GlueJobOperator(
                task_id="run_final_glue_job",
                job_name=h.GLUE_JOB,
                poll_interval=0.5,
                deferrable=True,
                script_args={"--output_path": f"s3://{h.BUCKET}/out/{i}/"},
            ),
        ]

    def on_slot(i: int, chain: list, call) -> None:
        with lock:
            slots["busy"] += 1
            slots["peak"] = max(slots["peak"], slots["busy"])
        try:
            call()
        except TaskDeferred as deferral:
            op = chain[0]
            ctx = h.context(op.task_id, run_id=f"manual__load_{i}")
            method = getattr(op, deferral.method_name)
            triggerer.run(
                deferral.trigger,
                lambda event: pool.submit(
                    on_slot, i, chain, lambda: (method(ctx, event=event), advance(i, chain))
                ),
            )
        except BaseException as error:  # noqa: BLE001
            outcome[i].append(("failed", chain[0].task_id, repr(error)))
            finished.release()
        finally:
            with lock:
                slots["busy"] -= 1

    def advance(i: int, chain: list) -> None:
        outcome[i].append(("success", chain[0].task_id))
        rest = chain[1:]
        if not rest:
            finished.release()
            return
        pool.submit(on_slot, i, rest, lambda: (execute(i, rest), advance(i, rest)))

    def execute(i: int, chain: list):
        op = chain[0]
        return op.execute(h.context(op.task_id, run_id=f"manual__load_{i}"))

    for i in range(RUNS):
        chain = tasks(i)
        pool.submit(on_slot, i, chain, lambda i=i, chain=chain: (execute(i, chain), advance(i, chain)))
    for _ in range(RUNS):
        assert finished.acquire(timeout=240), {i: o for i, o in outcome.items()}
    pool.shutdown(wait=True)
    triggerer.loop.call_soon_threadsafe(triggerer.loop.stop)

    failures = {i: o for i, o in outcome.items() if any(step[0] == "failed" for step in o)}
    assert not failures
    assert all(
        [s[1] for s in o] == ["submit_crawler_job", "wait_for_crawler", "run_final_glue_job"]
        for o in outcome.values()
    )
    # Waiting held no worker slot: far more waits were deferred at once than there are slots.
    assert slots["peak"] <= SLOTS
    assert triggerer.peak > SLOTS, triggerer.peak
    # No run started twice: one Glue job run per DAG run, each with its own run key, all succeeded.
    runs = h.glue_runs(aws["glue"])
    keys = [r["Arguments"][RUN_KEY_ARGUMENT] for r in runs]
    assert len(runs) == RUNS and len(set(keys)) == RUNS
    assert {r["JobRunState"] for r in runs} == {"SUCCEEDED"}
    # The 20 runs joined crawls instead of each starting one (and none failed on CrawlerRunning).
    history = h.crawls(aws["glue"])
    assert 1 <= len(history) < RUNS and {c["State"] for c in history} == {"COMPLETED"}
    print(
        f"LOAD: {RUNS} DAG runs, {len(history)} crawls, {len(runs)} Glue job runs, "
        f"peak worker slots {slots['peak']}, peak deferred {triggerer.peak}"
    )
