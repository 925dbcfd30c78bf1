"""Operator that deploys (creates or updates) a Step Functions state machine."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.step_function import StepFunctionHook
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowException

from airflow_sfn_etl.links.step_function import StateMachineLink
from airflow_sfn_etl.utils.aws import client_for, persist_link
from airflow_sfn_etl.utils.run_key import SFN_NAME_PATTERN
from airflow_sfn_etl.utils.sfn_definition import (
    LoadedDefinition,
    canonical_json,
    compile_source_dag,
    given_definition,
    load_definition,
    validate_definition,
)
from airflow_sfn_etl.utils.sfn_input import plain_params
from airflow_sfn_etl.utils.sfn_role import ensure_execution_role, retry_while_role_propagates

if TYPE_CHECKING:
    from airflow.sdk import Context

STATE_MACHINE_TYPES = ("STANDARD", "EXPRESS")
_LOGGING_DEFAULTS = {"level": "OFF", "includeExecutionData": False, "destinations": []}


def normalize_logging(configuration: dict[str, Any] | None) -> dict[str, Any]:
    """Fill Step Functions' logging defaults so a missing key equals its default."""
    return {**_LOGGING_DEFAULTS, **(configuration or {})}


class StepFunctionDeployOperator(AwsBaseOperator[StepFunctionHook]):
    """Create a state machine, or update it when its definition, role or logging differ.

    Definitions are compared as canonical JSON (sorted keys), so formatting differences do not
    cause updates; when nothing differs no call is made. Returns the state machine ARN. The type
    (STANDARD/EXPRESS) cannot be changed in place: a mismatch fails with a clear message.

    The definition comes either from ``definition`` or, compiled at execute time (never at DAG
    import), from an Airflow DAG (``source_dag_file`` + ``source_dag_id``). Either way it is
    validated (:mod:`airflow_sfn_etl.asl.validate`) before any AWS call; an invalid one fails
    the task naming each bad state. With ``create_role`` the execution role ``role_name`` is
    created or updated (trust: ``states.amazonaws.com`` from this account) with the generated
    least-privilege inline policy (:mod:`airflow_sfn_etl.asl.iam`), and its ARN is used.

    :param state_machine_name: name of the state machine.
    :param definition: ASL as a dict, a JSON string, or a path to an ``.asl.json`` file
        (relative paths are tried against the working directory, then the DAG file's folder).
    :param source_dag_file: Python file of the Airflow DAG to compile instead of ``definition``
        (relative paths: against the working directory, then the DAG file's folder).
    :param source_dag_id: the DAG to compile when ``source_dag_file`` defines several.
    :param role_arn: IAM role the state machine runs as (not needed with ``create_role``).
    :param create_role: create or update the IAM role ``role_name`` with the generated policy.
    :param role_name: name of the role ``create_role`` manages (default ``<state_machine_name>-role``).
    :param policy_params: values of the execution input fields used to scope the generated policy
        (default: the DAG run's params, merged over the source DAG's param defaults).
    :param logging_configuration: Step Functions ``loggingConfiguration``.
    :param publish_version: publish a version on create/update.
    :param state_machine_type: STANDARD or EXPRESS.
    """

    aws_hook_class = StepFunctionHook
    template_fields: Sequence[str] = aws_template_fields(
        "state_machine_name", "role_arn", "role_name", "source_dag_file", "source_dag_id", "policy_params"
    )
    operator_extra_links = (StateMachineLink(),)
    ui_color = "#f9c915"

    def __init__(
        self,
        *,
        state_machine_name: str,
        definition: dict[str, Any] | str | None = None,
        source_dag_file: str | None = None,
        source_dag_id: str | None = None,
        role_arn: str | None = None,
        create_role: bool = False,
        role_name: str | None = None,
        policy_params: dict[str, Any] | None = None,
        logging_configuration: dict[str, Any] | None = None,
        publish_version: bool = False,
        state_machine_type: str = "STANDARD",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if state_machine_type not in STATE_MACHINE_TYPES:
            raise ValueError(f"state_machine_type must be STANDARD or EXPRESS, not {state_machine_type!r}")
        if (definition is None) == (source_dag_file is None):
            raise ValueError(
                f"Task '{self.task_id}': give exactly one of definition (ASL dict, JSON text or .asl.json "
                "path) or source_dag_file (an Airflow DAG file compiled at run time)"
            )
        if source_dag_id is not None and source_dag_file is None:
            raise ValueError(f"Task '{self.task_id}': source_dag_id needs source_dag_file")
        if not create_role and not role_arn:
            raise ValueError(
                f"Task '{self.task_id}': give role_arn, or create_role=True to create the execution role "
                "with the generated least-privilege policy"
            )
        if create_role and role_arn:
            raise ValueError(f"Task '{self.task_id}': give role_arn or create_role=True, not both")
        if isinstance(definition, dict):
            load_definition(definition)
        self.state_machine_name = state_machine_name
        self.definition = definition
        self.source_dag_file = source_dag_file
        self.source_dag_id = source_dag_id
        self.role_arn = role_arn
        self.create_role = create_role
        self.role_name = role_name
        self.policy_params = policy_params
        self.logging_configuration = logging_configuration
        self.publish_version = publish_version
        self.state_machine_type = state_machine_type

    def find_state_machine(self) -> str | None:
        """Return the ARN of the state machine with this name, if it exists."""
        kwargs: dict[str, Any] = {}
        while True:
            page = self.hook.conn.list_state_machines(**kwargs)
            for machine in page.get("stateMachines", []):
                if machine["name"] == self.state_machine_name:
                    arn: str = machine["stateMachineArn"]
                    return arn
            if not page.get("nextToken"):
                return None
            kwargs["nextToken"] = page["nextToken"]

    def execute(self, context: Context) -> str:
        if not SFN_NAME_PATTERN.match(self.state_machine_name or ""):
            raise AirflowException(
                f"state_machine_name {self.state_machine_name!r} must be 1-80 characters of [A-Za-z0-9-_]"
            )
        dag = context.get("dag")
        base_dir = Path(dag.fileloc).parent if dag is not None and getattr(dag, "fileloc", None) else None
        loaded = self._document(base_dir)
        validate_definition(loaded, self.state_machine_name)
        document = loaded.document
        definition = canonical_json(document)
        role_created = False
        if self.create_role:
            values = {**loaded.param_defaults, **plain_params(context), **(self.policy_params or {})}
            self.role_arn = self.ensure_role(document, values)
            role_created = True
        arn = self.find_state_machine()
        extra: dict[str, Any] = {}
        if self.logging_configuration:
            extra["loggingConfiguration"] = self.logging_configuration
        if arn is None:
            arn = retry_while_role_propagates(
                lambda: self.hook.conn.create_state_machine(
                    name=self.state_machine_name,
                    definition=definition,
                    roleArn=self.role_arn,
                    type=self.state_machine_type,
                    publish=self.publish_version,
                    **extra,
                )["stateMachineArn"],
                role_written=role_created,
                log=self.log,
            )
            self.log.info("Created state machine %s", arn)
        else:
            self._update_if_changed(arn, document, definition, extra, role_created)
        persist_link(StateMachineLink, context, self, state_machine_arn=arn)
        return arn

    def _document(self, base_dir: Path | None) -> LoadedDefinition:
        """(definition, param defaults of its source DAG, where it came from) without any AWS call."""
        if self.source_dag_file is None:
            assert self.definition is not None
            return given_definition(self.definition, base_dir)
        return compile_source_dag(
            self.source_dag_file,
            self.source_dag_id,
            base_dir,
            state_machine_name=self.state_machine_name,
            log=self.log,
        )

    def ensure_role(self, document: dict[str, Any], params: dict[str, Any]) -> str:
        """Create or update the execution role with the generated least-privilege policy; return its ARN."""
        account = self.hook.account_id
        region = self.hook.conn_region_name
        iam, glue, athena = client_for(self, "iam"), client_for(self, "glue"), client_for(self, "athena")
        return ensure_execution_role(
            iam,
            role_name=self.role_name or f"{self.state_machine_name}-role",
            state_machine_name=self.state_machine_name,
            document=document,
            region=region,
            account=account,
            params=params,
            log=self.log,
            glue=glue,
            athena=athena,
            logging=normalize_logging(self.logging_configuration).get("level", "OFF") != "OFF",
        )

    def _update_if_changed(
        self,
        arn: str,
        document: dict[str, Any],
        definition: str,
        extra: dict[str, Any],
        role_created: bool = False,
    ) -> None:
        current = self.hook.conn.describe_state_machine(stateMachineArn=arn)
        current_type = current.get("type", "STANDARD")
        if current_type != self.state_machine_type:
            raise AirflowException(
                f"State machine '{self.state_machine_name}' exists as {current_type}, not "
                f"{self.state_machine_type}: the type cannot be changed; delete the state machine "
                "or set state_machine_type to match"
            )
        changes = []
        if canonical_json(json.loads(current["definition"])) != canonical_json(document):
            changes.append("definition")
        if current.get("roleArn") != self.role_arn:
            changes.append("role")
        if normalize_logging(current.get("loggingConfiguration")) != normalize_logging(
            self.logging_configuration
        ):
            changes.append("logging")
        if not changes:
            self.log.info("State machine %s is up to date; nothing to deploy", arn)
            return
        update: dict[str, Any] = {"definition": definition, "roleArn": self.role_arn}
        update["loggingConfiguration"] = normalize_logging(self.logging_configuration)
        if self.publish_version:
            update["publish"] = True
        retry_while_role_propagates(
            lambda: self.hook.conn.update_state_machine(stateMachineArn=arn, **update),
            role_written=role_created,
            log=self.log,
        )
        self.log.info("Updated state machine %s (%s changed)", arn, ", ".join(changes))
