"""Glue job -> ``glue:startJobRun(.sync)``."""

from __future__ import annotations

from typing import Any, Protocol

from airflow_sfn_etl.asl.context import AslContext
from airflow_sfn_etl.asl.fragments.common import as_text, single, sync, task_state
from airflow_sfn_etl.asl.ir import Fragment


class GlueJobTask(Protocol):
    """What the fragment reads of a Glue job task (``GlueJobOperator``); optional fields are read with
    ``getattr``: ``script_args``, ``wait_for_completion``."""

    @property
    def job_name(self) -> str: ...


def glue_job(op: GlueJobTask, ctx: AslContext) -> Fragment:
    """Glue job -> ``glue:startJobRun(.sync)`` with JobName and Arguments."""
    params: dict[str, Any] = {}
    ctx.put(params, "JobName", "job_name", op.job_name)
    script_args = getattr(op, "script_args", None) or {}
    if script_args:
        arguments = {
            (k if str(k).startswith("--") else f"--{k}"): as_text(v) for k, v in script_args.items()
        }
        params["Arguments"] = ctx.template("script_args", arguments)
    wait = bool(getattr(op, "wait_for_completion", True))
    return single(ctx, task_state(ctx, sync("arn:aws:states:::glue:startJobRun", wait), params))
