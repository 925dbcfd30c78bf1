"""Monthly Sales + Marketing refresh, on the Airflow engine.

Two independent branches run in parallel, each a Glue DataBrew job that cleans one raw
data set into Parquet partitions followed by three Athena statements that (re)expose it as
a table; then a summary table joins both by month (CTAS), and users are told by SNS.
The same graph compiles to a Step Functions state machine (``sales_marketing_refresh_sfn``).

Every deployment name is a param (editable in the trigger form); defaults come from the
``SFN_ETL_*`` environment variables (see ``airflow_sfn_etl.flows.settings``).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import DAG, Param, TaskGroup

from airflow_sfn_etl.flows.settings import SalesMarketingSettings
from airflow_sfn_etl.operators.athena import AthenaQueryOperator
from airflow_sfn_etl.operators.databrew import DataBrewStartJobOperator
from airflow_sfn_etl.operators.sns import SnsPublishOperator

SQL = Path(__file__).parent / "sql"
DEFAULTS = SalesMarketingSettings()
IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
BUCKET = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
NAME = r"^[A-Za-z0-9_.-]{1,255}$"

PARAMS = {
    "transformed_bucket": Param(DEFAULTS.transformed_bucket, type="string", pattern=BUCKET,
                                title="Transformed data bucket",
                                description="S3 bucket the DataBrew jobs write Parquet to; the tables read it.",
                                section="Buckets"),
    "athena_query_bucket": Param(DEFAULTS.athena_query_bucket, type="string", pattern=BUCKET,
                                 title="Athena results bucket",
                                 description="S3 bucket for Athena query results.", section="Buckets"),
    "workgroup": Param(DEFAULTS.workgroup, type="string", pattern=NAME, title="Athena workgroup",
                       description="Workgroup every Athena statement runs in.", section="Athena"),
    "database": Param(DEFAULTS.database, type="string", pattern=IDENTIFIER, title="Glue database",
                      description="Database of the sales, marketing and summary tables (an SQL identifier).",
                      section="Athena"),
    "topic": Param(DEFAULTS.topic, type="string", pattern=NAME, title="SNS topic",
                   description="Topic name (or ARN) told when the refresh is done.", section="Notification"),
    "sales_job": Param(DEFAULTS.sales_job, type="string", pattern=NAME, title="Sales DataBrew job",
                       description="DataBrew recipe job that cleans the sales data.", section="DataBrew"),
    "marketing_job": Param(DEFAULTS.marketing_job, type="string", pattern=NAME, title="Marketing DataBrew job",
                           description="DataBrew recipe job that cleans the marketing data.", section="DataBrew"),
    "month": Param("", type="string", pattern=r"^(|\d{4}-(0[1-9]|1[0-2]))$", title="Month to refresh",
                   description="Optional YYYY-MM named in the notice; empty for a routine monthly refresh.",
                   section="Notification"),
}

ATHENA = {
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
    params=PARAMS,
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
    )
    notify = SnsPublishOperator(
        task_id="notify_users", task_display_name="Notify Users",
        target="{{ params.topic }}",
        subject="Sales marketing data refreshed",
        message=json.dumps({"Input": "Monthly sales marketing data refreshed successfully!",
                            "Month": "{{ params.month }}"}),
    )
    branch_ends >> drop_summary >> summarize >> notify
