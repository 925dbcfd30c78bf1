"""Glue crawler -> ``aws-sdk:glue:startCrawler`` and a getCrawler poll loop; the crawler sensor -> the loop."""

from __future__ import annotations

from typing import Any, Protocol

from airflow_sfn_etl.asl.context import AslContext
from airflow_sfn_etl.asl.errors import AslCompileError
from airflow_sfn_etl.asl.fragments.common import single, task_state
from airflow_sfn_etl.asl.ir import (
    EXIT,
    Catch,
    Choice,
    ChoiceRule,
    Fail,
    Fragment,
    Pass,
    Retry,
    State,
    Task,
    Wait,
)
from airflow_sfn_etl.asl.templates import Mapped, format_expression, put

#: Error the aws-sdk integration raises when a crawl is already running.
CRAWLER_RUNNING = "Glue.CrawlerRunningException"


class CrawlerTask(Protocol):
    """What the fragments read of a crawler task (``GlueCrawlerOperator``, ``GlueCrawlerSensor``);
    optional fields are read with ``getattr``: ``poll_interval``, ``wait_time``, ``poke_interval``,
    ``max_polls``, ``wait_for_completion``."""

    @property
    def crawler_name(self) -> str: ...


def _poll_seconds(op: CrawlerTask, ctx: AslContext, field: str, default: Any = 5) -> dict[str, Any]:
    """``seconds`` or ``seconds_path`` of a Wait state from a numeric or ``{{ params.x }}`` field."""
    interval = getattr(op, field, None)
    if interval is None:
        interval = default
    mapped = ctx.template(field, interval if isinstance(interval, str) else str(interval))
    if mapped.dynamic:
        if not str(mapped.expression).startswith("$."):
            raise AslCompileError(
                f"Task '{ctx.task_id}': {field} must be a number or exactly '{{{{ params.NAME }}}}' "
                f"(got {interval!r}); Step Functions reads the seconds from one execution input field."
            )
        return {"seconds_path": mapped.expression}
    try:
        seconds = int(float(str(mapped.literal)))
    except ValueError as exc:
        raise AslCompileError(
            f"Task '{ctx.task_id}': {field}={interval!r} is not a number of seconds."
        ) from exc
    return {"seconds": max(1, seconds)}


def _crawler_poll_loop(
    ctx: AslContext, name_value: Mapped, wait: dict[str, Any], max_polls: int | None
) -> tuple[str, list[State]]:
    """The poll loop of a crawl: (entry state name, states).

    ``getCrawler`` is called twice: the poll reads only ``Crawler.State`` (``LastCrawl`` is absent
    until a crawler's first crawl ends); once READY, ``LastCrawl.Status`` decides, and a failed or
    cancelled crawl fails the machine with the whole ``LastCrawl`` (including ``ErrorMessage``,
    which exists only on failures) as the cause. ``ResultSelector`` keeps datetimes out of the
    state data. With ``max_polls`` a ``States.MathAdd`` counter bounds the loop: after that many
    polls without the crawl ending, the machine fails with ``Glue.CrawlerTimeout``.
    """
    key = ctx.data_key
    crawler_params: dict[str, Any] = {}
    put(crawler_params, "Name", name_value)
    n_wait = ctx.sub_name("Wait")
    n_state = ctx.sub_name("Get State")
    n_ready = ctx.sub_name("Ready?")
    n_last = ctx.sub_name("Get Last Crawl")
    n_ok = ctx.sub_name("Succeeded?")
    n_failed = ctx.sub_name("Crawl Failed")
    n_init = ctx.sub_name("Init Poll Count")
    n_count = ctx.sub_name("Count Poll")
    n_limit = ctx.sub_name("Poll Limit?")
    n_timeout = ctx.sub_name("Timed Out")

    states: list[State] = []
    if max_polls:
        states.append(Pass(name=n_init, result={"count": 0}, result_path=f"$.{key}_polls", next=n_wait))
    states.append(Wait(name=n_wait, next=n_state, **wait))
    states.append(
        Task(
            name=n_state,
            resource="arn:aws:states:::aws-sdk:glue:getCrawler",
            parameters=dict(crawler_params),
            result_selector={"State.$": "$.Crawler.State"},
            result_path=f"$.{key}_state",
            retry=list(ctx.retry),
            task_id=ctx.task_id,
            next=n_ready,
        )
    )
    states.append(
        Choice(
            name=n_ready,
            choices=[
                ChoiceRule(
                    variable=f"$.{key}_state.State", operator="StringEquals", value="READY", next=n_last
                )
            ],
            default=n_count if max_polls else n_wait,
        )
    )
    states.append(
        Task(
            name=n_last,
            resource="arn:aws:states:::aws-sdk:glue:getCrawler",
            parameters=dict(crawler_params),
            result_selector={
                "Status.$": "$.Crawler.LastCrawl.Status",
                "Detail.$": "States.JsonToString($.Crawler.LastCrawl)",
            },
            result_path=f"$.{key}_last_crawl",
            retry=list(ctx.retry),
            task_id=ctx.task_id,
            next=n_ok,
        )
    )
    states.append(
        Choice(
            name=n_ok,
            choices=[
                ChoiceRule(
                    variable=f"$.{key}_last_crawl.Status",
                    operator="StringEquals",
                    value="SUCCEEDED",
                    next=EXIT,
                )
            ],
            default=n_failed,
        )
    )
    states.append(
        Fail(
            name=n_failed,
            error="Glue.CrawlFailed",
            cause_path=format_expression(
                [
                    "Crawler ",
                    name_value,
                    " finished with LastCrawl ",
                    Mapped(expression=f"$.{key}_last_crawl.Detail"),
                ]
            ),
        )
    )
    if max_polls:
        states.append(
            Pass(
                name=n_count,
                parameters={"count.$": f"States.MathAdd($.{key}_polls.count, 1)"},
                result_path=f"$.{key}_polls",
                next=n_limit,
            )
        )
        states.append(
            Choice(
                name=n_limit,
                choices=[
                    ChoiceRule(
                        variable=f"$.{key}_polls.count",
                        operator="NumericGreaterThanEquals",
                        value=int(max_polls),
                        next=n_timeout,
                    )
                ],
                default=n_wait,
            )
        )
        message = f" did not finish after {int(max_polls)} polls"
        timeout_fail = Fail(name=n_timeout, error="Glue.CrawlerTimeout")
        if name_value.dynamic:
            timeout_fail.cause_path = format_expression(["Crawler ", name_value, message])
        else:
            timeout_fail.cause = f"Crawler {name_value.literal}{message}"
        states.append(timeout_fail)
    return (n_init if max_polls else n_wait), states


