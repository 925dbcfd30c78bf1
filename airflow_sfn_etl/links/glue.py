"""Console links for Glue crawlers and Glue job runs."""

from __future__ import annotations

from airflow.providers.amazon.aws.links.base_aws import BASE_AWS_CONSOLE_LINK, BaseAwsLink


class GlueCrawlerLink(BaseAwsLink):
    """Link to a Glue crawler's page (its crawl history) in the AWS console."""

    name = "Glue Crawler"
    key = "sfn_etl_glue_crawler"
    format_str = (
        BASE_AWS_CONSOLE_LINK
        + "/glue/home?region={region_name}#/v2/data-catalog/crawlers/view/{crawler_name}"
    )


class GlueJobRunLink(BaseAwsLink):
    """Link to one Glue job run in the AWS console."""

    name = "Glue Job Run"
    key = "sfn_etl_glue_job_run"
    format_str = BASE_AWS_CONSOLE_LINK + "/gluestudio/home?region={region_name}#/job/{job_name}/run/{run_id}"
