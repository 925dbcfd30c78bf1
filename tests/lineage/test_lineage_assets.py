"""The reference DAGs declare their outputs as Assets named as their OpenLineage datasets, and the
report DAG is scheduled on the summary table's Asset."""

from __future__ import annotations

import pytest

from airflow_sfn_etl_flows.settings import DAGS_FOLDER, CrawlerJobSettings, SalesMarketingSettings


@pytest.fixture(scope="module")
def dags():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(DAGS_FOLDER))
    assert bag.import_errors == {}
    return bag.dags


def summary_uri() -> str:
    # OpenLineage's Athena dataset (namespace + "/" + name) in the tests' region (tests/conftest.py).
    return f"awsathena://athena.us-east-1.amazonaws.com/AwsDataCatalog.{SalesMarketingSettings().database}." \
           "sales_marketing_revenue"


@pytest.mark.parametrize(("dag_id", "task_id"), [
    ("sales_marketing_refresh", "create_summarized_output"),
    ("sales_marketing_refresh_sfn", "run_state_machine"),
])
def test_both_refresh_engines_update_the_summary_table_asset(dags, dag_id, task_id):
    outlets = {(a.name, a.uri) for a in dags[dag_id].get_task(task_id).outlets}
    assert outlets == {("sales_marketing_revenue", summary_uri())}
    others = [t.task_id for t in dags[dag_id].tasks if t.outlets and t.task_id != task_id]
    assert others == []


@pytest.mark.parametrize(("dag_id", "task_id"), [
    ("glue_crawler_job", "run_final_glue_job"),
    ("glue_crawler_job_sfn", "run_state_machine"),
])
def test_both_crawler_engines_update_the_job_output_asset(dags, dag_id, task_id):
    c = CrawlerJobSettings()
    outlets = {a.uri for a in dags[dag_id].get_task(task_id).outlets}
    assert outlets == {f"s3://{c.bucket}/{c.output_prefix.rstrip('/')}"}


def test_report_is_scheduled_on_the_summary_asset(dags):
    report = dags["sales_summary_report"]
    assert [(a.name, a.uri) for a in report.schedule] == [("sales_marketing_revenue", summary_uri())]
    assert set(report.params) == {"database", "workgroup", "athena_query_bucket"}


def test_report_dag_file_makes_no_aws_call_at_import(monkeypatch):
    import botocore.client
    from airflow.dag_processing.dagbag import DagBag

    def refuse(*args, **kwargs):
        raise AssertionError("sales_summary_report called AWS at import")

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", refuse)
    bag = DagBag(str(DAGS_FOLDER / "sales_summary_report.py"))
    assert bag.import_errors == {} and list(bag.dag_ids) == ["sales_summary_report"]
