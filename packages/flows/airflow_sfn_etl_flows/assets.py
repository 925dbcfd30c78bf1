"""The reference flows' outputs as Airflow Assets, named as their OpenLineage datasets.

An Asset's URI is the dataset's namespace and name joined by ``/`` (OpenLineage's dataset URI):
the summary table is the Athena table ``awsathena://athena.{region}.amazonaws.com/AwsDataCatalog.
{database}.sales_marketing_revenue``, the crawler flow's output the S3 prefix ``s3://{bucket}/se2/out0``.
Both engines of a flow update the same Asset, so a DAG scheduled on it runs after either.

Asset URIs are fixed when the DAG file is parsed, so they name the deployment defaults
(:mod:`airflow_sfn_etl_flows.settings`, ``SFN_ETL_*``) and the region ``SFN_ETL_REGION``, else
``AWS_DEFAULT_REGION``, else ``us-east-1``; a run triggered with other params still updates them.
"""

from __future__ import annotations

import os

from airflow.sdk import Asset

from airflow_sfn_etl_flows.settings import ENV_PREFIX, CrawlerJobSettings, SalesMarketingSettings

SUMMARY_TABLE = "sales_marketing_revenue"


def deployment_region() -> str:
    """``SFN_ETL_REGION``, else ``AWS_DEFAULT_REGION``, else ``us-east-1``."""
    return os.environ.get(ENV_PREFIX + "REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def sales_marketing_summary() -> Asset:
    """The monthly summary table the Sales + Marketing refresh (re)creates."""
    s = SalesMarketingSettings()
    return Asset(
        name=SUMMARY_TABLE,
        uri=f"awsathena://athena.{deployment_region()}.amazonaws.com/AwsDataCatalog.{s.database}.{SUMMARY_TABLE}",
        group="sfn-etl",
    )


def crawler_job_output() -> Asset:
    """The Parquet the crawler flow's Glue job writes."""
    s = CrawlerJobSettings()
    return Asset(name="se2_out0", uri=f"s3://{s.bucket}/{s.output_prefix}", group="sfn-etl")
