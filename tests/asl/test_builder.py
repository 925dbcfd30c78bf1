"""Builder: DAG shapes, operator lookup, retries, names."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from airflow.sdk import BaseOperator

from airflow_sfn_etl.asl import (
    AslCompileError,
    DagShapeError,
    UnsupportedOperatorError,
    compile_dag,
    definition,
    fragments,
    validate,
)
from airflow_sfn_etl.asl.fragments import glue_job
from airflow_sfn_etl.operators.glue import GlueJobOperator
from tests.asl.conftest import make_dag


def _chain_names(states: dict[str, Any], start: str) -> list[str]:
    names, current = [], start
    while True:
        names.append(current)
        state = states[current]
        if state.get("End"):
            return names
        current = state["Next"]


def test_sequence_of_real_operators(stand_in: Any) -> None:
    with make_dag() as dag:
        a = GlueJobOperator(task_id="a", job_name="ja")
        b = stand_in(task_id="b", job_name="jb")
        c = GlueJobOperator(task_id="c", job_name="jc")
        a >> b >> c
    doc = definition(compile_dag(dag))
    assert _chain_names(doc["States"], doc["StartAt"]) == ["a", "b", "c"]
    assert validate(doc) == []


def test_fan_out_fan_in_becomes_parallel_with_sorted_branches(stand_in: Any) -> None:
    with make_dag() as dag:
        first = stand_in(task_id="first")
        z1, z2 = stand_in(task_id="z1"), stand_in(task_id="z2")
        a1 = stand_in(task_id="a1")
        last = stand_in(task_id="last")
        first >> [z1, a1]
        z1 >> z2
        [z2, a1] >> last
    doc = definition(compile_dag(dag))
    assert doc["StartAt"] == "first"
    par_name = doc["States"]["first"]["Next"]
    par = doc["States"][par_name]
    assert par["Type"] == "Parallel" and par["ResultPath"] is None and par["Next"] == "last"
    assert par_name == "Parallel: a1 | z1"
    assert [b["StartAt"] for b in par["Branches"]] == ["a1", "z1"]
    assert _chain_names(par["Branches"][1]["States"], "z1") == ["z1", "z2"]
    assert validate(doc) == []


def test_nested_parallel(stand_in: Any) -> None:
    with make_dag() as dag:
        s, e = stand_in(task_id="s"), stand_in(task_id="e")
        a, b, c, d = (stand_in(task_id=x) for x in "abcd")
        s >> [a, d]
        a >> [b, c]
        [b, c] >> e
        d >> e
    doc = definition(compile_dag(dag))
    outer = doc["States"][doc["States"]["s"]["Next"]]
    branch_a = outer["Branches"][0]
    assert branch_a["StartAt"] == "a"
    inner = branch_a["States"][branch_a["States"]["a"]["Next"]]
    assert inner["Type"] == "Parallel"
    assert [x["StartAt"] for x in inner["Branches"]] == ["b", "c"]
    assert validate(doc) == []


def test_redundant_transitive_edge_is_ignored(stand_in: Any) -> None:
    with make_dag() as dag:
        a, b, c = (stand_in(task_id=x) for x in "abc")
        a >> b >> c
        a >> c
    doc = definition(compile_dag(dag))
    assert _chain_names(doc["States"], doc["StartAt"]) == ["a", "b", "c"]


def test_several_roots_and_sinks_become_parallels(stand_in: Any) -> None:
    with make_dag() as dag:
        r1, r2, mid, s1, s2 = (stand_in(task_id=x) for x in ("r1", "r2", "mid", "s1", "s2"))
        [r1, r2] >> mid >> [s1, s2]
    doc = definition(compile_dag(dag))
    start = doc["States"][doc["StartAt"]]
    assert start["Type"] == "Parallel" and start["Next"] == "mid"
    end = doc["States"][doc["States"]["mid"]["Next"]]
    assert end["Type"] == "Parallel" and end["End"] is True
    assert [b["StartAt"] for b in end["Branches"]] == ["s1", "s2"]
    assert validate(doc) == []


def test_cross_edge_between_branches_is_named_when_strict(stand_in: Any) -> None:
    with make_dag(dag_id="crossed") as dag:
        s, e = stand_in(task_id="s"), stand_in(task_id="e")
        a1, a2, b1, b2 = (stand_in(task_id=x) for x in ("a1", "a2", "b1", "b2"))
        s >> [a1, b1]
        a1 >> a2
        b1 >> b2
        a1 >> b2
        [a2, b2] >> e
    with pytest.raises(DagShapeError) as info:
        compile_dag(dag, strict_shape=True)
    message = str(info.value)
    assert "DAG 'crossed'" in message
    assert "series-parallel" in message
    assert "Edges that break it: a1 >> b2." in message


def test_roots_that_do_not_rejoin_are_named_when_strict(stand_in: Any) -> None:
    with make_dag() as dag:
        a, b, c, d = (stand_in(task_id=x) for x in "abcd")
        a >> c
        b >> [c, d]
    with pytest.raises(DagShapeError, match=r"Edges that break it: b >> c\."):
        compile_dag(dag, strict_shape=True)


def test_unknown_operator_names_task_class_and_supported_operators() -> None:
    class Mystery(BaseOperator):
        def execute(self, context: Any) -> None:
            return None

    with make_dag() as dag:
        Mystery(task_id="mystery_task")
    with pytest.raises(UnsupportedOperatorError) as info:
        compile_dag(dag)
    message = str(info.value)
    assert "Task 'mystery_task'" in message
    assert "Mystery" in message
    for name in (
        "GlueJobOperator",
        "GlueCrawlerOperator",
        "AthenaQueryOperator",
        "DataBrewStartJobOperator",
        "SnsPublishOperator",
    ):
        assert name in message


def test_registration_of_a_subclass_takes_precedence() -> None:
    class OwnFragment(GlueJobOperator):
        pass

    def own_fragment(op: Any, ctx: Any) -> Any:
        frag = glue_job(op, ctx)
        frag.states[0].comment = "own fragment"
        return frag

    path = fragments.class_path(OwnFragment)
    fragments.register(path)(own_fragment)
    try:
        with make_dag() as dag:
            OwnFragment(task_id="own", job_name="j")
        assert definition(compile_dag(dag))["States"]["own"]["Comment"] == "own fragment"
    finally:
        fragments.unregister(path)


def test_subclass_of_a_registered_operator_is_compiled() -> None:
    class MyGlueJob(GlueJobOperator):
        pass

    with make_dag() as dag:
        MyGlueJob(task_id="mine", job_name="j")
    assert definition(compile_dag(dag))["States"]["mine"]["Parameters"] == {"JobName": "j"}


def test_retries_map_to_retry(stand_in: Any) -> None:
    with make_dag() as dag:
        stand_in(task_id="plain", retries=0)
        stand_in(task_id="constant", retries=2, retry_delay=timedelta(seconds=45))
        stand_in(
            task_id="expo",
            retries=4,
            retry_delay=10,
            retry_exponential_backoff=True,
            max_retry_delay=timedelta(minutes=5),
        )
        stand_in(
            task_id="factor", retries=1, retry_delay=timedelta(seconds=1.5), retry_exponential_backoff=3.0
        )
    states = {}
    for branch in definition(compile_dag(dag))["States"]["Parallel: constant | expo | factor | plain"][
        "Branches"
    ]:
        states.update(branch["States"])
    assert "Retry" not in states["plain"]
    assert states["constant"]["Retry"] == [
        {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 45, "MaxAttempts": 2, "BackoffRate": 1.0}
    ]
    assert states["expo"]["Retry"] == [
        {
            "ErrorEquals": ["States.ALL"],
            "IntervalSeconds": 10,
            "MaxAttempts": 4,
            "BackoffRate": 2.0,
            "MaxDelaySeconds": 300,
        }
    ]
    assert states["factor"]["Retry"] == [
        {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "MaxAttempts": 1, "BackoffRate": 3.0}
    ]


def test_a_backed_off_delay_past_airflows_cap_gets_the_cap(stand_in: Any) -> None:
    from airflow.configuration import conf

    cap = conf.getint("core", "max_task_retry_delay", fallback=24 * 60 * 60)
    with make_dag() as dag:
        # 60 s doubled 11 times is 122,880 s, past the cap: Airflow waits at most the cap.
        stand_in(task_id="long", retries=12, retry_delay=60, retry_exponential_backoff=True)
        # 60 s doubled twice stays below it: nothing to cap.
        stand_in(task_id="short", retries=3, retry_delay=60, retry_exponential_backoff=True)
    states: dict[str, Any] = {}
    for branch in definition(compile_dag(dag))["States"]["Parallel: long | short"]["Branches"]:
        states.update(branch["States"])
    assert 60 * 2**11 > cap
    assert states["long"]["Retry"][0]["MaxDelaySeconds"] == cap
    assert "MaxDelaySeconds" not in states["short"]["Retry"][0]


def test_backoff_below_one_is_rejected(stand_in: Any) -> None:
    with make_dag() as dag:
        stand_in(task_id="shrinking", retries=1, retry_exponential_backoff=0.5)
    with pytest.raises(AslCompileError, match="Task 'shrinking'.*BackoffRate >= 1.0"):
        compile_dag(dag)


def test_state_names_from_display_name_must_be_unique(stand_in: Any) -> None:
    with make_dag() as dag:
        stand_in(task_id="a", task_display_name="Same") >> stand_in(task_id="b", task_display_name="Same")
    with pytest.raises(AslCompileError, match="'Same' is used twice.*'a'.*'b'"):
        compile_dag(dag)


def test_dag_timeout_and_execution_timeout(stand_in: Any) -> None:
    with make_dag(dagrun_timeout=timedelta(hours=2)) as dag:
        GlueJobOperator(task_id="j", job_name="x", execution_timeout=timedelta(minutes=10))
    doc = definition(compile_dag(dag))
    assert doc["TimeoutSeconds"] == 7200
    assert doc["States"]["j"]["TimeoutSeconds"] == 600


def test_empty_operator_becomes_a_pass_state_and_can_join_branches(stand_in: Any) -> None:
    from airflow.providers.standard.operators.empty import EmptyOperator

    with make_dag() as dag:
        start, join = EmptyOperator(task_id="start"), EmptyOperator(task_id="join")
        a, b = stand_in(task_id="a"), stand_in(task_id="b")
        start >> [a, b] >> join
    doc = definition(compile_dag(dag))
    assert doc["States"]["start"] == {"Type": "Pass", "ResultPath": "$", "Next": "Parallel: a | b"}
    assert doc["States"]["join"] == {"Type": "Pass", "ResultPath": "$", "End": True}
    assert validate(doc) == []


def test_retries_over_a_poll_loop_with_its_own_fail_states_are_noted() -> None:
    from airflow_sfn_etl.operators.glue_crawler import GlueCrawlerOperator
    from airflow_sfn_etl.sensors.glue_crawler import GlueCrawlerSensor

    with make_dag() as dag:
        GlueCrawlerOperator(task_id="crawl", crawler_name="c", retries=2) >> GlueCrawlerSensor(
            task_id="wait", crawler_name="c", max_polls=3
        )
    notes = [n for n in compile_dag(dag).notes if "poll loop" in n]
    assert notes == [
        "crawl: retries=2 apply to each AWS call of its poll loop; a failed or timed-out crawl ends the "
        "execution at once, where Airflow would retry the task"
    ]
