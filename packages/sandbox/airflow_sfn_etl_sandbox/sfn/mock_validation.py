"""``TestState`` ``mock.fieldValidationMode``: a mocked Task result checked against the API's output shape.

AWS checks a mocked ``result`` against the output shape of the API the Task integrates
(``STRICT``, the default: required fields present and present fields of the right type;
``PRESENT``: present fields of the right type; ``NONE``: nothing). The shapes are botocore's
service models; a field of the mock that the shape does not have is not checked, as AWS does.
Field names are Step Functions' (the first letter upper case: ``ExecutionArn`` for
StartExecution's ``executionArn``). The messages are AWS's ``Mock result schema validation error:
...``.

What is not checked here fails naming it: a ``.sync`` or ``.waitForTaskToken`` Task, an activity,
a Lambda ARN or an HTTP Task (their result is not the output of one API operation), and an
integration whose API is not in botocore.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from ..aws import AwsError

VALIDATION_MODES = ("STRICT", "PRESENT", "NONE")
_SERVICE = re.compile(r"^arn:aws[a-z-]*:states:::(?:(aws-sdk):)?([a-z0-9-]+):([A-Za-z0-9]+)(\.[A-Za-z0-9:]+)?$")
#: Step Functions' names of services whose botocore name differs.
_BOTOCORE_NAMES = {"states": "stepfunctions", "sfn": "stepfunctions"}
_NUMBER = ("integer", "long", "float", "double")


def _invalid(message: str) -> AwsError:
    return AwsError("ValidationException", f"Mock result schema validation error: {message}")


def _not_checked(what: str, mode: str) -> AwsError:
    return AwsError("ValidationException",
                    f"TestState: mock fieldValidationMode {mode} for {what} is not emulated by the sandbox "
                    f"(set fieldValidationMode NONE to use the mock unchecked)")


@functools.lru_cache(maxsize=64)
def _operation_output(service: str, action: str) -> Any:
    """botocore's output shape of ``service``'s ``action``, or None when botocore does not know it."""
    import botocore.session
    from botocore.exceptions import UnknownServiceError

    session = botocore.session.get_session()
    try:
        model = session.get_service_model(_BOTOCORE_NAMES.get(service, service))
    except UnknownServiceError:
        return None
    wanted = action[:1].upper() + action[1:]
    if wanted not in model.operation_names:
        return None
    return model.operation_model(wanted).output_shape


def validate_mock_result(resource: Any, result: Any, mode: str) -> None:
    """Raise AWS's ValidationException when ``result`` does not fit the API of Task ``resource``."""
    if mode == "NONE":
        return
    match = _SERVICE.match(resource) if isinstance(resource, str) else None
    if match is None:
        raise _not_checked(f"the Task resource {resource!r} (not an AWS service integration)", mode)
    sdk, service, action, pattern = match.groups()
    if pattern:
        raise _not_checked(f"a {pattern} integration ({resource}), whose result is not {action}'s output", mode)
    shape = _operation_output(service, action)
    if shape is None:
        raise _not_checked(f"{resource} (botocore has no {service} {action} API)", mode)
    lambda_invoke = not sdk and service == "lambda" and action == "invoke"
    _check_structure(shape, result, mode == "STRICT", lambda_invoke, top=True)


def _field_name(member: str) -> str:
    return member[:1].upper() + member[1:]


def _check_structure(shape: Any, value: Any, strict: bool, lambda_invoke: bool, top: bool = False,
                     name: str = "") -> None:
    if not isinstance(value, dict):
        raise _invalid("the mocked result must be a JSON object" if top else f"Field '{name}' must be an object")
    members = {_field_name(member): member_shape for member, member_shape in shape.members.items()}
    if strict:
        for member in shape.required_members:
            if _field_name(member) not in value:
                raise _invalid(f"Required field '{_field_name(member)}' is missing")
    for field, field_value in value.items():
        member_shape = members.get(field)
        if member_shape is None:
            continue  # a field the API does not have is not checked
        if lambda_invoke and top and field == "Payload":
            continue  # Step Functions' Lambda integration answers the payload as JSON
        _check_value(member_shape, field_value, field, strict, lambda_invoke)


def _check_value(shape: Any, value: Any, name: str, strict: bool, lambda_invoke: bool) -> None:
    kind = shape.type_name
    if value is None:
        return
    if kind == "structure":
        _check_structure(shape, value, strict, lambda_invoke, name=name)
    elif kind == "list":
        if not isinstance(value, list):
            raise _invalid(f"Field '{name}' must be an array")
        for item in value:
            _check_value(shape.member, item, name, strict, lambda_invoke)
    elif kind == "map":
        if not isinstance(value, dict):
            raise _invalid(f"Field '{name}' must be an object")
        for item in value.values():
            _check_value(shape.value, item, name, strict, lambda_invoke)
    elif kind in ("string", "timestamp", "blob"):
        if not isinstance(value, str):
            raise _invalid(f"Field '{name}' must be a string")
        if kind == "string" and shape.enum and value not in shape.enum:
            raise _invalid(f"Field '{name}' is not an expected value")
        if kind != "timestamp":
            _check_length(shape, value, name)
    elif kind in _NUMBER:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _invalid(f"Field '{name}' must be a number")
        if kind in ("integer", "long") and isinstance(value, float) and not value.is_integer():
            raise _invalid(f"Field '{name}' must be an integer")
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and value < low:
            raise _invalid(f"Field '{name}' is less than the minimum value")
        if high is not None and value > high:
            raise _invalid(f"Field '{name}' exceeds the maximum value")
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise _invalid(f"Field '{name}' must be a boolean")


def _check_length(shape: Any, value: str, name: str) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and len(value) < low:
        raise _invalid(f"Field '{name}' is smaller than the minimum length")
    if high is not None and len(value) > high:
        raise _invalid(f"Field '{name}' is larger than the maximum length")
