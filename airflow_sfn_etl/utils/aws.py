"""Small AWS helpers shared by the operators and sensors."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, TypedDict

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from airflow.providers.common.compat.sdk import conf
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.links.base_aws import BaseAwsLink
    from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
    from airflow.providers.amazon.aws.utils.mixins import AwsBaseHookMixin
    from airflow.sdk import Context

log = logging.getLogger(__name__)


class AwsConnectionKwargs(TypedDict):
    """The arguments an upstream AWS hook is built from (what a trigger needs to rebuild it)."""

    aws_conn_id: str | None
    region_name: str | None
    verify: bool | str | None
    botocore_config: dict[str, Any] | None


def default_deferrable() -> bool:
    """Return Airflow's ``[operators] default_deferrable`` setting (False when unset)."""
    deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False)
    return deferrable


def error_code(error: BaseException) -> str:
    """Return the AWS error code of a ``ClientError`` (empty for anything else)."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""


def client_for(operator: AwsBaseHookMixin[Any], service: str) -> Any:
    """A boto3 client for ``service`` on the operator's connection, region, TLS and botocore settings.

    For the calls an operator makes outside its own hook's service (IAM and Glue while deploying a
    state machine, Glue and Athena for lineage).
    """
    return AwsBaseHook(
        aws_conn_id=operator.aws_conn_id,
        client_type=service,
        region_name=operator.region_name,
        verify=operator.verify,
        config=operator.botocore_config,
    ).conn


def trigger_kwargs(operator: AwsBaseHookMixin[Any]) -> AwsConnectionKwargs:
    """Return the connection arguments a trigger needs to rebuild the operator's hook."""
    return {
        "aws_conn_id": operator.aws_conn_id,
        "region_name": operator.region_name,
        "verify": operator.verify,
        "botocore_config": operator.botocore_config,
    }


def persist_link(
    link_class: type[BaseAwsLink], context: Context, operator: AwsBaseOperator[Any], **kwargs: Any
) -> None:
    """Store an extra link's arguments in XCom; a failure only logs a warning."""
    try:
        link_class.persist(
            context=context,
            operator=operator,
            region_name=operator.hook.conn_region_name,
            aws_partition=operator.hook.conn_partition,
            **kwargs,
        )
    except Exception as error:  # noqa: BLE001 - a missing console link must not fail the task
        log.warning("Could not store the %s link: %s", getattr(link_class, "name", link_class), error)
