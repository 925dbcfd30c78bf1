"""The amazon provider's own operators, compiled to the same states as ours where they mean the same.

- ``GlueJobOperator`` -> ``glue:startJobRun(.sync)``: ``script_args`` are the run's Arguments as given
  (the stock operator adds no ``--``), ``run_job_kwargs`` join the StartJobRun parameters. Arguments
  that create or update the job (``script_location``, ``create_job_kwargs``, ``update_config``, ...)
  are refused: the state starts an existing job only.
- ``AthenaOperator`` -> the Athena fragment (query, database, catalog, workgroup, output location).
- ``SnsPublishOperator`` -> ``sns:publish`` to ``target_arn``; the stock operator sends the message as
  ``{"default": message}`` with ``MessageStructure: json``, which every subscriber receives as the
  message text, so the state sends the text itself. FIFO ``message_group_id`` and
  ``message_deduplication_id`` are carried.
- ``GlueCrawlerRunOperator`` -> the crawler fragment; a running crawl fails the task, as it does with
  ``fail_on_already_running=True`` (the default), and is joined with ``False``.

In these operators ``deferrable=True`` implies waiting for the run, so the state waits then too.
"""

from __future__ import annotations

from typing import Any

from airflow_sfn_etl.asl.context import AslContext
from airflow_sfn_etl.asl.fragments.common import as_text, single, sync, task_state
from airflow_sfn_etl.asl.fragments.glue_crawler import CRAWLER_RUNNING, glue_crawler
from airflow_sfn_etl.asl.fragments.sns import _sns_attributes
from airflow_sfn_etl.asl.ir import Fragment, Retry, Task
from airflow_sfn_etl.asl.templates import put


def stock_glue_job(op: Any, ctx: AslContext) -> Fragment:
    """Stock GlueJobOperator -> ``glue:startJobRun(.sync)`` with JobName, Arguments and run_job_kwargs."""
    params: dict[str, Any] = {}
    ctx.put(params, "JobName", "job_name", op.job_name)
    script_args = getattr(op, "script_args", None) or {}
    if script_args:
        params["Arguments"] = ctx.template("script_args", {str(k): as_text(v) for k, v in script_args.items()})
    run_kwargs: dict[str, Any] = dict(getattr(op, "run_job_kwargs", None) or {})
    extra = ctx.template("run_job_kwargs", run_kwargs)
    assert isinstance(extra, dict)  # a dict maps to a dict
    params.update(extra)
    return single(ctx, task_state(ctx, sync("arn:aws:states:::glue:startJobRun", _waits(op)), params))


def stock_sns_publish(op: Any, ctx: AslContext) -> Fragment:
    """Stock SnsPublishOperator -> ``sns:publish`` with TopicArn (``target_arn``), Message and the options."""
    params: dict[str, Any] = {}
    put(params, "TopicArn", ctx.template("target_arn", op.target_arn))
    ctx.put(params, "Message", "message", op.message)
    for attr, key in (
        ("subject", "Subject"),
        ("message_group_id", "MessageGroupId"),
        ("message_deduplication_id", "MessageDeduplicationId"),
    ):
        value = getattr(op, attr, None)
        if value:
            ctx.put(params, key, attr, value)
    attributes = getattr(op, "message_attributes", None)
    if attributes:
        params["MessageAttributes"] = ctx.template("message_attributes", _sns_attributes(attributes))
    return single(ctx, task_state(ctx, "arn:aws:states:::sns:publish", params))


def stock_glue_crawler_run(op: Any, ctx: AslContext) -> Fragment:
    """Stock GlueCrawlerRunOperator -> the crawler fragment; a running crawl fails the task unless
    ``fail_on_already_running=False``."""
    frag = glue_crawler(_Waiting(op) if _waits(op) else op, ctx)
    if getattr(op, "fail_on_already_running", True):
        start = frag.states[0]
        assert isinstance(start, Task)
        start.catch = [c for c in start.catch if CRAWLER_RUNNING not in c.error_equals]
        start.retry = [r for r in start.retry if r != Retry(error_equals=(CRAWLER_RUNNING,), max_attempts=0)]
    return frag


def _waits(op: Any) -> bool:
    """Whether the stock operator waits for the run: ``wait_for_completion``, or ``deferrable`` (which
    implies waiting in these operators)."""
    return bool(getattr(op, "wait_for_completion", True)) or bool(getattr(op, "deferrable", False))


class _Waiting:
    """The operator as the crawler fragment reads it, with ``wait_for_completion`` True."""

    wait_for_completion = True

    def __init__(self, op: Any) -> None:
        self._op = op

    def __getattr__(self, name: str) -> Any:
        return getattr(self._op, name)
