"""ASL fragments of the provider's operators, registered by operator class path.

The builder asks ``operator.to_asl(ctx)`` first, then this registry (walking the class's MRO),
so an operator can own its fragment with a one-line method::

    def to_asl(self, ctx):
        return fragments.glue_job(self, ctx)

Operator attributes read here carry the names of the constructor arguments
(``job_name``, ``script_args``, ``query``, ...).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from airflow_sfn_etl.asl.context import AslContext
from airflow_sfn_etl.asl.errors import AslCompileError, UnsupportedOperatorError
from airflow_sfn_etl.asl.ir import (
    EXIT,
    Catch,
    Choice,
    ChoiceRule,
    Fail,
    Fragment,
    Pass,
    Retry,
    Task,
    Wait,
)
from airflow_sfn_etl.asl.templates import Mapped, format_expression, put

FragmentFn = Callable[[Any, AslContext], Fragment]

_REGISTRY: dict[str, FragmentFn] = {}

PKG = "airflow_sfn_etl.operators"
GLUE_JOB = f"{PKG}.glue.GlueJobOperator"
GLUE_CRAWLER = f"{PKG}.glue_crawler.GlueCrawlerOperator"
GLUE_CRAWLER_SENSOR = "airflow_sfn_etl.sensors.glue_crawler.GlueCrawlerSensor"
DATABREW_JOB = f"{PKG}.databrew.DataBrewStartJobOperator"
ATHENA_QUERY = f"{PKG}.athena.AthenaQueryOperator"
SNS_PUBLISH = f"{PKG}.sns.SnsPublishOperator"
EMPTY = "airflow.providers.standard.operators.empty.EmptyOperator"

#: Error the aws-sdk integration raises when a crawl is already running.
CRAWLER_RUNNING = "Glue.CrawlerRunningException"


def register(class_path: str) -> Callable[[FragmentFn], FragmentFn]:
    """Register a fragment function for an operator class (``module.Class``)."""

    def decorator(fn: FragmentFn) -> FragmentFn:
        _REGISTRY[class_path] = fn
        return fn

    return decorator


def unregister(class_path: str) -> None:
    """Remove a registration (tests use it for stand-in operators)."""
    _REGISTRY.pop(class_path, None)


def supported() -> list[str]:
    """Registered operator class paths, sorted."""
    return sorted(_REGISTRY)


def class_path(cls: type) -> str:
    """``module.QualifiedName`` of a class."""
    return f"{cls.__module__}.{cls.__qualname__}"


def fragment_for(operator: Any, ctx: AslContext) -> Fragment:
    """The operator's fragment: ``operator.to_asl(ctx)`` if it has one, else the registry."""
    to_asl = getattr(operator, "to_asl", None)
    if callable(to_asl):
        fragment = to_asl(ctx)
        if not isinstance(fragment, Fragment):
            raise AslCompileError(
                f"Task '{operator.task_id}': {class_path(type(operator))}.to_asl() returned "
                f"{type(fragment).__name__}, not a Fragment."
            )
        return fragment
    for cls in type(operator).__mro__:
        fn = _REGISTRY.get(class_path(cls))
        if fn is not None:
            return fn(operator, ctx)
    raise UnsupportedOperatorError(
        f"Task '{operator.task_id}' uses {class_path(type(operator))}, which has no Step Functions "
        f"mapping. Supported operators: {', '.join(s.rsplit('.', 1)[-1] for s in supported())} "
        f"({', '.join(supported())})."
    )


def _sync(resource: str, wait: bool) -> str:
    return resource + ".sync" if wait else resource


def _task(ctx: AslContext, resource: str, parameters: dict[str, Any], **kwargs: Any) -> Task:
    return Task(
        name=ctx.state_name,
        resource=resource,
        parameters=parameters,
        result_path=None,
        retry=list(ctx.retry),
        timeout_seconds=ctx.timeout_seconds,
        task_id=ctx.task_id,
        **kwargs,
    )


