"""Render the IR as an Amazon States Language definition (JSONPath query language)."""

from __future__ import annotations

import json
from typing import Any

from airflow_sfn_etl.asl.ir import (
    Catch,
    Choice,
    ChoiceRule,
    Fail,
    Graph,
    Map,
    Parallel,
    Pass,
    Retry,
    State,
    StateMachine,
    Succeed,
    Task,
    Wait,
    _Chainable,
)


def retry_dict(retry: Retry) -> dict[str, Any]:
    """One Retry entry."""
    out: dict[str, Any] = {"ErrorEquals": list(retry.error_equals)}
    if retry.interval_seconds is not None:
        out["IntervalSeconds"] = retry.interval_seconds
    if retry.max_attempts is not None:
        out["MaxAttempts"] = retry.max_attempts
    if retry.backoff_rate is not None:
        out["BackoffRate"] = retry.backoff_rate
    if retry.max_delay_seconds is not None:
        out["MaxDelaySeconds"] = retry.max_delay_seconds
    return out


def catch_dict(catch: Catch) -> dict[str, Any]:
    """One Catch entry (``ResultPath`` always written: null keeps the state input)."""
    return {"ErrorEquals": list(catch.error_equals), "Next": catch.next, "ResultPath": catch.result_path}


def rule_dict(rule: ChoiceRule) -> dict[str, Any]:
    """A Choice rule, nested rules included."""
    out: dict[str, Any] = {}
    if rule.and_:
        out["And"] = [rule_dict(r) for r in rule.and_]
    elif rule.or_:
        out["Or"] = [rule_dict(r) for r in rule.or_]
    elif rule.not_ is not None:
        out["Not"] = rule_dict(rule.not_)
    else:
        out["Variable"] = rule.variable
        out[str(rule.operator)] = rule.value
    if rule.next is not None:
        out["Next"] = rule.next
    return out


def _retry_catch(state: Task | Map | Parallel, out: dict[str, Any]) -> None:
    """A state's ``Retry`` and ``Catch``, when it has them."""
    if state.retry:
        out["Retry"] = [retry_dict(r) for r in state.retry]
    if state.catch:
        out["Catch"] = [catch_dict(c) for c in state.catch]


def _flow(state: _Chainable, out: dict[str, Any]) -> None:
    if state.end:
        out["End"] = True
    else:
        out["Next"] = state.next
    if state.input_path != "$":
        out["InputPath"] = state.input_path
    if state.output_path != "$":
        out["OutputPath"] = state.output_path


def state_dict(state: State) -> dict[str, Any]:
    """One state."""
    out: dict[str, Any] = {"Type": type(state).__name__}
    if state.comment:
        out["Comment"] = state.comment
    if isinstance(state, Task):
        out["Resource"] = state.resource
        if state.parameters:
            out["Parameters"] = state.parameters
        if state.result_selector is not None:
            out["ResultSelector"] = state.result_selector
        out["ResultPath"] = state.result_path
        if state.timeout_seconds:
            out["TimeoutSeconds"] = state.timeout_seconds
        _retry_catch(state, out)
        _flow(state, out)
    elif isinstance(state, Map):
        out["ItemsPath"] = state.items_path
        if state.item_selector is not None:
            out["ItemSelector"] = state.item_selector
        out["ItemProcessor"] = {"ProcessorConfig": {"Mode": "INLINE"}, **graph_dict(state.branches[0])}
        out["MaxConcurrency"] = state.max_concurrency
        out["ResultPath"] = state.result_path
        _retry_catch(state, out)
        _flow(state, out)
    elif isinstance(state, Parallel):
        out["Branches"] = [graph_dict(b) for b in state.branches]
        out["ResultPath"] = state.result_path
        _retry_catch(state, out)
        _flow(state, out)
    elif isinstance(state, Pass):
        if state.parameters is not None:
            out["Parameters"] = state.parameters
        elif state.result is not None:
            out["Result"] = state.result
        out["ResultPath"] = state.result_path
        _flow(state, out)
    elif isinstance(state, Wait):
        for key, value in (
            ("Seconds", state.seconds),
            ("SecondsPath", state.seconds_path),
            ("Timestamp", state.timestamp),
            ("TimestampPath", state.timestamp_path),
        ):
            if value is not None:
                out[key] = value
        _flow(state, out)
    elif isinstance(state, Choice):
        out["Choices"] = [rule_dict(r) for r in state.choices]
        if state.default is not None:
            out["Default"] = state.default
    elif isinstance(state, Fail):
        for key, value in (
            ("Error", state.error),
            ("Cause", state.cause),
            ("ErrorPath", state.error_path),
            ("CausePath", state.cause_path),
        ):
            if value is not None:
                out[key] = value
    elif isinstance(state, Succeed):
        pass
    return out


def graph_dict(graph: Graph) -> dict[str, Any]:
    """``StartAt`` + ``States`` of a graph (the machine or one branch)."""
    return {"StartAt": graph.start, "States": {s.name: state_dict(s) for s in graph.states}}


def definition(machine: StateMachine) -> dict[str, Any]:
    """The full ASL definition as a dict."""
    out = {"Comment": machine.comment, **graph_dict(machine.graph)}
    if machine.timeout_seconds:
        out["TimeoutSeconds"] = machine.timeout_seconds
    return out


def dumps(definition_dict: dict[str, Any]) -> str:
    """Deterministic JSON text: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(definition_dict, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_json(machine: StateMachine) -> str:
    """The ASL definition as deterministic JSON text."""
    return dumps(definition(machine))
