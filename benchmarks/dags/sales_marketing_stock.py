"""The monthly Sales + Marketing refresh as a user writes it today with the stock amazon provider.

Same graph and SQL files as ``dags/sales_marketing_refresh.py``, built from
``GlueDataBrewStartJobOperator``, ``AthenaOperator`` and ``SnsPublishOperator``. Not deferrable:
upstream's deferrable Athena/DataBrew triggers need ``aiobotocore``, which the provider does not
install. Poll intervals are set to our operators' first poll interval (5 s) instead of upstream's
defaults (30 s Athena, 30 s DataBrew) so that the comparison is about orchestration, not settings.
"""

from __future__ import annotations

import json
from datetime import datetime

from airflow.providers.amazon.aws.operators.athena import AthenaOperator
from airflow.providers.amazon.aws.operators.glue_databrew import GlueDataBrewStartJobOperator
from airflow.providers.amazon.aws.operators.sns import SnsPublishOperator
from airflow.sdk import DAG

from airflow_sfn_etl_flows.settings import DAGS_FOLDER, SalesMarketingSettings

POLL_SECONDS = 5
ATHENA = {
    "database": "{{ params.database }}",
    "workgroup": "{{ params.workgroup }}",
    "output_location": "s3://{{ params.athena_query_bucket }}/",
    "sleep_time": POLL_SECONDS,
}

with DAG(
    dag_id="sales_marketing_refresh_stock",
    description="Baseline: the sales/marketing refresh with the stock amazon provider operators",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    template_searchpath=[str(DAGS_FOLDER / "sql")],
    params={**SalesMarketingSettings().as_params(), "month": ""},
    tags=["benchmark", "stock-provider"],
) as dag:
    branch_ends = []
    for kind, table in (("sales", "sales_data_output"), ("marketing", "marketing_data_output")):
        etl = GlueDataBrewStartJobOperator(
            task_id=f"{kind}_databrew_etl_job",
            job_name=f"{{{{ params.{kind}_job }}}}",
            wait_for_completion=True,
            delay=POLL_SECONDS,
        )
        drop = AthenaOperator(task_id=f"drop_old_{kind}_table", query=f"drop_{table}.sql", **ATHENA)
        create = AthenaOperator(task_id=f"create_{kind}_table", query=f"create_{kind}_table.sql", **ATHENA)
        load = AthenaOperator(task_id=f"load_{kind}_table_partitions", query=f"repair_{table}.sql", **ATHENA)
        etl >> drop >> create >> load
        branch_ends.append(load)
    drop_old_summarized_table = AthenaOperator(
        task_id="drop_old_summarized_table", query="drop_sales_marketing_revenue.sql", **ATHENA
    )
    create_summarized_output = AthenaOperator(
        task_id="create_summarized_output", query="summarize_revenue.sql", **ATHENA
    )
    notify_users = SnsPublishOperator(
        task_id="notify_users",
        target_arn="arn:aws:sns:us-east-1:123456789012:{{ params.topic }}",
        subject="Sales marketing data refreshed",
        message=json.dumps(
            {"Input": "Monthly sales marketing data refreshed successfully!", "Month": "{{ params.month }}"}
        ),
    )
    branch_ends >> drop_old_summarized_table >> create_summarized_output >> notify_users
