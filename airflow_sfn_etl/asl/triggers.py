"""Trigger rules other than ``all_success``, and setup/teardown tasks, compiled where the semantics are the same.

No task of a compiled DAG is ever skipped before a rule task runs (branching and mapping over empty
lists are refused; the only tasks that skip are those compiled here with a skip path, and no rule
task may follow one). Without skips, the rules reduce as follows, where ``D`` is the task's declared
upstream tasks (Airflow evaluates a rule over its direct upstream tasks only):

- ``none_failed``, ``none_failed_min_one_success``, and ``one_success`` with one upstream task, behave
  as ``all_success``: they compile as the default, anywhere, also inside ``Parallel`` branches.
- The others compile in the DAG's main sequence, over the items from the previous rule task (or the
  start) up to the task ``T`` (the segment ``s1 .. sm``). When ``sk`` fails first, the items after it
  in the segment are ``upstream_failed``; with ``p`` the first position of ``D`` in the segment:

  ============================== ============== ==================================================
  rule                           no failure     failure of ``sk``
  ============================== ============== ==================================================
  ``all_done``, ``none_skipped`` runs           runs
  ``always``                     runs           runs (Airflow starts it at once; here it waits)
  ``one_failed``                 skipped        runs
  ``all_failed``                 skipped        runs if ``k <= p``, else skipped
  ``one_done``                   runs           runs if ``k >= p``, else skipped
  ``all_done_min_one_success``   runs           runs if ``k > p``, else the run fails
  teardown (``as_teardown``)     runs           runs if ``k`` is after the first setup task of
                                                ``D``, else the run fails
  ============================== ============== ==================================================

  "runs" on a failure is a ``Catch`` of ``States.ALL`` on ``sk``'s states leading to ``T``; "skipped"
  leads to a ``Succeed`` state ``<T>: Skipped`` (a run whose leaves are skipped succeeds in Airflow,
  even when a task before them failed); "the run fails" is no ``Catch``. An item whose failure is
  caught must be a single task: a failed ``Parallel`` branch cancels its siblings, which Airflow runs
  on. When the rule skips ``T`` without a failure, the success path of ``sm`` leads to that
  ``Succeed`` state too.
- A teardown (left out of the run's state, Airflow's default) must be the last task. Its ``Catch``
  paths keep the failure in the state data (``$.<task>__failure``); the teardown's own failure is
  caught, and a ``Choice`` after it fails the run when the work failed, with the error
  ``TaskFailedBeforeTeardown`` and the cause ``<the work's error>: <its cause>`` (a Fail state may not
  raise the reserved ``States.`` errors): the run's result is the work's, as Airflow leaves teardown
  tasks out of the run's state. With ``on_failure_fail_dagrun=True`` the teardown counts as any task
  (Airflow then takes it, not the work before it, as the run's leaf): the same ``Catch`` paths lead to
  it, and its own result is the run's. A setup task
  (``as_setup``) compiles as any task.

Refused, naming the task and rule: ``all_skipped`` (it would never run); ``one_success`` with several
upstream tasks (Airflow starts it when the first succeeds); a main-sequence rule on a task inside
``Parallel`` branches, or after one whose failure it catches; an upstream task of ``T`` before the
segment or inside a ``Parallel`` state; a rule that would run after the previous rule task ended
``upstream_failed`` (where that task's rule lets the failure end the run); a task of the
segment that is also a direct upstream task of a task after ``T`` (Airflow would not run that task
after the failure, the machine would); a task of the segment that is not upstream of ``T`` (put
before it by a synchronisation point, ``asl.order``); any rule after a task that can be skipped. A
caught task whose fragment fails through a Fail state of its own (a crawler's poll loop) runs inside
a one-branch ``Parallel`` state that carries the ``Catch``. A task without upstream
tasks runs at once under any rule, as in Airflow.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_sfn_etl.asl.context import MAX_STATE_NAME
from airflow_sfn_etl.asl.ir import (
    EXIT,
    Catch,
    Choice,
    ChoiceRule,
    Fail,
    Fragment,
    Parallel,
    Succeed,
    Task,
    _Chainable,
)
from airflow_sfn_etl.asl.refusals import Refusal

DEFAULT_RULE = "all_success"
#: Rules that behave as all_success when no upstream task can be skipped (one_success: with one upstream).
AS_DEFAULT = ("none_failed", "none_failed_min_one_success", "one_success")
#: Rules compiled to Catch paths in the main sequence.
CAUGHT = (
    "all_done",
    "none_skipped",
    "always",
    "one_failed",
    "all_failed",
    "one_done",
    "all_done_min_one_success",
    "all_done_setup_success",
)
COMPILED_RULES = (DEFAULT_RULE, *AS_DEFAULT, *CAUGHT)
RUN, SKIP, FAIL = "run", "skip", "fail"
#: The error a run fails with after its teardown when the work failed (the cause: the work's error and cause).
TEARDOWN_ERROR = "TaskFailedBeforeTeardown"


def rule_of(task: Any) -> str:
    """The task's trigger rule as text (``all_success`` when unset)."""
    rule = getattr(task, "trigger_rule", DEFAULT_RULE)
    return str(getattr(rule, "value", rule) or DEFAULT_RULE)


