"""Fixtures of the Step Functions tests of the sandbox."""

from __future__ import annotations

import uuid
from typing import Any

import pytest


@pytest.fixture
def aws(sandbox_env: Any) -> dict[str, Any]:
    """boto3 clients for the sandbox and a fresh bucket for scripts, data and query results."""
    clients = {name: sandbox_env.client(name)
               for name in ("stepfunctions", "glue", "s3", "sns", "sqs", "athena", "databrew")}
    bucket = f"sfn-test-{uuid.uuid4().hex[:10]}"
    clients["s3"].create_bucket(Bucket=bucket)
    clients["bucket"] = bucket
    return clients
