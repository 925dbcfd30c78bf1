"""``RedriveExecution``: run a FAILED, ABORTED or TIMED_OUT execution again from the state that did not succeed.

As AWS documents it: the execution keeps its ARN, name and input; it goes back to RUNNING and
restarts at the top-level state it failed in (or was stopped or timed out in), with the input that
state had, the states before it not run again; its history goes on after an ``ExecutionRedriven``
event (``redriveCount``), and DescribeExecution gains ``redriveCount`` and ``redriveDate``. The
state machine definition is the one the execution started with.

Not redrivable (``ExecutionNotRedrivable``): a running or succeeded execution, an Express one,
one that never entered a state; and, as not emulated by the sandbox, one that ended in a
``Parallel`` or ``Map`` state (AWS re-runs only their unsuccessful branches or iterations).
"""

from __future__ import annotations

import datetime
import json
import threading
from dataclasses import dataclass
from typing import Any

from ..aws import AwsError

REDRIVABLE_STATUSES = ("FAILED", "ABORTED", "TIMED_OUT")
_NESTING_TYPES = ("Parallel", "Map")


@dataclass
class Redrives:
    """How often, and when last, each execution was redriven (moto keeps neither)."""

    count: int = 0
    date: datetime.datetime | None = None


_REDRIVES: dict[str, Redrives] = {}
_LOCK = threading.Lock()


def redrive_info(execution_arn: str) -> Redrives:
    with _LOCK:
        return _REDRIVES.get(execution_arn) or Redrives()


def reset() -> None:
    with _LOCK:
        _REDRIVES.clear()


def _not_redrivable(message: str) -> AwsError:
    return AwsError("ExecutionNotRedrivable", message)


def _status(execution: Any) -> str:
    return str(getattr(execution.exec_status, "value", execution.exec_status))


def restart_point(execution: Any) -> tuple[str, Any]:
    """The top-level state the execution did not get past, and the input it had."""
    definition = json.loads(execution.state_machine.definition)
    states = definition.get("States") or {}
    worker = getattr(execution, "exec_worker", None)
    env = getattr(worker, "env", None)
    events = env.event_manager.get_event_history() if env is not None else []
    for event in reversed(events):
        entered = event.get("stateEnteredEventDetails")
        if entered and entered.get("name") in states:
            name = entered["name"]
            kind = states[name].get("Type")
            if kind in _NESTING_TYPES:
                raise _not_redrivable(f"Execution {execution.exec_arn} ended in {kind} state {name!r}: redriving "
                                      f"a {kind} state is not emulated by the sandbox")
            return name, json.loads(entered.get("input") or "null")
    raise _not_redrivable(f"Execution {execution.exec_arn} did not enter a state and cannot be redriven")


def redrive_status(execution: Any) -> tuple[str, str | None]:
    """DescribeExecution's ``redriveStatus`` and ``redriveStatusReason``."""
    status = _status(execution)
    if status not in REDRIVABLE_STATUSES:
        return "NOT_REDRIVABLE", f"Execution is {status} and cannot be redriven"
    if str(getattr(execution.sm_type, "value", execution.sm_type)) == "EXPRESS":
        return "NOT_REDRIVABLE", "Express workflow executions cannot be redriven"
    try:
        restart_point(execution)
    except AwsError as err:
        return "NOT_REDRIVABLE", err.message
    return "REDRIVABLE", None


def redrive(execution: Any) -> datetime.datetime:
    """Restart ``execution`` (a moto execution) from where it stopped; answers the redrive date."""
    from moto.stepfunctions.parser.api import ExecutionStatus, HistoryEventType
    from moto.stepfunctions.parser.asl.eval.evaluation_details import EvaluationDetails
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    from moto.stepfunctions.parser.utils import TMP_THREADS

    status, reason = redrive_status(execution)
    if status != "REDRIVABLE":
        raise _not_redrivable(f"Execution {execution.exec_arn} cannot be redriven: {reason}")
    start_at, state_input = restart_point(execution)
    old_events = list(execution.exec_worker.env.event_manager.get_event_history())
    definition = json.loads(execution.state_machine.definition)
    definition["StartAt"] = start_at
    program = AmazonStateLanguageParser.parse(json.dumps(definition))[0]
    with _LOCK:
        info = _REDRIVES.setdefault(execution.exec_arn, Redrives())
        info.count += 1
        info.date = datetime.datetime.now(tz=datetime.timezone.utc)
        count, date = info.count, info.date

    class RedriveWorker(ExecutionWorker):
        """Runs the program from ``start_at``, its history following the execution's earlier one."""

        def _execution_logic(self) -> None:
            self.env = self._get_evaluation_environment()
            manager, context = self.env.event_manager, self.env.event_history_context
            manager._history_event_list.extend(old_events)
            last_id = max((int(e["id"]) for e in old_events), default=0)
            manager._event_id_gen._next_id = last_id + 1
            context.source_event_id = context.last_published_event_id = last_id
            # moto's EventDetails does not list executionRedrivenEventDetails; the event is a dict alike.
            details: Any = {"executionRedrivenEventDetails": {"redriveCount": count}}
            manager.add_event(context=context, event_type=HistoryEventType.ExecutionRedriven, event_details=details)
            self.env.states.reset(state_input)
            program.eval(self.env)
            self._execution_communication.terminated()

        def start(self) -> None:
            thread = threading.Thread(target=self._execution_logic, daemon=True, name="sfn-redrive")
            TMP_THREADS.append(thread)
            thread.start()

    worker = RedriveWorker(
        evaluation_details=EvaluationDetails(aws_execution_details=execution._get_start_aws_execution_details(),
                                             execution_details=execution.get_start_execution_details(),
                                             state_machine_details=execution.get_start_state_machine_details()),
        exec_comm=execution._get_start_execution_worker_comm(),
        cloud_watch_logging_session=execution._cloud_watch_logging_session,
        activity_store=execution._activity_store,
    )
    execution.error = execution.cause = execution.stop_date = execution.output = None
    execution.exec_status = ExecutionStatus.RUNNING
    execution.exec_worker = worker
    worker.start()
    return date
