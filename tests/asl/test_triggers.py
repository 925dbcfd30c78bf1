"""Trigger rules and setup/teardown compile to Catch paths with Airflow's semantics; the rest is refused."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_sfn_etl.asl import UnsupportedTasksError, compile_dag, definition, triggers, validate
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


@pytest.mark.parametrize("rule", ["none_failed", "none_failed_min_one_success", "one_success"])
def test_rules_that_only_differ_on_skipped_upstream_tasks_compile_as_all_success(rule: str) -> None:
    # No upstream task of a compiled DAG is skipped: these rules then run exactly when all upstream succeeded.
    def build(rule: str) -> dict[str, Any]:
        with make_dag() as dag:
            start, x = _job("start"), _job("x")
            start >> [x, _job("y")]
            x >> _job("x_next", trigger_rule=rule) >> _job("end")
        document = definition(compile_dag(dag))
        assert validate(document) == []
        return document

    assert build(rule) == build("all_success")


def test_one_success_with_several_upstream_tasks_and_all_skipped_are_refused() -> None:
    with make_dag() as dag:
        [_job("x"), _job("y")] >> _job("first_of", trigger_rule="one_success")
    assert "Task 'first_of'" in _refused(dag) and "as soon as one of them succeeds" in _refused(dag)
    with make_dag() as dag:
        _job("a") >> _job("b", trigger_rule="all_skipped")
    message = _refused(dag)
    assert "- Task 'b' (airflow_sfn_etl.operators.glue.GlueJobOperator): trigger_rule='all_skipped'" in message
    assert "would never run" in message


@pytest.mark.parametrize("rule", ["none_skipped", "always"])
def test_none_skipped_and_always_run_after_success_and_failure_like_all_done(rule: str) -> None:
    with make_dag() as dag:
        _job("a") >> _job("b") >> _job("cleanup", trigger_rule=rule)
    states = _states(dag)
    assert states["a"]["Catch"] == [{**CATCH_ALL, "Next": "cleanup"}]
    assert states["b"]["Catch"] == [{**CATCH_ALL, "Next": "cleanup"}] and states["b"]["Next"] == "cleanup"
    assert ("at once" in states["cleanup"]["Comment"]) == (rule == "always")


def test_all_failed_with_two_upstream_tasks_runs_only_when_the_first_one_fails() -> None:
    # a >> b >> alarm and a >> alarm: when b fails, a succeeded, so Airflow skips alarm, and the run
    # (whose only leaf is skipped) succeeds.
    with make_dag() as dag:
        a, b = _job("a"), _job("b")
        alarm = _job("alarm", trigger_rule="all_failed")
        a >> b >> alarm
        a >> alarm
    states = _states(dag)
    assert states["a"]["Catch"] == [{**CATCH_ALL, "Next": "alarm"}]
    assert states["b"]["Catch"] == [{**CATCH_ALL, "Next": "alarm: Skipped"}]
    assert states["b"]["Next"] == "alarm: Skipped" and states["alarm: Skipped"]["Type"] == "Succeed"


def test_one_done_runs_when_its_upstream_task_itself_ended_and_is_skipped_after_an_earlier_failure() -> None:
    with make_dag() as dag:
        _job("a") >> _job("b") >> _job("after", trigger_rule="one_done")
    states = _states(dag)
    assert states["a"]["Catch"] == [{**CATCH_ALL, "Next": "after: Skipped"}]  # b is upstream_failed
    assert states["b"]["Catch"] == [{**CATCH_ALL, "Next": "after"}]  # b failed: done
    assert states["b"]["Next"] == "after"


def test_all_done_min_one_success_fails_the_run_when_no_upstream_task_succeeded() -> None:
    with make_dag() as dag:
        a, b = _job("a"), _job("b")
        summary = _job("summary", trigger_rule="all_done_min_one_success")
        a >> b >> summary
        a >> summary
    states = _states(dag)
    assert "Catch" not in states["a"]  # a fails: no upstream task succeeded, summary is upstream_failed
    assert states["b"]["Catch"] == [{**CATCH_ALL, "Next": "summary"}]  # a succeeded


def test_a_caught_task_that_also_feeds_a_later_task_is_refused() -> None:
    with make_dag() as dag:
        a, after = _job("a"), _job("after")
        a >> _job("cleanup", trigger_rule="all_done") >> after
        a >> after
    message = _refused(dag)
    assert "Task 'cleanup'" in message and "a is also a direct upstream task of after" in message
    assert "Instead: remove the dependency a >> after" in message


def test_a_rule_whose_catch_would_cover_a_task_put_before_it_by_an_added_dependency_is_refused() -> None:
    # A nesting with an added dependency can put a task that is not upstream of the rule task before
    # it in the main sequence (here "other" before "handler", whose only upstream task is "work").
    with make_dag() as dag:
        _job("work") >> _job("handler", trigger_rule="all_done")
        _job("other")
    points, refusals = triggers.plan(dag, ["work", "other", "handler"], lambda task: "op")
    assert points == []
    (refusal,) = refusals
    assert refusal.task_id == "handler"
    assert refusal.reason.startswith("trigger_rule='all_done': the tasks other are not upstream of it")


def _teardown_dag(**teardown_kwargs: Any) -> Any:
    with make_dag() as dag:
        create = _job("create_cluster")
        work = [_job("load"), _job("transform")]
        delete = _job("delete_cluster")
        create >> work[0] >> work[1] >> delete.as_teardown(setups=create, **teardown_kwargs)
    return dag


def test_a_teardown_runs_after_the_work_fails_and_the_run_keeps_the_works_result() -> None:
    states = _states(_teardown_dag())
    failure = {"ErrorEquals": ["States.ALL"], "Next": "delete_cluster", "ResultPath": "$.delete_cluster__failure"}
    # The setup's failure fails the run: Airflow does not run the teardown when no setup succeeded.
    assert "Catch" not in states["create_cluster"]
    assert states["load"]["Catch"] == [failure] and states["transform"]["Catch"] == [failure]
    # The teardown's own failure does not count; after it, the work's failure fails the run.
    teardown = states["delete_cluster"]
    assert teardown["Catch"] == [{**CATCH_ALL, "Next": "delete_cluster: Work result"}]
    assert teardown["Next"] == "delete_cluster: Work result"
    check = states["delete_cluster: Work result"]
    assert check["Choices"] == [
        {"Variable": "$.delete_cluster__failure", "IsPresent": True, "Next": "delete_cluster: Work failed"}
    ]
    assert states[check["Default"]]["Type"] == "Succeed"
    assert states["delete_cluster: Work failed"] == {
        "Type": "Fail",
        "Error": "TaskFailedBeforeTeardown",
        "CausePath": "States.Format('{}: {}', $.delete_cluster__failure.Error, $.delete_cluster__failure.Cause)",
    }


def test_a_teardown_that_counts_for_the_run_compiles_as_its_rule_and_one_with_tasks_after_it_is_refused() -> None:
    # With on_failure_fail_dagrun, Airflow takes the teardown as the run's leaf: after a failed load it
    # runs, and the run's state is the teardown's own.
    states = _states(_teardown_dag(on_failure_fail_dagrun=True))
    assert "Catch" not in states["create_cluster"]
    assert states["load"]["Catch"] == [{**CATCH_ALL, "Next": "delete_cluster"}]
    assert "Catch" not in states["delete_cluster"] and states["delete_cluster"]["End"] is True
    dag = _teardown_dag()
    with dag:
        dag.task_dict["delete_cluster"] >> _job("report")
    assert "teardown: tasks run after it" in _refused(dag)


def test_a_rule_after_parallel_branches_or_inside_one_is_refused() -> None:
    with make_dag() as dag:
        [_job("x"), _job("y")] >> _job("join", trigger_rule="all_done")
    assert "trigger_rule='all_done': its upstream task(s) x, y run in parallel branches before it" in _refused(dag)
    with make_dag() as dag:
        _job("a") >> [_job("x"), _job("y")] >> _job("join") >> _job("after", trigger_rule="all_done")
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


def test_an_upstream_crawler_with_its_own_fail_state_runs_inside_a_parallel_that_carries_the_catch() -> None:
    with make_dag() as dag:
        GlueCrawlerOperator(task_id="crawl", crawler_name="c") >> _job("after", trigger_rule="all_done")
    document = definition(compile_dag(dag))
    assert validate(document) == []
    states = document["States"]
    assert document["StartAt"] == "crawl: Run"
    wrapper = states["crawl: Run"]
    assert wrapper["Type"] == "Parallel" and wrapper["ResultPath"] is None
    assert wrapper["Catch"] == [{**CATCH_ALL, "Next": "after"}] and wrapper["Next"] == "after"
    (branch,) = wrapper["Branches"]
    assert branch["StartAt"] == "crawl"
    # The crawl's own Fail state is inside the branch: failing it fails the Parallel, which is caught.
    assert any(s["Type"] == "Fail" for s in branch["States"].values())
    assert all("Catch" not in s or s["Catch"][0]["ErrorEquals"] != ["States.ALL"] for s in branch["States"].values())


def test_a_setup_task_without_a_teardown_compiles_as_any_task() -> None:
    with make_dag() as dag:
        _job("prepare").as_setup() >> _job("work")
    states = _states(dag)
    assert states["prepare"]["Next"] == "work" and "Catch" not in states["prepare"]
    assert states["work"]["End"] is True