def _single(ctx: AslContext, task: Task) -> Fragment:
    return Fragment(name=ctx.state_name, start=task.name, states=[task])


@register(GLUE_JOB)
def glue_job(op: Any, ctx: AslContext) -> Fragment:
    """Glue job -> ``glue:startJobRun(.sync)`` with JobName and Arguments."""
    params: dict[str, Any] = {}
    ctx.put(params, "JobName", "job_name", op.job_name)
    script_args = getattr(op, "script_args", None) or {}
    if script_args:
        arguments = {
            (k if str(k).startswith("--") else f"--{k}"): _as_text(v) for k, v in script_args.items()
        }
        params["Arguments"] = ctx.template("script_args", arguments)
    wait = bool(getattr(op, "wait_for_completion", True))
    return _single(ctx, _task(ctx, _sync("arn:aws:states:::glue:startJobRun", wait), params))


@register(DATABREW_JOB)
def databrew_job(op: Any, ctx: AslContext) -> Fragment:
    """DataBrew job -> ``databrew:startJobRun(.sync)`` with Name."""
    params: dict[str, Any] = {}
    ctx.put(params, "Name", "job_name", op.job_name)
    wait = bool(getattr(op, "wait_for_completion", True))
    return _single(ctx, _task(ctx, _sync("arn:aws:states:::databrew:startJobRun", wait), params))


@register(ATHENA_QUERY)
def athena_query(op: Any, ctx: AslContext) -> Fragment:
    """Athena query -> ``athena:startQueryExecution(.sync)``; ``.sql`` files are inlined."""
    params: dict[str, Any] = {}
    query = ctx.resolve_template_file("query", op.query)
    mapped = ctx.template("query", query)
    put(params, "QueryString", mapped)
    if isinstance(mapped, Mapped) and mapped.params:
        ctx.note(
            "params substituted into the SQL text from the execution input: "
            + ", ".join(mapped.params)
            + " (Step Functions does not check them; pass plain identifiers/values only)"
        )
    ctx.put(params, "WorkGroup", "workgroup", getattr(op, "workgroup", None) or "primary")
    context: dict[str, Any] = {}
    ctx.put(context, "Catalog", "catalog", getattr(op, "catalog", None) or "AwsDataCatalog")
    database = getattr(op, "database", None)
    if database:
        ctx.put(context, "Database", "database", database)
    params["QueryExecutionContext"] = context
    output_location = getattr(op, "output_location", None)
    if output_location:
        result: dict[str, Any] = {}
        ctx.put(result, "OutputLocation", "output_location", output_location)
        params["ResultConfiguration"] = result
    wait = bool(getattr(op, "wait_for_completion", True))
    return _single(ctx, _task(ctx, _sync("arn:aws:states:::athena:startQueryExecution", wait), params))


@register(SNS_PUBLISH)
def sns_publish(op: Any, ctx: AslContext) -> Fragment:
    """SNS publish -> ``sns:publish`` with TopicArn (built from a topic name), Message, Subject."""
    params: dict[str, Any] = {}
    target = ctx.template("target", op.target)
    if not _is_arn(op.target, target, ctx):
        target = ctx.arn("sns", target)
    put(params, "TopicArn", target)
    message = op.message
    if not isinstance(message, str):
        # The operator sends a non-string message as sorted JSON text; so does the state.
        message = json.dumps(message, sort_keys=True)
    ctx.put(params, "Message", "message", message)
    subject = getattr(op, "subject", None)
    if subject:
        ctx.put(params, "Subject", "subject", subject)
    attributes = getattr(op, "message_attributes", None)
    if attributes:
        params["MessageAttributes"] = ctx.template("message_attributes", _sns_attributes(attributes))
    return _single(ctx, _task(ctx, "arn:aws:states:::sns:publish", params))


