"""A stock sensor right after the start of the run it watches compiles into the start's waiting state.

Users of the amazon provider often start a run without waiting and wait for it in a sensor::

    start = GlueJobOperator(task_id="start", job_name="etl", wait_for_completion=False)
    wait = GlueJobSensor(task_id="wait", job_name="etl", run_id=start.output)
    start >> wait >> load

The two tasks together mean "run the job and wait for it to end, failing when it fails", which is the
start's ``.sync`` form (``glue:startJobRun.sync``, ``states:startExecution.sync:2``; ``AthenaOperator``
waits already). The sensor disappears into that state: its downstream tasks follow the start, and a
note names it. Pairs:

- ``GlueJobSensor`` (same ``job_name``, ``run_id`` = the start's XCom) after ``GlueJobOperator``;
- ``StepFunctionExecutionSensor`` (``execution_arn`` = the start's XCom) after
  ``StepFunctionStartExecutionOperator``;
- ``AthenaSensor`` (``query_execution_id`` = the start's XCom) after ``AthenaOperator``.

The start's XCom is named as ``start.output`` or ``{{ ti.xcom_pull(task_ids='start') }}`` (also
``task_instance``, positional, ``key='return_value'``). The stock ``GlueCrawlerSensor`` has no run to
follow; it compiles on its own to the crawler poll loop (``fragments.glue_crawler``). The provider has
no DataBrew job sensor.

The merged state keeps the meaning only when nothing runs between the two and neither task has a
setting the single state would change; otherwise the sensor is refused, saying why:

- the sensor's only upstream task is the start and the start's only downstream task is the sensor
  (a task beside the sensor would run while the run goes on in Airflow, after it ends in the machine);
- the start has no ``retries`` and no ``execution_timeout`` when it does not wait itself: in
  Airflow they cover the start call only, on the merged state a retry would run the job again after
  it failed and the timeout would bound the whole run;
- the sensor keeps the default trigger rule, sets no callbacks, ``soft_fail``, ``execution_timeout``
  or (``AthenaSensor``) ``max_retries``. Its ``timeout`` becomes the merged state's
  ``TimeoutSeconds`` (it then also counts the start call, which returns at once). Its ``retries``
  change nothing: a retried sensor looks at the same ended run again and fails again. Its
  ``poke_interval``, ``mode`` and backoff only tune the worker's polling.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from airflow_sfn_etl.asl.fragments.registry import STOCK_ATHENA, STOCK_GLUE_JOB, STOCK_START_EXECUTION, class_path
from airflow_sfn_etl.asl.ir import Fragment, Task
from airflow_sfn_etl.asl.refusals import _BASE_SETTINGS, SENSOR_DEFAULT_TIMEOUT, Refusal, _short, _unset

SENSORS_PKG = "airflow.providers.amazon.aws.sensors"


@dataclass(frozen=True)
class _Pair:
    """A sensor class, the start operator class it follows, the sensor's argument naming the start's run,
    the arguments that must equal the start's, and whether the start waits by itself."""

    start: str
    run_arg: str
    same: tuple[tuple[str, str], ...] = ()
    extra_refused: tuple[str, ...] = ()


PAIRS = {
    f"{SENSORS_PKG}.glue.GlueJobSensor": _Pair(STOCK_GLUE_JOB, "run_id", (("job_name", "job_name"),)),
    f"{SENSORS_PKG}.step_function.StepFunctionExecutionSensor": _Pair(STOCK_START_EXECUTION, "execution_arn"),
    f"{SENSORS_PKG}.athena.AthenaSensor": _Pair(STOCK_ATHENA, "query_execution_id", extra_refused=("max_retries",)),
}

_XCOM_PULL = re.compile(
    r"""^\{\{\s*(?:ti|task_instance)\.xcom_pull\(\s*(?:task_ids\s*=\s*)?(?P<q>['"])(?P<task>[^'"]+)(?P=q)"""
    r"""\s*(?:,\s*key\s*=\s*(?P<k>['"])return_value(?P=k)\s*)?\)\s*\}\}$"""
)


