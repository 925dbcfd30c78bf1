"""Sales summary report, scheduled on the summary table's Asset.

Runs whenever ``sales_marketing_refresh`` or ``sales_marketing_refresh_sfn`` has (re)created the
``sales_marketing_revenue`` table (the Asset its summary task updates): reads the latest twelve
months from it and pushes them to XCom (``query_results``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_sfn_etl.operators.athena import AthenaQueryOperator
from airflow_sfn_etl_flows.assets import SUMMARY_TABLE, sales_marketing_summary
from airflow_sfn_etl_flows.params import sales_marketing_params

REPORT_PARAMS = ("database", "workgroup", "athena_query_bucket")

with DAG(
    dag_id="sales_summary_report",
    description="Latest twelve months of the sales + marketing summary, after each refresh",
    schedule=[sales_marketing_summary()],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    params={name: param for name, param in sales_marketing_params().items() if name in REPORT_PARAMS},
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30), "deferrable": True},
    tags=["sfn-etl", "athena", "assets"],
    doc_md=__doc__,
) as dag:
    AthenaQueryOperator(
        task_id="report_latest_months", task_display_name="Report Latest Months",
        query=(
            "SELECT year, month, total_paid_conversion, total_weighted_revenue "
            f"FROM {{{{ params.database }}}}.{SUMMARY_TABLE} "
            "ORDER BY CAST(year AS integer) DESC, CAST(month AS integer) DESC LIMIT 12"
        ),
        database="{{ params.database }}",
        workgroup="{{ params.workgroup }}",
        output_location="s3://{{ params.athena_query_bucket }}/",
        result_to_xcom=True,
        max_result_rows=12,
    )
