"""A state cut short by StopExecution or the execution's timeout gets its ``<Type>StateAborted`` event.

What moto (5.2.5) does wrong: when an execution is stopped or times out while a Task, Wait, Map
or Parallel state runs, ``CommonStateField._eval_body`` returns without an event for that state,
so the history goes from the state's last event straight to ``ExecutionAborted`` /
``ExecutionTimedOut``. AWS's history model (``HistoryEventType``) has ``TaskStateAborted``,
``WaitStateAborted``, ``MapStateAborted`` and ``ParallelStateAborted`` for these states (events
without details: ``HistoryEvent`` has no details member for them). moto also records
``ExecutionTimedOut`` with empty ``executionTimedOutEventDetails``, where AWS's model has
``error`` and ``cause``; the Amazon States Language specification says an execution running past
the state machine's ``TimeoutSeconds`` fails with ``States.Timeout``. And on a timeout,
``Program.eval`` stops waiting for the interpreter at the deadline, so the execution is
``TIMED_OUT`` before the interpreter has written its last events. A Parallel state whose branches
were stopped records ``ParallelStateSucceeded`` as if they had ended.

What the patch changes: ``CommonStateField._eval_body`` records ``<Type>StateAborted`` (the state
type's ``...StateEntered`` name with ``Aborted``, when AWS has that event type) when the state ends
without its exited event while the program is stopped or timed out, in the state's thread of
events (Map iterations and Parallel branches each in their own, before ``MapIterationAborted``
and the Map's or Parallel's own aborted event). ``ExecutionTimedOut`` gets error
``States.Timeout`` and a cause naming ``TimeoutSeconds`` (the cause's words are the sandbox's).
``Program.eval`` waits (at most :data:`DRAIN_SECONDS`) for the interpreter to write its last
events after a timeout. ``StateParallel._eval_execution`` records ``ParallelStateSucceeded`` only
while the program still runs.

Upstream: in ``CommonStateField._eval_body`` (``asl/component/state/state.py``), the early
return when the program is no longer running would add the aborted event; ``Program._eval_body``
would fill ``ExecutionTimedOutEventDetails`` and ``Program.eval`` join the worker thread again
after ``set_timed_out``; ``StateParallel._eval_execution`` would check ``env.is_running()``.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from .support import SFN_PARSER, moto_attr, once

#: Seconds ``Program.eval`` waits for the interpreter's last events after the execution timed out.
DRAIN_SECONDS = 10.0
#: Error of an execution that ran past its ``TimeoutSeconds`` (Amazon States Language specification).
TIMEOUT_ERROR = "States.Timeout"


def aborted_event_type(api: Any, entered_event_type: Any) -> Any | None:
    """``TaskStateEntered`` -> ``HistoryEventType.TaskStateAborted``; None for a type without one."""
    name = str(getattr(entered_event_type, "value", entered_event_type))
    if not name.endswith("StateEntered"):
        return None
    return getattr(api.HistoryEventType, name[: -len("Entered")] + "Aborted", None)


def _exited(env: Any, exited_event_type: Any) -> bool:
    """Whether the last event of ``env``'s thread of events is the state's exited event."""
    last_id = env.event_history_context.last_published_event_id
    if exited_event_type is None or not last_id:
        return False
    for event in reversed(env.event_manager._history_event_list):
        if event["id"] == last_id:
            return bool(event["type"] == exited_event_type)
    return False


@once
def apply() -> None:
    _, state_field = moto_attr(f"{SFN_PARSER}.asl.component.state.state", "CommonStateField")
    program_module, program = moto_attr(f"{SFN_PARSER}.asl.component.program.program", "Program")
    _, stopped = moto_attr(f"{SFN_PARSER}.asl.eval.program_state", "ProgramStopped")
    _, timed_out = moto_attr(f"{SFN_PARSER}.asl.eval.program_state", "ProgramTimedOut")
    _, event_manager = moto_attr(f"{SFN_PARSER}.asl.eval.event.event_manager", "EventManager")
    api, _ = moto_attr(f"{SFN_PARSER}.api", "ExecutionTimedOutEventDetails")
    _, eval_component = moto_attr(f"{SFN_PARSER}.asl.component.eval_component", "EvalComponent")
    moto_attr(f"{SFN_PARSER}.utils", "TMP_THREADS")
    _, state_parallel = moto_attr(f"{SFN_PARSER}.asl.component.state.exec.state_parallel.state_parallel",
                                  "StateParallel")

    original_eval_body = state_field._eval_body

    @functools.wraps(original_eval_body)
    def _eval_body(self: Any, env: Any) -> None:
        try:
            original_eval_body(self, env)
        finally:
            aborted = aborted_event_type(api, self.state_entered_event_type)
            if (aborted is not None and isinstance(env.program_state(), (stopped, timed_out))
                    and not _exited(env, self.state_exited_event_type)):
                env.event_manager.add_event(context=env.event_history_context, event_type=aborted)

    original_add_event = event_manager.add_event

    @functools.wraps(original_add_event)
    def add_event(self: Any, context: Any, event_type: Any, event_details: Any = None, **kwargs: Any) -> int:
        if event_type == api.HistoryEventType.ExecutionTimedOut:
            details = dict(event_details or {})
            found = dict(details.get("executionTimedOutEventDetails") or {})
            if not found.get("error"):
                found = {"error": TIMEOUT_ERROR, "cause": "The execution ran longer than the TimeoutSeconds "
                                                         "of its state machine"}
            details["executionTimedOutEventDetails"] = api.ExecutionTimedOutEventDetails(**found)
            event_details = details
        return int(original_add_event(self, context, event_type, event_details, **kwargs))

    def eval(self: Any, env: Any) -> None:  # noqa: A001 - moto's method name
        timeout = self.timeout_seconds.timeout_seconds if self.timeout_seconds else None
        env.next_state_name = self.start_at.start_at_name
        worker = threading.Thread(target=eval_component.eval, args=(self, env), daemon=True)
        program_module.TMP_THREADS.append(worker)
        worker.start()
        worker.join(timeout=timeout)
        if worker.is_alive():
            env.set_timed_out()
            worker.join(timeout=DRAIN_SECONDS)  # the aborted state's and ExecutionTimedOut events

    def _eval_execution(self: Any, env: Any) -> None:
        env.event_manager.add_event(context=env.event_history_context,
                                    event_type=api.HistoryEventType.ParallelStateStarted)
        self.branches.eval(env)
        if env.is_running():
            env.event_manager.add_event(context=env.event_history_context,
                                        event_type=api.HistoryEventType.ParallelStateSucceeded,
                                        update_source_event_id=False)

    functools.update_wrapper(_eval_execution, state_parallel._eval_execution)
    state_parallel._eval_execution = _eval_execution
    state_field._eval_body = _eval_body
    event_manager.add_event = add_event
    functools.update_wrapper(eval, program.eval)
    program.eval = eval
