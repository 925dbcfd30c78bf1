"""A ``States.*`` error coming out of a Parallel branch, a Map iteration or a callback keeps its name.

What moto (5.2.5) does wrong: where the interpreter re-raises an error it received (the failure
of a Parallel branch in ``branches_decl``, of a Map iteration in ``iteration_worker``, a task
failure sent to a callback in ``state_task_service_callback``), it wraps the name in
``CustomErrorName``, which refuses names starting with ``States.``. A ``States.Timeout`` or a
``States.TaskFailed`` (from a ``.sync`` task) in a branch then crashes the execution with
``States.Runtime``: "Custom Error Names MUST NOT begin with the prefix 'States.'", and a
``Catch`` on the real error never matches.

What the patch changes: in those three modules the name ``CustomErrorName`` is replaced by a
function that gives a ``StatesErrorName`` for a known ``States.*`` name and a
``CustomErrorName`` otherwise (an unknown ``States.*`` name keeps moto's refusal).

Upstream: choose the class by prefix at those three call sites (or in a small helper beside
``CustomErrorName``).
"""

from __future__ import annotations

from typing import Any

from .support import SFN_PARSER, moto_attr, once

#: The moto modules that re-raise a received error name through ``CustomErrorName``.
RERAISING_MODULES = (
    f"{SFN_PARSER}.asl.component.state.exec.state_parallel.branches_decl",
    f"{SFN_PARSER}.asl.component.state.exec.state_map.iteration.iteration_worker",
    f"{SFN_PARSER}.asl.component.state.exec.state_task.service.state_task_service_callback",
)


@once
def apply() -> None:
    custom = moto_attr(f"{SFN_PARSER}.asl.component.common.error_name.custom_error_name", "CustomErrorName")[1]
    states = moto_attr(f"{SFN_PARSER}.asl.component.common.error_name.states_error_name", "StatesErrorName")[1]

    def error_name_of(error_name: str | None = None) -> Any:
        if error_name and error_name.startswith("States."):
            try:
                return states.from_name(error_name)
            except Exception:  # an unknown States.* name: keep moto's own refusal
                pass
        return custom(error_name=error_name)

    for module_name in RERAISING_MODULES:
        module, _ = moto_attr(module_name, "CustomErrorName")
        module.CustomErrorName = error_name_of
