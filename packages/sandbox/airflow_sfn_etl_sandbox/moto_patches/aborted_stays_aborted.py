"""An aborted execution stays ABORTED when a task torn down by the abort reports an error later.

What moto (5.2.5) does wrong: ``Environment.set_error`` replaces the program state with
``ProgramError`` whatever it was, while ``set_stop`` only acts on a running program. After
StopExecution, a state still finishing (a task whose call or run the abort cut short, and which
then reports that as an error) calls ``set_error``, and the execution ends FAILED instead of
ABORTED.

What the patch changes: ``set_error`` does nothing once the program is stopped (``ProgramStopped``).

Upstream: the same guard at the top of ``Environment.set_error`` in
``moto/stepfunctions/parser/asl/eval/environment.py``.
"""

from __future__ import annotations

import functools
from typing import Any

from .support import SFN_PARSER, moto_attr, once


@once
def apply() -> None:
    _, environment = moto_attr(f"{SFN_PARSER}.asl.eval.environment", "Environment")
    _, program_stopped = moto_attr(f"{SFN_PARSER}.asl.eval.program_state", "ProgramStopped")
    original = environment.set_error

    @functools.wraps(original)
    def set_error(self: Any, error: Any) -> None:
        if isinstance(getattr(self, "_program_state", None), program_stopped):
            return
        original(self, error)

    environment.set_error = set_error
