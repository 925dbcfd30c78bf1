"""What the waiting operators share: wait in the worker, or defer to the run's trigger.

Kill means stop, with these limits:

- Waiting in the worker: Airflow calls the operator's ``on_kill`` when the task process is
  terminated (mark failed/success, clear, execution timeout); each operator stops its AWS run.
- Deferred: the worker is gone, so the trigger's ``on_kill`` stops the run. Airflow >= 3.3 calls
  it when a user acts on the deferred task; it does not call it on triggerer restart, trigger
  redistribution or defer timeout (those leave the run going; the next try re-attaches to it).
  On Airflow < 3.3, whose triggerer has no ``on_kill``, a deferred run is not stopped on kill.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import AirflowException

from airflow_sfn_etl.triggers.base import AwsPollingTrigger


def wait_or_defer(operator: Any, trigger: AwsPollingTrigger) -> dict[str, Any]:
    """Defer to ``trigger`` when the operator is deferrable, else poll in the worker.

    Returns the success event; raises with the service's reason when the run fails.
    """
    if operator.deferrable:
        operator.defer(trigger=trigger, method_name="execute_complete", timeout=operator.execution_timeout)
    status = trigger.wait_sync(operator.hook)
    if not status.ok:
        raise AirflowException(status.message)
    return status.event()
