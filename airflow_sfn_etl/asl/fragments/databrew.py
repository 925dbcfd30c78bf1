"""DataBrew job -> ``databrew:startJobRun(.sync)``."""

from __future__ import annotations

from typing import Any, Protocol

from airflow_sfn_etl.asl.context import AslContext
from airflow_sfn_etl.asl.fragments.common import single, sync, task_state
from airflow_sfn_etl.asl.ir import Fragment


class DataBrewJobTask(Protocol):
    """What the fragment reads of a DataBrew job task (``DataBrewStartJobOperator``); optional:
    ``wait_for_completion``."""

    @property
    def job_name(self) -> str: ...


def databrew_job(op: DataBrewJobTask, ctx: AslContext) -> Fragment:
    """DataBrew job -> ``databrew:startJobRun(.sync)`` with Name."""
    params: dict[str, Any] = {}
    ctx.put(params, "Name", "job_name", op.job_name)
    wait = bool(getattr(op, "wait_for_completion", True))
    return single(ctx, task_state(ctx, sync("arn:aws:states:::databrew:startJobRun", wait), params))
