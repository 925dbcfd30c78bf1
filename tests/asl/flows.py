"""The two reference flows as DAGs built from the provider's operators, for compiler tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import DAG, TaskGroup

from airflow_sfn_etl.operators.athena import AthenaQueryOperator
from airflow_sfn_etl.operators.databrew import DataBrewStartJobOperator
from airflow_sfn_etl.operators.glue import GlueJobOperator
from airflow_sfn_etl.operators.glue_crawler import GlueCrawlerOperator
from airflow_sfn_etl.operators.sns import SnsPublishOperator
from airflow_sfn_etl.sensors.glue_crawler import GlueCrawlerSensor

SQL = Path(__file__).parent / "sql"

SALES_PARAMS = {
    "transformed_bucket": "sfn-etl-transformed",
    "athena_query_bucket": "sfn-etl-athena-results",
    "workgroup": "StepFunctionsWorkshopWorkgroup",
    "database": "default",
    "topic": "StepFunctionWorkshopTopic",
    "sales_job": "sales-data-etl",
    "marketing_job": "marketing-data-etl",
}

SALES_TASK_NAMES = {
    "Sales DataBrew ETL Job",
    "Drop Old Sales Table",
    "Create Sales Table",
    "Load Sales Table Partitions",
    "Marketing DataBrew ETL Job",
    "Drop Old Marketing Table",
    "Create Marketing Table",
    "Load Marketing Table Partitions",
    "Drop Old Summarized Table",
    "Create Summarized Output",
    "Notify Users",
}


def sales_marketing_dag() -> DAG:
    """Two parallel branches DataBrew -> DROP -> CREATE -> MSCK, then DROP summary -> CTAS -> SNS."""
    athena = {
        "database": "{{ params.database }}",
        "workgroup": "{{ params.workgroup }}",
        "output_location": "s3://{{ params.athena_query_bucket }}/",
    }
    with DAG(
        dag_id="sales_marketing_refresh_asl_test",
        description="Monthly Sales + Marketing refresh",
        schedule=None,
        start_date=datetime(2026, 1, 1),
        template_searchpath=[str(SQL)],
        params=dict(SALES_PARAMS),
        default_args={"retries": 2, "retry_delay": timedelta(seconds=30), "retry_exponential_backoff": True},
    ) as dag:
        with TaskGroup(
            "refresh_sales_marketing_data",
            group_display_name="Refresh Sales Marketing Data",
            prefix_group_id=False,
        ):
            ends = []
            for kind, table in (("sales", "sales_data_output"), ("marketing", "marketing_data_output")):
                title = kind.capitalize()
                etl = DataBrewStartJobOperator(
                    task_id=f"{kind}_databrew_etl_job",
                    task_display_name=f"{title} DataBrew ETL Job",
                    job_name=f"{{{{ params.{kind}_job }}}}",
                )
                drop = AthenaQueryOperator(
                    task_id=f"drop_old_{kind}_table",
                    task_display_name=f"Drop Old {title} Table",
                    query=f"DROP TABLE IF EXISTS {{{{ params.database }}}}.{table}",
                    **athena,
                )
                create = AthenaQueryOperator(
                    task_id=f"create_{kind}_table",
                    task_display_name=f"Create {title} Table",
                    query=f"create_{kind}_table.sql",
                    **athena,
                )
                load = AthenaQueryOperator(
                    task_id=f"load_{kind}_table_partitions",
                    task_display_name=f"Load {title} Table Partitions",
                    query=f"MSCK REPAIR TABLE {{{{ params.database }}}}.{table}",
                    **athena,
                )
                etl >> drop >> create >> load
                ends.append(load)
        drop_summary = AthenaQueryOperator(
            task_id="drop_old_summarized_table",
            task_display_name="Drop Old Summarized Table",
            query="DROP TABLE IF EXISTS {{ params.database }}.sales_marketing_revenue",
            **athena,
        )
        summarize = AthenaQueryOperator(
            task_id="create_summarized_output",
            task_display_name="Create Summarized Output",
            query="summarize_revenue.sql",
            **athena,
        )
        notify = SnsPublishOperator(
            task_id="notify_users",
            task_display_name="Notify Users",
            target="{{ params.topic }}",
            subject="Sales marketing data refreshed",
            message={"Input": "Monthly sales marketing data refreshed successfully!"},
        )
        ends >> drop_summary >> summarize >> notify
    return dag


def glue_crawler_job_dag() -> DAG:
    """As ``dags/glue_crawler_job.py``: start the crawler (joining a running crawl), a sensor polling
    it every ``wait_time`` seconds at most 3 times, then the Glue job."""
    with DAG(
        dag_id="glue_crawler_job_asl_test",
        description="Glue crawler, then Glue job",
        schedule=None,
        start_date=datetime(2026, 1, 1),
        params={"crawler": "se2_in0", "job": "se2_job0", "bucket": "test-glue00",
                "output_prefix": "se2/out0/", "wait_time": 60},
        default_args={"retries": 3, "retry_delay": timedelta(seconds=1), "retry_exponential_backoff": True},
    ) as dag:
        crawl = GlueCrawlerOperator(
            task_id="submit_crawler_job",
            task_display_name="Submit Crawler Job",
            crawler_name="{{ params.crawler }}",
            wait_for_completion=False,
            retry_delay=timedelta(seconds=120),
        )
        wait = GlueCrawlerSensor(
            task_id="wait_for_crawler",
            task_display_name="Wait for Crawler",
            crawler_name="{{ params.crawler }}",
            wait_time="{{ params.wait_time }}",
            max_polls=3,
        )
        job = GlueJobOperator(
            task_id="run_final_glue_job",
            task_display_name="Run Final Glue Job",
            job_name="{{ params.job }}",
            script_args={"--output_path": "s3://{{ params.bucket }}/{{ params.output_prefix }}{{ run_id }}/"},
        )
        crawl >> wait >> job
    return dag
