"""Row 4: a user marks the task failed / clears it while the AWS run goes: the run is stopped.

Waiting in the worker, Airflow calls the operator's ``on_kill``; deferred, the triggerer calls the
trigger's ``on_kill`` (Airflow >= 3.3, on user action). Either way the sandbox must show the run
STOPPED / CANCELLED / ABORTED, and a task waiting in the worker must fail, not succeed.
"""

from __future__ import annotations

import asyncio

import pytest
from airflow.sdk.exceptions import TaskDeferred

from . import harness as h
from .test_triggerer_restart import CLASSES

pytestmark = [pytest.mark.slow]


def _stopped(service, aws) -> list:
    final = h.runs(service, aws)
    assert len(final) == 1, final
    return final[0][1]


@pytest.mark.parametrize("service", h.SERVICES)
def test_on_kill_while_waiting_in_the_worker_stops_the_run(aws, admin, flows_databrew, service):
    op = CLASSES[service](task_id=f"kill_{service}", deferrable=False, **h.slow_run(service, aws, admin, 20))
    task = h.Background(op, h.context(f"kill_{service}"))
    h.wait_for(lambda: h.running(service, aws), what=f"the {service} run")
    op.on_kill()  # what the task runner does on SIGTERM (mark failed, clear)
    task.join()
    assert task.error is not None, "the task succeeded although its run was stopped"
    h.wait_for(
        lambda: _stopped(service, aws) in h.STOPPED_STATES - {"STOPPING", "CANCELLING"},
        what=f"the {service} run to be stopped",
    )


@pytest.mark.parametrize("service", h.SERVICES)
def test_trigger_on_kill_while_deferred_stops_the_run(aws, admin, flows_databrew, service):
    op = CLASSES[service](
        task_id=f"kill_deferred_{service}", deferrable=True, **h.slow_run(service, aws, admin, 20)
    )
    with pytest.raises(TaskDeferred) as deferral:
        op.execute(h.context(f"kill_deferred_{service}"))
    trigger = h.rebuild(*deferral.value.trigger.serialize())  # as on the triggerer
    h.wait_for(lambda: h.running(service, aws), what=f"the {service} run")
    asyncio.run(trigger.on_kill())
    h.wait_for(
        lambda: _stopped(service, aws) in h.STOPPED_STATES - {"STOPPING", "CANCELLING"},
        what=f"the {service} run to be stopped",
    )
