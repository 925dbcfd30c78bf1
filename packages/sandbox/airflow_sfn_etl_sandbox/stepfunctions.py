"""Sandbox handlers for Step Functions: executions really run, calling the sandbox's services.

Executions run in moto's interpreter with the sandbox's integrations (:mod:`.sfn`), which
:mod:`.moto_patches` puts in when the sandbox starts. The handlers below fix what moto's API
layer gets wrong:

- ``StartExecution`` without ``name``: AWS generates a UUID name; moto would make the ARN end
  in ``:None``. A ``fail`` fault rule for target ``sfn_execution`` and the state machine's name
  fails the new execution with error ``Sandbox.InjectedFault`` (``delay`` rules do not apply
  to executions: their tasks' runs take the service faults).
- ``StopExecution``: records ``error``/``cause`` (moto drops them), stops the running
  ``.sync`` task's AWS run, waits until the execution is ABORTED so that a DescribeExecution
  right after says so, and answers ``stopDate`` (moto leaves it out).
"""

from __future__ import annotations

import datetime
import json
import logging
import threading
import time
import uuid
from typing import Any

from moto.stepfunctions.parser.api import ExecutionFailedEventDetails
from moto.stepfunctions.responses import get_backend

from . import faults
from .aws import Call
from .routes import FORWARD, route

LOG = logging.getLogger(__name__)

#: Seconds StopExecution waits for the execution to leave RUNNING.
STOP_WAIT_SECONDS = 30.0
#: Error name of an execution failed by a fault rule.
INJECTED_ERROR = "Sandbox.InjectedFault"


def _backend(call: Call) -> Any:
    return get_backend(call.account_id, call.region)


def _find_execution(call: Call, execution_arn: str) -> Any | None:
    """moto's execution object for ``execution_arn``, or None (moto then answers the error)."""
    try:
        return _backend(call).describe_execution(execution_arn)
    except Exception:
        return None


def _wait_for_env(execution: Any, timeout: float = 5.0) -> Any | None:
    """The interpreter environment of a just-started execution (created on its worker thread)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker = getattr(execution, "exec_worker", None)
        env = getattr(worker, "env", None)
        if env is not None:
            return env
        time.sleep(0.01)
    return None


def _state_machine_name(arn: str) -> str:
    """``arn:aws:states:r:a:stateMachine:name[:version]`` -> ``name``."""
    parts = arn.split(":")
    return parts[6] if len(parts) > 6 else arn


def _inject_failure(execution: Any, message: str) -> None:
    env = _wait_for_env(execution)
    if env is None:
        LOG.warning("could not inject a failure into %s: it never started", execution.exec_arn)
        return
    env.set_error(ExecutionFailedEventDetails(error=INJECTED_ERROR, cause=message))


@route("stepfunctions", "StartExecution")
def start_execution(call: Call) -> Any:
    """Start an execution; generate its name when none is given, as AWS does."""
    params = dict(call.params)
    if not params.get("name"):
        params["name"] = str(uuid.uuid4())
    answer = call.forward_json(json.dumps(params).encode())
    message, _ = faults.run_faults("sfn_execution", _state_machine_name(params.get("stateMachineArn", "")))
    if message is not None:
        execution = _find_execution(call, answer["executionArn"])
        if execution is not None:
            threading.Thread(target=_inject_failure, args=(execution, message), daemon=True,
                             name="sfn-fault").start()
    return answer


@route("stepfunctions", "StopExecution")
def stop_execution(call: Call) -> Any:
    """Abort a running execution (and its running ``.sync`` run); answer once it is ABORTED."""
    execution = _find_execution(call, call.params.get("executionArn", ""))
    if execution is None or not hasattr(execution, "exec_worker"):
        return FORWARD
    stop_date = datetime.datetime.now(tz=datetime.timezone.utc)
    if execution.status == "RUNNING":
        if _wait_for_env(execution) is None:
            return FORWARD
        execution.stop(stop_date=stop_date, error=call.params.get("error"), cause=call.params.get("cause"))
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        while execution.status == "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.05)
        if execution.status == "ABORTED":
            execution.error = call.params.get("error")
            execution.cause = call.params.get("cause")
    stopped = execution.stop_date or stop_date
    return {"stopDate": stopped.timestamp()}
