"""The params of the two reference flows, shared by their Airflow-engine and Step Functions DAGs.

Both engines take identical params: the Airflow-engine DAG renders them into its templated
fields, the Step Functions DAG passes them as the execution input of the compiled state
machine (``docs/decisions/0002``). Each function returns a fresh dict, so a DAG may add its own.
Defaults come from ``SFN_ETL_*`` environment variables (:mod:`airflow_sfn_etl_flows.settings`).
"""

from __future__ import annotations

from airflow.sdk import Param

from airflow_sfn_etl_flows.settings import CrawlerJobSettings, SalesMarketingSettings

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
BUCKET = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
NAME = r"^[A-Za-z0-9_.-]{1,255}$"
STATE_MACHINE_NAME = r"^[A-Za-z0-9_-]{1,80}$"
ROLE_NAME = r"^[A-Za-z0-9+=,.@_-]{1,64}$"


def sales_marketing_params() -> dict[str, Param]:
    """Params of the monthly Sales + Marketing refresh (buckets, workgroup, database, topic, jobs)."""
    s = SalesMarketingSettings()
    return {
        "transformed_bucket": Param(
            s.transformed_bucket,
            type="string",
            pattern=BUCKET,
            title="Transformed data bucket",
            description="S3 bucket the DataBrew jobs write Parquet to; the tables read it.",
            section="Buckets",
        ),
        "athena_query_bucket": Param(
            s.athena_query_bucket,
            type="string",
            pattern=BUCKET,
            title="Athena results bucket",
            description="S3 bucket for Athena query results.",
            section="Buckets",
        ),
        "workgroup": Param(
            s.workgroup,
            type="string",
            pattern=NAME,
            title="Athena workgroup",
            description="Workgroup every Athena statement runs in.",
            section="Athena",
        ),
        "database": Param(
            s.database,
            type="string",
            pattern=IDENTIFIER,
            title="Glue database",
            description="Database of the sales, marketing and summary tables (an SQL identifier).",
            section="Athena",
        ),
        "topic": Param(
            s.topic,
            type="string",
            pattern=NAME,
            title="SNS topic",
            description="Topic name (or ARN) told when the refresh is done.",
            section="Notification",
        ),
        "sales_job": Param(
            s.sales_job,
            type="string",
            pattern=NAME,
            title="Sales DataBrew job",
            description="DataBrew recipe job that cleans the sales data.",
            section="DataBrew",
        ),
        "marketing_job": Param(
            s.marketing_job,
            type="string",
            pattern=NAME,
            title="Marketing DataBrew job",
            description="DataBrew recipe job that cleans the marketing data.",
            section="DataBrew",
        ),
        "month": Param(
            "latest",
            type="string",
            pattern=r"^(latest|\d{4}-(0[1-9]|1[0-2]))$",
            title="Month to refresh",
            description="YYYY-MM named in the notice, or 'latest' for the routine monthly refresh.",
            section="Notification",
        ),
    }


def glue_crawler_job_params() -> dict[str, Param]:
    """Params of the Glue crawler -> Glue job flow (crawler, job, bucket, output prefix, wait_time)."""
    s = CrawlerJobSettings()
    return {
        "crawler": Param(
            s.crawler,
            type="string",
            pattern=NAME,
            title="Glue crawler",
            description="Crawler that catalogs the access log.",
        ),
        "job": Param(
            s.job,
            type="string",
            pattern=NAME,
            title="Glue job",
            description="Job that writes the catalog table as Parquet.",
        ),
        "bucket": Param(
            s.bucket,
            type="string",
            pattern=BUCKET,
            title="Data bucket",
            description="Bucket holding se2/in0/ (input) and se2/out0/ (output).",
        ),
        "output_prefix": Param(
            s.output_prefix,
            type="string",
            pattern=r"^[A-Za-z0-9_./=-]+/$",
            title="Output prefix",
            description="Key prefix the job writes Parquet under.",
        ),
        "wait_time": Param(
            60,
            type="integer",
            minimum=1,
            maximum=3600,
            title="Seconds between polls",
            description="How long to wait between two looks at the crawler.",
        ),
    }


def state_machine_params(*, name: str, role_name: str) -> dict[str, Param]:
    """Extra params of a Step Functions DAG: the state machine's name and its execution role's name.

    :param name: default state machine name.
    :param role_name: default name of the IAM role created with the generated least-privilege policy.
    """
    return {
        "state_machine_name": Param(
            name,
            type="string",
            pattern=STATE_MACHINE_NAME,
            title="State machine",
            description="Name of the state machine deployed and run.",
            section="Step Functions",
        ),
        "role_name": Param(
            role_name,
            type="string",
            pattern=ROLE_NAME,
            title="Execution role",
            description="IAM role created or updated with the state machine's least-privilege policy.",
            section="Step Functions",
        ),
    }
