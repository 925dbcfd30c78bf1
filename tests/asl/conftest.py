"""Fixtures for the compiler tests: stand-in operators and small DAG helpers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import DAG, BaseOperator

from airflow_sfn_etl.asl import fragments
from airflow_sfn_etl.asl.ir import Fragment, Task

# ``tests.asl.flows`` is imported by package path, whichever way pytest is started.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)


class StandInJob(BaseOperator):
    """A stand-in operator compiled by a fragment registered from the test."""

    template_fields = ("job_name",)

    def __init__(self, *, job_name: str = "job", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job_name = job_name


def stand_in_fragment(op: Any, ctx: Any) -> Fragment:
    """A Glue-job-like Task state for :class:`StandInJob`."""
    params: dict[str, Any] = {}
    ctx.put(params, "JobName", "job_name", op.job_name)
    task = Task(
        name=ctx.state_name,
        resource="arn:aws:states:::glue:startJobRun.sync",
        parameters=params,
        retry=list(ctx.retry),
        task_id=ctx.task_id,
    )
    return Fragment(name=ctx.state_name, start=task.name, states=[task])


@pytest.fixture
def stand_in() -> Iterator[type[StandInJob]]:
    """Register :class:`StandInJob` in the fragment registry for one test."""
    path = fragments.class_path(StandInJob)
    fragments.register(path)(stand_in_fragment)
    yield StandInJob
    fragments.unregister(path)


def make_dag(dag_id: str = "t", **kwargs: Any) -> DAG:
    """A DAG with no schedule, for compiler tests."""
    return DAG(dag_id=dag_id, schedule=None, start_date=datetime(2026, 1, 1), **kwargs)
