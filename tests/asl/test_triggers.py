"""Trigger rules: all_done and one_failed/all_failed compile to Catch paths; the others are refused."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_sfn_etl.asl import UnsupportedTasksError, compile_dag, definition, validate
from airflow_sfn_etl.operators.glue import GlueJobOperator
from airflow_sfn_etl.operators.glue_crawler import GlueCrawlerOperator
from airflow_sfn_etl.operators.sns import SnsPublishOperator
from tests.asl.conftest import make_dag

CATCH_ALL = {"ErrorEquals": ["States.ALL"], "ResultPath": None}


def _job(task_id: str, **kwargs: Any) -> GlueJobOperator:
    return GlueJobOperator(task_id=task_id, job_name=task_id, **kwargs)


def _states(dag: Any) -> dict[str, Any]:
    document = definition(compile_dag(dag))
    assert validate(document) == []
    return document["States"]


def test_all_done_runs_after_success_and_after_failure_of_every_task_before_it() -> None:
    with make_dag() as dag:
        _job("a") >> _job("b") >> _job("cleanup", trigger_rule="all_done") >> _job("after")
    states = _states(dag)
    for upstream in ("a", "b"):
        assert states[upstream]["Catch"] == [{**CATCH_ALL, "Next": "cleanup"}]
    assert states["a"]["Next"] == "b" and states["b"]["Next"] == "cleanup"
    assert states["cleanup"]["Next"] == "after" and "Catch" not in states["cleanup"]
    assert states["after"]["End"] is True


def test_one_failed_runs_only_on_failure_and_the_success_path_ends_the_run() -> None:
    with make_dag() as dag:
        _job("a") >> _job("b") >> SnsPublishOperator(
            task_id="alert", target="t", message="m", trigger_rule="one_failed"
        )
    states = _states(dag)
    assert states["a"]["Catch"] == [{**CATCH_ALL, "Next": "alert"}]
    assert states["b"]["Catch"] == [{**CATCH_ALL, "Next": "alert"}]
    assert states["b"]["Next"] == "alert: Skipped"
    assert states["alert: Skipped"]["Type"] == "Succeed"
    assert states["alert"]["End"] is True


def test_all_failed_after_an_all_done_task_only_catches_from_that_task() -> None:
    with make_dag() as dag:
        _job("a") >> _job("tidy", trigger_rule="all_done") >> _job("alarm", trigger_rule="all_failed")
    states = _states(dag)
    assert states["a"]["Catch"] == [{**CATCH_ALL, "Next": "tidy"}]
    assert states["tidy"]["Catch"] == [{**CATCH_ALL, "Next": "alarm"}]
    assert states["tidy"]["Next"] == "alarm: Skipped"


def test_a_rule_on_a_task_without_upstream_changes_nothing() -> None:
    with make_dag() as dag:
        _job("first", trigger_rule="one_failed") >> _job("second")
    states = _states(dag)
    assert "Catch" not in states["first"] and states["first"]["Next"] == "second"


def _refused(dag: Any) -> str:
    with pytest.raises(UnsupportedTasksError) as info:
        compile_dag(dag)
    return str(info.value)


@pytest.mark.parametrize("rule", ["none_failed", "one_success", "always", "none_skipped", "all_skipped"])
def test_other_rules_are_refused_naming_task_and_rule(rule: str) -> None:
    with make_dag() as dag:
        _job("a") >> _job("b", trigger_rule=rule)
    assert f"- Task 'b' (airflow_sfn_etl.operators.glue.GlueJobOperator): trigger_rule='{rule}'" in _refused(dag)


def test_a_rule_after_parallel_branches_or_inside_one_is_refused() -> None:
    with make_dag() as dag:
        [_job("x"), _job("y")] >> _job("join", trigger_rule="all_done")
    assert "trigger_rule='all_done': parallel branches run before it" in _refused(dag)
    with make_dag() as dag:
        start, x = _job("start"), _job("x")
        start >> [x, _job("y")]
        x >> _job("x_done", trigger_rule="all_done")
    assert "Task 'x_done'" in _refused(dag) and "inside parallel branches" in _refused(dag)


def test_a_rule_after_a_one_failed_task_is_refused() -> None:
    with make_dag() as dag:
        _job("a") >> _job("alert", trigger_rule="one_failed") >> _job("final", trigger_rule="all_done")
    assert "Task 'final'" in _refused(dag) and "comes after the 'alert' (one_failed) task" in _refused(dag)


def test_an_upstream_crawler_with_its_own_fail_state_is_refused() -> None:
    with make_dag() as dag:
        GlueCrawlerOperator(task_id="crawl", crawler_name="c") >> _job("after", trigger_rule="all_done")
    message = _refused(dag)
    assert "Task 'after'" in message and "crawl fail through a Fail state" in message
