"""Validate an ASL definition (JSONPath query language) before it is deployed.

:func:`validate` returns a list of messages, each naming the state and the fix;
:func:`validate_or_raise` raises :class:`AslValidationError` with all of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from airflow_sfn_etl.asl.errors import AslValidationError
from airflow_sfn_etl.asl.jsonpath import dynamic_value_error, intrinsic_error, path_error

STATE_TYPES = ("Task", "Parallel", "Map", "Pass", "Wait", "Choice", "Succeed", "Fail")
CHAINABLE = {"Task", "Parallel", "Map", "Pass", "Wait"}
MAX_NAME = 80

_COMPARISONS: dict[str, str] = {
    **{
        f"String{op}": "string"
        for op in ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
    },
    "StringMatches": "string",
    **{
        f"Numeric{op}": "number"
        for op in ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
    },
    "BooleanEquals": "boolean",
    **{
        f"Timestamp{op}": "string"
        for op in ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
    },
    **{f"Is{kind}": "boolean" for kind in ("Null", "Present", "Numeric", "String", "Boolean", "Timestamp")},
}
for _op in list(_COMPARISONS):
    if not _op.startswith("Is") and _op != "StringMatches":
        _COMPARISONS[_op + "Path"] = "path"

_PLACEHOLDER = r"(?:\d{12}|\[[A-Za-z0-9_]+\]|\$\{[^}]+\}|<[^>]+>|[A-Za-z0-9_{}\-]+)"
_REGION = r"(?:[a-z]{2}(?:-gov)?-[a-z]+-\d|\[[A-Za-z0-9_]+\]|\$\{[^}]+\}|<[^>]+>)"
_KNOWN_RESOURCES = [
    re.compile(r"^arn:aws:states:::glue:startJobRun(\.sync)?$"),
    re.compile(
        r"^arn:aws:states:::athena:(startQueryExecution(\.sync)?|stopQueryExecution|getQueryExecution|getQueryResults)$"
    ),
    re.compile(r"^arn:aws:states:::databrew:startJobRun(\.sync)?$"),
    re.compile(r"^arn:aws:states:::sns:publish(\.waitForTaskToken)?$"),
    re.compile(r"^arn:aws:states:::sqs:sendMessage(\.waitForTaskToken)?$"),
    re.compile(r"^arn:aws:states:::states:startExecution(\.sync(:2)?|\.waitForTaskToken)?$"),
    re.compile(r"^arn:aws:states:::lambda:invoke(\.waitForTaskToken)?$"),
    re.compile(r"^arn:aws:states:::aws-sdk:[a-z0-9]+:[a-z][A-Za-z0-9]*(\.waitForTaskToken)?$"),
    re.compile(rf"^arn:aws:lambda:{_REGION}:{_PLACEHOLDER}:function:[A-Za-z0-9_\-]+(:[A-Za-z0-9_$\-]+)?$"),
    re.compile(rf"^arn:aws:states:{_REGION}:{_PLACEHOLDER}:activity:[A-Za-z0-9_\-]+$"),
]
_SUPPORTED_HINT = (
    "glue:startJobRun[.sync], athena:startQueryExecution[.sync], databrew:startJobRun[.sync], sns:publish, "
    "sqs:sendMessage, states:startExecution[.sync[:2]], lambda:invoke, aws-sdk:<service>:<action>, "
    "lambda function or activity ARNs"
)


def validate(definition: object) -> list[str]:
    """Every problem found in an ASL definition dict; empty when it is valid."""
    errors: list[str] = []
    if not isinstance(definition, dict):
        return ["The definition must be a JSON object with StartAt and States."]
    names: dict[str, str] = {}
    _check_graph(definition, "", errors, names)
    if "TimeoutSeconds" in definition and not _positive_int(definition["TimeoutSeconds"]):
        errors.append("Top level: TimeoutSeconds must be a positive integer.")
    return errors


def validate_or_raise(definition: object) -> None:
    """Raise :class:`AslValidationError` listing every problem, if there is any."""
    errors = validate(definition)
    if errors:
        raise AslValidationError(errors)


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _check_graph(graph: dict[str, Any], scope: str, errors: list[str], names: dict[str, str]) -> None:
    where = scope or "Top level"
    states = graph.get("States")
    start = graph.get("StartAt")
    if not isinstance(states, dict) or not states:
        errors.append(f"{where}: 'States' must be a non-empty object of states.")
        return
    if not isinstance(start, str) or start not in states:
        errors.append(
            f"{where}: StartAt {start!r} is not a state; set it to one of: {', '.join(sorted(states)[:5])}."
        )
    for name, state in states.items():
        if name in names:
            errors.append(
                f"State '{name}': the name is also used in {names[name]}; state names must be unique."
            )
        names[name] = where
        if len(name) > MAX_NAME:
            errors.append(f"State '{name}': the name is longer than {MAX_NAME} characters; shorten it.")
        if not isinstance(state, dict):
            errors.append(f"State '{name}': must be a JSON object.")
            continue
        _check_state(name, state, states, errors, names)
    if isinstance(start, str) and start in states:
        _check_reachability(start, states, where, errors)


def _targets(state: dict[str, Any]) -> Iterator[tuple[str, object]]:
    """(field, target) for every transition of a state."""
    if "Next" in state:
        yield "Next", state["Next"]
    if "Default" in state:
        yield "Default", state["Default"]
    for i, rule in enumerate(state.get("Choices") or []):
        if isinstance(rule, dict) and "Next" in rule:
            yield f"Choices[{i}].Next", rule["Next"]
    for i, catch in enumerate(state.get("Catch") or []):
        if isinstance(catch, dict) and "Next" in catch:
            yield f"Catch[{i}].Next", catch["Next"]


def _check_reachability(start: str, states: dict[str, Any], where: str, errors: list[str]) -> None:
    edges = {
        n: {t for _, t in _targets(s) if isinstance(t, str) and t in states}
        for n, s in states.items()
        if isinstance(s, dict)
    }
    seen = {start}
    stack = [start]
    while stack:
        for nxt in edges.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    for name in states:
        if name not in seen:
            errors.append(
                f"State '{name}' ({where}): unreachable from StartAt '{start}'; "
                "remove it or add a transition to it."
            )
    terminal = {
        n
        for n, s in states.items()
        if isinstance(s, dict) and (s.get("Type") in ("Succeed", "Fail") or s.get("End") is True)
    }
    can_finish = set(terminal)
    changed = True
    while changed:
        changed = False
        for name, nxts in edges.items():
            if name not in can_finish and nxts & can_finish:
                can_finish.add(name)
                changed = True
    for name in states:
        if name in seen and name not in can_finish:
            errors.append(
                f"State '{name}' ({where}): no path from it reaches a terminal state (End, Succeed or Fail), "
                "so an execution entering it can never finish; add an exit (e.g. a Choice rule or a counter "
                "that leads to a Fail)."
            )


def _check_state(
    name: str, state: dict[str, Any], states: dict[str, Any], errors: list[str], names: dict[str, str]
) -> None:
    kind = state.get("Type")
    if kind not in STATE_TYPES:
        errors.append(f"State '{name}': Type {kind!r} is not one of {', '.join(STATE_TYPES)}.")
        return
    for field, target in _targets(state):
        if not isinstance(target, str) or target not in states:
            errors.append(
                f"State '{name}': {field} {target!r} is not a state in this scope; "
                "point it at an existing state."
            )
    if kind in CHAINABLE:
        has_next, has_end = "Next" in state, state.get("End") is True
        if has_next == has_end:
            errors.append(f"State '{name}': a {kind} state needs exactly one of 'Next' or 'End': true.")
    elif kind in ("Succeed", "Fail", "Choice") and ("Next" in state or "End" in state):
        errors.append(f"State '{name}': a {kind} state cannot have 'Next' or 'End'; remove them.")
    _check_paths(name, state, errors)
    if kind == "Task":
        _check_task(name, state, errors)
    elif kind == "Parallel":
        branches = state.get("Branches")
        if not isinstance(branches, list) or not branches:
            errors.append(f"State '{name}': a Parallel state needs a non-empty 'Branches' list.")
        else:
            for i, branch in enumerate(branches):
                if not isinstance(branch, dict):
                    errors.append(f"State '{name}': Branches[{i}] must be an object with StartAt and States.")
                else:
                    _check_graph(branch, f"branch {i} of Parallel '{name}'", errors, names)
    elif kind == "Map":
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if not isinstance(processor, dict):
            errors.append(f"State '{name}': a Map state needs an 'ItemProcessor' with StartAt and States.")
        else:
            _check_graph(processor, f"ItemProcessor of Map '{name}'", errors, names)
    elif kind == "Wait":
        given = [k for k in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath") if k in state]
        if len(given) != 1:
            errors.append(
                f"State '{name}': a Wait state needs exactly one of Seconds, SecondsPath, Timestamp, "
                f"TimestampPath (found {', '.join(given) or 'none'})."
            )
        if "Seconds" in state and not (isinstance(state["Seconds"], int) and state["Seconds"] >= 0):
            errors.append(f"State '{name}': Seconds must be a non-negative integer.")
    elif kind == "Choice":
        _check_choice(name, state, errors)
    elif kind == "Fail":
        for a, b in (("Cause", "CausePath"), ("Error", "ErrorPath")):
            if a in state and b in state:
                errors.append(f"State '{name}': a Fail state takes {a} or {b}, not both.")
    if kind in ("Task", "Parallel", "Map"):
        _check_retry_catch(name, state, states, errors)


def _check_paths(name: str, state: dict[str, Any], errors: list[str]) -> None:
    for field in ("InputPath", "OutputPath", "ItemsPath"):
        if field in state and state[field] is not None:
            problem = path_error(state[field])
            if problem:
                errors.append(f"State '{name}': {field} {state[field]!r} {problem}.")
    for field in ("ResultPath", "SecondsPath", "TimestampPath"):
        if field in state and not (field == "ResultPath" and state[field] is None):
            problem = path_error(state[field], reference=True)
            if problem:
                errors.append(f"State '{name}': {field} {state[field]!r} {problem}.")
    for field in ("CausePath", "ErrorPath"):
        if field in state:
            value = state[field]
            problem = (
                intrinsic_error(value)
                if isinstance(value, str) and value.startswith("States.")
                else path_error(value, reference=True)
            )
            if problem:
                errors.append(f"State '{name}': {field} {value!r}: {problem}.")
    for field in ("Parameters", "ResultSelector", "ItemSelector"):
        if field in state:
            _check_payload(name, field, state[field], errors)


def _check_payload(name: str, where: str, value: object, errors: list[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and key.endswith(".$"):
                problem = dynamic_value_error(item)
                if problem:
                    errors.append(f"State '{name}': {where}.{key} = {item!r}: {problem}.")
            else:
                _check_payload(name, f"{where}.{key}", item, errors)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_payload(name, f"{where}[{i}]", item, errors)


def _check_task(name: str, state: dict[str, Any], errors: list[str]) -> None:
    resource = state.get("Resource")
    if not isinstance(resource, str) or not resource:
        errors.append(f"State '{name}': a Task state needs a 'Resource' ARN.")
    elif not any(p.match(resource) for p in _KNOWN_RESOURCES):
        errors.append(
            f"State '{name}': Resource {resource!r} is not a known service integration; use one of: "
            f"{_SUPPORTED_HINT}."
        )
    for field in ("TimeoutSeconds", "HeartbeatSeconds"):
        if field in state and not _positive_int(state[field]):
            errors.append(f"State '{name}': {field} must be a positive integer.")


def _check_errors_list(where: str, entry: dict[str, Any], errors: list[str]) -> list[str]:
    names = entry.get("ErrorEquals")
    if not isinstance(names, list) or not names or not all(isinstance(e, str) and e for e in names):
        errors.append(f'{where}: ErrorEquals must be a non-empty list of error names (e.g. ["States.ALL"]).')
        return []
    if "States.ALL" in names and len(names) > 1:
        errors.append(
            f"{where}: States.ALL must appear alone in its ErrorEquals; "
            "move the other errors to an earlier entry."
        )
    return names


def _check_retry_catch(name: str, state: dict[str, Any], states: dict[str, Any], errors: list[str]) -> None:
    for field in ("Retry", "Catch"):
        entries = state.get(field)
        if entries is None:
            continue
        if not isinstance(entries, list):
            errors.append(f"State '{name}': {field} must be a list.")
            continue
        for i, entry in enumerate(entries):
            where = f"State '{name}': {field}[{i}]"
            if not isinstance(entry, dict):
                errors.append(f"{where} must be an object.")
                continue
            error_names = _check_errors_list(where, entry, errors)
            if "States.ALL" in error_names and i != len(entries) - 1:
                errors.append(
                    f"{where}: the States.ALL entry must be the last {field} entry; move it to the end."
                )
            if field == "Retry":
                _check_retry_fields(where, entry, errors)
            else:
                if "Next" not in entry:
                    errors.append(f"{where}: a Catch entry needs 'Next'.")
                if "ResultPath" in entry and entry["ResultPath"] is not None:
                    problem = path_error(entry["ResultPath"], reference=True)
                    if problem:
                        errors.append(f"{where}: ResultPath {entry['ResultPath']!r} {problem}.")


def _check_retry_fields(where: str, entry: dict[str, Any], errors: list[str]) -> None:
    attempts = entry.get("MaxAttempts", 3)
    if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 0:
        errors.append(f"{where}: MaxAttempts must be an integer >= 0 (got {attempts!r}).")
    interval = entry.get("IntervalSeconds", 1)
    if not _positive_int(interval):
        errors.append(f"{where}: IntervalSeconds must be a positive integer (got {interval!r}).")
    rate = entry.get("BackoffRate", 2.0)
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or rate < 1.0:
        errors.append(f"{where}: BackoffRate must be a number >= 1.0 (got {rate!r}).")
    if "MaxDelaySeconds" in entry and not _positive_int(entry["MaxDelaySeconds"]):
        errors.append(f"{where}: MaxDelaySeconds must be a positive integer.")
    if entry.get("JitterStrategy", "NONE") not in ("FULL", "NONE"):
        errors.append(f"{where}: JitterStrategy must be FULL or NONE.")


def _check_choice(name: str, state: dict[str, Any], errors: list[str]) -> None:
    choices = state.get("Choices")
    if not isinstance(choices, list) or not choices:
        errors.append(f"State '{name}': a Choice state needs a non-empty 'Choices' list.")
        return
    for i, rule in enumerate(choices):
        where = f"State '{name}': Choices[{i}]"
        if not isinstance(rule, dict):
            errors.append(f"{where} must be an object.")
            continue
        if "Next" not in rule:
            errors.append(f"{where}: a top-level Choice rule needs 'Next'.")
        _check_rule(where, rule, errors, top=True)


def _check_rule(where: str, rule: dict[str, Any], errors: list[str], *, top: bool) -> None:
    if not top and "Next" in rule:
        errors.append(f"{where}: a nested rule (inside And/Or/Not) cannot have 'Next'; remove it.")
    logical: list[str] = [k for k in ("And", "Or", "Not") if k in rule]
    comparisons = [k for k in rule if k in _COMPARISONS]
    unknown = [
        k
        for k in rule
        if k not in _COMPARISONS and k not in ("And", "Or", "Not", "Next", "Variable", "Comment")
    ]
    if unknown:
        errors.append(
            f"{where}: unknown field(s) {', '.join(unknown)}; use a comparison operator such as StringEquals."
        )
    if len(logical) + len(comparisons) != 1:
        found = ", ".join(logical + comparisons) or "none"
        errors.append(f"{where}: a rule needs exactly one comparison operator or And/Or/Not (found {found}).")
        return
    if logical:
        op = logical[0]
        if "Variable" in rule:
            errors.append(f"{where}: an {op} rule cannot have 'Variable'; put it on the nested rules.")
        if op == "Not":
            if not isinstance(rule["Not"], dict):
                errors.append(f"{where}: Not must hold one rule object.")
            else:
                _check_rule(f"{where}.Not", rule["Not"], errors, top=False)
        else:
            nested = rule[op]
            if not isinstance(nested, list) or not nested:
                errors.append(f"{where}: {op} must hold a non-empty list of rules.")
            else:
                for j, sub in enumerate(nested):
                    if isinstance(sub, dict):
                        _check_rule(f"{where}.{op}[{j}]", sub, errors, top=False)
                    else:
                        errors.append(f"{where}.{op}[{j}] must be a rule object.")
        return
    op = comparisons[0]
    variable = rule.get("Variable")
    if variable is None:
        errors.append(f"{where}: the {op} comparison needs 'Variable' (the path to compare).")
    else:
        problem = path_error(variable, reference=True)
        if problem:
            errors.append(f"{where}: Variable {variable!r} {problem}.")
    value, expected = rule[op], _COMPARISONS[op]
    ok = {
        "string": isinstance(value, str),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "path": isinstance(value, str) and path_error(value, reference=True) is None,
    }[expected]
    if not ok:
        errors.append(f"{where}: {op} needs a {expected} value (got {value!r}).")
