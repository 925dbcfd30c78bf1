"""What the compiler refuses, task by task, and what would compile instead.

The builder checks every task before it builds anything and raises one
:class:`~airflow_sfn_etl.asl.errors.UnsupportedTasksError` naming each task it cannot compile, with
the reason and the nearest thing that would compile. A task is refused when:

- it is a mapped task (``.expand``) over XCom, a dict or an empty list (:mod:`~airflow_sfn_etl.asl.mapping`;
  over a literal list it compiles to a ``Map`` state when each item's operator compiles);
- its operator has no fragment: a ``@task`` function (Python code in
  the Airflow worker), a branching operator, or any other class without a registry entry;
- it sets an argument its fragment does not carry into the state (e.g. ``result_to_xcom=True``), or
  a BaseOperator setting with no Step Functions equivalent (callbacks, ``depends_on_past``,
  a retry policy);
- its trigger rule cannot be compiled with the same semantics (see :mod:`~airflow_sfn_etl.asl.triggers`).

A task's ``outlets`` compile with a note: the state machine emits no Airflow asset events, the
Airflow task that runs it does when it declares the same outlets (as the reference ``*_sfn`` DAGs'
run tasks do).

Arguments that only tune how an Airflow worker waits for a run (``poll_interval`` of the job
operators, ``deferrable``, ``defer_after``, ``verbose``) or which connection it uses
(``aws_conn_id``, ``verify``, ``botocore_config``) have no meaning in a state machine, which waits
through the service integration with its execution role, and are ignored.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from airflow_sfn_etl.asl import mapping
from airflow_sfn_etl.asl.fragments.registry import (
    LAMBDA_INVOKE,
    carried_args,
    class_path,
    lookup,
    registered_class,
    supported,
)

#: Constructor arguments that only shape the worker's waiting or its AWS connection.
WORKER_ONLY_ARGS = frozenset(
    {
        "poll_interval",
        "deferrable",
        "defer_after",
        "verbose",
        "max_poll_interval",
        "cancel_on_kill",
        "aws_conn_id",
        "verify",
        "botocore_config",
        # the amazon provider's operators
        "job_poll_interval",
        "waiter_delay",
        "waiter_max_attempts",
        "sleep_time",
        "sleep_before_return",
        "log_query",
        "stop_job_run_on_kill",
        "durable",
        "resume_glue_job_on_retry",
        "log_type",
        "keep_empty_log_lines",
        "delay",  # GlueDataBrewStartJobOperator's deprecated waiter_delay
    }
)

#: Values the amazon provider's operators store for an unset argument (``x or default``).
_UNSET_ALIASES = {"max_polling_attempts": 999999, "concurrent_run_limit": 1}

#: Operators refused by class path, with the reason and what would compile instead.
CLASS_REFUSALS = {
    "airflow.providers.amazon.aws.operators.glue_crawler.GlueCrawlerOperator": (
        "it creates or updates the crawler from `config` before running it; a state machine task would "
        "only start it",
        "create the crawler beforehand and run it with "
        "airflow.providers.amazon.aws.operators.glue_crawler.GlueCrawlerRunOperator or "
        "airflow_sfn_etl.operators.glue_crawler.GlueCrawlerOperator",
    ),
    "airflow.providers.amazon.aws.operators.s3.S3CreateObjectOperator": (
        "Step Functions' aws-sdk:s3:putObject sends a text Body as JSON, so the object would hold the text "
        "in quotes with escapes, not the operator's bytes",
        "write the object in the Glue job or in a Lambda function (LambdaInvokeFunctionOperator), or copy a "
        "prepared object with airflow.providers.amazon.aws.operators.s3.S3CopyObjectOperator",
    ),
}

_CREATES_JOB = (
    "the stock operator creates or updates the Glue job with it; the state machine only starts an "
    "existing job"
)

#: Why an operator argument the fragment does not carry is refused when it is set.
ARG_REASONS = {
    "result_to_xcom": "Step Functions has no XCom: the query's rows would not be pushed anywhere",
    "max_result_rows": "Step Functions has no XCom: the query's rows would not be pushed anywhere",
    "allowed_output_buckets": "the state machine does not check the output location against this list "
    "(scope the execution role's S3 access instead)",
    "region_name": "the state machine calls services in its own region",
    "region": "the state machine calls services in its own region",
    "max_polling_attempts": "the state waits for the query through the .sync integration, without a poll limit",
    "client_request_token": "the state does not send an idempotency token",
    "query_execution_context": "only database and catalog are carried into QueryExecutionContext",
    "result_configuration": "only output_location is carried into ResultConfiguration",
    "is_redrive_execution": "the state starts a new execution; redriving a failed one is not carried",
    **{
        name: "the operator lists the bucket to find the keys, which the deleteObjects state does not (give the "
        "keys to delete as keys=[...])"
        for name in ("prefix", "from_datetime", "to_datetime")
    },
    **{
        name: _CREATES_JOB
        for name in (
            "job_desc", "script_location", "concurrent_run_limit", "retry_limit", "num_of_dpus", "s3_bucket",
            "iam_role_name", "iam_role_arn", "create_job_kwargs", "replace_script_file", "update_config",
        )
    },
}

#: BaseOperator settings (attribute, the value meaning "unset") with no Step Functions equivalent.
_BASE_SETTINGS: tuple[tuple[str, str], ...] = (
    ("on_execute_callback", "callbacks run Airflow code; a state machine does not call them"),
    ("on_failure_callback", "callbacks run Airflow code; a state machine does not call them"),
    ("on_success_callback", "callbacks run Airflow code; a state machine does not call them"),
    ("on_retry_callback", "callbacks run Airflow code; a state machine does not call them"),
    ("on_skipped_callback", "callbacks run Airflow code; a state machine does not call them"),
    ("depends_on_past", "a state machine execution does not see the previous run's task states"),
    ("wait_for_downstream", "a state machine execution does not see the previous run's task states"),
    ("email", "Airflow's failure/retry e-mails are not sent by a state machine (add an SNS task)"),
    ("retry_policy", "a retry policy runs Airflow code to choose each retry; only retries, retry_delay, "
     "retry_exponential_backoff and max_retry_delay compile (to Retry)"),
    ("soft_fail", "a state machine cannot mark a failed task as skipped"),
)

#: BaseSensorOperator's default ``timeout`` (seven days), in seconds.
SENSOR_DEFAULT_TIMEOUT = 60 * 60 * 24 * 7

LAMBDA_OPERATOR = LAMBDA_INVOKE


@dataclass(frozen=True)
class Refusal:
    """One task the compiler cannot compile: why, and what would compile instead."""

    task_id: str
    what: str
    reason: str
    instead: str = ""

    def line(self) -> str:
        """``- Task 'x' (what): reason. Instead: ...``"""
        text = f"- Task '{self.task_id}' ({self.what}): {self.reason.rstrip('.')}."
        return text + (f" Instead: {self.instead.rstrip('.')}." if self.instead else "")


def _mro_names(cls: type) -> set[str]:
    return {base.__name__ for base in cls.__mro__}


def _python_instead() -> str:
    return (
        f"put the code in an AWS Lambda function and call it with {LAMBDA_OPERATOR}"
        "(function_name=<the function's ARN>, payload=<JSON text>)"
    )


def operator_refusals(task: Any) -> list[Refusal]:
    """Refusals of a task for its operator class and its arguments (trigger rules aside)."""
    task_id = str(task.task_id)
    cls = type(task)
    names = _mro_names(cls)
    if "MappedOperator" in names:
        return _mapped_refusals(task, task_id)
    path = class_path(cls)
    if "BranchMixIn" in names or "BaseBranchOperator" in names or "ShortCircuitOperator" in names:
        return [
            Refusal(
                task_id,
                path,
                "branching (choosing downstream tasks at run time) is not supported",
                "split the DAG into one DAG per path, or move the decision into the job itself",
            )
        ]
    if "DecoratedOperator" in names or "PythonOperator" in names:
        return [
            Refusal(
                task_id,
                f"{path}, a @task or Python callable" if "DecoratedOperator" in names else path,
                "it runs Python code in the Airflow worker, which a state machine cannot run",
                _python_instead(),
            )
        ]
    if path in CLASS_REFUSALS:
        reason, instead = CLASS_REFUSALS[path]
        return [Refusal(task_id, path, reason, instead)]
    if lookup(cls) is None:
        return [
            Refusal(
                task_id,
                path,
                "this operator has no Step Functions mapping",
                "use one of the supported operators: " + ", ".join(supported()),
            )
        ]
    return _argument_refusals(task, task_id, path)


def _mapped_refusals(task: Any, task_id: str) -> list[Refusal]:
    """A mapped task compiles to a Map state when its items are literal and each item's operator compiles."""
    inner = getattr(task, "operator_class", None)
    inner_path = class_path(inner) if isinstance(inner, type) else str(getattr(task, "task_type", "?"))
    what = f"mapped {inner_path}"
    try:
        items = mapping.items_of(task)
    except mapping.MappingRefused as refused:
        return [Refusal(task_id, what, refused.reason, refused.instead)]
    out: list[Refusal] = []
    seen: set[tuple[str, str]] = set()
    for item in items:
        try:
            operator = mapping.unmapped(task, item)
        except Exception as error:  # noqa: BLE001 - the operator's own argument checks
            found = [Refusal(task_id, what, f"the operator rejects the item {_short(item)}: {error}", "fix the item")]
        else:
            found = [Refusal(task_id, what, r.reason, r.instead) for r in operator_refusals(operator)]
        for refusal in found:
            if (refusal.reason, refusal.instead) not in seen:
                seen.add((refusal.reason, refusal.instead))
                out.append(refusal)
    return out


