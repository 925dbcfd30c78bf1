"""Helpers for optimized integrations that call one AWS API through moto's boto client factory."""

from __future__ import annotations

from functools import cache
from typing import Any

import botocore.session
from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for


@cache
def service_model(service: str) -> Any:
    """botocore's model of ``service`` (e.g. ``stepfunctions``)."""
    return botocore.session.get_session().get_service_model(service)


@cache
def input_members(service: str, operation: str) -> frozenset[str]:
    """The request parameter names of a botocore ``operation`` (e.g. ``StartQueryExecution``)."""
    shape = service_model(service).operation_model(operation).input_shape
    return frozenset(shape.members) if shape is not None else frozenset()


def supported_parameters(service: str, api_action: str, operations: frozenset[str]) -> set[str] | None:
    """Parameters of ``api_action`` (camelCase, e.g. ``startQueryExecution``) or None if unsupported.

    moto drops any Task parameter not listed here, so the list is the full API input shape.
    """
    for operation in operations:
        if operation.lower() == api_action.lower():
            return set(input_members(service, operation))
    return None


def call(service: str, region: str, state_credentials: Any, action: str, parameters: dict[str, Any]) -> dict:
    """Call ``action`` (snake_case) on ``service`` at the sandbox; the answer without metadata."""
    client = boto_client_for(service=service, region=region, state_credentials=state_credentials)
    response = getattr(client, action)(**parameters) or {}
    response.pop("ResponseMetadata", None)
    return response


def client_for(service: str, region: str, state_credentials: Any) -> Any:
    """A boto3 client for ``service`` at the sandbox (the interpreter's own client factory)."""
    return boto_client_for(service=service, region=region, state_credentials=state_credentials)