@dataclass(frozen=True)
class TriggerPoint:
    """A top-level item (index) whose task has a compiled rule; its segment starts at ``since``.

    ``on_failure`` gives, per item index of the segment, what a failure there leads to (RUN, SKIP or
    FAIL); ``on_success`` what the segment's success leads to; ``teardown`` marks a teardown task left
    out of the run's state, whose own failure is caught.
    """

    index: int
    task_id: str
    rule: str
    since: int
    on_failure: dict[int, str] = field(default_factory=dict)
    on_success: str = RUN
    teardown: bool = False
    data_key: str = ""


def _outcome(rule: str, k: int, first_upstream: int, first_setup: int | None) -> str:
    """What a failure at segment position ``k`` leads to (positions count from 0)."""
    if rule in ("all_done", "none_skipped", "always"):
        return RUN
    if rule == "one_failed":
        return RUN
    if rule == "all_failed":
        return RUN if k <= first_upstream else SKIP
    if rule == "one_done":
        return RUN if k >= first_upstream else SKIP
    if rule == "all_done_min_one_success":
        return RUN if k > first_upstream else FAIL
    # all_done_setup_success: runs when at least one setup task succeeded (any upstream done).
    if first_setup is None:
        return RUN
    return RUN if k > first_setup else FAIL


def _ancestors(tasks: dict[str, Any], task_id: str) -> set[str]:
    """Every task upstream of ``task_id``, directly or not (Airflow's own walk of the DAG)."""
    relatives: set[str] = tasks[task_id].get_flat_relative_ids(upstream=True)
    return relatives


def _item_tasks(item: object) -> set[str]:
    if isinstance(item, str):
        return {item}
    if isinstance(item, list):
        return set().union(*(_item_tasks(i) for i in item)) if item else set()
    branches = getattr(item, "branches", [])
    return set().union(*(_item_tasks(b) for b in branches)) if branches else set()


