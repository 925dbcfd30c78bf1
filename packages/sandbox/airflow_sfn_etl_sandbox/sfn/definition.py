"""Static checks of a state machine definition, as Step Functions makes them before it keeps one.

AWS checks a definition at CreateStateMachine, UpdateStateMachine and
ValidateStateMachineDefinition and reports each problem as a diagnostic: a severity, a code from
the documented list (``MISSING_TRANSITION_TARGET``, ``MISSING_END_STATE``,
``SCHEMA_VALIDATION_FAILED``, ``DUPLICATE_STATE_NAME``, ``INVALID_JSON_DESCRIPTION``, ...), a
message and a location (a JSON pointer such as ``/States/A/Next``). CreateStateMachine and
UpdateStateMachine fail with ``InvalidDefinition`` and every ERROR diagnostic in one message::

    Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: X at /States/A/Next'

moto (5.2.x) parses the definition only, so a ``Next`` to a missing state, a missing ``StartAt``
state or an unreachable state pass and the execution later fails with ``States.Runtime``. The
checks here are the graph and field rules AWS applies; :func:`diagnose` lists the problems.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

#: The state types of the Amazon States Language.
STATE_TYPES: Final[tuple[str, ...]] = ("Task", "Parallel", "Map", "Pass", "Wait", "Choice", "Succeed", "Fail")
#: State types that go on to a next state (``Next``) or end the machine (``End``).
CHAINABLE: Final[frozenset[str]] = frozenset({"Task", "Parallel", "Map", "Pass", "Wait"})
#: Fields only some state types take (AWS: ``Field 'Catch' is not supported``).
FIELD_TYPES: Final[dict[str, frozenset[str]]] = {
    "Retry": frozenset({"Task", "Parallel", "Map"}),
    "Catch": frozenset({"Task", "Parallel", "Map"}),
    "TimeoutSeconds": frozenset({"Task"}),
    "TimeoutSecondsPath": frozenset({"Task"}),
    "HeartbeatSeconds": frozenset({"Task"}),
    "HeartbeatSecondsPath": frozenset({"Task"}),
    "Resource": frozenset({"Task"}),
    "Branches": frozenset({"Parallel"}),
    "ItemProcessor": frozenset({"Map"}),
    "Iterator": frozenset({"Map"}),
    "Choices": frozenset({"Choice"}),
    "Default": frozenset({"Choice"}),
}
#: Fields of JSONPath states only (a JSONata state takes Arguments, Output, Items, Condition instead).
JSONPATH_ONLY: Final[tuple[str, ...]] = (
    "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "ItemsPath", "SecondsPath",
    "TimestampPath", "ErrorPath", "CausePath", "MaxConcurrencyPath", "ToleratedFailureCountPath",
    "ToleratedFailurePercentagePath", "TimeoutSecondsPath", "HeartbeatSecondsPath")
#: Fields of JSONata states only.
JSONATA_ONLY: Final[tuple[str, ...]] = ("Arguments", "Output", "Items")
QUERY_LANGUAGES: Final[tuple[str, ...]] = ("JSONPath", "JSONata")
#: Longest state name AWS accepts.
MAX_STATE_NAME: Final[int] = 80
#: Integration patterns each optimized integration supports besides request-response, as AWS lists
#: them ("Integrating optimized services with Step Functions"); ``aws-sdk`` is every SDK integration.
INTEGRATION_PATTERNS: Final[dict[str, frozenset[str]]] = {
    "aws-sdk": frozenset({"waitForTaskToken"}),
    "apigateway": frozenset({"waitForTaskToken"}),
    "athena": frozenset({"sync"}),
    "batch": frozenset({"sync"}),
    "bedrock": frozenset({"sync", "waitForTaskToken"}),
    "codebuild": frozenset({"sync"}),
    "dynamodb": frozenset(),
    "ecs": frozenset({"sync", "waitForTaskToken"}),
    "eks": frozenset({"sync", "waitForTaskToken"}),
    "elasticmapreduce": frozenset({"sync"}),
    "emr-containers": frozenset({"sync"}),
    "emr-serverless": frozenset({"sync"}),
    "events": frozenset({"waitForTaskToken"}),
    "glue": frozenset({"sync"}),
    "databrew": frozenset({"sync"}),
    "lambda": frozenset({"waitForTaskToken"}),
    "mediaconvert": frozenset({"sync"}),
    "sagemaker": frozenset({"sync"}),
    "sns": frozenset({"waitForTaskToken"}),
    "sqs": frozenset({"waitForTaskToken"}),
    "states": frozenset({"sync", "sync:2", "waitForTaskToken"}),
}
#: Diagnostic code of a field AWS accepts that the sandbox does not run (not one of AWS's codes).
NOT_EMULATED: Final[str] = "NOT_EMULATED_BY_SANDBOX"
#: Map fields the sandbox refuses, with why and what to do instead.
MAP_FIELDS_NOT_EMULATED: Final[dict[str, str]] = {
    "ItemBatcher": "ItemBatcher is not emulated by the sandbox (a Distributed Map's items are not batched); "
                   "leave it out to give the item processor one item at a time",
    "ResultWriter": "ResultWriter is not emulated by the sandbox (no result files would be written to S3); "
                    "leave it out to get the results in the Map state's output",
}
#: The prefix of the InvalidDefinition message of CreateStateMachine / UpdateStateMachine.
INVALID_PREFIX: Final[str] = "Invalid State Machine Definition: "


@dataclass(frozen=True)
class Diagnostic:
    """One problem of a definition, in the shape of ValidateStateMachineDefinition's diagnostics."""

    code: str
    message: str
    location: str | None = None
    severity: str = "ERROR"

    def as_api(self) -> dict[str, str]:
        """The diagnostic as ValidateStateMachineDefinition answers it."""
        out = {"severity": self.severity, "code": self.code, "message": self.message}
        if self.location is not None:
            out["location"] = self.location
        return out

    def as_text(self) -> str:
        """``CODE: message at /location``, the form InvalidDefinition's message lists."""
        text = f"{self.code}: {self.message}"
        return f"{text} at {self.location}" if self.location is not None else text


