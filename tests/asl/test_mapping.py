"""Dynamic task mapping over literal lists compiles to a Map state with Airflow's per-item semantics."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.amazon.aws.operators.glue import GlueJobOperator as StockGlueJobOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import task

from airflow_sfn_etl.asl import (
    AslCompileError,
    UnsupportedTasksError,
    build_iam_policy,
    compile_dag,
    definition,
    render_mermaid,
    validate,
)
from airflow_sfn_etl.asl.iam import build_iam_policy_from_definition
from airflow_sfn_etl.asl.loader import compile_dag_file
from airflow_sfn_etl.operators.athena import AthenaQueryOperator
from airflow_sfn_etl.operators.glue import GlueJobOperator
from airflow_sfn_etl.operators.glue_crawler import GlueCrawlerOperator
from airflow_sfn_etl.operators.sns import SnsPublishOperator
from tests.asl.asl_validator import assert_aws_accepts
from tests.asl.conftest import make_dag

CORPUS = Path(__file__).parent / "corpus"
REGION, ACCOUNT = "eu-west-1", "123456789012"


def _module(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, CORPUS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _states(document: dict[str, Any]) -> dict[str, Any]:
    return document["States"]


def _airflow_items(mapped: Any) -> list[dict[str, Any]]:
    """The kwargs of each mapped task instance as Airflow expands them (its own index arithmetic)."""
    expand_input = mapped.expand_input
    lengths = {k: len(v) for k, v in expand_input.value.items()}
    total = 1
    for n in lengths.values():
        total *= n
    return [
        {k: expand_input._expand_mapped_field(k, v, i, lengths) for k, v in expand_input.value.items()}
        for i in range(total)
    ]


def test_three_athena_queries_compile_to_a_map_over_the_queries(tmp_path: Path) -> None:
    document = definition(compile_dag_file(str(CORPUS / "mapped_athena_dag.py"), "corpus_mapped_athena"))
    assert validate(document) == []
    assert_aws_accepts(document, tmp_path)
    states = _states(document)
    assert document["StartAt"] == "count_rows: Items"
    feed, mapped = states["count_rows: Items"], states["count_rows"]
    assert feed["Type"] == "Pass" and feed["Next"] == "count_rows"
    # The items are the DAG file's literal list, in order.
    queries = _module("mapped_athena_dag").QUERIES
    assert [item["QueryString"] for item in feed["Result"]] == queries
    assert mapped["Type"] == "Map"
    assert mapped["ItemsPath"] == feed["ResultPath"]
    assert mapped["MaxConcurrency"] == 2  # max_active_tis_per_dagrun
    assert mapped["ResultPath"] is None and mapped["Next"] == "notify"
    # Each iteration gets the DAG param the query's output location reads, and its own item.
    assert mapped["ItemSelector"] == {"results.$": "$.results", "map_item.$": "$$.Map.Item.Value"}
    processor = mapped["ItemProcessor"]
    inner = processor["States"][processor["StartAt"]]
    assert inner["Resource"] == "arn:aws:states:::athena:startQueryExecution.sync"
    assert inner["Parameters"]["QueryString.$"] == "$.map_item.QueryString"
    assert inner["Parameters"]["QueryExecutionContext"]["Database"] == "sales"
    assert inner["Parameters"]["ResultConfiguration"] == {"OutputLocation.$": "$.results"}
    # Retries apply to each item, as Airflow retries each mapped task instance.
    assert inner["Retry"] == [
        {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 20, "MaxAttempts": 2, "BackoffRate": 1.0}
    ]
    # No Catch and no ToleratedFailure: one failed item fails the Map, and so the run.
    assert "Catch" not in mapped and "ToleratedFailurePercentage" not in mapped
    assert "ToleratedFailureCount" not in mapped


def test_stock_glue_job_expand_kwargs_maps_the_argument_dicts(tmp_path: Path) -> None:
    machine = compile_dag_file(str(CORPUS / "mapped_glue_kwargs_dag.py"), "corpus_mapped_glue_kwargs")
    document = definition(machine)
    assert validate(document) == []
    assert_aws_accepts(document, tmp_path)
    states = _states(document)
    expected = [
        {"Arguments": {"--table": "orders", "--mode": "full"}},
        {"Arguments": {"--table": "customers", "--mode": "full"}},
        {"Arguments": {"--table": "items", "--mode": "delta"}},
    ]
    assert states["load: Items"]["Result"] == expected
    mapped = states["load"]
    assert mapped["MaxConcurrency"] == 0
    inner = mapped["ItemProcessor"]["States"]["load: Item"]
    assert inner["Parameters"] == {"JobName": "corpus_loader", "Arguments.$": "$.map_item.Arguments"}
    assert mapped.get("End") is True


def test_several_mapped_arguments_map_over_their_cross_product_in_airflows_order() -> None:
    with make_dag() as dag:
        mapped = GlueJobOperator.partial(task_id="load").expand(
            job_name=["a", "b", "c"], script_args=[{"--day": "1"}, {"--day": "2"}]
        )
    items = _states(definition(compile_dag(dag)))["load: Items"]["Result"]
    airflow = _airflow_items(mapped)
    assert len(items) == len(airflow) == 6
    assert [(i["JobName"], i["Arguments"]) for i in items] == [(a["job_name"], a["script_args"]) for a in airflow]


def test_a_mapped_task_in_a_sequence_with_a_trigger_rule_after_it() -> None:
    with make_dag() as dag:
        mapped = GlueJobOperator.partial(task_id="load", execution_timeout=timedelta(minutes=5)).expand(
            job_name=["a", "b"]
        )
        report = SnsPublishOperator(task_id="report", target="t", message="m", trigger_rule="all_done")
        mapped >> report
    document = definition(compile_dag(dag))
    assert validate(document) == []
    states = _states(document)
    # all_done: a failed Map (any failed item) still leads to the report, as in Airflow.
    assert states["load"]["Catch"] == [{"ErrorEquals": ["States.ALL"], "Next": "report", "ResultPath": None}]
    assert states["load"]["Next"] == "report"
    # execution_timeout bounds each item's run.
    assert states["load"]["ItemProcessor"]["States"]["load: Item"]["TimeoutSeconds"] == 300
    assert "Each item" in render_mermaid(compile_dag(dag))


def test_a_fragment_whose_items_differ_beyond_one_states_parameters_is_refused() -> None:
    with make_dag() as dag:
        GlueCrawlerOperator.partial(task_id="crawl").expand(crawler_name=["one", "two"])
    with pytest.raises(AslCompileError, match="Task 'crawl': its mapped values change the states the task compiles"):
        compile_dag(dag)
    with make_dag() as dag:
        GlueCrawlerOperator.partial(task_id="crawl").expand(crawler_name=["one", "two"])
        BashOperator(task_id="shell", bash_command="echo")
    with pytest.raises(UnsupportedTasksError) as info:
        compile_dag(dag)
    by_task = {r.task_id: r for r in info.value.refusals}
    assert by_task["crawl"].what == "mapped airflow_sfn_etl.operators.glue_crawler.GlueCrawlerOperator"
    assert by_task["crawl"].reason.startswith("its mapped values change the states the task compiles to")


def test_the_policy_grants_each_item_and_reads_the_same_from_the_definition() -> None:
    with make_dag() as dag:
        GlueJobOperator.partial(task_id="load").expand(job_name=["orders", "customers"])
        StockGlueJobOperator.partial(task_id="stock", job_name="fixed").expand(script_args=[{"a": "1"}])
    machine = compile_dag(dag)
    policy = build_iam_policy(machine, region=REGION, account=ACCOUNT)
    jobs = next(s for s in policy.document["Statement"] if s["Sid"] == "GlueJobRunSync")
    names = ("orders", "customers", "fixed")
    assert jobs["Resource"] == sorted(f"arn:aws:glue:{REGION}:{ACCOUNT}:job/{n}" for n in names)
    from_definition = build_iam_policy_from_definition(definition(machine), region=REGION, account=ACCOUNT)
    assert from_definition.document == policy.document


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ([], "it maps over an empty list: Airflow skips the task and its downstream tasks"),
        ({"a": "x"}, "it maps job_name over a dict"),
    ],
)
def test_mapping_over_an_empty_list_or_a_dict_is_refused(values: Any, reason: str) -> None:
    with make_dag() as dag:
        GlueJobOperator.partial(task_id="load").expand(job_name=values)
    with pytest.raises(UnsupportedTasksError) as info:
        compile_dag(dag)
    (refusal,) = info.value.refusals
    assert refusal.task_id == "load" and refusal.reason.startswith(reason)


def test_mapping_over_xcom_is_refused_naming_the_upstream_task() -> None:
    with make_dag() as dag:

        @task
        def tables() -> list[str]:
            return ["a"]

        GlueJobOperator.partial(task_id="load").expand(job_name=tables())
    with pytest.raises(UnsupportedTasksError) as info:
        compile_dag(dag)
    by_task = {r.task_id: r for r in info.value.refusals}
    assert by_task["load"].reason.startswith("it maps over XCom from task(s) tables")
    assert by_task["load"].what == "mapped airflow_sfn_etl.operators.glue.GlueJobOperator"


def test_an_item_argument_the_fragment_does_not_carry_is_refused_once() -> None:
    with make_dag() as dag:
        AthenaQueryOperator.partial(task_id="q", result_to_xcom=True).expand(query=["SELECT 1", "SELECT 2"])
    with pytest.raises(UnsupportedTasksError) as info:
        compile_dag(dag)
    (refusal,) = info.value.refusals
    assert refusal.what == "mapped airflow_sfn_etl.operators.athena.AthenaQueryOperator"
    assert refusal.reason.startswith("result_to_xcom=True")


def test_mapped_values_with_params_are_refused() -> None:
    with make_dag(params={"job": "x"}) as dag:
        GlueJobOperator.partial(task_id="load").expand(job_name=["{{ params.job }}", "b"])
    with pytest.raises(AslCompileError, match=r"the mapped values of JobName read '\{\{ params \}\}'"):
        compile_dag(dag)
