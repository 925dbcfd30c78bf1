"""A Distributed Map fails when more items fail than it tolerates; an integer ToleratedFailurePercentage parses.

What moto (5.2.5) does wrong: its Distributed Map ignores ``ToleratedFailureCount`` and
``ToleratedFailurePercentage`` (the parser logs "declarations currently have no effect"): an item
that fails gives ``null`` in the output array and the Map state succeeds. AWS documents that both
thresholds default to zero, that with both given exceeding either fails the Map Run, and that the
Map state then fails with ``States.ExceedToleratedFailureThreshold``. And moto's grammar takes
``ToleratedFailurePercentage`` as a decimal only: ``"ToleratedFailurePercentage": 50`` (an integer,
valid on AWS) fails to parse, so CreateStateMachine answers InvalidDefinition.

What the patch changes: after a Distributed Map's items have run, the failed and timed-out items
are counted against the thresholds the state declares (none declared: zero tolerated; one
declared: that one only) and, past them, the state fails with
``States.ExceedToleratedFailureThreshold`` and a cause giving the counts. Before parsing, an
integer ``ToleratedFailurePercentage`` is read as the same decimal (the stored definition is
unchanged).

Upstream: the count in ``DistributedIterationComponent._map_run`` (with the declared-or-default
flags kept by ``StateMap.from_state_props``), and ``INT`` next to ``NUMBER`` in the
``tolerated_failure_percentage_decl`` rule of ``ASLParser.g4``.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from .support import SFN_PARSER, moto_attr, once

_MAP = f"{SFN_PARSER}.asl.component.state.exec.state_map"
_ERRORS = f"{SFN_PARSER}.asl.component.common.error_name"
#: ``"ToleratedFailurePercentage": 50`` (not inside a string): the integer to read as a decimal.
_INT_PERCENTAGE = re.compile(r'(?<!\\)("ToleratedFailurePercentage"\s*:\s*)(\d+)(?=\s*[,}\]])')


def integer_percentage_as_decimal(definition: str) -> str:
    """The definition text with an integer ``ToleratedFailurePercentage`` written as a decimal."""
    return _INT_PERCENTAGE.sub(r"\1\2.0", definition)


def exceeded(failed: int, total: int, count: int | None, percentage: float | None) -> bool:
    """Whether ``failed`` of ``total`` items pass the declared thresholds (None: not declared)."""
    if count is None and percentage is None:
        count = 0
    if count is not None and failed > count:
        return True
    return percentage is not None and total > 0 and failed * 100.0 / total > percentage


@once
def apply() -> None:
    _, parser = moto_attr(f"{SFN_PARSER}.asl.parse.asl_parser", "AmazonStateLanguageParser")
    _, state_map = moto_attr(f"{_MAP}.state_map", "StateMap")
    _, count_decl = moto_attr(f"{_MAP}.tolerated_failure", "ToleratedFailureCountDecl")
    _, percentage_decl = moto_attr(f"{_MAP}.tolerated_failure", "ToleratedFailurePercentageDecl")
    _, distributed = moto_attr(f"{_MAP}.iteration.distributed_iteration_component",
                               "DistributedIterationComponent")
    _, failure_event = moto_attr(f"{_ERRORS}.failure_event", "FailureEvent")
    _, failure_exception = moto_attr(f"{_ERRORS}.failure_event", "FailureEventException")
    _, states_error_name = moto_attr(f"{_ERRORS}.states_error_name", "StatesErrorName")
    _, error_types = moto_attr(f"{_ERRORS}.states_error_name_type", "StatesErrorNameType")
    _, event_details = moto_attr(f"{SFN_PARSER}.asl.eval.event.event_detail", "EventDetails")
    api = moto_attr(f"{SFN_PARSER}.api", "ExecutionFailedEventDetails")[0]
    threshold_error = error_types.StatesExceedToleratedFailureThreshold

    original_parse = parser.parse

    @functools.wraps(original_parse)
    def parse(definition: str) -> Any:
        return original_parse(integer_percentage_as_decimal(definition))

    original_from_state_props = state_map.from_state_props

    @functools.wraps(original_from_state_props)
    def from_state_props(self: Any, state_props: Any) -> None:
        original_from_state_props(self, state_props)
        # Which thresholds the state declares (moto puts zero defaults in for both).
        self.iteration_component.sandbox_declared_thresholds = (
            state_props.get(count_decl) is not None, state_props.get(percentage_decl) is not None)

    original_map_run = distributed._map_run

    @functools.wraps(original_map_run)
    def _map_run(self: Any, env: Any, eval_input: Any) -> None:
        original_map_run(self, env, eval_input)
        counter = eval_input.map_run_record.item_counter
        failed = counter.failed.get() + counter.timed_out.get()
        total = counter.total.get()
        count_declared, percentage_declared = getattr(self, "sandbox_declared_thresholds", (False, False))
        count = int(eval_input.tolerated_failure_count) if count_declared else None
        percentage = float(eval_input.tolerated_failure_percentage) if percentage_declared else None
        if not exceeded(failed, total, count, percentage):
            return
        limits = ", ".join(part for part in (
            f"ToleratedFailureCount {count}" if count is not None else "",
            f"ToleratedFailurePercentage {percentage:g}" if percentage is not None else "",
        ) if part) or "no failure tolerated"
        cause = (f"The Map Run of state '{eval_input.state_name}' failed: {failed} of {total} items failed, "
                 f"more than tolerated ({limits})")
        raise failure_exception(failure_event(
            env=env,
            error_name=states_error_name(typ=threshold_error),
            event_type=api.HistoryEventType.ExecutionFailed,
            event_details=event_details(executionFailedEventDetails=api.ExecutionFailedEventDetails(
                error=threshold_error.to_name(), cause=cause)),
        ))

    parser.parse = staticmethod(parse)
    state_map.from_state_props = from_state_props
    distributed._map_run = _map_run