def invalid_definition_message(diagnostics: list[Diagnostic]) -> str:
    """CreateStateMachine's ``InvalidDefinition`` message for the ERROR ``diagnostics``."""
    errors = [d.as_text() for d in diagnostics if d.severity == "ERROR"]
    return f"{INVALID_PREFIX}'{', '.join(errors)}'"


def diagnose(definition: str | None) -> list[Diagnostic]:
    """Every problem AWS reports for the definition text (empty when it is valid)."""
    if definition is None or not definition.strip():
        return [Diagnostic("MISSING_DESCRIPTION", "The state machine definition is empty.")]
    try:
        document = json.loads(definition)
    except json.JSONDecodeError as err:
        return [Diagnostic("INVALID_JSON_DESCRIPTION", f"{err.msg} at line {err.lineno}, column {err.colno}.")]
    if not isinstance(document, dict):
        return [Diagnostic("SCHEMA_VALIDATION_FAILED", "The definition must be a JSON object.", "/")]
    found: list[Diagnostic] = []
    language = document.get("QueryLanguage", "JSONPath")
    if language not in QUERY_LANGUAGES:
        found.append(Diagnostic("SCHEMA_VALIDATION_FAILED",
                                f"The QueryLanguage must be one of {', '.join(QUERY_LANGUAGES)}", "/QueryLanguage"))
        language = "JSONPath"
    seen_names: set[str] = set()
    _check_scope(document, "", found, seen_names, top=True, language=language)
    return found


def _pointer(scope: str, *parts: str) -> str:
    return "/".join([scope, *parts]) if parts else (scope or "/")


