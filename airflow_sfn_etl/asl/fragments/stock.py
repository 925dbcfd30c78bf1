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
- ``GlueDataBrewStartJobOperator`` -> ``databrew:startJobRun(.sync)``, as our DataBrew operator.
- ``StepFunctionStartExecutionOperator`` -> ``states:startExecution``; with ``deferrable=True`` the
  operator waits for the execution and fails when it does not succeed, so the state is
  ``states:startExecution.sync:2``. ``state_machine_input`` (a dict, or JSON text as the operator
  sends it) is the ``Input`` object, ``name`` the execution ``Name``.

A start that does not wait, followed by the stock sensor of its run, compiles to the waiting form
(:mod:`airflow_sfn_etl.asl.sensors`); the fragment then reads ``ctx.waited_by``.

In these operators ``deferrable=True`` implies waiting for the run, so the state waits then too.
"""

from __future__ import annotations

import json
from typing import Any

from airflow_sfn_etl.asl.context import AslContext
from airflow_sfn_etl.asl.errors import AslCompileError
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
    return single(ctx, task_state(ctx, sync("arn:aws:states:::glue:startJobRun", _waits(op, ctx)), params))


def stock_databrew_job(op: Any, ctx: AslContext) -> Fragment:
    """Stock GlueDataBrewStartJobOperator -> ``databrew:startJobRun(.sync)`` with Name."""
    params: dict[str, Any] = {}
    ctx.put(params, "Name", "job_name", op.job_name)
    return single(ctx, task_state(ctx, sync("arn:aws:states:::databrew:startJobRun", _waits(op, ctx)), params))


def stock_start_execution(op: Any, ctx: AslContext) -> Fragment:
    """Stock StepFunctionStartExecutionOperator -> ``states:startExecution`` (``.sync:2`` when it waits)."""
    params: dict[str, Any] = {}
    ctx.put(params, "StateMachineArn", "state_machine_arn", op.state_machine_arn)
    name = getattr(op, "name", None)
    if name:
        ctx.put(params, "Name", "name", name)
    document = getattr(op, "state_machine_input", None)
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            raise AslCompileError(
                f"Task '{ctx.task_id}': state_machine_input={document!r} is not JSON text; an execution's input "
                "is a JSON document. Give it as a dict or as json.dumps(...)."
            ) from None
    if isinstance(document, (dict, list)):
        params["Input"] = ctx.template("state_machine_input", document)
    elif document is not None:
        params["Input"] = json.dumps(document)
    waits = bool(getattr(op, "deferrable", False)) or ctx.waited_by is not None
    resource = "arn:aws:states:::states:startExecution" + (".sync:2" if waits else "")
    return single(ctx, task_state(ctx, resource, params))


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
    frag = glue_crawler(_Waiting(op) if _waits(op, ctx) else op, ctx)
    if getattr(op, "fail_on_already_running", True):
        start = frag.states[0]
        assert isinstance(start, Task)
        start.catch = [c for c in start.catch if CRAWLER_RUNNING not in c.error_equals]
        start.retry = [r for r in start.retry if r != Retry(error_equals=(CRAWLER_RUNNING,), max_attempts=0)]
    return frag


def _waits(op: Any, ctx: AslContext) -> bool:
    """Whether the state waits for the run: the stock operator does with ``wait_for_completion`` or
    ``deferrable`` (which implies waiting in these operators), or a sensor of the run follows it."""
    return (
        bool(getattr(op, "wait_for_completion", True))
        or bool(getattr(op, "deferrable", False))
        or ctx.waited_by is not None
    )


class _Waiting:
    """The operator as the crawler fragment reads it, with ``wait_for_completion`` True."""

    wait_for_completion = True

    def __init__(self, op: Any) -> None:
        self._op = op

    def __getattr__(self, name: str) -> Any:
        return getattr(self._op, name)
