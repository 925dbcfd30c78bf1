"""Console link for Athena query executions."""

from __future__ import annotations

from airflow.providers.amazon.aws.links.base_aws import BASE_AWS_CONSOLE_LINK, BaseAwsLink


class AthenaQueryLink(BaseAwsLink):
    """Link to one Athena query execution in the query editor's history."""

    name = "Athena Query"
    key = "sfn_etl_athena_query"
    format_str = (
        BASE_AWS_CONSOLE_LINK + "/athena/home?region={region_name}#/query-editor/history/{query_execution_id}"
    )