def _is_arn(raw: Any, mapped: Mapped, ctx: AslContext) -> bool:
    """Whether an SNS target is an ARN (else a topic name): by its text, or its param's default."""
    if not mapped.dynamic:
        return str(mapped.literal).startswith("arn:")
    expression = str(mapped.expression)
    if expression.startswith("$."):
        return str(ctx.param_defaults.get(expression[2:], "")).startswith("arn:")
    return str(raw).lstrip().startswith("arn:")


@register(EMPTY)
def empty(op: Any, ctx: AslContext) -> Fragment:
    """EmptyOperator (a join or marker task) -> a Pass state that passes its input on."""
    state = Pass(name=ctx.state_name, result_path="$")
    return Fragment(name=ctx.state_name, start=state.name, states=[state])


def _as_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _sns_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in attributes.items():
        if isinstance(value, dict) and "DataType" in value:
            out[key] = value
        elif isinstance(value, (list, tuple)):
            out[key] = {"DataType": "String.Array", "StringValue": _json_list(value)}
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = {"DataType": "Number", "StringValue": str(value)}
        else:
            out[key] = {"DataType": "String", "StringValue": _as_text(value)}
    return out


def _json_list(value: Any) -> str:
    return json.dumps(list(value), separators=(",", ":"))


def _poll_seconds(op: Any, ctx: AslContext, field: str, default: Any = 5) -> dict[str, Any]:
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
) -> tuple[str, list[Any]]:
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

    states: list[Any] = []
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


def _max_polls(op: Any, ctx: AslContext) -> int | None:
    value = getattr(op, "max_polls", None)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise AslCompileError(
            f"Task '{ctx.task_id}': max_polls={value!r} must be a positive int to compile to a poll counter."
        )
    return value


@register(GLUE_CRAWLER)
def glue_crawler(op: Any, ctx: AslContext) -> Fragment:
    """Crawler -> ``aws-sdk:glue:startCrawler`` (a running crawl is joined), then with
    ``wait_for_completion`` the Wait / getCrawler / Choice poll loop (see :func:`_crawler_poll_loop`).

    ``Glue.CrawlerRunningException`` is caught (not retried) and leads to the next state: the
    running crawl is joined, as the operator does.
    """
    name_value = ctx.template("crawler_name", op.crawler_name)
    crawler_params: dict[str, Any] = {}
    put(crawler_params, "Name", name_value)
    start = _task(ctx, "arn:aws:states:::aws-sdk:glue:startCrawler", dict(crawler_params))
    start.retry = [Retry(error_equals=(CRAWLER_RUNNING,), max_attempts=0), *ctx.retry]
    if not bool(getattr(op, "wait_for_completion", True)):
        start.catch = [Catch(error_equals=(CRAWLER_RUNNING,), next=EXIT, result_path=None)]
        return _single(ctx, start)
    entry, loop = _crawler_poll_loop(
        ctx, name_value, _poll_seconds(op, ctx, "poll_interval"), _max_polls(op, ctx)
    )
    start.next = entry
    start.catch = [Catch(error_equals=(CRAWLER_RUNNING,), next=entry, result_path=None)]
    return Fragment(name=ctx.state_name, start=start.name, states=[start, *loop])


@register(GLUE_CRAWLER_SENSOR)
def glue_crawler_sensor(op: Any, ctx: AslContext) -> Fragment:
    """Crawler sensor -> the poll loop alone: Wait ``wait_time`` (``SecondsPath`` when it is a
    param, else ``Seconds``; default ``poke_interval``), getCrawler, Choice, and with ``max_polls``
    a ``States.MathAdd`` counter ending in a timeout Fail state.
    """
    name_value = ctx.template("crawler_name", op.crawler_name)
    wait = _poll_seconds(op, ctx, "wait_time", default=getattr(op, "poke_interval", 60))
    entry, loop = _crawler_poll_loop(ctx, name_value, wait, _max_polls(op, ctx))
    return Fragment(name=ctx.state_name, start=entry, states=loop)
