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

What it does not emulate fails with ``ValidationException`` saying so: Map, Parallel and Wait
states, ``mock``, ``context``, ``variables``, a ``stateConfiguration`` other than
``retrierRetryCount``, a JSONata state with ``Retry`` or ``Catch``, a catcher ``ResultPath`` other
than ``$``, ``null`` or a ``$.a.b`` field path.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
import uuid
from typing import Any

from ..aws import AwsError

#: State types TestState runs here.
SUPPORTED_TYPES = ("Pass", "Choice", "Task", "Succeed", "Fail")
INSPECTION_LEVELS = ("INFO", "DEBUG", "TRACE")
_FIELD_PATH = re.compile(r"^\$(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_UNCATCHABLE = ("States.Runtime", "States.DataLimitExceeded")


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


def _check_request(params: dict[str, Any]) -> tuple[str, int]:
    """The inspection level and the retrier retry count; refuse what is not emulated."""
    for name in ("mock", "context", "variables"):
        if params.get(name):
            raise _not_emulated(name)
    level = str(params.get("inspectionLevel") or "INFO")
    if level not in INSPECTION_LEVELS:
        raise AwsError("ValidationException", f"1 validation error detected: Value '{level}' at 'inspectionLevel' "
                                              f"failed to satisfy constraint: Member must satisfy enum value set: "
                                              f"[{', '.join(INSPECTION_LEVELS)}]")
    config = params.get("stateConfiguration") or {}
    other = sorted(set(config) - {"retrierRetryCount"})
    if other:
        raise _not_emulated(f"stateConfiguration {', '.join(other)}")
    return level, int(config.get("retrierRetryCount") or 0)


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


def _run_in_moto(state: dict[str, Any], input_text: str, role_arn: str, account_id: str,
                 region: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """moto's TestState answer and inspection data for ``state`` (without Retry, Catch, Next)."""
    from moto.stepfunctions.parser.api import InspectionLevel
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramEnded
    from moto.stepfunctions.parser.asl.static_analyser.test_state.test_state_analyser import (
        TestStateStaticAnalyser,
    )
    from moto.stepfunctions.parser.backend.state_machine import TestStateMachine
    from moto.stepfunctions.parser.backend.test_state.execution import TestStateExecution

    runnable = {k: v for k, v in state.items() if k not in ("Retry", "Catch", "Next")}
    if state["Type"] in ("Pass", "Task"):
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
    execution_class: Any = TestStateExecution
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
    answer["status"] = str(getattr(answer["status"], "value", answer["status"]))
    return answer, inspection


def _no_choice_matched(state: dict[str, Any], answer: dict[str, Any]) -> bool:
    return (state["Type"] == "Choice" and answer.get("error") == "States.Runtime"
            and "No branching option reached" in str(answer.get("cause")))


def test_state(params: dict[str, Any], account_id: str, region: str) -> dict[str, Any]:
    """The TestState answer for the request ``params``."""
    state = _state_definition(params.get("definition"), params.get("stateName"))
    level, retry_count = _check_request(params)
    if state.get("QueryLanguage") == "JSONata" and (state.get("Retry") or state.get("Catch")):
        raise _not_emulated("Retry and Catch of a JSONata state")
    input_text = params.get("input") or "{}"
    try:
        state_input = json.loads(input_text)
    except ValueError as exc:
        raise AwsError("InvalidExecutionInput", f"Invalid State Machine Execution Input: '{exc}'") from None
    role_arn = params.get("roleArn") or f"arn:aws:iam::{account_id}:role/TestState"
    answer, inspection = _run_in_moto(state, input_text, role_arn, account_id, region)

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
        out.update(_handle_error(state, state_input, error, cause, retry_count, inspection))
    if level in ("DEBUG", "TRACE") and inspection:
        out["inspectionData"] = inspection
    return out


def _handle_error(state: dict[str, Any], state_input: Any, error: str, cause: str, retry_count: int,
                  inspection: dict[str, Any]) -> dict[str, Any]:
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
            output = _place(state_input, catcher.get("ResultPath", "$"), {"Error": error, "Cause": cause})
            inspection["errorDetails"] = {"catchIndex": index}
            return {"status": "CAUGHT_ERROR", "error": error, "cause": cause, "nextState": catcher.get("Next"),
                    "output": json.dumps(output)}
    return {"status": "FAILED", "error": error, "cause": cause}
