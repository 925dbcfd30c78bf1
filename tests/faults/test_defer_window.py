"""Row 9: a deferrable operator polls its run in the worker for ``defer_after`` seconds first.

A run that ends inside the window needs no deferral (no triggerer round trip, no second task
process); a run still going after it defers, and the trigger finishes the wait. Both on the sandbox,
for every service.
"""

from __future__ import annotations

import time

import pytest
from airflow.sdk.exceptions import TaskDeferred

from . import harness as h
from .test_triggerer_restart import CLASSES

pytestmark = [pytest.mark.slow]


@pytest.mark.parametrize("service", h.SERVICES)
def test_run_that_ends_within_defer_after_finishes_in_the_worker(aws, admin, flows_databrew, service):
    kwargs = {**h.slow_run(service, aws, admin, 1), "defer_after": 30}
    op = CLASSES[service](task_id=f"window_{service}", deferrable=True, **kwargs)
    result = op.execute(h.context(f"window_{service}"))  # raises TaskDeferred if it deferred
    final = h.runs(service, aws)
    assert len(final) == 1 and final[0][1] in h.SUCCESS_STATES, final
    assert result == (h.CRAWLER if service == "crawler" else final[0][0])


@pytest.mark.parametrize("service", h.SERVICES)
def test_run_longer_than_defer_after_defers_after_the_window(aws, admin, flows_databrew, service):
    kwargs = {**h.slow_run(service, aws, admin, 6), "defer_after": 1.5}
    op = CLASSES[service](task_id=f"window_long_{service}", deferrable=True, **kwargs)
    started = time.monotonic()
    with pytest.raises(TaskDeferred) as deferral:
        op.execute(h.context(f"window_long_{service}"))
    trigger = deferral.value.trigger
    if trigger.expected_seconds and trigger.expected_seconds > 1.5:
        # Glue: earlier tests left runs of this job; their median says "longer than the window".
        assert trigger.polls_done == 0  # so it deferred at once, without holding the slot to look
    else:
        assert time.monotonic() - started >= 1.5  # it looked for the whole window first
        assert trigger.polls_done >= 2  # the looks count as the trigger's first polls
    event = h.run_trigger(trigger)  # rebuilt from its serialized kwargs, as on the triggerer
    assert event["status"] == "success", event
    assert len(h.runs(service, aws)) == 1