@dataclass
class SensorMerge:
    """What :func:`plan` found: sensors merged into their start, and sensors refused."""

    #: sensor task id -> the start task id it is merged into
    absorbed: dict[str, str] = field(default_factory=dict)
    #: start task id -> TimeoutSeconds from its sensor's timeout
    timeouts: dict[str, int] = field(default_factory=dict)
    refusals: list[Refusal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def waits(self) -> dict[str, str]:
        """start task id -> the sensor merged into it."""
        return {start: sensor for sensor, start in self.absorbed.items()}

    @property
    def handled(self) -> set[str]:
        """Sensor task ids this module decided on (merged or refused)."""
        return set(self.absorbed) | {r.task_id for r in self.refusals}

    def contract(self, edges: set[tuple[str, str]]) -> set[tuple[str, str]]:
        """The DAG's edges with each merged sensor replaced by its start."""
        out: set[tuple[str, str]] = set()
        for up, down in edges:
            if up in self.absorbed and down == self.absorbed.get(up):
                continue
            up, down = self.absorbed.get(up, up), self.absorbed.get(down, down)
            if up != down:
                out.add((up, down))
        return out

    def apply(self, task_id: str, fragment: Fragment) -> None:
        """Set the merged state's TimeoutSeconds from its sensor's timeout."""
        seconds = self.timeouts.get(task_id)
        if seconds is not None:
            start = next(s for s in fragment.states if s.name == fragment.start)
            assert isinstance(start, Task)
            start.timeout_seconds = seconds


def pair_of(cls: type) -> tuple[str, _Pair] | None:
    """The sensor class path and its pair, for a sensor class (or a subclass) of :data:`PAIRS`."""
    for base in cls.__mro__:
        path = class_path(base)
        if path in PAIRS:
            return path, PAIRS[path]
    return None


def _start_of(value: Any) -> str | None:
    """The task id whose return value ``value`` pulls (an XComArg or an ``xcom_pull`` template)."""
    operator = getattr(value, "operator", None)
    if operator is not None and getattr(value, "key", "return_value") == "return_value":
        return str(operator.task_id)
    if isinstance(value, str):
        match = _XCOM_PULL.match(value.strip())
        if match:
            return match.group("task")
    return None


def _is(cls: type, path: str) -> bool:
    return any(class_path(base) == path for base in cls.__mro__)


def _waits_itself(start: Any, pair: _Pair) -> bool:
    if pair.start == STOCK_ATHENA:
        return True
    if pair.start == STOCK_START_EXECUTION:
        return bool(getattr(start, "deferrable", False))
    return bool(getattr(start, "wait_for_completion", True)) or bool(getattr(start, "deferrable", False))


def plan(dag: Any) -> SensorMerge:
    """Find the sensors to merge into their start, and refuse the others with the reason."""
    out = SensorMerge()
    tasks = dag.task_dict
    for sensor_id in sorted(tasks):
        sensor = tasks[sensor_id]
        found = pair_of(type(sensor))
        if found is None:
            continue
        path, pair = found
        reasons: list[tuple[str, str]] = []

        def refuse(reason: str, instead: str, reasons: list[tuple[str, str]] = reasons) -> None:
            reasons.append((reason, instead))

        start_id = _start_of(getattr(sensor, pair.run_arg, None))
        start = tasks.get(start_id) if start_id else None
        start_name = pair.start.rsplit(".", 1)[-1]
        if start is None or not _is(type(start), pair.start):
            refuse(
                f"its {pair.run_arg} does not name the run of a {pair.start} task of this DAG (the sensor "
                "compiles only into the state of the start it follows)",
                f"start the run with {start_name} and pass {pair.run_arg}=<start>.output",
            )
        else:
            _check_pair(sensor, start, pair, refuse, out)
        if reasons:
            out.refusals.extend(Refusal(sensor_id, path, reason, instead) for reason, instead in reasons)
            continue
        assert start_id is not None
        out.absorbed[sensor_id] = start_id
        out.notes.append(
            f"Task '{sensor_id}' ({path.rsplit('.', 1)[-1]}) waits for the run '{start_id}' starts: it is "
            f"compiled into the state of '{start_id}', which waits for the run to end"
        )
    return out


def _check_pair(sensor: Any, start: Any, pair: _Pair, refuse: Any, out: SensorMerge) -> None:
    sensor_id, start_id = str(sensor.task_id), str(start.task_id)
    if set(sensor.upstream_task_ids) != {start_id} or set(start.downstream_task_ids) != {sensor_id}:
        others = sorted((set(sensor.upstream_task_ids) | set(start.downstream_task_ids)) - {start_id, sensor_id})
        refuse(
            f"tasks other than '{start_id}' and this sensor are linked between them ({', '.join(others)}): "
            "in Airflow they run while the run goes on, in the merged state only after it ends",
            f"make '{start_id}' >> '{sensor_id}' a chain of its own, with other tasks after the sensor",
        )
    for sensor_arg, start_arg in pair.same:
        if getattr(sensor, sensor_arg, None) != getattr(start, start_arg, None):
            refuse(
                f"{sensor_arg}={_short(getattr(sensor, sensor_arg, None))} differs from the start's "
                f"{start_arg}={_short(getattr(start, start_arg, None))}",
                f"give the sensor the start's {start_arg}",
            )
    for name in pair.extra_refused:
        if getattr(sensor, name, None) is not None:
            refuse(f"{name}={_short(getattr(sensor, name))}: the merged state waits without a poll limit",
                   f"remove {name} (use the sensor's timeout)")
    rule = str(getattr(getattr(sensor, "trigger_rule", None), "value", getattr(sensor, "trigger_rule", "")))
    if rule not in ("", "all_success"):
        refuse(f"trigger_rule='{rule}': the merged state runs right after the start", "remove the trigger rule")
    for attr, reason in _BASE_SETTINGS:
        value = getattr(sensor, attr, None)
        if not _unset(value):
            refuse(f"{attr}={_short(value)}: {reason}", f"remove {attr}")
    if getattr(sensor, "execution_timeout", None):
        refuse(
            f"execution_timeout={sensor.execution_timeout}: it bounds one poke, which the merged state has not",
            "bound the wait with the sensor's timeout",
        )
    if _waits_itself(start, pair):
        return  # the start's state waits already: the sensor adds nothing
    if int(getattr(start, "retries", 0) or 0) > 0:
        refuse(
            f"the start '{start_id}' has retries={start.retries}: they retry the start call, while on the "
            "merged state a retry would run it again after the run failed",
            f"set retries=0 on '{start_id}', or let it wait (wait_for_completion=True or deferrable=True) "
            "without the sensor, where a retry runs it again in Airflow too",
        )
    if getattr(start, "execution_timeout", None):
        refuse(
            f"the start '{start_id}' has execution_timeout={start.execution_timeout}: it bounds the start call, "
            "on the merged state it would bound the whole run",
            f"remove execution_timeout from '{start_id}' and bound the wait with the sensor's timeout",
        )
    timeout = getattr(sensor, "timeout", SENSOR_DEFAULT_TIMEOUT)
    seconds = timeout.total_seconds() if hasattr(timeout, "total_seconds") else timeout
    if seconds is not None and float(seconds) != SENSOR_DEFAULT_TIMEOUT:
        out.timeouts[start_id] = max(1, math.ceil(float(seconds)))
