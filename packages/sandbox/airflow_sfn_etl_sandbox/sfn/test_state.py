"""``TestState``: run the definition of one state on an input, as AWS's TestState API does.

moto's interpreter (ported from LocalStack) evaluates the state; this module gives the answer
AWS documents, which moto's port lacks (moto has no route for the API, stops with a state that
has ``Next``, and would really retry and catch):

- the state is run with ``End`` in place of ``Next`` and without its ``Retry`` and ``Catch``;
  ``nextState`` is then the state's ``Next`` (a Choice state's chosen branch, from moto);
- a failure is matched against the state's ``Retry`` then ``Catch`` as Step Functions matches
  errors (``States.ALL`` and ``States.TaskFailed`` do not match ``States.Runtime``): the first
  retrier whose ``ErrorEquals`` matches makes the status ``RETRIABLE`` while it has attempts left
  (``stateConfiguration.retrierRetryCount`` attempts made so far, 0 by default), with the backoff
  ``IntervalSeconds * BackoffRate ** retryCount`` (capped by ``MaxDelaySeconds``); otherwise the
  first matching catcher makes it ``CAUGHT_ERROR`` with the catcher's ``Next`` and the error output
  placed at its ``ResultPath``; otherwise it is ``FAILED`` with ``error`` and ``cause``;
- ``stateName`` picks the state to run from a whole state machine ``definition``;
- ``inspectionLevel`` ``DEBUG`` (and ``TRACE``) adds ``inspectionData``: the input, the data after
  ``InputPath``, ``Parameters``, the result, ``ResultSelector``, ``ResultPath``, and
  ``errorDetails`` for a retriable or caught error.

- ``mock`` stands for the invocation of a Task, Map or Parallel state (AWS refuses it for other
  states): ``errorOutput`` is the state's error, matched against ``Retry`` and ``Catch`` as above;
  ``result`` is the state's result, which goes through ``ResultSelector``, ``ResultPath`` and
  ``OutputPath``. A Task's result is checked as ``fieldValidationMode`` says (:mod:`.mock_validation`);
  a Map's or Parallel's must be an array (one item per Parallel branch). A Map whose
  ``stateConfiguration.mapIterationFailureCount`` exceeds its ``ToleratedFailureCount`` /
  ``ToleratedFailurePercentage`` fails with ``States.ExceedToleratedFailureThreshold`` (the items
  counted from ``ItemsPath``, or ``mapItemReaderData`` for an ``ItemReader``). ``.sync`` and
  ``.waitForTaskToken`` Tasks and activities run only with a mock, Map and Parallel states too,
  as AWS documents.
- A Wait state is run (it waits); one that would wait longer than the five minutes a TestState
  call may run fails at once with ``States.Timeout``, as AWS documents for a state that runs longer.

- ``variables`` (a JSON object) are the workflow variables the state sees (``$name`` in JSONPath
  and JSONata) and may reassign; at DEBUG ``inspectionData.variables`` holds the variables after the
  state (given and assigned), absent when there are none, as AWS answers.
- ``context`` (only with a ``mock``, as the API reference says) is the Context object the state sees
  (``$$``, ``$states.context``), exactly as given; it is checked as AWS checks it (fields of
  ``Execution``, ``State``, ``StateMachine``, ``Task`` with their types; ``Map`` refused; ``Task``
  only for a ``.sync`` / ``.waitForTaskToken`` Task), with AWS's ``Invalid Context object provided``
  messages.
- A JSONata Wait whose ``Seconds`` / ``Timestamp`` is an expression has it evaluated (a JSONata Pass
  ``Output`` on the same input, variables and context) for the time limit above.

- A ``mock`` of a JSONata state: a Task's ``Arguments`` are evaluated (``afterArguments``), the
  mocked result is ``$states.result`` for the state's ``Assign`` and ``Output``; ``errorOutput`` is
  matched against ``Retry`` and ``Catch`` as above.
- A JSONata state's matched catcher: its ``Output`` and ``Assign`` see ``$states.errorOutput``
  (``{"Error", "Cause"}``) and ``$states.input``; without ``Output`` the output is the error output.

What it does not emulate fails with ``ValidationException`` saying so: ``Assign`` of a mocked
JSONPath state, ``errorCausedByState`` naming no state of the Map's
or Parallel's states, a catcher ``ResultPath`` other than ``$``, ``null`` or a ``$.a.b`` field path.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
import uuid
from typing import Any

from ..aws import AwsError
from . import mock_validation

#: State types TestState runs here (Map and Parallel with a mock only).
SUPPORTED_TYPES = ("Pass", "Choice", "Task", "Succeed", "Fail", "Wait", "Map", "Parallel")
MOCKABLE_TYPES = ("Task", "Map", "Parallel")
INSPECTION_LEVELS = ("INFO", "DEBUG", "TRACE")
#: How long a TestState call may run (AWS's TestState API reference).
TIME_LIMIT_SECONDS = 300
_FIELD_PATH = re.compile(r"^\$(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_UNCATCHABLE = ("States.Runtime", "States.DataLimitExceeded")
_INTEGRATION_PATTERN = re.compile(r"^arn:aws[a-z-]*:states:::[a-z0-9-]+:[A-Za-z0-9]+\.(sync|waitForTaskToken)")
_ACTIVITY = re.compile(r"^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:activity:")
_THRESHOLD_CAUSE = "The specified tolerated failure threshold was exceeded"


def _not_emulated(what: str) -> AwsError:
    return AwsError("ValidationException", f"TestState: {what} is not emulated by the sandbox")


def _state_definition(raw: Any, state_name: Any) -> dict[str, Any]:
    """The state to run: the definition, or with ``stateName`` the machine definition's state."""
    if not isinstance(raw, str) or not raw.strip():
        raise AwsError("ValidationException", "TestState: definition is required")
    try:
        state = json.loads(raw)
    except ValueError as exc:
        raise AwsError("InvalidDefinition", f"Invalid State Machine Definition: '{exc}'") from None
    if state_name:
        states = state.get("States") if isinstance(state, dict) else None
        if not isinstance(states, dict) or not isinstance(states.get(state_name), dict):
            raise AwsError("ValidationException", f"TestState: the definition has no state named {state_name!r}")
        machine_language = state.get("QueryLanguage")
        state = dict(states[state_name])
        if machine_language and "QueryLanguage" not in state:
            state["QueryLanguage"] = machine_language
    if not isinstance(state, dict) or not isinstance(state.get("Type"), str):
        raise AwsError("InvalidDefinition", "Invalid State Machine Definition: the definition of a state must be "
                                            "a JSON object with a Type")
    if state["Type"] not in SUPPORTED_TYPES:
        raise _not_emulated(f"a {state['Type']} state (it runs {', '.join(SUPPORTED_TYPES)} states)")
    return state


