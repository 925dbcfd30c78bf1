"""Building blocks shared by the fragment functions: the single Task state of an integration."""

from __future__ import annotations

from typing import Any

from airflow_sfn_etl.asl.context import AslContext
from airflow_sfn_etl.asl.ir import Fragment, Task


def sync(resource: str, wait: bool) -> str:
    """The integration's ``.sync`` variant when the state waits for the run to end."""
    return resource + ".sync" if wait else resource


def task_state(ctx: AslContext, resource: str, parameters: dict[str, Any], **kwargs: Any) -> Task:
    """The task's Task state: its name, retries and timeout from the Airflow task."""
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


def single(ctx: AslContext, task: Task) -> Fragment:
    """A fragment of one state."""
    return Fragment(name=ctx.state_name, start=task.name, states=[task])


def as_text(value: Any) -> Any:
    """Booleans and numbers as the strings an API expecting text gets from the operator."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value
