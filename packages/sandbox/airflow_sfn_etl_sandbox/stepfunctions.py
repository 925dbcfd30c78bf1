"""Sandbox handlers for Step Functions: executions really run, calling the sandbox's services.

Executions run in moto's interpreter with the sandbox's integrations (:mod:`.sfn`), which
:mod:`.moto_patches` puts in when the sandbox starts. The handlers below fix what moto's API
layer gets wrong:

- ``StartExecution`` without ``name``: AWS generates a UUID name; moto would make the ARN end
  in ``:None``. A ``fail`` fault rule for target ``sfn_execution`` and the state machine's name
  fails the new execution with error ``Sandbox.InjectedFault`` (``delay`` rules do not apply
  to executions: their tasks' runs take the service faults).
- ``CreateStateMachine`` / ``UpdateStateMachine``: the definition is checked as AWS checks it
  (:mod:`.sfn.definition`: transition targets, reachability, a terminal state, field rules); a
  bad one fails with ``InvalidDefinition`` listing every problem, in AWS's message format.
- ``ValidateStateMachineDefinition`` (absent in moto): the same checks, answered as diagnostics.
- ``RedriveExecution`` (absent in moto's API): a failed, aborted or timed-out execution runs again
  from the state it did not get past (:mod:`.sfn.redrive`); ``DescribeExecution`` answers
  ``redriveCount``, ``redriveDate``, ``redriveStatus`` and ``redriveStatusReason`` as AWS does.
- ``TestState`` (absent in moto's API): one state run on an input (:mod:`.sfn.test_state`).
- ``GetExecutionHistory``: ``reverseOrder``, ``includeExecutionData`` and paging with
  ``maxResults`` / ``nextToken`` as AWS documents them (moto ignores them; :mod:`.sfn.history`).
- ``SendTaskFailure``: passes ``cause`` on to the task (moto's API layer drops it).
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
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.responses import get_backend

from . import faults
from .aws import AwsError, Call
from .routes import FORWARD, route
from .sfn import redrive as redrives
from .sfn.definition import Diagnostic, diagnose, invalid_definition_message
from .sfn.history import history_page
from .sfn.test_state import test_state as run_test_state

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


def _parse_problem(definition: str) -> Diagnostic | None:
    """What moto's ASL parser rejects in a definition the static checks passed, or None."""
    try:
        AmazonStateLanguageParser.parse(definition)
    except Exception as err:  # the parser raises ASLParserException and plain errors alike
        return Diagnostic("SCHEMA_VALIDATION_FAILED", f"{type(err).__name__}: {err}")
    return None


def definition_diagnostics(definition: str | None) -> list[Diagnostic]:
    """The static checks' diagnostics, then (when there are none) what moto's parser rejects."""
    found = diagnose(definition)
    if not found and definition is not None:
        problem = _parse_problem(definition)
        if problem is not None:
            found.append(problem)
    return found


@route("stepfunctions", "CreateStateMachine", "UpdateStateMachine")
def check_definition(call: Call) -> Any:
    """Reject a definition AWS would reject, with ``InvalidDefinition`` in AWS's message format."""
    definition = call.params.get("definition")
    if definition is None and call.operation == "UpdateStateMachine":
        return FORWARD
    found = [d for d in definition_diagnostics(definition) if d.severity == "ERROR"]
    if found:
        raise AwsError("InvalidDefinition", invalid_definition_message(found))
    return FORWARD


@route("stepfunctions", "ValidateStateMachineDefinition")
def validate_state_machine_definition(call: Call) -> Any:
    """Answer the definition's diagnostics: ``result`` FAIL when there is an ERROR, else OK.

    ``severity`` WARNING asks for warnings too (the checks here make errors only); ``maxResults``
    (default 100) caps the list, ``truncated`` says when it did.
    """
    found = definition_diagnostics(call.params.get("definition"))
    if call.params.get("severity", "ERROR") == "ERROR":
        found = [d for d in found if d.severity == "ERROR"]
    limit = int(call.params.get("maxResults") or 100)
    return {
        "result": "FAIL" if any(d.severity == "ERROR" for d in found) else "OK",
        "diagnostics": [d.as_api() for d in found[:limit]],
        "truncated": len(found) > limit,
    }


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
        error, cause = call.params.get("error"), call.params.get("cause")
        # Recorded before the stop: moto leaves them alone when the execution ends ABORTED, and a
        # reader (a parent's .sync task) that sees ABORTED then sees them too.
        execution.error, execution.cause = error, cause
        execution.stop(stop_date=stop_date, error=error, cause=cause)
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        while execution.status == "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.05)
        if execution.status == "SUCCEEDED":  # it ended on its own before the stop took effect
            execution.error = execution.cause = None
    stopped = execution.stop_date or stop_date
    return {"stopDate": stopped.timestamp()}


@route("stepfunctions", "SendTaskFailure")
def send_task_failure(call: Call) -> dict[str, Any]:
    """Fail the task waiting for ``taskToken`` with the ``error`` and the ``cause`` given."""
    from moto.core.exceptions import AWSError

    try:
        _backend(call).send_task_failure(call.params.get("taskToken", ""), error=call.params.get("error"),
                                         cause=call.params.get("cause"))
    except AWSError as err:  # moto's TaskTimedOut, TaskDoesNotExist, InvalidToken
        raise AwsError(getattr(err, "code", type(err).__name__), getattr(err, "message", str(err)),
                       int(getattr(err, "status_code", 400))) from err
    return {}


@route("stepfunctions", "TestState")
def test_state(call: Call) -> dict[str, Any]:
    """Run one state's definition on an input and answer its status, output and next state."""
    return run_test_state(call.params, call.account_id, call.region)


@route("stepfunctions", "RedriveExecution")
def redrive_execution(call: Call) -> dict[str, Any]:
    """Run a FAILED, ABORTED or TIMED_OUT execution again from the state it did not get past."""
    arn = call.params.get("executionArn", "")
    execution = _find_execution(call, arn)
    if execution is None or not hasattr(execution, "exec_worker"):
        raise AwsError("ExecutionDoesNotExist", f"Execution Does Not Exist: '{arn}'")
    return {"redriveDate": redrives.redrive(execution).timestamp()}


@route("stepfunctions", "GetExecutionHistory")
def get_execution_history(call: Call) -> dict[str, Any]:
    """moto's events, in the order, page and detail the request asks for."""
    events = call.forward_json(json.dumps({"executionArn": call.params.get("executionArn", "")}).encode())["events"]
    return history_page(events, call.params)


@route("stepfunctions", "DescribeExecution")
def describe_execution(call: Call) -> Any:
    """moto's description plus the redrive fields AWS gives."""
    execution = _find_execution(call, call.params.get("executionArn", ""))
    if execution is None or not hasattr(execution, "exec_worker"):
        return FORWARD
    described = call.forward_json()
    info = redrives.redrive_info(execution.exec_arn)
    described["redriveCount"] = info.count
    if info.date is not None:
        described["redriveDate"] = info.date.timestamp()
    status, reason = redrives.redrive_status(execution)
    described["redriveStatus"] = status
    if reason:
        described["redriveStatusReason"] = reason
    return described


def reset() -> None:
    """Forget the executions' redrives."""
    redrives.reset()
