"""Random DAGs with random trigger rules: whenever the compiler accepts one, its state machine runs the
same tasks and ends the same way as Airflow, for every single failing task.

Both sides are evaluated here, independently of the compiler: Airflow by its trigger rules over each
task's direct upstream states and its rule for the run's state (effective leaves,
``airflow/ti_deps/deps/trigger_rule_dep.py`` and ``DagRun._tis_for_dagrun_state``); the state
machine by walking the ASL definition (``Next``, ``Catch``, ``Parallel`` branches, ``Succeed``/``Fail``).
A failed ``Parallel`` branch cancels its siblings in Step Functions while Airflow runs them on (the
documented difference that fails the run in both), so the tasks of a failed ``Parallel`` state are
left out of the comparison, and the run's outcome is compared all the same.
"""

from __future__ import annotations

import random
import warnings
from typing import Any

import pytest

from airflow_sfn_etl.asl import AslCompileError, DagShapeWarning, compile_dag, definition, validate
from airflow_sfn_etl.operators.glue import GlueJobOperator
from tests.asl.conftest import make_dag

RULES = [
    "all_success", "all_success", "all_success", "all_done", "none_skipped", "always", "one_failed",
    "all_failed", "one_done", "all_done_min_one_success", "none_failed", "none_failed_min_one_success",
    "one_success",
]


# ----------------------------------------------------------------- Airflow


def _airflow(dag: Any, failing: str | None) -> tuple[str, dict[str, str]]:
    """Each task's final state and the run's state when ``failing`` fails (every other task succeeds)."""
    tasks = dag.task_dict
    state: dict[str, str] = {}
    for task in dag.topological_sort():
        ups = [state[u] for u in task.upstream_task_ids]
        success, failed = ups.count("success"), ups.count("failed")
        upstream_failed, skipped = ups.count("upstream_failed"), ups.count("skipped")
        rule = str(getattr(task.trigger_rule, "value", task.trigger_rule))
        setups = [state[u] for u in task.upstream_task_ids if tasks[u].is_setup]
        verdict = "run"
        if ups and rule != "always":
            if rule == "all_success":
                verdict = "upstream_failed" if failed or upstream_failed else "skipped" if skipped else "run"
            elif rule == "all_failed":
                verdict = "skipped" if success or skipped else "run"
            elif rule in ("all_done", "none_skipped"):
                verdict = "skipped" if rule == "none_skipped" and skipped else "run"
            elif rule == "all_done_setup_success":
                if setups and setups.count("skipped") == len(setups):
                    verdict = "skipped"
                elif setups and "success" not in setups:
                    verdict = "upstream_failed"
            elif rule == "one_success":
                verdict = "run" if success else "skipped" if skipped == len(ups) else "upstream_failed"
            elif rule == "one_failed":
                verdict = "run" if failed or upstream_failed else "skipped"
            elif rule == "one_done":
                verdict = "run" if success or failed else "skipped"
            elif rule == "none_failed":
                verdict = "upstream_failed" if failed or upstream_failed else "run"
            elif rule == "none_failed_min_one_success":
                if failed or upstream_failed:
                    verdict = "upstream_failed"
                elif skipped == len(ups):
                    verdict = "skipped"
                else:
                    verdict = "run" if success else "upstream_failed"
            elif rule == "all_done_min_one_success":
                verdict = "skipped" if skipped else "run" if success else "upstream_failed"
            else:
                raise AssertionError(rule)
        state[task.task_id] = ("failed" if task.task_id == failing else "success") if verdict == "run" else verdict

    def ignorable(task: Any) -> bool:
        return bool(task.is_teardown and not task.on_failure_fail_dagrun)

    leaves = [
        t for t in tasks.values()
        if all(ignorable(tasks[d]) for d in t.downstream_task_ids) and not ignorable(t)
    ]
    failed_run = any(state[t.task_id] in ("failed", "upstream_failed") for t in leaves)
    return ("failed" if failed_run else "success"), state


# ----------------------------------------------------------------- the state machine


class _Failed(Exception):
    def __init__(self, error: str, cause: str) -> None:
        super().__init__(error)
        self.error, self.cause = error, cause