def _check_request(params: dict[str, Any], state: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
    """The inspection level, the state configuration and the mock; refuse what AWS or the sandbox refuses."""
    level = str(params.get("inspectionLevel") or "INFO")
    if level not in INSPECTION_LEVELS:
        raise AwsError("ValidationException", f"1 validation error detected: Value '{level}' at 'inspectionLevel' "
                                              f"failed to satisfy constraint: Member must satisfy enum value set: "
                                              f"[{', '.join(INSPECTION_LEVELS)}]")
    mock = params.get("mock") or None
    kind = state["Type"]
    if mock is not None:
        if kind not in MOCKABLE_TYPES:
            raise AwsError("ValidationException", f"State type '{kind}' is not supported when a mock is specified")
        if ("result" in mock) == ("errorOutput" in mock):
            raise AwsError("ValidationException",
                           "A test mock should have only one of the following fields: [result, errorOutput].")
        if params.get("revealSecrets"):
            raise AwsError("ValidationException", "TestState does not support RevealSecrets when a mock is specified.")
        mode = mock.get("fieldValidationMode") or "STRICT"
        if mode not in mock_validation.VALIDATION_MODES:
            raise AwsError("ValidationException", f"1 validation error detected: Value '{mode}' at "
                                                  f"'mock.fieldValidationMode' failed to satisfy constraint: Member "
                                                  f"must satisfy enum value set: [STRICT, PRESENT, NONE]")
        if "Assign" in state and state.get("QueryLanguage") != "JSONata":
            raise _not_emulated("Assign of a mocked JSONPath state")
    elif kind in ("Map", "Parallel"):
        raise AwsError("InvalidDefinition", "TestState API does not support Map or Parallel states. Supported state "
                                            "types include: [Task, Wait, Pass, Succeed, Fail, Choice]")
    elif params.get("context") is not None:
        raise AwsError("ValidationException", "TestState: context may be specified only together with a mock")
    config = dict(params.get("stateConfiguration") or {})
    map_only = [name for name in ("mapIterationFailureCount", "mapItemReaderData") if name in config]
    if map_only and kind != "Map":
        raise _not_emulated(f"stateConfiguration {', '.join(map_only)} for a {kind} state")
    caused_by = config.get("errorCausedByState")
    if caused_by is not None and caused_by not in _inner_state_names(state):
        raise _not_emulated(f"stateConfiguration errorCausedByState {caused_by!r} (it names a state of the Map's "
                            f"or Parallel's own states)")
    return level, config, mock


#: The Context object fields a TestState ``context`` may set, with their JSON types (None: any value).
_CONTEXT_FIELDS: dict[str, dict[str, type | None]] = {
    "Execution": {"Id": str, "Input": None, "Name": str, "RoleArn": str, "StartTime": str},
    "State": {"EnteredTime": str, "Name": str, "RetryCount": int},
    "StateMachine": {"Id": str, "Name": str},
    "Task": {"Token": str},
}
_JSON_TYPE_NAMES = {str: "string", int: "integer"}


def _variables(raw: Any) -> dict[str, Any] | None:
    """The request's ``variables``: a JSON object of workflow variable names and values."""
    if raw is None:
        return None
    try:
        variables = json.loads(raw)
    except (TypeError, ValueError) as exc:
        raise AwsError("ValidationException", f"TestState: variables is not valid JSON: {exc}") from None
    if not isinstance(variables, dict):
        raise AwsError("ValidationException", "TestState: variables must be a JSON object of variable names "
                                              "and values")
    return variables


def _context(raw: Any, state: dict[str, Any]) -> dict[str, Any] | None:
    """The request's ``context``, checked as AWS checks it (``Invalid Context object provided: ...``)."""
    if raw is None:
        return None

    def invalid(reason: str) -> AwsError:
        return AwsError("ValidationException", f"Invalid Context object provided: {reason}")

    try:
        context = json.loads(raw)
    except (TypeError, ValueError) as exc:
        raise invalid(f"the context is not valid JSON: {exc}") from None
    if not isinstance(context, dict):
        raise invalid("the context must be a JSON object")
    for key, value in context.items():
        if key == "Map":
            raise invalid("'Map' field is not supported when mocking a Context object")
        if key not in _CONTEXT_FIELDS:
            raise invalid(f"Field '{key}' is not allowed")
        if not isinstance(value, dict):
            raise invalid(f"{key} must be a object")
        for field, field_value in value.items():
            if field not in _CONTEXT_FIELDS[key]:
                raise invalid(f"Field '{field}' is not allowed")
            kind = _CONTEXT_FIELDS[key][field]
            if kind is not None and field_value is not None and (
                    not isinstance(field_value, kind) or isinstance(field_value, bool)):
                raise invalid(f"{key}.{field} must be a {_JSON_TYPE_NAMES[kind]}")
    if "Task" in context and not (state["Type"] == "Task" and isinstance(state.get("Resource"), str)
                                  and _INTEGRATION_PATTERN.match(state["Resource"])):
        raise invalid("Context object contains 'Task' when state is not a Task state with a '.sync' or "
                      "'.waitForTaskToken' service integration pattern")
    return context


def _inner_state_names(state: dict[str, Any]) -> set[str]:
    """The names of the states inside a Map's processor or a Parallel's branches (nested ones too)."""
    names: set[str] = set()
    machines = list(state.get("Branches") or [])
    for key in ("ItemProcessor", "Iterator"):
        if isinstance(state.get(key), dict):
            machines.append(state[key])
    for machine in machines:
        for name, inner in (machine.get("States") or {}).items():
            names.add(name)
            if isinstance(inner, dict):
                names |= _inner_state_names(inner)
    return names


def _matches(error: str, names: list[str]) -> bool:
    if error in names:
        return True
    if error in _UNCATCHABLE:
        return False
    if "States.ALL" in names:
        return True
    return "States.TaskFailed" in names and error != "States.Timeout"


def _place(document: Any, path: Any, value: Any) -> Any:
    """``document`` with ``value`` at reference path ``path`` (ResultPath)."""
    if path is None:
        return document
    if not isinstance(path, str) or not _FIELD_PATH.match(path):
        raise _not_emulated(f"a catcher ResultPath {path!r} (it places $, null and $.a.b paths)")
    if path == "$":
        return value
    out = copy.deepcopy(document) if isinstance(document, dict) else {}
    node = out
    keys = path[2:].split(".")
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[keys[-1]] = value
    return out


class _GivenContext(dict[str, Any]):
    """The request's ``context``: the Context object the state sees, as given (the state does not update it)."""

    def __setitem__(self, key: Any, value: Any) -> None:
        pass  # moto records the entered state here; AWS shows the given object unchanged

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return copy.deepcopy(dict(self), memo)


def _execution_class(variables: dict[str, Any] | None, context: dict[str, Any] | None,
                     error_output: Any = None) -> Any:
    """moto's TestState execution whose environment holds ``variables``, ``context`` and (when not
    None) ``error_output`` as ``$states.errorOutput``."""
    from moto.stepfunctions.parser.backend.test_state.execution import TestStateExecution
    from moto.stepfunctions.parser.backend.test_state.execution_worker import TestStateExecutionWorker

    class Worker(TestStateExecutionWorker):
        def _get_evaluation_environment(self) -> Any:
            env = super()._get_evaluation_environment()
            for name, value in (variables or {}).items():
                env.variable_store.set(name, copy.deepcopy(value))
            env.variable_store.reset_tracing()
            if context is not None:
                given: Any = _GivenContext(copy.deepcopy(context))
                env.states._states_data["context"] = given
                env.states.context_object.context_object_data = given  # type: ignore[misc]  # moto: Final
            if error_output is not None:
                env.states.set_error_output(error_output)
            return env

    class Execution(TestStateExecution):
        def _get_start_execution_worker(self) -> Any:
            worker = super()._get_start_execution_worker()
            worker.__class__ = Worker  # moto's worker, with the environment above
            return worker

    return Execution


def _all_variables(env: Any) -> dict[str, Any]:
    store = env.variable_store
    return {**store._outer_scope, **store._inner_scope}


def _run_in_moto(state: dict[str, Any], input_text: str, role_arn: str, account_id: str, region: str,
                 variables: dict[str, Any] | None = None, context: dict[str, Any] | None = None,
                 error_output: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """moto's TestState answer and inspection data for ``state`` (without Retry, Catch, Next).

    ``variables`` are the workflow variables the state sees (``$name``), ``context`` its Context
    object (``$$``, ``$states.context``), ``error_output`` its ``$states.errorOutput`` (a catcher's
    view); the inspection data's ``variables`` are the variables
    after the state (the given ones and those it assigns), when there are any.
    """
    from moto.stepfunctions.parser.api import InspectionLevel
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramEnded
    from moto.stepfunctions.parser.asl.static_analyser.test_state.test_state_analyser import (
        TestStateStaticAnalyser,
    )
    from moto.stepfunctions.parser.backend.state_machine import TestStateMachine

    runnable = {k: v for k, v in state.items() if k not in ("Retry", "Catch", "Next")}
    if state["Type"] in ("Pass", "Task", "Wait"):
        runnable["End"] = True
    definition = json.dumps(runnable)
    try:
        TestStateStaticAnalyser().analyse(definition)
    except Exception as exc:  # the parser and the analyser raise ASLParserException and ValueError alike
        detail = getattr(exc, "message", exc)
        raise AwsError("InvalidDefinition", f"Invalid State Machine Definition: '{detail}'") from None
    name = f"TestState-{uuid.uuid4().hex[:10]}"
    machine_arn = f"arn:aws:states:{region}:{account_id}:stateMachine:{name}"
    machine = TestStateMachine(name=name, arn=machine_arn, role_arn=role_arn, definition=definition)
    # moto annotates input_data as a dict, and Execution.__init__ json.loads it: it takes the text.
    execution_class: Any = _execution_class(variables, context, error_output)
    execution = execution_class(
        name=name, role_arn=role_arn, exec_arn=f"arn:aws:states:{region}:{account_id}:execution:{name}:{name}",
        account_id=account_id, region_name=region, state_machine=machine,
        start_date=datetime.datetime.now(tz=datetime.timezone.utc), activity_store={}, input_data=input_text)
    execution.start()
    answer = dict(execution.to_test_state_output(inspection_level=InspectionLevel.DEBUG))
    if isinstance(execution.exec_worker.env.program_state(), ProgramEnded) and isinstance(execution.output, str):
        # The sandbox keeps an ended execution's output as its JSON text (moto_patches.json_safe_output).
        answer["output"] = execution.output
    inspection = dict(answer.pop("inspectionData", None) or {})
    env = execution.exec_worker.env
    if env is not None and _all_variables(env):
        inspection["variables"] = json.dumps(_all_variables(env), separators=(",", ":"))
    answer["status"] = str(getattr(answer["status"], "value", answer["status"]))
    return answer, inspection


def _no_choice_matched(state: dict[str, Any], answer: dict[str, Any]) -> bool:
    return (state["Type"] == "Choice" and answer.get("error") == "States.Runtime"
            and "No branching option reached" in str(answer.get("cause")))


def test_state(params: dict[str, Any], account_id: str, region: str) -> dict[str, Any]:
    """The TestState answer for the request ``params``."""
    state = _state_definition(params.get("definition"), params.get("stateName"))
    level, config, mock = _check_request(params, state)
    retry_count = int(config.get("retrierRetryCount") or 0)
    input_text = params.get("input") or "{}"
    try:
        state_input = json.loads(input_text)
    except ValueError as exc:
        raise AwsError("InvalidExecutionInput", f"Invalid State Machine Execution Input: '{exc}'") from None
    role_arn = params.get("roleArn") or f"arn:aws:iam::{account_id}:role/TestState"
    run = _Runner(role_arn, account_id, region, _variables(params.get("variables")),
                  _context(params.get("context"), state))
    if mock is not None:
        out, inspection = _run_mocked(state, state_input, mock, config, retry_count, run)
    else:
        if state["Type"] == "Task" and isinstance(state.get("Resource"), str) and (
                _INTEGRATION_PATTERN.match(state["Resource"]) or _ACTIVITY.match(state["Resource"])):
            raise AwsError("InvalidDefinition", f"Invalid State Machine Definition: TestState runs the resource "
                                                f"{state['Resource']} only with a mock")
        if state["Type"] == "Wait":
            timeout = _wait_beyond_limit(state, state_input, run)
            if timeout is not None:
                out = {"status": "FAILED", "error": "States.Timeout", "cause": timeout}
                return out
        out, inspection = _run_state(state, state_input, input_text, retry_count, run)
    if run.variables and "variables" not in inspection:
        inspection["variables"] = json.dumps(run.variables, separators=(",", ":"))
    if level in ("DEBUG", "TRACE") and inspection:
        out["inspectionData"] = inspection
    return out


class _Runner:
    """Runs a state definition in moto's interpreter (TestState's own execution)."""

    def __init__(self, role_arn: str, account_id: str, region: str, variables: dict[str, Any] | None = None,
                 context: dict[str, Any] | None = None) -> None:
        self.role_arn, self.account_id, self.region = role_arn, account_id, region
        self.variables, self.context = variables, context

    def __call__(self, state: dict[str, Any], input_text: str,
                 error_output: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
        return _run_in_moto(state, input_text, self.role_arn, self.account_id, self.region, self.variables,
                            self.context, error_output)

    def data(self, state: dict[str, Any], document: Any, error_output: Any = None) -> tuple[Any, dict[str, Any]]:
        """The output of the Pass ``state`` on ``document``; a data-flow failure is the state's error."""
        answer, inspection = self({"Type": "Pass", "End": True, **state}, json.dumps(document), error_output)
        if answer["status"] != "SUCCEEDED":
            raise _StateError(answer.get("error") or "States.Runtime", answer.get("cause") or "", inspection)
        return json.loads(answer["output"]), inspection


class _StateError(Exception):
    def __init__(self, error: str, cause: str, inspection: dict[str, Any]) -> None:
        super().__init__(error)
        self.error, self.cause, self.inspection = error, cause, inspection


def _run_state(state: dict[str, Any], state_input: Any, input_text: str, retry_count: int,
               run: _Runner) -> tuple[dict[str, Any], dict[str, Any]]:
    answer, inspection = run(state, input_text)
    out: dict[str, Any] = {"status": answer["status"]}
    if answer["status"] == "SUCCEEDED":
        out["output"] = answer.get("output")
        next_state = answer.get("nextState") or state.get("Next")
        if next_state:
            out["nextState"] = next_state
    else:
        error, cause = answer.get("error") or "States.Runtime", answer.get("cause") or ""
        if _no_choice_matched(state, answer):
            error, cause = "States.NoChoiceMatched", "No Choice rule matched and the state has no Default"
        out.update(_handle_error(state, state_input, error, cause, retry_count, inspection, run))
    return out, inspection


def _wait_beyond_limit(state: dict[str, Any], state_input: Any, run: _Runner) -> str | None:
    """Why a Wait state would run past TestState's time limit, or None when it would not."""
    seconds: float | None = None
    expression = [key for key in ("Seconds", "Timestamp") if state.get("QueryLanguage") == "JSONata"
                  and isinstance(state.get(key), str) and state[key].strip().startswith("{%")]
    if expression:
        # The expression's value, from a JSONata Pass state on the same input, variables and context;
        # an expression that fails, or a value the Wait refuses, fails the Wait when moto runs it.
        key = expression[0]
        try:
            value = _jsonata(state[key], state_input, run)
        except _StateError:
            return None
        if key == "Seconds":
            seconds = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        else:
            seconds = _seconds_until(value)
    elif isinstance(state.get("Seconds"), (int, float)):
        seconds = float(state["Seconds"])
    elif isinstance(state.get("Timestamp"), str) or isinstance(state.get("TimestampPath"), str) \
            or isinstance(state.get("SecondsPath"), str):
        seconds = _path_wait_seconds(state, state_input)
    if seconds is None or seconds <= TIME_LIMIT_SECONDS:
        return None
    return (f"The Wait state waits {int(seconds)} seconds, longer than the {TIME_LIMIT_SECONDS} seconds a "
            f"TestState call may run")


def _path_wait_seconds(state: dict[str, Any], state_input: Any) -> float | None:
    """Seconds a Wait with ``Timestamp``, ``TimestampPath`` or ``SecondsPath`` waits (None: moto decides)."""
    from jsonpath_ng.ext import parse  # type: ignore[attr-defined]  # moto's own JSONPath dependency

    document = state_input
    if isinstance(state.get("InputPath"), str):
        found = [m.value for m in parse(state["InputPath"]).find(state_input)]
        document = found[0] if found else None
    value: Any = state.get("Timestamp")
    for key in ("SecondsPath", "TimestampPath"):
        if isinstance(state.get(key), str):
            found = [m.value for m in parse(state[key]).find(document)]
            value = found[0] if found else None
            if key == "SecondsPath":
                return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    return _seconds_until(value)


def _seconds_until(value: Any) -> float | None:
    """Seconds from now until the timestamp ``value`` (None: not a timestamp; moto decides)."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return (moment - datetime.datetime.now(tz=datetime.timezone.utc)).total_seconds()


def _run_mocked(state: dict[str, Any], state_input: Any, mock: dict[str, Any], config: dict[str, Any],
                retry_count: int, run: _Runner) -> tuple[dict[str, Any], dict[str, Any]]:
    """The answer for a Task, Map or Parallel state whose invocation is ``mock``."""
    if state.get("QueryLanguage") == "JSONata":
        return _run_mocked_jsonata(state, state_input, mock, config, retry_count, run)
    kind = state["Type"]
    inspection: dict[str, Any] = {"input": json.dumps(state_input)}
    try:
        prepared: dict[str, Any] = {key: state[key] for key in ("InputPath", "Parameters") if key in state}
        if kind == "Map":
            prepared.pop("Parameters", None)  # a Map's Parameters select each item (ItemSelector)
        effective: Any = state_input
        data: dict[str, Any] = {}
        if prepared:
            effective, data = run.data(prepared, state_input)
        inspection.update({k: data[k] for k in ("afterInputPath", "afterParameters") if k in data})
        if kind == "Map":
            inspection.update(_map_inspection(state, effective, run))
        if "errorOutput" in mock:
            raise _mock_error(mock)
        result = _mock_result(state, mock)
        task = kind == "Task"  # AWS shows a Map's or Parallel's result and its placing only in the output
        if task:
            inspection["result"] = json.dumps(result)
        if kind == "Map":
            _check_tolerated_failures(state, effective, config, run)
        if "ResultSelector" in state:
            result, _ = run.data({"Parameters": state["ResultSelector"]}, result)
            if task:
                inspection["afterResultSelector"] = json.dumps(result)
        placing: dict[str, Any] = {"Result": result}
        placing.update({k: state[k] for k in ("ResultPath", "OutputPath") if k in state})
        output, data = run.data(placing, state_input)
        if task and "afterResultPath" in data:
            inspection["afterResultPath"] = data["afterResultPath"]
    except _StateError as failure:
        return (_handle_error(state, state_input, failure.error, failure.cause, retry_count, inspection, run),
                inspection)
    out: dict[str, Any] = {"status": "SUCCEEDED", "output": json.dumps(output)}
    if state.get("Next"):
        out["nextState"] = state["Next"]
    return out, inspection


def _jsonata(expression: Any, document: Any, run: _Runner) -> Any:
    """The value of the JSONata template ``expression`` on the state input ``document`` (a Pass ``Output``)."""
    value, _ = run.data({"QueryLanguage": "JSONata", "Output": expression}, document)
    return value


def _mock_error(mock: dict[str, Any]) -> _StateError:
    error_output = mock.get("errorOutput") or {}
    if not error_output.get("error"):
        raise AwsError("ValidationException", "mock.errorOutput.error is required when mock.errorOutput is specified")
    return _StateError(str(error_output["error"]), str(error_output.get("cause") or ""), {})


def _run_mocked_jsonata(state: dict[str, Any], state_input: Any, mock: dict[str, Any], config: dict[str, Any],
                        retry_count: int, run: _Runner) -> tuple[dict[str, Any], dict[str, Any]]:
    """A JSONata Task, Map or Parallel state whose invocation is ``mock``.

    A Task's ``Arguments`` are evaluated (``afterArguments``); the mocked result is ``$states.result``
    for the state's ``Assign`` and ``Output`` (the output is the result without ``Output``). These
    run as a JSONata Pass state whose ``Result`` is the mocked result: moto's interpreter binds a
    JSONata Pass state's result to ``$states.result`` before its ``Assign`` and ``Output``.
    """
    kind = state["Type"]
    inspection: dict[str, Any] = {"input": json.dumps(state_input)}
    try:
        if kind == "Task" and "Arguments" in state:
            inspection["afterArguments"] = json.dumps(_jsonata(state["Arguments"], state_input, run))
        if "errorOutput" in mock:
            raise _mock_error(mock)
        result = _mock_result(state, mock)
        if kind == "Task":
            inspection["result"] = json.dumps(result)
        if kind == "Map":
            _check_tolerated_failures(state, state_input, config, run)
        placing: dict[str, Any] = {"QueryLanguage": "JSONata", "Result": result}
        placing.update({key: state[key] for key in ("Assign", "Output") if key in state})
        output, data = run.data(placing, state_input)
        if "variables" in data:
            inspection["variables"] = data["variables"]
    except _StateError as failure:
        return (_handle_error(state, state_input, failure.error, failure.cause, retry_count, inspection, run),
                inspection)
    out: dict[str, Any] = {"status": "SUCCEEDED", "output": json.dumps(output)}
    if state.get("Next"):
        out["nextState"] = state["Next"]
    return out, inspection


def _mock_result(state: dict[str, Any], mock: dict[str, Any]) -> Any:
    try:
        result = json.loads(mock.get("result") or "")
    except ValueError as exc:
        raise AwsError("ValidationException", f"mock.result is not valid JSON: {exc}") from None
    kind = state["Type"]
    if kind == "Task":
        mock_validation.validate_mock_result(state.get("Resource"), result,
                                             mock.get("fieldValidationMode") or "STRICT")
    elif kind == "Map" and state.get("ResultWriter"):
        if not isinstance(result, dict):
            raise AwsError("ValidationException", "Mocked result must be a JSON object.")
    elif not isinstance(result, list):
        raise AwsError("ValidationException", "Mocked result must be an array.")
    elif kind == "Parallel" and len(result) != len(state.get("Branches") or []):
        raise AwsError("ValidationException",
                       "Mocked result must contain the same number of items as number of Parallel branches.")
    return result


def _map_inspection(state: dict[str, Any], effective: Any, run: _Runner) -> dict[str, Any]:
    data: dict[str, Any] = {"maxConcurrency": int(state.get("MaxConcurrency") or 0)}
    if "ItemsPath" in state:
        data["afterItemsPath"] = json.dumps(_items(state, effective, {}, run))
    for key, name in (("ToleratedFailureCount", "toleratedFailureCount"),
                      ("ToleratedFailurePercentage", "toleratedFailurePercentage")):
        if key in state:
            data[name] = state[key]
    return data


def _items(state: dict[str, Any], effective: Any, config: dict[str, Any], run: _Runner) -> Any:
    """The Map's items: ``mapItemReaderData`` for an ItemReader, else ``ItemsPath`` of the input."""
    if "ItemReader" in state:
        if "mapItemReaderData" not in config:
            raise _not_emulated("a ToleratedFailurePercentage of an ItemReader Map without "
                                "stateConfiguration.mapItemReaderData (the items to count)")
        try:
            return json.loads(config["mapItemReaderData"])
        except ValueError as exc:
            raise AwsError("ValidationException", f"stateConfiguration.mapItemReaderData is not valid JSON: "
                                                  f"{exc}") from None
    if state.get("QueryLanguage") == "JSONata":
        return _jsonata(state.get("Items", "{% $states.input %}"), effective, run)
    items, _ = run.data({"InputPath": state.get("ItemsPath", "$")}, effective)
    return items


def _check_tolerated_failures(state: dict[str, Any], effective: Any, config: dict[str, Any], run: _Runner) -> None:
    """``States.ExceedToleratedFailureThreshold`` when ``mapIterationFailureCount`` exceeds the Map's tolerance."""
    for key in ("ToleratedFailureCountPath", "ToleratedFailurePercentagePath"):
        if key in state:
            raise _not_emulated(f"{key} of a mocked Map state")
    failed = int(config.get("mapIterationFailureCount") or 0)
    exceeded = False
    if "ToleratedFailureCount" in state and failed > int(state["ToleratedFailureCount"]):
        exceeded = True
    if "ToleratedFailurePercentage" in state and not exceeded and failed:
        items = _items(state, effective, config, run)
        total = len(items) if isinstance(items, list) else 0
        exceeded = total == 0 or failed * 100.0 / total > float(state["ToleratedFailurePercentage"])
    if exceeded:
        raise _StateError("States.ExceedToleratedFailureThreshold", _THRESHOLD_CAUSE, {})


def _handle_error(state: dict[str, Any], state_input: Any, error: str, cause: str, retry_count: int,
                  inspection: dict[str, Any], run: _Runner) -> dict[str, Any]:
    for index, retrier in enumerate(state.get("Retry") or []):
        if not _matches(error, list(retrier.get("ErrorEquals") or [])):
            continue
        if retry_count < int(retrier.get("MaxAttempts", 3)):
            details: dict[str, Any] = {"retryIndex": index}
            if retrier.get("JitterStrategy", "NONE") != "FULL":
                rate = float(retrier.get("BackoffRate", 2.0))
                backoff = float(retrier.get("IntervalSeconds", 1)) * rate ** retry_count
                if retrier.get("MaxDelaySeconds") is not None:
                    backoff = min(backoff, float(retrier["MaxDelaySeconds"]))
                details["retryBackoffIntervalSeconds"] = int(backoff)
            inspection["errorDetails"] = details
            return {"status": "RETRIABLE", "error": error, "cause": cause}
        break  # the first matching retrier's attempts are spent: the catchers decide
    for index, catcher in enumerate(state.get("Catch") or []):
        if _matches(error, list(catcher.get("ErrorEquals") or [])):
            inspection["errorDetails"] = {"catchIndex": index}
            error_output = {"Error": error, "Cause": cause}
            if state.get("QueryLanguage") == "JSONata":
                try:
                    output = _jsonata_catcher_output(catcher, state_input, error_output, inspection, run)
                except _StateError as failure:
                    return {"status": "FAILED", "error": failure.error, "cause": failure.cause}
            else:
                output = _place(state_input, catcher.get("ResultPath", "$"), error_output)
            return {"status": "CAUGHT_ERROR", "error": error, "cause": cause, "nextState": catcher.get("Next"),
                    "output": json.dumps(output)}
    return {"status": "FAILED", "error": error, "cause": cause}


def _jsonata_catcher_output(catcher: dict[str, Any], state_input: Any, error_output: dict[str, Any],
                            inspection: dict[str, Any], run: _Runner) -> Any:
    """The output of a JSONata state's matched ``catcher``; its ``Assign`` updates the variables.

    AWS: in a catcher, ``$states.errorOutput`` is the error output (``{"Error", "Cause"}``) and
    ``$states.input`` the state's input; without ``Output`` the state's output is the error output.
    They run as a JSONata Pass state whose ``$states.errorOutput`` is set.
    """
    catching: dict[str, Any] = {"QueryLanguage": "JSONata",
                                "Output": catcher.get("Output", "{% $states.errorOutput %}")}
    if "Assign" in catcher:
        catching["Assign"] = catcher["Assign"]
    output, data = run.data(catching, state_input, error_output)
    if "variables" in data:
        inspection["variables"] = data["variables"]
    return output
