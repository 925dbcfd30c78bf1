"""Small helpers for the provider's unit tests: a task context without an Airflow DB."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from unittest.mock import MagicMock

from botocore.exceptions import ClientError


def make_context(
    *,
    dag_id: str = "etl_dag",
    run_id: str = "manual__2024-01-01T00:00:00+00:00",
    task_id: str = "task",
    try_number: int = 1,
    max_tries: int = 0,
    retries: int = 0,
    map_index: int = -1,
    fileloc: str | None = None,
) -> dict[str, Any]:
    """Return the parts of a task context the operators read; ``ti.xcom_push`` is a mock."""
    ti = MagicMock(name="ti")
    ti.dag_id = dag_id
    ti.run_id = run_id
    ti.task_id = task_id
    ti.try_number = try_number
    ti.max_tries = max_tries
    ti.map_index = map_index
    task = SimpleNamespace(task_id=task_id, retries=retries)
    dag = SimpleNamespace(dag_id=dag_id, fileloc=fileloc or __file__)
    return {"ti": ti, "task_instance": ti, "task": task, "dag": dag, "run_id": run_id}


def client_error(code: str, message: str = "error", operation: str = "Operation") -> ClientError:
    """Return a botocore ``ClientError`` with the given AWS error code."""
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


def xcom_pushes(context: dict[str, Any]) -> dict[str, Any]:
    """Return ``{key: value}`` of every ``ti.xcom_push`` call made with this context."""
    return {call.kwargs["key"]: call.kwargs["value"] for call in context["ti"].xcom_push.call_args_list}


def mock_hook(**attrs: Any) -> MagicMock:
    """Return a hook mock with a region and partition (for console links)."""
    hook = MagicMock(name="hook")
    hook.conn_region_name = "us-east-1"
    hook.conn_partition = "aws"
    for name, value in attrs.items():
        setattr(hook, name, value)
    return hook


def roundtrip(trigger: Any) -> Any:
    """Rebuild a trigger from ``serialize()`` the way the triggerer does."""
    import importlib

    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    return cls(**kwargs)


async def collect(trigger: Any) -> list[Any]:
    """Run a trigger to its end and return the payloads of its events."""
    return [event.payload async for event in trigger.run()]
