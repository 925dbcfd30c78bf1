"""A task whose heartbeat stops fails with ``States.HeartbeatTimeout``, which ``States.Timeout`` also catches.

What moto (5.2.5) does wrong: when a ``.waitForTaskToken`` task with ``HeartbeatSeconds`` gets
no SendTaskHeartbeat (nor a result) in time, ``StateTaskServiceCallback`` raises
``HeartbeatTimeoutError``, a ``TimeoutError``; ``StateTaskService._from_error`` turns every
``TimeoutError`` into ``States.Timeout``. AWS documents the error ``States.HeartbeatTimeout``
("a Task state failed to send a heartbeat for a period longer than the HeartbeatSeconds
value", usable in ``Retry`` and ``Catch``), recorded as a ``TaskTimedOut`` event; its
``States.Timeout`` covers a task that "ran longer than the TimeoutSeconds value, or failed to send
a heartbeat for a period longer than the HeartbeatSeconds value", so a retrier or catcher on
``States.Timeout`` still matches it.

What the patch changes: ``StateTaskServiceCallback._from_error`` answers a ``TaskTimedOut``
failure with error ``States.HeartbeatTimeout`` for ``HeartbeatTimeoutError``; ``ErrorEqualsDecl``
matches ``States.HeartbeatTimeout`` against ``States.Timeout`` too.

Upstream: a ``_get_heartbeat_timed_out_failure_event`` beside ``_get_timed_out_failure_event``
in ``state_task_service.py``, chosen for ``HeartbeatTimeoutError`` in ``_from_error``, and the
extra match in ``ErrorEqualsDecl._eval_body``.
"""

from __future__ import annotations

import functools
from typing import Any

from .support import SFN_PARSER, moto_attr, once

_TASK = f"{SFN_PARSER}.asl.component.state.exec.state_task"
_ERRORS = f"{SFN_PARSER}.asl.component.common.error_name"


@once
def apply() -> None:
    _, callback_service = moto_attr(f"{_TASK}.service.state_task_service_callback", "StateTaskServiceCallback")
    _, heartbeat_error = moto_attr(f"{SFN_PARSER}.asl.eval.callback.callback", "HeartbeatTimeoutError")
    _, error_equals = moto_attr(f"{_ERRORS}.error_equals_decl", "ErrorEqualsDecl")
    _, states_error_name = moto_attr(f"{_ERRORS}.states_error_name", "StatesErrorName")
    _, error_types = moto_attr(f"{_ERRORS}.states_error_name_type", "StatesErrorNameType")
    _, failure_event = moto_attr(f"{_ERRORS}.failure_event", "FailureEvent")
    _, event_details = moto_attr(f"{SFN_PARSER}.asl.eval.event.event_detail", "EventDetails")
    api = moto_attr(f"{SFN_PARSER}.api", "TaskTimedOutEventDetails")[0]
    heartbeat_type = error_types.StatesHeartbeatTimeout
    timeout_type = error_types.StatesTimeout

    original_from_error = callback_service._from_error

    @functools.wraps(original_from_error)
    def _from_error(self: Any, env: Any, ex: Exception) -> Any:
        if not isinstance(ex, heartbeat_error):
            return original_from_error(self, env, ex)
        return failure_event(
            env=env,
            error_name=states_error_name(typ=heartbeat_type),
            event_type=api.HistoryEventType.TaskTimedOut,
            event_details=event_details(taskTimedOutEventDetails=api.TaskTimedOutEventDetails(
                resourceType=self._get_sfn_resource_type(), resource=self._get_sfn_resource(),
                error=heartbeat_type.to_name())),
        )

    original_eval_body = error_equals._eval_body

    @functools.wraps(original_eval_body)
    def _eval_body(self: Any, env: Any) -> None:
        error_name = env.stack[-1]
        if (getattr(error_name, "typ", None) == heartbeat_type
                and any(getattr(name, "typ", None) == timeout_type for name in self.error_names)):
            env.stack.pop()
            env.stack.append(True)
            return
        original_eval_body(self, env)

    callback_service._from_error = _from_error
    error_equals._eval_body = _eval_body
