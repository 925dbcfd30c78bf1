"""Trigger that waits for an Athena query and fails with its ``StateChangeReason``."""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.hooks.athena import AthenaHook

from airflow_sfn_etl.triggers.base import AwsPollingTrigger
from airflow_sfn_etl.utils.events import AthenaQuerySucceeded
from airflow_sfn_etl.utils.polling import RunStatus

QUERY_FAILED_STATES = ("FAILED", "CANCELLED")


def query_status(execution: dict[str, Any]) -> RunStatus:
    """Judge a ``GetQueryExecution`` ``QueryExecution``, with its scan statistics in the details."""
    query_id = execution.get("QueryExecutionId", "?")
    status = execution.get("Status") or {}
    state = status.get("State", "UNKNOWN")
    stats = execution.get("Statistics") or {}
    details = {
        "query_execution_id": query_id,
        "data_scanned_bytes": stats.get("DataScannedInBytes"),
        "engine_execution_time_ms": stats.get("EngineExecutionTimeInMillis"),
    }
    if state == "SUCCEEDED":
        return RunStatus(
            state=state, done=True, ok=True, message=f"Athena query {query_id} succeeded", details=details
        )
    if state in QUERY_FAILED_STATES:
        reason = status.get("StateChangeReason") or "Athena reported no reason"
        return RunStatus(
            state=state,
            done=True,
            message=f"Athena query {query_id} {state}: {reason}",
            details={**details, "state_change_reason": status.get("StateChangeReason")},
        )
    return RunStatus(state=state)


class AthenaQueryTrigger(AwsPollingTrigger[AthenaQuerySucceeded]):
    """Wait for an Athena query execution; stop it when the deferred task is killed.

    :param query_execution_id: Athena query execution id.
    """

    hook_class = AthenaHook

    def __init__(self, *, query_execution_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.query_execution_id = query_execution_id

    def fields(self) -> dict[str, Any]:
        return {"query_execution_id": self.query_execution_id}

    def describe(self) -> str:
        return f"Athena query {self.query_execution_id}"

    def check(self, hook: AthenaHook) -> RunStatus:
        return query_status(hook.get_query_info(self.query_execution_id)["QueryExecution"])

    def stop(self, hook: AthenaHook) -> None:
        hook.stop_query(self.query_execution_id)
