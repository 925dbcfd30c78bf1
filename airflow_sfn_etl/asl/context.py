"""What a fragment function gets to know about its task: :class:`AslContext`."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, overload

from airflow_sfn_etl.asl.errors import AslCompileError, TemplateMappingError
from airflow_sfn_etl.asl.ir import Retry
from airflow_sfn_etl.asl.templates import (
    ContextRef,
    Mapped,
    MappedValue,
    ParamRef,
    XComResolver,
    format_expression,
    map_value,
    put,
)

if TYPE_CHECKING:
    from airflow.sdk.types import Operator

MAX_STATE_NAME = 80

#: Region and account of the running state machine, read from its own ARN (context object).
REGION_EXPR = "States.ArrayGetItem(States.StringSplit($$.StateMachine.Id, ':'), 3)"
ACCOUNT_EXPR = "States.ArrayGetItem(States.StringSplit($$.StateMachine.Id, ':'), 4)"


def state_name_of(task: Operator) -> str:
    """The state name for a task: its ``task_display_name`` if set, else its ``task_id``."""
    name = getattr(task, "task_display_name", None) or task.task_id
    return str(name)


def _seconds(value: timedelta | float | int | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def airflow_max_retry_delay() -> int:
    """Airflow's cap on any retry delay, in seconds (``[core] max_task_retry_delay``, default one day)."""
    from airflow.sdk.definitions._internal.abstractoperator import MAX_RETRY_DELAY

    return int(MAX_RETRY_DELAY)


def retry_of(task: Operator) -> list[Retry]:
    """The ``Retry`` list equivalent to a task's ``retries`` / ``retry_delay`` / backoff settings.

    ``retries`` -> ``MaxAttempts``, ``retry_delay`` -> ``IntervalSeconds`` (at least 1),
    ``retry_exponential_backoff`` -> ``BackoffRate`` (True: 2.0, a number: that multiplier),
    ``max_retry_delay`` -> ``MaxDelaySeconds`` (without it, a backed-off delay that would pass Airflow's
    own cap, ``[core] max_task_retry_delay``, gets that cap). No ``JitterStrategy``: Airflow waits
    between once and twice the backed-off delay (a per-try hash), while ``FULL`` jitter would wait
    between zero and it, sooner than Airflow ever retries; without jitter the state waits Airflow's
    shortest delay.
    """
    retries = int(getattr(task, "retries", 0) or 0)
    if retries <= 0:
        return []
    interval = max(1, math.ceil(_seconds(getattr(task, "retry_delay", None)) or 1))
    backoff_setting = getattr(task, "retry_exponential_backoff", 0)
    if backoff_setting is True:
        backoff = 2.0
    elif not backoff_setting:
        backoff = 1.0
    else:
        backoff = float(backoff_setting)
        if backoff < 1.0:
            raise AslCompileError(
                f"Task '{task.task_id}': retry_exponential_backoff={backoff_setting!r} shrinks the delay; "
                "Step Functions needs a BackoffRate >= 1.0. Use 0 (constant delay) or a multiplier >= 1."
            )
    max_delay = _seconds(getattr(task, "max_retry_delay", None))
    if backoff > 1.0 and not max_delay:
        # Airflow caps a backed-off delay at [core] max_task_retry_delay; say so only where it is reached.
        cap = airflow_max_retry_delay()
        if interval * backoff ** (retries - 1) > cap:
            max_delay = float(cap)
    return [
        Retry(
            error_equals=("States.ALL",),
            interval_seconds=interval,
            max_attempts=retries,
            backoff_rate=backoff,
            max_delay_seconds=math.ceil(max_delay) if max_delay else None,
        )
    ]


