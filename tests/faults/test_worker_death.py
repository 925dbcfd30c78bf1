"""Row 2: the worker process is SIGKILLed while the task waits; the retry re-attaches to the same run.

The task runs in a real process of its own (``proc_runner.py``: the operator's ``execute`` with a
task context, waiting in the worker). SIGKILL leaves no chance for ``on_kill``: the AWS run keeps
going. The retry (try 2 of the same try chain) must find that run and wait for it, so the
sandbox ends with exactly one run, succeeded: nothing duplicated, nothing orphaned.
"""

from __future__ import annotations

import time

import pytest

from . import harness as h

pytestmark = [pytest.mark.slow]


@pytest.mark.parametrize("service", h.SERVICES)
def test_killed_worker_retry_reattaches_to_the_same_run(aws, admin, flows_databrew, service):
    # The run must outlast the retry's start: a task process needs several seconds to import on a busy
    # machine, and a retry that looks after the run has ended is a different row (clear and rerun).
    kwargs = h.slow_run(service, aws, admin, seconds=15)
    spec = {
        "operator": service,
        "task_id": f"killed_{service}",
        "kwargs": kwargs,
        "try_number": 1,
        "max_tries": 2,
        "retries": 2,
    }
    first = h.spawn("task", spec)
    h.wait_for(lambda: h.running(service, aws), timeout=60, what=f"the {service} run to start")
    time.sleep(0.5)  # the worker is now polling
    h.kill(first)
    started = h.runs(service, aws)
    assert len(started) == 1 and started[0][1] in h.RUNNING_STATES, started  # SIGKILL: nobody stopped it

    retry = h.spawn("task", {**spec, "try_number": 2})
    result = h.finish(retry, "RESULT")
    final = h.runs(service, aws)
    assert len(final) == 1, f"a second {service} run was started: {final}"
    assert final[0][1] in h.SUCCESS_STATES, final
    if service == "crawler":
        assert result == h.CRAWLER
    else:
        assert result == final[0][0]
