"""Row 4: a user marks the task failed / clears it while the AWS run goes: the run is stopped.

Waiting in the worker, Airflow calls the operator's ``on_kill``; deferred, the triggerer calls the
trigger's ``on_kill`` (Airflow >= 3.3, on user action). Either way the sandbox must show the run
STOPPED / CANCELLED / ABORTED, and a task waiting in the worker must fail, not succeed. A kill
that lands while the start call is in flight (AWS has started the run, the operator does not know
its id yet) is kept and acted on as soon as the id arrives.
"""

from __future__ import annotations

import asyncio

import pytest
from airflow.providers.common.compat.sdk import AirflowException
from airflow.sdk.exceptions import TaskDeferred
from botocore.client import BaseClient

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
    op = CLASSES[service](task_id=f"kill_deferred_{service}", deferrable=True, **h.slow_run(service, aws, admin, 20))
    with pytest.raises(TaskDeferred) as deferral:
        op.execute(h.context(f"kill_deferred_{service}"))
    trigger = h.rebuild(*deferral.value.trigger.serialize())  # as on the triggerer
    h.wait_for(lambda: h.running(service, aws), what=f"the {service} run")
    asyncio.run(trigger.on_kill())
    h.wait_for(
        lambda: _stopped(service, aws) in h.STOPPED_STATES - {"STOPPING", "CANCELLING"},
        what=f"the {service} run to be stopped",
    )


#: The call that starts each service's run: (botocore service name, operation).
START_CALLS = {
    "glue_job": ("glue", "StartJobRun"),
    "crawler": ("glue", "StartCrawler"),
    "databrew": ("databrew", "StartJobRun"),
    "athena": ("athena", "StartQueryExecution"),
    "sfn": ("states", "StartExecution"),
}


@pytest.mark.parametrize("service", h.SERVICES)
def test_kill_while_the_start_call_is_in_flight_stops_the_new_run(aws, admin, flows_databrew, service, monkeypatch):
    op = CLASSES[service](task_id=f"kill_start_{service}", deferrable=False, **h.slow_run(service, aws, admin, 20))
    real_call = BaseClient._make_api_call

    def kill_during_start(client, operation, params):
        response = real_call(client, operation, params)
        if (client.meta.service_model.endpoint_prefix, operation) == START_CALLS[service]:
            assert h.running(service, aws)  # AWS has the run; the operator has no id yet
            op.on_kill()  # the task runner's SIGTERM handler, between request and response
        return response

    monkeypatch.setattr(BaseClient, "_make_api_call", kill_during_start)
    with pytest.raises(AirflowException, match="killed while its run was starting"):
        op.execute(h.context(f"kill_start_{service}"))
    monkeypatch.undo()
    h.wait_for(
        lambda: _stopped(service, aws) in h.STOPPED_STATES - {"STOPPING", "CANCELLING"},
        what=f"the {service} run to be stopped",
    )