def plan(dag: Any, items: Sequence[object], path_of: Any) -> tuple[list[TriggerPoint], list[Refusal]]:
    """The trigger points of the top-level sequence ``items`` and the refusals of what cannot compile."""
    tasks = dag.task_dict
    top = {item: i for i, item in enumerate(items) if isinstance(item, str)}
    top_of = {t: i for i, item in enumerate(items) for t in _item_tasks(item)}
    points: list[TriggerPoint] = []
    refusals: list[Refusal] = []
    ruled = sorted(
        (t for t in tasks.values() if (rule_of(t) != DEFAULT_RULE or getattr(t, "is_teardown", False))
         and t.upstream_task_ids),
        key=lambda t: (top_of.get(t.task_id, len(items)), t.task_id),
    )
    last = 0
    skipping: str | None = None
    skip_index = len(items)
    for task in ruled:
        rule = rule_of(task)
        is_teardown = bool(getattr(task, "is_teardown", False))
        # A teardown left out of the run's state (Airflow's default); with on_failure_fail_dagrun it counts
        # as any task, and its rule (all_done_setup_success) compiles as such.
        teardown = is_teardown and not getattr(task, "on_failure_fail_dagrun", False)

        def refuse(reason: str, instead: str, task: Any = task, rule: str = rule) -> None:
            what = "teardown" if getattr(task, "is_teardown", False) else f"trigger_rule='{rule}'"
            refusals.append(Refusal(task.task_id, path_of(task), f"{what}: {reason}", instead))

        if rule not in COMPILED_RULES:
            refuse(
                "no upstream task of a compiled DAG is ever skipped, so the task would never run"
                if rule == "all_skipped"
                else "this trigger rule is not supported",
                "remove the task" if rule == "all_skipped" else "use all_success, all_done or one_failed",
            )
            continue
        if skipping is not None and top_of.get(task.task_id, len(items)) > skip_index:
            refuse(
                f"it comes after the {skipping} task, whose skip would have to reach it",
                "keep one task that can be skipped (one_failed, all_failed, one_done) at the end of the DAG",
            )
            continue
        if rule in AS_DEFAULT and not is_teardown:
            if rule == "one_success" and len(task.upstream_task_ids) > 1:
                refuse(
                    "with several upstream tasks Airflow starts it as soon as one of them succeeds, while "
                    "the others still run",
                    "give it one upstream task (a join task), or use all_success",
                )
            continue  # all_success without skips
        if is_teardown and rule != "all_done_setup_success":
            refuse("a teardown task keeps the all_done_setup_success rule", "leave the teardown's rule as it is")
            continue
        index = top.get(task.task_id)
        if index is None:
            refuse(
                "a task with this rule inside parallel branches is not supported",
                "put it after the branches' join, in the DAG's main sequence",
            )
            continue
        segment = list(items[last:index])
        upstream = set(task.upstream_task_ids)
        outside = sorted(upstream - {t for t in segment if isinstance(t, str)})
        if outside:
            inside = sorted(set(outside) & set().union(*(_item_tasks(t) for t in segment)))
            refuse(
                f"its upstream task(s) {', '.join(inside)} run in parallel branches before it: in Step Functions "
                "a failed branch cancels the other branches, which Airflow runs on"
                if inside
                else f"its upstream task(s) {', '.join(outside)} come before the previous trigger-rule task, "
                "whose Catch paths hide their failure from it",
                "make the upstream tasks a single chain"
                if inside
                else "make it depend on the tasks after the previous trigger-rule task only",
            )
            last = index
            continue
        first_upstream = min(i for i, t in enumerate(segment) if isinstance(t, str) and t in upstream)
        setups = [
            i for i, t in enumerate(segment)
            if isinstance(t, str) and t in upstream and getattr(tasks[t], "is_setup", False)
        ]
        first_setup = min(setups) if setups else None
        on_failure = {
            last + k: _outcome(rule, k, first_upstream, first_setup) for k in range(len(segment))
        }
        if any(not isinstance(items[k], str) for k, outcome in on_failure.items() if outcome != FAIL):
            refuse(
                "parallel branches run before it: in Step Functions a failed branch cancels the other "
                "branches, which Airflow runs on",
                "make the upstream tasks a single chain",
            )
            last = index
            continue
        caught = [str(items[k]) for k, outcome in on_failure.items() if outcome != FAIL]
        names = set().union(*(_item_tasks(t) for t in segment))
        problem = _segment_problem(tasks, task, names, caught, items[index + 1 :], teardown)
        if problem is not None:
            refuse(*problem)
            last = index
            continue
        previous = points[-1] if points and points[-1].index == last else None
        if previous is not None and FAIL in previous.on_failure.values() and on_failure[last] != FAIL:
            refuse(
                f"'{previous.task_id}' ({previous.rule}) before it ends upstream_failed after some failures, which "
                "it would run after in Airflow, while in the machine those failures end the run",
                f"keep all_success on it, or give '{previous.task_id}' another rule",
            )
            last = index
            continue
        on_success = SKIP if rule in ("one_failed", "all_failed") else RUN
        points.append(
            TriggerPoint(
                index=index,
                task_id=task.task_id,
                rule=rule,
                since=last,
                on_failure=on_failure,
                on_success=on_success,
                teardown=teardown,
                data_key=re.sub(r"[^A-Za-z0-9_]", "_", str(task.task_id)),
            )
        )
        last = index
        if SKIP in on_failure.values() or on_success == SKIP:
            skipping, skip_index = f"'{task.task_id}' ({rule})", index
    return points, refusals


def _segment_problem(
    tasks: dict[str, Any], task: Any, segment: set[str], caught: list[str], after: Sequence[object], teardown: bool
) -> tuple[str, str] | None:
    """Why the segment before a rule task cannot carry its Catch paths (reason, instead), if it cannot.

    ``caught`` are the segment's tasks whose failure the rule catches (the others fail the run, as in
    Airflow, where their failure reaches every task after them).
    """
    task_id = str(task.task_id)
    ancestors = _ancestors(tasks, task_id)
    strangers = [t for t in caught if t not in ancestors]
    if strangers:
        return (
            f"the tasks {', '.join(strangers)} are not upstream of it but run before it (a synchronisation point "
            "added to nest the DAG), so their failure would trigger it",
            "declare the dependencies the compiler adds, or make the DAG series-parallel",
        )
    for up in caught:
        jumps = sorted(set(tasks[up].downstream_task_ids) - segment - {task_id})
        if jumps:
            return (
                f"{up} is also a direct upstream task of {', '.join(jumps)} after it: when {up} fails, Airflow "
                f"does not run {', '.join(jumps)}, while the Catch path would",
                f"remove the dependency {up} >> {jumps[0]} ({jumps[0]} already runs after {task_id})",
            )
    if teardown and (after or task.downstream_task_ids):
        return ("tasks run after it, while a teardown's failure does not count", "make the teardown the last task")
    return None