def _max_polls(op: CrawlerTask, ctx: AslContext) -> int | None:
    value = getattr(op, "max_polls", None)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise AslCompileError(
            f"Task '{ctx.task_id}': max_polls={value!r} must be a positive int to compile to a poll counter."
        )
    return value


def glue_crawler(op: CrawlerTask, ctx: AslContext) -> Fragment:
    """Crawler -> ``aws-sdk:glue:startCrawler`` (a running crawl is joined), then with
    ``wait_for_completion`` the Wait / getCrawler / Choice poll loop (see :func:`_crawler_poll_loop`).

    ``Glue.CrawlerRunningException`` is caught (not retried) and leads to the next state: the
    running crawl is joined, as the operator does.
    """
    name_value = ctx.template("crawler_name", op.crawler_name)
    crawler_params: dict[str, Any] = {}
    put(crawler_params, "Name", name_value)
    start = task_state(ctx, "arn:aws:states:::aws-sdk:glue:startCrawler", dict(crawler_params))
    start.retry = [Retry(error_equals=(CRAWLER_RUNNING,), max_attempts=0), *ctx.retry]
    if not bool(getattr(op, "wait_for_completion", True)):
        start.catch = [Catch(error_equals=(CRAWLER_RUNNING,), next=EXIT, result_path=None)]
        return single(ctx, start)
    entry, loop = _crawler_poll_loop(
        ctx, name_value, _poll_seconds(op, ctx, "poll_interval"), _max_polls(op, ctx)
    )
    start.next = entry
    start.catch = [Catch(error_equals=(CRAWLER_RUNNING,), next=entry, result_path=None)]
    return Fragment(name=ctx.state_name, start=start.name, states=[start, *loop])


def glue_crawler_sensor(op: CrawlerTask, ctx: AslContext) -> Fragment:
    """Crawler sensor -> the poll loop alone: Wait ``wait_time`` (``SecondsPath`` when it is a
    param, else ``Seconds``; default ``poke_interval``), getCrawler, Choice, and with ``max_polls``
    a ``States.MathAdd`` counter ending in a timeout Fail state.
    """
    name_value = ctx.template("crawler_name", op.crawler_name)
    wait = _poll_seconds(op, ctx, "wait_time", default=getattr(op, "poke_interval", 60))
    entry, loop = _crawler_poll_loop(ctx, name_value, wait, _max_polls(op, ctx))
    return Fragment(name=ctx.state_name, start=entry, states=loop)
