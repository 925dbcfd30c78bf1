"""Row 3: the triggerer dies while the task is deferred; a new triggerer resumes the wait.

The operator starts its run and defers (in this process, the worker). The serialized trigger
runs in a real process of its own (``proc_runner.py trigger``, an asyncio loop like the
triggerer's); it is SIGKILLed mid-wait and rebuilt from the same serialized kwargs in a new
process, which yields the success event. The task resumes with it; the sandbox shows one run.
"""

from __future__ import annotations

import time

import pytest
from airflow.sdk.exceptions import TaskDeferred

from airflow_sfn_etl.operators.athena import AthenaQueryOperator
from airflow_sfn_etl.operators.databrew import DataBrewStartJobOperator
from airflow_sfn_etl.operators.glue import GlueJobOperator
from airflow_sfn_etl.operators.glue_crawler import GlueCrawlerOperator
from airflow_sfn_etl.operators.step_function import StepFunctionRunOperator

from . import harness as h

pytestmark = [pytest.mark.slow]

CLASSES = {
    "glue_job": GlueJobOperator,
    "crawler": GlueCrawlerOperator,
    "databrew": DataBrewStartJobOperator,
    "athena": AthenaQueryOperator,
    "sfn": StepFunctionRunOperator,
}


@pytest.mark.parametrize("service", h.SERVICES)
def test_triggerer_restart_resumes_the_wait_without_a_second_run(aws, admin, flows_databrew, service):
    kwargs = h.slow_run(service, aws, admin)
    op = CLASSES[service](task_id=f"deferred_{service}", deferrable=True, **kwargs)
    ctx = h.context(f"deferred_{service}")
    with pytest.raises(TaskDeferred) as deferral:
        op.execute(ctx)
    classpath, trigger_kwargs = deferral.value.trigger.serialize()
    spec = {"classpath": classpath, "kwargs": trigger_kwargs}

    first = h.spawn("trigger", spec)
    h.wait_for(lambda: h.running(service, aws), timeout=30, what=f"the {service} run")
    time.sleep(1.0)  # the first triggerer is polling
    out = h.kill(first)
    assert "EVENT" not in out  # it died before the run ended
    assert h.running(service, aws)

    event = h.finish(h.spawn("trigger", spec), "EVENT")
    assert event["status"] == "success", event
    result = getattr(op, deferral.value.method_name)(ctx, event=event)
    final = h.runs(service, aws)
    assert len(final) == 1 and final[0][1] in h.SUCCESS_STATES, final
    assert result == (h.CRAWLER if service == "crawler" else final[0][0])