def _check_scope(graph: dict[str, Any], scope: str, found: list[Diagnostic], seen_names: set[str], *,
                 top: bool, language: str) -> None:
    missing = [name for name in ("StartAt", "States") if name not in graph]
    if missing:
        found.append(Diagnostic("SCHEMA_VALIDATION_FAILED", f"These fields are required: [{', '.join(missing)}]",
                                _pointer(scope)))
        return
    states, start = graph["States"], graph["StartAt"]
    if not isinstance(states, dict) or not states:
        found.append(Diagnostic("SCHEMA_VALIDATION_FAILED", "The field 'States' should be a non-empty object",
                                _pointer(scope, "States")))
        return
    if not isinstance(start, str) or start not in states:
        found.append(Diagnostic("MISSING_TRANSITION_TARGET", f"Missing 'Next' target: {start}",
                                _pointer(scope, "StartAt")))
    for name, state in states.items():
        where = _pointer(scope, "States", name)
        if name in seen_names:
            found.append(Diagnostic("DUPLICATE_STATE_NAME", f"Duplicate State name: {name}", where))
        seen_names.add(name)
        if len(name) > MAX_STATE_NAME:
            found.append(Diagnostic("INVALID_STATE_NAME",
                                    f"State name is longer than {MAX_STATE_NAME} characters", where))
        if not isinstance(state, dict):
            found.append(Diagnostic("SCHEMA_VALIDATION_FAILED", "A state must be a JSON object", where))
            continue
        _check_state(state, where, states, found, seen_names, language)
    if top and not any(_is_terminal(state) for state in states.values()):
        found.append(Diagnostic("MISSING_END_STATE", "Workflow has no terminal state"))
        return  # AWS reports no unreachable state then
    if isinstance(start, str) and start in states:
        reachable = _reachable(start, states)
        for name in states:
            if name not in reachable:
                found.append(Diagnostic("MISSING_TRANSITION_TARGET", f'State "{name}" is not reachable.',
                                        _pointer(scope, "States", name)))


def _is_terminal(state: Any) -> bool:
    return isinstance(state, dict) and (state.get("Type") in ("Succeed", "Fail") or state.get("End") is True)