def wrap_failing(points: list[TriggerPoint], fragments: list[Fragment]) -> None:
    """Put each caught fragment that fails through a Fail state of its own (a crawler's poll loop) into a
    one-branch ``Parallel`` state, whose ``Catch`` then catches that failure too; likewise a teardown
    whose own failure is caught."""
    from airflow_sfn_etl.asl.builder import link  # the builder imports this module

    wrap = {k for p in points for k, outcome in p.on_failure.items() if outcome != FAIL}
    wrap |= {p.index for p in points if p.teardown}
    for k in sorted(wrap):
        fragment = fragments[k]
        if not any(isinstance(s, Fail) for s in fragment.states):
            continue
        name = f"{fragment.name}: Run"[:MAX_STATE_NAME]
        wrapper = Parallel(
            name=name,
            comment=f"The states of {fragment.name} as one, so that a Catch also catches its Fail states",
            branches=[link([fragment])],
            result_path=None,
        )
        fragments[k] = Fragment(name=fragment.name, start=name, states=[wrapper])


def apply(points: list[TriggerPoint], fragments: list[Fragment]) -> None:
    """Add the Catch paths (and the skip paths, and a teardown's result check) to the top-level fragments."""
    for point in points:
        target = fragments[point.index]
        before = fragments[point.index - 1]
        skip = f"{target.name}: Skipped"[:MAX_STATE_NAME]
        failure = f"$.{point.data_key}__failure" if point.teardown else None
        for k, outcome in sorted(point.on_failure.items()):
            if outcome == FAIL:
                continue
            goes_to = target.start if outcome == RUN else skip
            for state in fragments[k].states:
                if isinstance(state, (Task, Parallel)):
                    state.catch.append(Catch(error_equals=("States.ALL",), next=goes_to, result_path=failure))
        first = next(s for s in target.states if s.name == target.start)
        if first.comment is None:
            first.comment = _comment(point)
        if point.on_success == SKIP:
            for state in before.states:
                _to(state, skip)
        if point.on_success == SKIP or SKIP in point.on_failure.values():
            before.states.append(Succeed(name=skip, comment=f"{target.name} is skipped, as in Airflow"))
        if point.teardown:
            _teardown_result(point, target)


def _teardown_result(point: TriggerPoint, target: Fragment) -> None:
    """After a teardown: fail the run with the work's error when the work failed (``$.<task>__failure``)."""
    check = f"{target.name}: Work result"[:MAX_STATE_NAME]
    failed = f"{target.name}: Work failed"[:MAX_STATE_NAME]
    path = f"$.{point.data_key}__failure"
    for state in target.states:
        if isinstance(state, (Task, Parallel)):
            state.catch.append(Catch(error_equals=("States.ALL",), next=check, result_path=None))
        _to(state, check)
    target.states.append(
        Choice(
            name=check,
            comment="The run's result is the work's: a teardown's own failure does not count",
            choices=[ChoiceRule(variable=path, operator="IsPresent", value=True, next=failed)],
            default=EXIT,
        )
    )
    # Not ErrorPath: a Fail state may not raise the reserved "States." errors a failed task reports.
    target.states.append(
        Fail(
            name=failed,
            error=TEARDOWN_ERROR,
            cause_path=f"States.Format('{{}}: {{}}', {path}.Error, {path}.Cause)",
        )
    )


def _comment(point: TriggerPoint) -> str:
    if point.teardown:
        return "Teardown: runs after the work whether it succeeded or failed, once its setup succeeded"
    if point.rule in ("all_done", "none_skipped", "always"):
        extra = " (Airflow starts an 'always' task at once)" if point.rule == "always" else ""
        return f"trigger_rule {point.rule}: runs after the upstream tasks whether they succeeded or failed{extra}"
    if point.rule in ("one_failed", "all_failed"):
        return f"trigger_rule {point.rule}: runs only when an upstream task failed"
    return f"trigger_rule {point.rule}: runs or is skipped by where an upstream task failed, as in Airflow"


def _to(state: object, target: str) -> None:
    """Point the state's success exits (EXIT) at ``target``."""
    if isinstance(state, _Chainable) and state.next == EXIT:
        state.next = target
    if isinstance(state, Choice):
        for rule in state.choices:
            if rule.next == EXIT:
                rule.next = target
        if state.default == EXIT:
            state.default = target
    if isinstance(state, (Task, Parallel)):
        for catch in state.catch:
            if catch.next == EXIT:
                catch.next = target