def _unset(value: Any) -> bool:
    return value is None or value is False or value == [] or value == () or value == {} or value == ""


def _argument_refusals(task: Any, task_id: str, path: str) -> list[Refusal]:
    out: list[Refusal] = []
    for attr, reason in _BASE_SETTINGS:
        value = getattr(task, attr, None)
        if not _unset(value):
            out.append(Refusal(task_id, path, f"{attr}={_short(value)}: {reason}", f"remove {attr}"))
    if "BaseSensorOperator" in _mro_names(type(task)):
        timeout = getattr(task, "timeout", SENSOR_DEFAULT_TIMEOUT)
        if timeout is not None and float(timeout) != SENSOR_DEFAULT_TIMEOUT:
            out.append(
                Refusal(
                    task_id,
                    path,
                    f"timeout={_short(timeout)}: the compiled poll loop ends after a number of polls, not a time",
                    "set max_polls (polls x wait_time seconds) instead of timeout",
                )
            )
    registered = registered_class(type(task))
    carried = carried_args(registered) if registered is not None else None
    if carried is None:
        return out  # a registration without a list of carried arguments: its fragment reads what it needs
    for name, default in _operator_args(type(task)):
        if name in carried or name in WORKER_ONLY_ARGS or not hasattr(task, name):
            continue
        value = getattr(task, name)
        if _same(value, default, name):
            continue
        if name == "max_result_rows" and not getattr(task, "result_to_xcom", False):
            continue  # read only with result_to_xcom
        reason = ARG_REASONS.get(name, "the Step Functions state does not carry this argument")
        out.append(Refusal(task_id, path, f"{name}={_short(value)}: {reason}", f"remove {name}"))
    return out


def _operator_args(cls: type) -> list[tuple[str, Any]]:
    """Keyword arguments (name, default) of the operator's own constructors, BaseOperator's excluded."""
    seen: dict[str, Any] = {}
    for base in cls.__mro__:
        if base.__module__.startswith(("airflow.sdk", "airflow.models")) or base is object:
            break
        init = base.__dict__.get("__init__")
        if init is None:
            continue
        for name, param in inspect.signature(init).parameters.items():
            if param.kind in (param.KEYWORD_ONLY, param.POSITIONAL_OR_KEYWORD) and name != "self":
                seen.setdefault(name, param.default)
    return list(seen.items())


def _same(value: Any, default: Any, name: str = "") -> bool:
    if default is inspect.Parameter.empty:
        return False
    if name in _UNSET_ALIASES and value == _UNSET_ALIASES[name] and default is None:
        return True
    if default is None and _unset(value):
        return True
    if type(default).__name__ == "ArgNotSet":
        return type(value).__name__ == "ArgNotSet" or value is None
    try:
        return bool(value == default)
    except Exception:  # noqa: BLE001 - an odd __eq__ means "different"
        return False


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
