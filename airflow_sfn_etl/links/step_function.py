"""Console links for Step Functions state machines and executions."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus

from airflow.providers.amazon.aws.links.base_aws import BASE_AWS_CONSOLE_LINK, BaseAwsLink


class StateMachineLink(BaseAwsLink):
    """Link to a state machine in the AWS console."""

    name = "State Machine"
    key = "sfn_etl_state_machine"
    format_str = (
        BASE_AWS_CONSOLE_LINK + "/states/home?region={region_name}#/statemachines/view/{state_machine_arn}"
    )

    def format_link(self, *, state_machine_arn: str | None = None, **kwargs: Any) -> str:
        if not state_machine_arn:
            return ""
        return super().format_link(state_machine_arn=quote_plus(state_machine_arn), **kwargs)


class StateMachineExecutionLink(BaseAwsLink):
    """Link to one state machine execution (its graph and event history) in the AWS console."""

    name = "State Machine Execution"
    key = "sfn_etl_state_machine_execution"
    format_str = (
        BASE_AWS_CONSOLE_LINK + "/states/home?region={region_name}#/v2/executions/details/{execution_arn}"
    )

    def format_link(self, *, execution_arn: str | None = None, **kwargs: Any) -> str:
        if not execution_arn:
            return ""
        return super().format_link(execution_arn=quote_plus(execution_arn), **kwargs)