@dataclass
class AslContext:
    """Everything a fragment function needs besides the operator itself.

    :param task: the operator being compiled.
    :param state_name: the state name for the task (display name, else task_id).
    :param retry: the task's Retry list, derived from its retries settings.
    :param region: AWS region for ARNs built from names; None -> read from the running machine's ARN.
    :param account: AWS account id, same rule as ``region``.
    :param search_path: folders where ``.sql`` (template_ext) files are looked up.
    :param param_defaults: default values of the DAG's params.
    :param xcom: resolves the XCom of another task read by this one (None: XCom is refused).
    :param waited_by: the task id of the stock sensor merged into this task (its state then waits
        for the run it starts; :mod:`airflow_sfn_etl.asl.sensors`).
    """

    task: Operator
    state_name: str
    retry: list[Retry]
    region: str | None = None
    account: str | None = None
    search_path: tuple[str, ...] = ()
    param_defaults: dict[str, Any] = field(default_factory=dict)
    params_used: set[str] = field(default_factory=set)
    waited_by: str | None = None
    notes: list[str] = field(default_factory=list)
    xcom: XComResolver | None = None

    @property
    def task_id(self) -> str:
        """The Airflow task id."""
        return str(self.task.task_id)

    @property
    def data_key(self) -> str:
        """A state-data key unique to this task, for values a fragment keeps between its states."""
        return re.sub(r"[^A-Za-z0-9_]", "_", self.task_id)

    @property
    def timeout_seconds(self) -> int | None:
        """The task's ``execution_timeout`` in whole seconds, if set."""
        seconds = _seconds(getattr(self.task, "execution_timeout", None))
        return max(1, math.ceil(seconds)) if seconds else None

    def sub_name(self, suffix: str) -> str:
        """Name of an internal state of this task's fragment: ``"<state name>: <suffix>"``."""
        name = f"{self.state_name}: {suffix}"
        if len(name) > MAX_STATE_NAME:
            raise AslCompileError(
                f"Task '{self.task_id}': state name {name!r} is longer than {MAX_STATE_NAME} characters; "
                "set a shorter task_display_name."
            )
        return name

    @overload
    def template(self, field_name: str, value: str) -> Mapped: ...

    @overload
    def template(self, field_name: str, value: object) -> MappedValue: ...

    def template(self, field_name: str, value: object) -> MappedValue:
        """Map a templated value to ASL (see :mod:`airflow_sfn_etl.asl.templates`)."""
        return map_value(value, task_id=self.task_id, field=field_name, used=self.params_used, xcom=self.xcom)

    def put(self, target: dict[str, Any], key: str, field_name: str, value: object) -> None:
        """Map ``value`` and store it under ``key`` (``key.$`` when it comes from the input)."""
        put(target, key, self.template(field_name, value))

    def resolve_template_file(self, field_name: str, value: str) -> str:
        """Return the text of a template file (``template_ext``) named by ``value``, else ``value``."""
        exts = tuple(getattr(self.task, "template_ext", ()) or ())
        if not exts or not isinstance(value, str) or not value.strip().endswith(exts):
            return value
        relative = value.strip()
        candidates = (
            [relative] if os.path.isabs(relative) else [os.path.join(d, relative) for d in self.search_path]
        )
        for path in candidates:
            if os.path.isfile(path):
                with open(path, encoding="utf-8") as handle:
                    return handle.read().rstrip()
        raise TemplateMappingError(
            f"Task '{self.task_id}': field '{field_name}' names the template file {relative!r}, which is "
            f"not in the DAG folder or template_searchpath ({', '.join(self.search_path) or 'none'})."
        )

    def note(self, message: str) -> None:
        """Record a note for the user (shown by the CLI, kept in the state machine)."""
        self.notes.append(f"{self.state_name}: {message}")

    def arn(self, service: str, resource: str | Mapped) -> Mapped:
        """An ARN in this machine's region/account: literal when both are known, else an intrinsic."""
        if isinstance(resource, Mapped) and not resource.dynamic:
            resource = str(resource.literal)
        if self.region and self.account and isinstance(resource, str):
            return Mapped(literal=f"arn:aws:{service}:{self.region}:{self.account}:{resource}")
        parts: list[str | ParamRef | ContextRef | Mapped] = [f"arn:aws:{service}:"]
        parts.append(Mapped(literal=self.region) if self.region else Mapped(expression=REGION_EXPR))
        parts.append(":")
        parts.append(Mapped(literal=self.account) if self.account else Mapped(expression=ACCOUNT_EXPR))
        parts.append(":")
        parts.append(resource if isinstance(resource, Mapped) else Mapped(literal=resource))
        return Mapped(
            expression=format_expression(parts),
            params=resource.params if isinstance(resource, Mapped) else (),
        )
