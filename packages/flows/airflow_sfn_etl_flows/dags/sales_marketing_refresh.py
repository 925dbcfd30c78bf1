"""Monthly Sales + Marketing refresh, on the Airflow engine.

Two independent branches run in parallel, each a Glue DataBrew job that cleans one raw
data set into Parquet partitions followed by three Athena statements that (re)expose it as
a table; then a summary table joins both by month (CTAS), and users are told by SNS.
The same graph compiles to a Step Functions state machine (``sales_marketing_refresh_sfn``).
The summary table is an Airflow Asset (``sales_marketing_revenue``): ``sales_summary_report`` runs
after each refresh.

Every deployment name is a param (editable in the trigger form); defaults come from the
``SFN_ETL_*`` environment variables (see ``airflow_sfn_etl_flows.settings``).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypedDict

from airflow.sdk import DAG, TaskGroup

from airflow_sfn_etl.operators.athena import AthenaQueryOperator
from airflow_sfn_etl.operators.databrew import DataBrewStartJobOperator
from airflow_sfn_etl.operators.sns import SnsPublishOperator
from airflow_sfn_etl_flows.assets import sales_marketing_summary
from airflow_sfn_etl_flows.params import sales_marketing_params

SQL = Path(__file__).parent / "sql"


class AthenaSettings(TypedDict):
    """The arguments every Athena task of this DAG shares."""

    database: str
    workgroup: str
    output_location: str


ATHENA: AthenaSettings = {
    "database": "{{ params.database }}",
    "workgroup": "{{ params.workgroup }}",
    "output_location": "s3://{{ params.athena_query_bucket }}/",
}

with DAG(
    dag_id="sales_marketing_refresh",
    description="Monthly Sales + Marketing refresh: DataBrew -> Athena (x2, in parallel) -> summary CTAS -> SNS",
    schedule="@monthly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    template_searchpath=[str(SQL)],
    params=sales_marketing_params(),
    default_args={
        "retries": 2,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": True,
        "deferrable": True,
    },
    tags=["sfn-etl", "databrew", "athena", "sns"],
    doc_md=__doc__,
) as dag:
    branch_ends = []
    with TaskGroup("refresh_sales_marketing_data", group_display_name="Refresh Sales Marketing Data",
                   prefix_group_id=False, tooltip="The two data sets are independent: refresh both at once"):
        for kind, table in (("sales", "sales_data_output"), ("marketing", "marketing_data_output")):
            title = kind.capitalize()
            etl = DataBrewStartJobOperator(
                task_id=f"{kind}_databrew_etl_job", task_display_name=f"{title} DataBrew ETL Job",
                job_name=f"{{{{ params.{kind}_job }}}}",
            )
            drop = AthenaQueryOperator(
                task_id=f"drop_old_{kind}_table", task_display_name=f"Drop Old {title} Table",
                query=f"drop_{table}.sql", **ATHENA,
            )
            create = AthenaQueryOperator(
                task_id=f"create_{kind}_table", task_display_name=f"Create {title} Table",
                query=f"create_{kind}_table.sql", **ATHENA,
            )
            load = AthenaQueryOperator(
                task_id=f"load_{kind}_table_partitions", task_display_name=f"Load {title} Table Partitions",
                query=f"repair_{table}.sql", **ATHENA,
            )
            etl >> drop >> create >> load
            branch_ends.append(load)

    drop_summary = AthenaQueryOperator(
        task_id="drop_old_summarized_table", task_display_name="Drop Old Summarized Table",
        query="drop_sales_marketing_revenue.sql", **ATHENA,
    )
    summarize = AthenaQueryOperator(
        task_id="create_summarized_output", task_display_name="Create Summarized Output",
        query="summarize_revenue.sql", **ATHENA,
        outlets=[sales_marketing_summary()],
    )
    notify = SnsPublishOperator(
        task_id="notify_users", task_display_name="Notify Users",
        target="{{ params.topic }}",
        subject="Sales marketing data refreshed",
        message=json.dumps({"Input": "Monthly sales marketing data refreshed successfully!",
                            "Month": "{{ params.month }}"}),
    )
    branch_ends >> drop_summary >> summarize >> notify
