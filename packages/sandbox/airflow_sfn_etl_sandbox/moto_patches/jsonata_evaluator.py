"""JSONata (``QueryLanguage: "JSONata"``) and workflow variables (``Assign``, ``$var``) evaluate.

What moto (5.2.5) does wrong or lacks: its interpreter (ported from LocalStack) composes every
JSONata expression, with ``$states`` and the workflow variables declared in front of it, and hands
it to ``asl.jsonata.jsonata.eval_jsonata_expression``, which calls a module-level evaluator
``_eval_jsonata`` that LocalStack sets to a JVM bridge and moto leaves ``None``. Every JSONata
expression, and every variable reference in a JSONPath state (``"x.$": "$myVar"``), therefore
fails the execution with ``States.Runtime`` "TypeError('NoneType' object is not callable)".
Besides, a string value is declared as ``"<value>"`` without escaping (a ``"`` or ``\\`` in a
variable or in ``$states.input`` breaks or changes the expression), and ``$hash`` / ``$uuid``
(functions Step Functions adds to JSONata) answer the string "Function $hash is currently not
supported" instead of a value.

What the patch changes:

- ``_eval_jsonata`` evaluates with ``jsonata-python`` (a Python port of the JSONata reference
  implementation); the result is returned as plain JSON values. An evaluation error fails the
  state with ``States.QueryEvaluationError`` (the error AWS documents for a JSONata expression
  that cannot be evaluated), the cause naming the expression and the JSONata error;
- string values are declared as JSON string literals (escaped);
- a variable reference in a JSONPath state (``"x.$": "$v"``) to a variable that no state assigned
  fails the state with ``States.Runtime`` naming the variable (moto gave ``null``);
- ``$hash(value, algorithm)`` (MD5, SHA-1, SHA-256, SHA-384, SHA-512: the hex digest of the UTF-8
  string, as AWS documents) and ``$uuid()`` (a version 4 UUID) are Python functions.

Upstream: ``_eval_jsonata`` could default to a pure-Python evaluator in moto (which has no JVM),
the declaration encoder could use ``json.dumps`` for strings, and ``$hash``/``$uuid`` could be
bound as functions of the evaluator instead of declared in the expression.
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from typing import Any, Final

import jsonata
from moto.stepfunctions.parser.api import EvaluationFailedEventDetails, HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.variable_store import NoSuchVariable

from ..sfn.results import iso_timestamps
from .support import SFN_PARSER, MotoChanged, moto_attr, once

_JSONATA = f"{SFN_PARSER}.asl.jsonata.jsonata"

#: ``$hash`` algorithm names (as AWS spells them) -> hashlib names.
HASH_ALGORITHMS: Final[dict[str, str]] = {
    "MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


class JSONataEvaluationError(Exception):
    """A JSONata expression could not be evaluated (syntax or runtime error, or a non-JSON result)."""


def _hash(value: Any, algorithm: Any) -> str:
    if not isinstance(value, str):
        raise JSONataEvaluationError(f"$hash: the value to hash must be a string, not {type(value).__name__}")
    name = HASH_ALGORITHMS.get(algorithm) if isinstance(algorithm, str) else None
    if name is None:
        raise JSONataEvaluationError(
            f"$hash: the algorithm {algorithm!r} is not one of {', '.join(HASH_ALGORITHMS)}")
    return hashlib.new(name, value.encode("utf-8")).hexdigest()


def _uuid() -> str:
    return str(uuid.uuid4())


def evaluate(expression: str) -> Any:
    """The value of a composed JSONata expression, as plain JSON values (None when undefined)."""
    try:
        compiled = jsonata.Jsonata(expression)
        compiled.register_lambda("hash", _hash)
        compiled.register_lambda("uuid", _uuid)
        result = compiled.evaluate(None)
    except JSONataEvaluationError:
        raise
    except Exception as err:  # jsonata raises JException (a RuntimeError) and, on odd input, others
        raise JSONataEvaluationError(str(err) or type(err).__name__) from err
    try:
        return json.loads(json.dumps(result))
    except (TypeError, ValueError) as err:
        raise JSONataEvaluationError(f"the result is not a JSON value ({err})") from err


def _declare(bindings: dict[str, Any]) -> str:
    """moto's ``encode_jsonata_variable_declarations`` with strings as JSON (escaped) literals.

    Timestamps (the context object's ``StartTime``, ``EnteredTime``) are ISO-8601 UTC strings, as in
    AWS's context object.
    """
    return "".join(f"{name}:={json.dumps(iso_timestamps(value), separators=(',', ':'))};"
                   for name, value in bindings.items())


def _query_evaluation_failure(env: Any, expression: str, message: str) -> Exception:
    error_name = StatesErrorName(typ=StatesErrorNameType.StatesQueryEvaluationError)
    return FailureEventException(failure_event=FailureEvent(
        env=env, error_name=error_name, event_type=HistoryEventType.EvaluationFailed,
        event_details=EventDetails(  # type: ignore[typeddict-item]
            evaluationFailedEventDetails=EvaluationFailedEventDetails(
                error=error_name.error_name,
                cause=f"The JSONata expression '{expression}' could not be evaluated: {message}"))))


def _undefined_variable_failure(env: Any, reference: str) -> Exception:
    return FailureEventException(failure_event=FailureEvent(
        env=env, error_name=StatesErrorName(typ=StatesErrorNameType.StatesRuntime),
        event_type=HistoryEventType.TaskFailed,
        event_details=EventDetails(  # type: ignore[typeddict-item]
            taskFailedEventDetails=TaskFailedEventDetails(
                error=StatesErrorNameType.StatesRuntime.to_name(),
                cause=f"The variable reference '{reference}' names no variable assigned in this scope"))))


def _check_variables(cls: Any) -> None:
    """Make ``cls._eval_body`` (moto's ``StringVariableSample``) fail on a variable no state assigned."""
    original = cls._eval_body

    @functools.wraps(original)
    def _eval_body(self: Any, env: Any) -> None:
        name = self.expression[1:].split(".", 1)[0].split("[", 1)[0]
        try:
            env.variable_store.get(name)
        except NoSuchVariable:
            raise _undefined_variable_failure(env, self.expression) from None
        original(self, env)

    cls._eval_body = _eval_body


def _guard(cls: Any) -> None:
    """Turn a :class:`JSONataEvaluationError` out of ``cls._eval_body`` into States.QueryEvaluationError."""
    original = cls._eval_body

    @functools.wraps(original)
    def _eval_body(self: Any, env: Any) -> None:
        try:
            original(self, env)
        except JSONataEvaluationError as err:
            raise _query_evaluation_failure(env, self.expression, str(err)) from err

    cls._eval_body = _eval_body


@once
def apply() -> None:
    module, _ = moto_attr(_JSONATA, "_eval_jsonata")
    moto_attr(_JSONATA, "encode_jsonata_variable_declarations")
    states_module, _ = moto_attr(f"{SFN_PARSER}.asl.eval.states", "encode_jsonata_variable_declarations")
    store_module, _ = moto_attr(f"{SFN_PARSER}.asl.eval.variable_store", "encode_jsonata_variable_declarations")
    _, declarations = moto_attr(f"{SFN_PARSER}.asl.component.intrinsic.jsonata",
                                "_DECLARATION_BY_VARIABLE_REFERENCE")
    string_module = f"{SFN_PARSER}.asl.component.common.string.string_expression"
    samplers = [moto_attr(string_module, name)[1] for name in ("StringJSONata", "StringVariableSample")]
    if not {"$hash", "$uuid"} <= set(declarations):
        raise MotoChanged("sandbox moto patch: moto no longer declares $hash and $uuid for JSONata; "
                          "this moto version is not supported by the sandbox")
    module._eval_jsonata = evaluate
    module.encode_jsonata_variable_declarations = _declare
    states_module.encode_jsonata_variable_declarations = _declare
    store_module.encode_jsonata_variable_declarations = _declare
    del declarations["$hash"], declarations["$uuid"]
    for sampler in samplers:
        _guard(sampler)
    _check_variables(samplers[1])