def _machine(document: dict[str, Any], failing: str | None) -> tuple[str, set[str], set[str]]:
    """(outcome, the Task states entered, the tasks of failed Parallel states) of one execution."""
    entered: set[str] = set()
    unsure: set[str] = set()

    def tasks_of(state: dict[str, Any]) -> set[str]:
        out: set[str] = set()
        for branch in state.get("Branches", []):
            for name, inner in branch["States"].items():
                out |= {name} if inner["Type"] == "Task" else tasks_of(inner)
        return out

    def run(states: dict[str, Any], name: str, data: dict[str, Any]) -> dict[str, Any]:
        while True:
            state = states[name]
            kind = state["Type"]
            try:
                if kind == "Task":
                    entered.add(name)
                    if name == failing:
                        raise _Failed("States.TaskFailed", f"{name} failed")
                elif kind == "Parallel":
                    try:
                        for branch in state["Branches"]:
                            run(branch["States"], branch["StartAt"], dict(data))
                    except _Failed:
                        unsure.update(tasks_of(state))
                        raise
                elif kind == "Choice":
                    name = state["Default"]
                    for rule in state["Choices"]:
                        key = rule["Variable"].removeprefix("$.")
                        assert set(rule) == {"Variable", "IsPresent", "Next"} and "." not in key
                        if (key in data) == rule["IsPresent"]:
                            name = rule["Next"]
                            break
                    continue
                elif kind == "Succeed":
                    return data
                elif kind == "Fail":
                    raise _Failed(state.get("Error", "?"), state.get("Cause", "?"))
                elif kind != "Pass":
                    raise AssertionError(kind)
            except _Failed as failure:
                catch = next((c for c in state.get("Catch", []) if "States.ALL" in c["ErrorEquals"]), None)
                if catch is None:
                    raise
                if catch.get("ResultPath") is not None:
                    key = catch["ResultPath"].removeprefix("$.")
                    data = {**data, key: {"Error": failure.error, "Cause": failure.cause}}
                name = catch["Next"]
                continue
            if state.get("End"):
                return data
            name = state["Next"]

    try:
        run(document["States"], document["StartAt"], {})
    except _Failed:
        return "failed", entered, unsure
    return "success", entered, unsure


# ----------------------------------------------------------------- the property


def _random_dag(rng: random.Random, case: int) -> Any:
    n = rng.randint(2, 6)
    names = [f"t{i}" for i in range(n)]
    chain = n >= 3 and rng.random() < 0.3  # a setup, work, and a teardown
    with make_dag(f"rules_{case}") as dag:
        ops = {
            name: GlueJobOperator(task_id=name, job_name=name, trigger_rule=rng.choice(RULES)) for name in names
        }
        for i in range(n):
            for j in range(i + 1, n):
                if rng.random() < (1.0 if chain and j == i + 1 else 0.6 if j == i + 1 else 0.25):
                    ops[names[i]] >> ops[names[j]]
        if chain:
            ops[names[0]].trigger_rule = "all_success"
            ops[names[-1]].as_teardown(setups=ops[names[0]], on_failure_fail_dagrun=rng.random() < 0.3)
    return dag


@pytest.mark.parametrize("seed", range(4))
def test_compiled_trigger_rules_run_the_same_tasks_with_the_same_outcome_as_airflow(seed: int) -> None:
    rng = random.Random(seed)
    compiled = with_rules = 0
    teardowns = 0
    for case in range(250):
        dag = _random_dag(rng, case)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", DagShapeWarning)  # added dependencies change what runs
                document = definition(compile_dag(dag))
        except (AslCompileError, DagShapeWarning):
            continue
        assert validate(document) == []
        compiled += 1
        rules = {str(getattr(t.trigger_rule, "value", t.trigger_rule)) for t in dag.tasks if t.upstream_task_ids}
        with_rules += bool(rules - {"all_success"})
        teardowns += any(t.is_teardown for t in dag.tasks)
        for failing in [None, *sorted(dag.task_dict)]:
            outcome, states = _airflow(dag, failing)
            sfn_outcome, entered, unsure = _machine(document, failing)
            ran = {t for t, s in states.items() if s in ("success", "failed")}
            where = f"seed {seed} case {case}, {failing} fails: {states}"
            assert sfn_outcome == outcome, where
            assert entered - unsure == ran - unsure, where
    assert compiled >= 80 and with_rules >= 40 and teardowns >= 3, (compiled, with_rules, teardowns)
