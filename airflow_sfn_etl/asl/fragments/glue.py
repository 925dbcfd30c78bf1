"""Glue job -> ``glue:startJobRun(.sync)``."""

from __future__ import annotations

from typing import Any, Protocol

from airflow_sfn_etl.asl.context import AslContext
from airflow_sfn_etl.asl.errors import AslCompileError
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
        bad = [str(k) for k in script_args if not str(k).startswith("--")]
        if bad:
            # The operator fails the task for them when it runs (operators.glue.validate_script_args).
            raise AslCompileError(
                f"Task '{ctx.task_id}': script_args {', '.join(repr(k) for k in bad)} do not start with '--'; "
                "GlueJobOperator fails such a task when it runs. Name them "
                + ", ".join(repr("--" + k) for k in bad)
                + "."
            )
        arguments = {str(k): as_text(v) for k, v in script_args.items()}
        params["Arguments"] = ctx.template("script_args", arguments)
    wait = bool(getattr(op, "wait_for_completion", True))
    return single(ctx, task_state(ctx, sync("arn:aws:states:::glue:startJobRun", wait), params))
