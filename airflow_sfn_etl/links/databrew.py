"""Console link for DataBrew jobs."""

from __future__ import annotations

from airflow.providers.amazon.aws.links.base_aws import BASE_AWS_CONSOLE_LINK, BaseAwsLink


class DataBrewJobLink(BaseAwsLink):
    """Link to a DataBrew job's run history in the AWS console."""

    name = "DataBrew Job"
    key = "sfn_etl_databrew_job"
    format_str = (
        BASE_AWS_CONSOLE_LINK + "/databrew/home?region={region_name}#job-details?job={job_name}&tab=history"
    )
