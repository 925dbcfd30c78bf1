"""XCom between compiled tasks: ti.xcom_pull and .output become a value kept in the state data (or a
literal known when compiling); what the nesting cannot carry is refused by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from airflow.providers.amazon.aws.operators.athena import AthenaOperator
from airflow.providers.amazon.aws.operators.glue import GlueJobOperator as StockGlueJobOperator

from airflow_sfn_etl.asl import UnsupportedTasksError, compile_dag, definition, validate
from airflow_sfn_etl.asl.iam import build_iam_policy_from_definition
from airflow_sfn_etl.operators.athena import AthenaQueryOperator
from airflow_sfn_etl.operators.databrew import DataBrewStartJobOperator
from airflow_sfn_etl.operators.glue import GlueJobOperator
from airflow_sfn_etl.operators.glue_crawler import GlueCrawlerOperator
from airflow_sfn_etl.operators.sns import SnsPublishOperator
from airflow_sfn_etl.sensors.glue_crawler import GlueCrawlerSensor
from tests.asl.asl_validator import assert_aws_accepts
from tests.asl.conftest import make_dag


def _states(dag: Any, tmp_path: Path | None = None) -> dict[str, Any]:
    document = definition(compile_dag(dag))
    assert validate(document) == []
    if tmp_path is not None:
        assert_aws_accepts(document, tmp_path)
    return document["States"]


def _refusals(dag: Any) -> dict[str, str]:
    with pytest.raises(UnsupportedTasksError) as info:
        compile_dag(dag)
    return {r.task_id: r.line() for r in info.value.refusals}


def test_a_query_id_and_a_run_id_reach_later_tasks_through_the_state_data(tmp_path: Path) -> None:
    with make_dag() as dag:
        query = AthenaQueryOperator(task_id="run_query", query="SELECT 1", output_location="s3://b/")
        job = GlueJobOperator(task_id="export", job_name="export", script_args={"--query_id": query.output})
        notify = SnsPublishOperator(
            task_id="notify",
            target="t",
            message="query {{ ti.xcom_pull(task_ids='run_query') }}, run {{ task_instance.xcom_pull('export') }}",
        )
        job >> notify
    states = _states(dag, tmp_path)
    # Athena's .sync integration answers GetQueryExecution; Glue's answers the job run (its Id).
    assert states["run_query"]["ResultSelector"] == {"value.$": "$.QueryExecution.QueryExecutionId"}
    assert states["run_query"]["ResultPath"] == "$.run_query__xcom"
    assert states["export"]["ResultSelector"] == {"value.$": "$.Id"}
    assert states["export"]["ResultPath"] == "$.export__xcom"
    assert states["export"]["Parameters"]["Arguments"] == {"--query_id.$": "$.run_query__xcom.value"}
    assert states["notify"]["Parameters"]["Message.$"] == (
        "States.Format('query {}, run {}', $.run_query__xcom.value, $.export__xcom.value)"
    )
    assert "ResultSelector" not in states["notify"] and states["notify"]["ResultPath"] is None
    # The policy still reads the definition (the producers' results are not resources).
    build_iam_policy_from_definition(definition(compile_dag(dag)), region="eu-west-1", account="123456789012")


def test_stock_operators_and_databrew_without_waiting_keep_their_ids() -> None:
    with make_dag() as dag:
        q = AthenaOperator(task_id="q", query="SELECT 1", database="db", output_location="s3://b/")
        g = StockGlueJobOperator(task_id="g", job_name="j", wait_for_completion=False)
        brew = DataBrewStartJobOperator(task_id="brew", job_name="b", wait_for_completion=False)
        pulls = " ".join(f"{{{{ ti.xcom_pull(task_ids='{t}') }}}}" for t in ("q", "g", "brew"))
        report = SnsPublishOperator(task_id="report", target="t", message=pulls)
        q >> g >> brew >> report
    states = _states(dag)
    assert states["q"]["ResultSelector"] == {"value.$": "$.QueryExecution.QueryExecutionId"}
    assert states["g"]["ResultSelector"] == {"value.$": "$.JobRunId"}  # startJobRun answers {"JobRunId": ...}
    assert states["brew"]["ResultSelector"] == {"value.$": "$.RunId"}


def test_a_crawler_name_is_known_when_compiling() -> None:
    with make_dag(params={"crawler": "sales"}) as dag:
        fixed = GlueCrawlerOperator(task_id="crawl", crawler_name="orders_crawler")
        by_param = GlueCrawlerOperator(task_id="crawl_param", crawler_name="{{ params.crawler }}")
        report = SnsPublishOperator(
            task_id="report",
            target="t",
            message="{{ ti.xcom_pull(task_ids='crawl') }} and {{ ti.xcom_pull(task_ids='crawl_param') }}",
        )
        sensed = SnsPublishOperator(task_id="sensed", target="t", message="{{ ti.xcom_pull(task_ids='wait') }}")
        fixed >> by_param >> report >> GlueCrawlerSensor(task_id="wait", crawler_name="orders_crawler") >> sensed
    states = _states(dag)
    assert states["report"]["Parameters"]["Message.$"] == "States.Format('orders_crawler and {}', $.crawler)"
    assert states["sensed"]["Parameters"]["Message"] == "orders_crawler"
    assert all(s.get("ResultSelector", {}).get("value.$") is None for s in states.values())


def test_reads_the_compiler_cannot_carry_are_refused_naming_consumer_template_and_producer() -> None:
    with make_dag() as dag:
        first = GlueJobOperator(task_id="first", job_name="j")
        side = GlueJobOperator(task_id="side", job_name="j")
        rows = AthenaQueryOperator(task_id="rows", query="SELECT 1", result_to_xcom=True)
        sns = SnsPublishOperator(task_id="sns", target="t", message="m")
        # not upstream: side and unordered run in parallel
        unordered = SnsPublishOperator(task_id="unordered", target="t", message="{{ ti.xcom_pull(task_ids='side') }}")
        of_sns = SnsPublishOperator(task_id="of_sns", target="t", message="{{ ti.xcom_pull(task_ids='sns') }}")
        of_rows = SnsPublishOperator(task_id="of_rows", target="t", message="{{ ti.xcom_pull(task_ids='rows') }}")
        missing = SnsPublishOperator(task_id="missing", target="t", message="{{ ti.xcom_pull(task_ids='nope') }}")
        first >> [side, unordered]
        first >> sns >> of_sns
        first >> rows >> of_rows
        first >> missing
    refused = _refusals(dag)
    assert "(airflow_sfn_etl.operators.sns.SnsPublishOperator, " not in refused["of_sns"]
    assert "field 'message' ({{ ti.xcom_pull(task_ids='sns') }}) reads the XCom of 'sns'" in refused["of_sns"]
    assert "the compiler does not map" in refused["of_sns"] and "Instead: pass the value as a DAG param" in refused[
        "of_sns"
    ]
    assert "whose XCom is its rows (result_to_xcom=True)" in refused["of_rows"]
    assert "'nope', which is not a task of this DAG" in refused["missing"]
    assert "'side' is not upstream of it" in refused["unordered"]
    assert "Instead: add the dependency side >> unordered" in refused["unordered"]


def test_a_value_made_inside_parallel_branches_or_caught_by_a_trigger_rule_is_refused() -> None:
    with make_dag() as dag:
        start = GlueJobOperator(task_id="start", job_name="j")
        branch = GlueJobOperator(task_id="branch", job_name="j")
        start >> [branch, GlueJobOperator(task_id="other", job_name="j")]
        [branch, dag.task_dict["other"]] >> SnsPublishOperator(
            task_id="after", target="t", message="{{ ti.xcom_pull(task_ids='branch') }}"
        )
    assert "'branch' runs inside parallel branches that it is outside of" in _refusals(dag)["after"]
    with make_dag() as dag:
        load = GlueJobOperator(task_id="load", job_name="j")
        load >> SnsPublishOperator(
            task_id="always", target="t", message="{{ ti.xcom_pull(task_ids='load') }}", trigger_rule="all_done"
        )
    assert "the failure of 'load' is caught by a trigger rule" in _refusals(dag)["always"]


def test_a_mapped_consumer_is_refused() -> None:
    with make_dag() as dag:
        q = AthenaQueryOperator(task_id="q", query="SELECT 1")
        pull = {"--q": "{{ ti.xcom_pull(task_ids='q') }}"}
        q >> GlueJobOperator.partial(task_id="load", script_args=pull).expand(job_name=["a", "b"])
    assert "a mapped task reads the XCom of 'q'" in _refusals(dag)["load"]
