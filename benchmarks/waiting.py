"""Section 2: the cost of waiting for a (time-compressed) 10-minute Glue job.

A Glue job on the sandbox takes ``job_seconds`` (a delay fault); every poll interval is divided by
the same compression factor (600 / job_seconds), so counts of calls and latencies scale back to a
real 10-minute job by multiplying seconds by the factor. Per variant: worker-slot seconds (time a
worker process is busy: the whole wait for a non-deferrable operator; start, the polls before
deferring and resume for a deferred one), AWS API calls made while waiting (counted at the
sandbox), and completion-detection latency (the run's CompletedOn -> the task noticing: the
trigger's event, or execute() returning).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

from .glue_fixture import create_timed_job, task_context
from .results import Section
from .sandbox import calls_since, snapshot
from .stats import median

REAL_JOB_SECONDS = 600.0


def _completed_on(sb: Any, job: str, run_id: str) -> float:
    run = sb.client("glue").get_job_run(JobName=job, RunId=run_id)["JobRun"]
    value = run["CompletedOn"]
    return value.timestamp() if isinstance(value, dt.datetime) else float(value)


async def _run_trigger(trigger: Any) -> tuple[dict[str, Any], float]:
    async for event in trigger.run():
        return dict(event.payload), time.time()
    raise RuntimeError("trigger ended without an event")


def ours_deferred(sb: Any, job: str, factor: float) -> dict[str, float]:
    from airflow.providers.common.compat.sdk import TaskDeferred

    from airflow_sfn_etl.operators import base
    from airflow_sfn_etl.operators.glue import GlueJobOperator

    op = GlueJobOperator(
        task_id="wait", job_name=job, poll_interval=5 / factor, defer_after=base.DEFER_AFTER_SECONDS / factor,
        deferrable=True,
    )
    ctx = task_context("wait")
    looked: list[float] = []
    look = base.check_before_defer

    def timed_look(*args: Any) -> Any:  # the worker's polls before it defers: slot time while waiting
        t = time.perf_counter()
        try:
            return look(*args)
        finally:
            looked.append(time.perf_counter() - t)

    before = snapshot()
    t0 = time.perf_counter()
    base.check_before_defer = timed_look
    try:
        op.execute(ctx)
        raise RuntimeError("the deferrable operator did not defer")
    except TaskDeferred as deferred:
        trigger = deferred.trigger
    finally:
        base.check_before_defer = look
    start_s = time.perf_counter() - t0 - sum(looked)
    worker_polls = calls_since(before, "glue", "GetJobRun")  # the looks before deferring
    trigger.max_poll_interval = trigger.max_poll_interval / factor
    waiting = snapshot()
    event, noticed = asyncio.run(_run_trigger(trigger))
    wait_calls = worker_polls + calls_since(waiting)
    t1 = time.perf_counter()
    op.execute_complete(ctx, event)
    resume_s = time.perf_counter() - t1
    total_calls = calls_since(before)
    return {
        "slot_outside_s": start_s + resume_s,
        "slot_waiting_s": sum(looked),
        "wait_calls": wait_calls,
        "calls": total_calls,
        "latency_s": noticed - _completed_on(sb, job, event["run_id"]),
        "expected_s": trigger.expected_seconds or 0.0,
    }


def ours_poke(sb: Any, job: str, factor: float) -> dict[str, float]:
    from airflow_sfn_etl.operators.glue import GlueJobOperator

    op = GlueJobOperator(task_id="wait", job_name=job, poll_interval=5 / factor, deferrable=False)
    make = op.make_trigger

    def scaled() -> Any:
        trigger = make()
        trigger.max_poll_interval = trigger.max_poll_interval / factor
        return trigger

    op.make_trigger = scaled  # type: ignore[method-assign]
    return _worker_wait(sb, job, op)


def stock_sync(sb: Any, job: str, factor: float) -> dict[str, float]:
    from airflow.providers.amazon.aws.operators.glue import GlueJobOperator as StockGlueJobOperator

    op = StockGlueJobOperator(  # noqa: AIR001 - not in a DAG: a stand-alone operator under test
        task_id="wait",
        job_name=job,
        wait_for_completion=True,
        deferrable=False,
        job_poll_interval=6 / factor,
        verbose=False,
    )
    return _worker_wait(sb, job, op)


def _worker_wait(sb: Any, job: str, op: Any) -> dict[str, float]:
    """A non-deferrable operator: the worker slot is held for the whole execute()."""
    ctx = task_context("wait")
    before = snapshot()
    t0 = time.perf_counter()
    run_id = op.execute(ctx)
    noticed = time.time()
    slot = time.perf_counter() - t0
    calls = calls_since(before)
    run = sb.client("glue").get_job_run(JobName=job, RunId=run_id)["JobRun"]
    waited = noticed - run["StartedOn"].timestamp()
    return {
        "slot_outside_s": max(0.0, slot - waited),
        "slot_waiting_s": waited,
        "wait_calls": calls_since(before, "glue", "GetJobRun") - 1,
        "calls": calls,
        "latency_s": noticed - _completed_on(sb, job, run_id),
        "expected_s": 0.0,
    }


def ours_deferred_first_run(sb: Any, job: str, factor: float) -> dict[str, float]:
    """Our deferred wait on a job with no run history (nothing to predict its end from)."""
    return ours_deferred(sb, create_timed_job(sb, REAL_JOB_SECONDS / factor), factor)


VARIANTS = {
    "ours, deferrable, job with run history (GlueJobTrigger, expected-end window)": ours_deferred,
    "ours, deferrable, first run of the job (plain backoff)": ours_deferred_first_run,
    "ours, non-deferrable (poll in the worker, expected-end window)": ours_poke,
    "stock GlueJobOperator, non-deferrable (job_poll_interval 6 s)": stock_sync,
}


def measure(
    sb: Any, *, job_seconds: float, repeats: int, restart_triggers: int, restart_factor: float = 15.0
) -> list[Section]:
    import importlib.util

    factor = REAL_JOB_SECONDS / job_seconds
    job = create_timed_job(sb, job_seconds)
    section = Section(
        "waiting",
        f"2. Cost of waiting for a 10-minute Glue job (time-compressed x{factor:g})",
        [
            "variant",
            "worker-slot s while waiting (real-time)",
            "worker-slot s start + resume (measured)",
            "GetJobRun calls while waiting",
            "API calls total",
            "detection latency s (real-time)",
            "calls vs stock",
            "latency vs stock",
        ],
    )
    stock_sync(sb, job, factor)  # warm-up: the job has a run history from here on
    rows = {}
    for label, fn in VARIANTS.items():
        samples = [fn(sb, job, factor) for _ in range(repeats)]
        rows[label] = {k: median([s[k] for s in samples]) for k in samples[0]}
    stock = rows[list(VARIANTS)[-1]]
    for i, (label, row) in enumerate(rows.items()):
        section.add(
            label,
            row["slot_waiting_s"] * factor,
            row["slot_outside_s"],
            row["wait_calls"],
            row["calls"],
            row["latency_s"] * factor,
            row["wait_calls"] / stock["wait_calls"],
            row["latency_s"] / stock["latency_s"],
        )
        for k, v in row.items():
            section.figures[f"variant{i}.{k}"] = v
    if importlib.util.find_spec("aiobotocore") is None:
        section.add("stock GlueJobOperator, deferrable (GlueJobCompleteTrigger)", *["n/a"] * 7)
        section.notes.append(
            "Stock deferrable: not measurable here: upstream's GlueJobCompleteTrigger needs "
            "aiobotocore, which apache-airflow-providers-amazon does not install (not installed "
            "in this environment). By its code it polls GetJobRun every waiter_delay "
            "(= job_poll_interval, 6 s): the same call count and latency as the non-deferrable "
            "row, without the worker slot."
        )
    section.notes += [
        f"Job: {job_seconds:g} s on the sandbox standing for {REAL_JOB_SECONDS:g} s (factor {factor:g}); "
        f"poll intervals divided by {factor:g}: ours 5 s first interval, x1.5 backoff, 60 s cap; stock 6 s "
        "fixed. Seconds in the table are scaled back to real time (measured x factor); call counts are as "
        "measured.",
        f"Median of {repeats} runs per variant. Worker-slot seconds of a deferred task: while waiting, the "
        "polls in the worker before it defers (defer_after, 10 s, scaled; skipped when the run history says "
        "the run takes longer); start + resume: execute() up to defer (StartJobRun + re-attach lookup) "
        "plus execute_complete(). The trigger's wait holds no slot. Calls while waiting include the "
        "worker's polls.",
        "Latency: JobRun.CompletedOn (sandbox clock) -> trigger event / execute() return (same clock).",
        "Run history: our GlueJobOperator already lists the job's runs (to re-attach on retry); the median "
        "duration of the last 5 SUCCEEDED runs becomes the trigger's expected_seconds: backoff until one "
        "poll interval before that, then every poll interval until 1.5x. Without history: plain backoff.",
    ]
    return [section, measure_restart(sb, factor=restart_factor, triggers=restart_triggers)]


def measure_restart(sb: Any, *, factor: float, triggers: int) -> Section:
    """N deferred waits on one triggerer: steady-state poll rate, then a triggerer restart."""
    from airflow_sfn_etl.triggers.glue import GlueJobTrigger

    cap = 60 / factor
    settle = 5 * cap  # the backoff reaches its cap after ~3.7 cap (5, 7.5, ... 57 s)
    job = create_timed_job(sb, settle + 6 * cap + 30)
    run_id = sb.client("glue").start_job_run(JobName=job)["JobRunId"]
    made = [
        GlueJobTrigger(job_name=job, run_id=run_id, poll_interval=5 / factor, max_poll_interval=cap)
        for _ in range(triggers)
    ]

    async def hold(trigs: list[Any], seconds: float, window: float) -> tuple[int, int]:
        """Run ``trigs`` for ``seconds``; GetJobRun calls in the first and in the last ``window`` s."""
        tasks = [asyncio.ensure_future(_run_trigger(t)) for t in trigs]
        start = snapshot()
        await asyncio.sleep(window)
        first = calls_since(start, "glue", "GetJobRun")
        await asyncio.sleep(max(0.0, seconds - 2 * window))
        mark = snapshot()
        await asyncio.sleep(window)
        last = calls_since(mark, "glue", "GetJobRun")
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return first, last

    def rebuilt(trigger: Any, resume: bool) -> Any:
        _, kwargs = trigger.serialize()
        if not resume:  # what a rebuilt trigger did before started_at: first poll at once, backoff from 5 s
            kwargs = {**kwargs, "started_at": None, "first_poll_delay": 0}
        return GlueJobTrigger(**kwargs)

    async def scenario() -> tuple[int, int, int]:
        _, steady = await hold(made, settle, cap)
        old, _ = await hold([rebuilt(t, False) for t in made], 2 * cap, cap)
        new, _ = await hold([rebuilt(t, True) for t in made], 2 * cap, cap)
        return steady, old, new

    steady, old, new = asyncio.run(scenario())
    sb.client("glue").batch_stop_job_run(JobName=job, JobRunIds=[run_id])
    section = Section(
        "waiting-restart",
        f"2b. Triggerer restart: {triggers} deferred Glue waits, GetJobRun calls "
        f"per {cap * factor:g} s window (real-time)",
        ["window", "GetJobRun calls", "calls per wait", "x steady state"],
    )
    section.add("steady state (backoff at its 60 s cap), before the restart", steady, steady / triggers, 1.0)
    for label, burst in (
        ("first window after a restart, trigger rebuilt as before this change", old),
        ("first window after a restart, resumed backoff + jitter (now)", new),
    ):
        section.add(label, burst, burst / triggers, burst / steady if steady else float("nan"))
    section.figures["restart_burst_ratio_before"] = old / steady if steady else float("nan")
    section.figures["restart_burst_ratio"] = new / steady if steady else float("nan")
    section.notes.append(
        f"Time-compressed x{factor:g} (this section only: less compression keeps the sandbox from "
        "capping the call rate). "
        "The restart is simulated as the triggerer does it: every trigger cancelled, then "
        "rebuilt from its serialize() kwargs (as stored in the DB at defer time) and run again."
    )
    return section
