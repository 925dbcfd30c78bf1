"""Trigger rules other than ``all_success``, compiled to ``Catch`` paths where the semantics are the same.

The compiled machine is the DAG's top-level sequence of items (a task or a Parallel state). A task
``T`` with one of these rules in that sequence, after single tasks only (no Parallel state since the
previous such task or the start), compiles as follows:

- ``all_done``: every Task state from the previous trigger-rule task (or the start) up to ``T`` gets
  a ``Catch`` of ``States.ALL`` leading to ``T``, so ``T`` runs whether they succeed or fail (a failed
  task makes its downstream tasks ``upstream_failed``, which is "done" too), and what follows ``T``
  runs as after any task;
- ``one_failed`` / ``all_failed`` (the same when the upstream is one chain): the same ``Catch`` paths
  lead to ``T``, and the success path of the task before ``T`` goes to a ``Succeed`` state instead:
  ``T`` and everything after it are skipped in Airflow, and a run whose leaves are skipped succeeds.

In Airflow a run's state is that of its leaf tasks, so a run whose failed task is handled by such a
task succeeds when the handler succeeds; so does the execution. Refused, naming the task and rule:
any other rule; a rule on a task inside a Parallel branch; a Parallel state before the task (a
failed branch cancels its siblings, which in Airflow run on); a task before it whose fragment has
its own Fail state (a Catch cannot redirect it); a trigger rule on a task after a ``one_failed`` /
``all_failed`` task. A task without upstream tasks runs at once under any rule, as in Airflow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from airflow_sfn_etl.asl.context import MAX_STATE_NAME
from airflow_sfn_etl.asl.ir import EXIT, Catch, Choice, Fail, Fragment, Parallel, Succeed, Task, _Chainable
from airflow_sfn_etl.asl.refusals import Refusal

DEFAULT_RULE = "all_success"
COMPILED_RULES = ("all_done", "one_failed", "all_failed")
_ON_FAILURE = ("one_failed", "all_failed")


def rule_of(task: Any) -> str:
    """The task's trigger rule as text (``all_success`` when unset)."""
    rule = getattr(task, "trigger_rule", DEFAULT_RULE)
    return str(getattr(rule, "value", rule) or DEFAULT_RULE)


@dataclass(frozen=True)
class TriggerPoint:
    """A top-level item (index) whose task has a compiled trigger rule; its segment starts at ``since``."""

    index: int
    task_id: str
    rule: str
    since: int


def plan(dag: Any, items: Sequence[object], path_of: Any) -> tuple[list[TriggerPoint], list[Refusal]]:
    """The trigger points of the top-level sequence ``items`` and the refusals of the other rules."""
    tasks = dag.task_dict
    top = {item: i for i, item in enumerate(items) if isinstance(item, str)}
    points: list[TriggerPoint] = []
    refusals: list[Refusal] = []
    ruled = sorted(
        (t for t in tasks.values() if rule_of(t) != DEFAULT_RULE and t.upstream_task_ids),
        key=lambda t: (top.get(t.task_id, len(items)), t.task_id),
    )
    last = 0
    after_failure_rule: str | None = None
    for task in ruled:
        rule = rule_of(task)

        def refuse(reason: str, instead: str, task: Any = task, rule: str = rule) -> None:
            refusals.append(Refusal(task.task_id, path_of(task), f"trigger_rule='{rule}': {reason}", instead))

        if rule not in COMPILED_RULES:
            refuse(
                "this trigger rule is not supported (all_success, all_done, one_failed and all_failed compile)",
                "use one of those rules, or leave the default all_success",
            )
            continue
        index = top.get(task.task_id)
        if index is None:
            refuse(
                "a task with this rule inside parallel branches is not supported",
                "put it after the branches' join, in the DAG's main sequence",
            )
            continue
        if after_failure_rule is not None:
            refuse(
                f"it comes after the {after_failure_rule} task, whose skip would have to reach it",
                "keep one one_failed/all_failed task at the end of the DAG",
            )
            continue
        if any(not isinstance(items[k], str) for k in range(last, index)):
            refuse(
                "parallel branches run before it: in Step Functions a failed branch cancels the other "
                "branches, which Airflow runs on",
                "make the upstream tasks a single chain",
            )
            last = index
            continue
        points.append(TriggerPoint(index=index, task_id=task.task_id, rule=rule, since=last))
        last = index
        if rule in _ON_FAILURE:
            after_failure_rule = f"'{task.task_id}' ({rule})"
    return points, refusals


def fail_state_refusals(
    points: list[TriggerPoint], fragments: list[Fragment], items: Sequence[object], dag: Any, path_of: Any
) -> list[Refusal]:
    """Refusals for trigger points whose upstream fragments end in a Fail state of their own."""
    out: list[Refusal] = []
    for point in points:
        failing = [str(items[k]) for k in range(point.since, point.index)
                   if any(isinstance(s, Fail) for s in fragments[k].states)]
        if failing:
            task = dag.task_dict[point.task_id]
            out.append(
                Refusal(
                    point.task_id,
                    path_of(task),
                    f"trigger_rule='{point.rule}': upstream task(s) {', '.join(failing)} fail through a "
                    "Fail state of their own, which a Catch cannot lead to this task",
                    "give the rule to a task after a Glue/Athena/DataBrew/SNS task, or keep all_success",
                )
            )
    return out


def apply(points: list[TriggerPoint], fragments: list[Fragment]) -> None:
    """Add the Catch paths (and the skip path of one_failed/all_failed) to the top-level fragments."""
    for point in points:
        target = fragments[point.index]
        for k in range(point.since, point.index):
            for state in fragments[k].states:
                if isinstance(state, (Task, Parallel)):
                    state.catch.append(Catch(error_equals=("States.ALL",), next=target.start, result_path=None))
        first = next(s for s in target.states if s.name == target.start)
        if first.comment is None:
            first.comment = _comment(point.rule)
        if point.rule in _ON_FAILURE:
            before = fragments[point.index - 1]
            skip = f"{target.name}: Skipped"[:MAX_STATE_NAME]
            for state in before.states:
                _to(state, skip)
            before.states.append(Succeed(name=skip, comment=f"No upstream task failed: {target.name} is skipped"))


def _comment(rule: str) -> str:
    if rule == "all_done":
        return "trigger_rule all_done: runs after the upstream tasks whether they succeeded or failed"
    return f"trigger_rule {rule}: runs only when an upstream task failed"


def _to(state: object, skip: str) -> None:
    """Point the state's success exits (EXIT) at ``skip``."""
    if isinstance(state, _Chainable) and state.next == EXIT:
        state.next = skip
    if isinstance(state, Choice):
        for rule in state.choices:
            if rule.next == EXIT:
                rule.next = skip
        if state.default == EXIT:
            state.default = skip
    if isinstance(state, (Task, Parallel)):
        for catch in state.catch:
            if catch.next == EXIT:
                catch.next = skip
