"""An execution's output is JSON, so DescribeExecution never fails on a timestamp in it.

What moto (5.2.5) does wrong: ``BaseExecutionWorkerCommunication._reflect_execution_status``
stores the last state's data as the execution's output as it is. The interpreter keeps some
values as ``datetime`` (``$$.Execution.StartTime`` is one), so an execution that passes such a
value through succeeds, and then DescribeExecution fails with "Object of type datetime is not
JSON serializable". Besides, DescribeExecution answers an output that is a JSON string (a
machine whose result is ``"abc"``) without its quotes, so the ``output`` is not JSON, and leaves
a ``null`` output out.

What the patch changes: after moto's method, the output of a succeeded execution is kept as its
JSON text, with timestamps as ISO-8601 UTC strings (:func:`..sfn.results.iso_timestamps`), as
AWS renders ``$$.Execution.StartTime``; moto's DescribeExecution passes a text through as it is.

Upstream: keep the context object's timestamps as ISO-8601 strings, as AWS's context object has
them, or serialise the output with a ``datetime``-aware encoder in ``backend/execution.py``; in
``responses.py`` answer ``json.dumps(output)`` whatever the output's type.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from ..sfn.results import iso_timestamps
from .support import SFN_PARSER, moto_attr, once


@once
def apply() -> None:
    _, comm = moto_attr(f"{SFN_PARSER}.backend.execution", "BaseExecutionWorkerCommunication")
    original = comm._reflect_execution_status

    @functools.wraps(original)
    def _reflect_execution_status(self: Any) -> None:
        original(self)
        execution = self.execution
        if execution.exec_status == "SUCCEEDED":
            execution.output = json.dumps(iso_timestamps(execution.output))

    comm._reflect_execution_status = _reflect_execution_status