def _transitions(state: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(location below the state, target) for every transition of a state."""
    if "Next" in state:
        yield "Next", state["Next"]
    if state.get("Type") == "Choice":
        if "Default" in state:
            yield "Default", state["Default"]
        choices = state.get("Choices")
        for i, rule in enumerate(choices if isinstance(choices, list) else []):
            if isinstance(rule, dict) and "Next" in rule:
                yield f"Choices[{i}]/Next", rule["Next"]
    catchers = state.get("Catch")
    for i, catcher in enumerate(catchers if isinstance(catchers, list) else []):
        if isinstance(catcher, dict) and "Next" in catcher:
            yield f"Catch[{i}]/Next", catcher["Next"]


def _reachable(start: str, states: dict[str, Any]) -> set[str]:
    seen, stack = {start}, [start]
    while stack:
        state = states.get(stack.pop())
        if not isinstance(state, dict):
            continue
        for _, target in _transitions(state):
            if isinstance(target, str) and target in states and target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def _check_query_language(state: dict[str, Any], where: str, machine_language: str,
                          found: list[Diagnostic]) -> None:
    """A state's fields must be those of its query language (its own QueryLanguage or the machine's)."""
    language = state.get("QueryLanguage", machine_language)
    if language not in QUERY_LANGUAGES:
        found.append(Diagnostic("SCHEMA_VALIDATION_FAILED",
                                f"The QueryLanguage must be one of {', '.join(QUERY_LANGUAGES)}",
                                f"{where}/QueryLanguage"))
        return
    if machine_language == "JSONata" and language == "JSONPath":
        found.append(Diagnostic("SCHEMA_VALIDATION_FAILED",
                                "A state cannot use JSONPath when the state machine's QueryLanguage is JSONata",
                                f"{where}/QueryLanguage"))
    others = JSONPATH_ONLY if language == "JSONata" else JSONATA_ONLY
    for field in others:
        if field in state:
            found.append(Diagnostic("SCHEMA_VALIDATION_FAILED",
                                    f"The field '{field}' is not supported with QueryLanguage {language}",
                                    f"{where}/{field}"))
    rules = state.get("Choices") if state.get("Type") == "Choice" else None
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(rule, dict):
            continue
        wrong = "Variable" if language == "JSONata" else "Condition"
        if wrong in rule:
            found.append(Diagnostic("SCHEMA_VALIDATION_FAILED",
                                    f"The field '{wrong}' is not supported with QueryLanguage {language}",
                                    f"{where}/Choices[{i}]/{wrong}"))


def _pattern_supported(resource: Any) -> bool:
    """False for an optimized integration with a pattern AWS does not offer (``sqs:sendMessage.sync``).

    ``arn:aws:states:::<service>:<action>[.<pattern>]`` and ``arn:aws:states:::aws-sdk:<service>:<action>...``;
    other resources (Lambda function ARNs, activities, services not in :data:`INTEGRATION_PATTERNS`)
    are left to the interpreter.
    """
    prefix = "arn:aws:states:::"
    if not isinstance(resource, str) or not resource.startswith(prefix):
        return True
    path = resource[len(prefix):]
    service = "aws-sdk" if path.startswith("aws-sdk:") else path.split(":", 1)[0]
    if service not in INTEGRATION_PATTERNS:
        return True
    action = path.rsplit(":", 1)[-1] if service == "aws-sdk" else path.split(":", 1)[-1]
    if "." not in action:
        return True
    return action.split(".", 1)[1] in INTEGRATION_PATTERNS[service]


def _check_state(state: dict[str, Any], where: str, states: dict[str, Any], found: list[Diagnostic],
                 seen_names: set[str], language: str) -> None:
    kind = state.get("Type")
    if kind is None:
        found.append(Diagnostic("SCHEMA_VALIDATION_FAILED", "These fields are required: [Type]", where))
        return
    if kind not in STATE_TYPES:
        found.append(Diagnostic("SCHEMA_VALIDATION_FAILED",
                                f"Value is not a valid state type: {kind!r} (one of {', '.join(STATE_TYPES)})",
                                f"{where}/Type"))
        return
    _check_query_language(state, where, language, found)
    for field, kinds in FIELD_TYPES.items():
        if field in state and kind not in kinds:
            found.append(Diagnostic("SCHEMA_VALIDATION_FAILED", f"Field '{field}' is not supported", where))
    if kind in CHAINABLE:
        has_next, ends = "Next" in state, state.get("End") is True
        if has_next and ends:
            found.append(Diagnostic("SCHEMA_VALIDATION_FAILED",
                                    "Only one of the fields 'Next' and 'End' may be specified", where))
        elif not has_next and not ends:
            found.append(Diagnostic("SCHEMA_VALIDATION_FAILED",
                                    "Either the field 'Next' or 'End': true is required", where))
    elif "Next" in state or "End" in state:
        field = "Next" if "Next" in state else "End"
        found.append(Diagnostic("SCHEMA_VALIDATION_FAILED", f"Field '{field}' is not supported", where))
    if kind == "Task" and "Resource" not in state:
        found.append(Diagnostic("SCHEMA_VALIDATION_FAILED", "These fields are required: [Resource]", where))
    elif kind == "Task" and not _pattern_supported(state["Resource"]):
        found.append(Diagnostic(
            "SCHEMA_VALIDATION_FAILED",
            f"The resource provided {state['Resource']} is not recognized. The value is not a valid resource ARN, "
            "or the resource is not available in this region.", f"{where}/Resource"))
    if kind == "Choice" and not state.get("Choices"):
        found.append(Diagnostic("SCHEMA_VALIDATION_FAILED", "These fields are required: [Choices]", where))
    for location, target in _transitions(state):
        if not isinstance(target, str) or target not in states:
            found.append(Diagnostic("MISSING_TRANSITION_TARGET", f"Missing 'Next' target: {target}",
                                    f"{where}/{location}"))
    if kind == "Parallel":
        branches = state.get("Branches")
        if not isinstance(branches, list) or not branches:
            found.append(Diagnostic("SCHEMA_VALIDATION_FAILED", "These fields are required: [Branches]", where))
        else:
            for i, branch in enumerate(branches):
                if isinstance(branch, dict):
                    _check_scope(branch, f"{where}/Branches[{i}]", found, seen_names, top=False,
                                 language=language)
                else:
                    found.append(Diagnostic("SCHEMA_VALIDATION_FAILED", "A branch must be a JSON object",
                                            f"{where}/Branches[{i}]"))
    elif kind == "Map":
        for name, reason in MAP_FIELDS_NOT_EMULATED.items():
            if name in state:
                found.append(Diagnostic(NOT_EMULATED, reason, f"{where}/{name}"))
        field = "ItemProcessor" if "ItemProcessor" in state else "Iterator"
        processor = state.get(field)
        if not isinstance(processor, dict):
            found.append(Diagnostic("SCHEMA_VALIDATION_FAILED", "These fields are required: [ItemProcessor]",
                                    where))
        else:
            _check_scope(processor, f"{where}/{field}", found, seen_names, top=False, language=language)
