"""The execution role of a deployed state machine: created or updated with the least-privilege
inline policy generated from its definition.

The policy generator (:mod:`airflow_sfn_etl.asl.iam`) is imported inside
:func:`ensure_execution_role`, which only a deploy runs: importing an operator module never loads
the compiler.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError

from airflow_sfn_etl.utils.aws import error_code
from airflow_sfn_etl.utils.waiting import WaitPolicy

if TYPE_CHECKING:
    from airflow_sfn_etl.utils.logs import InfoLog

T = TypeVar("T")

#: How often a create/update is retried while a new role's trust is not yet visible to Step Functions.
ROLE_PROPAGATION_ATTEMPTS = 10
ROLE_PROPAGATION_DELAY = 3.0
#: Errors of a create/update that mean the just-written role's trust has not propagated yet.
ROLE_PROPAGATION_CODES = frozenset({"AccessDeniedException", "InvalidArn"})
#: The wait for a written role to propagate: every ``ROLE_PROPAGATION_DELAY`` s, up to
#: ``ROLE_PROPAGATION_ATTEMPTS`` calls (the last propagation error is raised).
ROLE_PROPAGATION_POLICY = WaitPolicy(
    poll_interval=ROLE_PROPAGATION_DELAY,
    backoff_factor=1.0,
    max_poll_interval=ROLE_PROPAGATION_DELAY,
    tolerated_errors=ROLE_PROPAGATION_ATTEMPTS - 1,
    transient_codes=ROLE_PROPAGATION_CODES,
)


def trust_policy(account: str) -> dict[str, Any]:
    """Trust policy letting Step Functions (from this account only) assume the execution role."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "states.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        ],
    }


def ensure_execution_role(
    iam: Any,
    *,
    role_name: str,
    state_machine_name: str,
    document: dict[str, Any],
    region: str,
    account: str,
    params: dict[str, Any],
    log: InfoLog,
    glue: Any = None,
    athena: Any = None,
    logging: bool = False,
) -> str:
    """Create or update the role ``role_name`` with the policy generated for ``document``; return its ARN.

    :param iam: a boto3 IAM client.
    :param params: values of the execution input fields, scoping the policy's resources.
    :param glue: a boto3 Glue client, to grant read on the S3 data of the tables Athena statements read.
    :param athena: a boto3 Athena client, to grant the KMS key of workgroups that encrypt their results.
    :param logging: the machine logs to CloudWatch Logs (the policy then has the log delivery actions).
    """
    from airflow_sfn_etl.asl.iam import build_iam_policy_from_definition

    policy = build_iam_policy_from_definition(
        document, region=region, account=account, params=params, glue=glue, athena=athena, logging=logging
    )
    for note in policy.notes:
        log.info("IAM note: %s", note)
    trust = json.dumps(trust_policy(account), sort_keys=True)
    try:
        role = iam.get_role(RoleName=role_name)["Role"]
        iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=trust)
        log.info("Updating IAM role %s", role["Arn"])
    except ClientError as error:
        if error_code(error) != "NoSuchEntity":
            raise
        role = iam.create_role(
            RoleName=role_name,
            AssumeRolePolicyDocument=trust,
            Description=f"Execution role of Step Functions state machine {state_machine_name}",
        )["Role"]
        log.info("Created IAM role %s", role["Arn"])
    iam.put_role_policy(
        RoleName=role_name,
        PolicyName=f"{state_machine_name}-least-privilege",
        PolicyDocument=json.dumps(policy.document, sort_keys=True),
    )
    log.info("Role %s has the generated policy: %d statements", role_name, len(policy.document["Statement"]))
    return str(role["Arn"])


def retry_while_role_propagates(
    call: Callable[[], T],
    *,
    role_written: bool,
    log: InfoLog,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``call``; while a just-written role is not yet assumable by Step Functions, retry.

    The retries follow :data:`ROLE_PROPAGATION_POLICY`. Only the propagation errors
    (:data:`ROLE_PROPAGATION_CODES`) after a role write are waited through; any other error,
    throttling and 5xx answers included (botocore has retried those already), is raised at once.
    """
    retrying = ROLE_PROPAGATION_POLICY.start()
    while True:
        try:
            return call()
        except ClientError as error:
            propagating = role_written and error_code(error) in ROLE_PROPAGATION_CODES
            if not propagating or not retrying.failed(error):
                raise
            log.info("The new role is not assumable yet (%s); retrying", error_code(error))
            sleep(retrying.next_delay())
