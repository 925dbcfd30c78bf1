"""Operators that deploy (create-or-update) a state machine and run it once per task try chain."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.step_function import StepFunctionHook
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowException
from botocore.exceptions import ClientError

from airflow_sfn_etl.links.step_function import StateMachineExecutionLink, StateMachineLink
from airflow_sfn_etl.operators.base import wait_or_defer
from airflow_sfn_etl.triggers.step_function import StepFunctionExecutionTrigger
from airflow_sfn_etl.utils.aws import default_deferrable, error_code, persist_link, trigger_kwargs
from airflow_sfn_etl.utils.polling import raise_for_event
from airflow_sfn_etl.utils.run_key import SFN_NAME_MAX, sfn_execution_name, sfn_name

if TYPE_CHECKING:
    from airflow.sdk import Context

STATE_MACHINE_TYPES = ("STANDARD", "EXPRESS")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
STATE_MACHINE_ARN = re.compile(
    r"^arn:[a-z-]+:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]+(:[A-Za-z0-9_-]+)?$"
)
OUTPUT_XCOM_KEY = "execution_output"
REATTACH_STATUSES = ("RUNNING", "SUCCEEDED", "PENDING_REDRIVE")
MAX_START_ATTEMPTS = 50
_LOGGING_DEFAULTS = {"level": "OFF", "includeExecutionData": False, "destinations": []}


def load_definition(definition: dict[str, Any] | str, base_dir: Path | None = None) -> dict[str, Any]:
    """Return an ASL definition from a dict, a JSON string, or a path to an ``.asl.json`` file."""
    if isinstance(definition, dict):
        document: Any = definition
    elif isinstance(definition, str):
        text = definition.strip()
        if text.startswith("{"):
            try:
                document = json.loads(text)
            except ValueError as error:
                raise AirflowException(f"The state machine definition is not valid JSON: {error}") from None
        else:
            path = Path(text)
            if not path.is_absolute() and not path.is_file() and base_dir is not None:
                path = base_dir / path
            if not path.is_file():
                raise AirflowException(
                    f"State machine definition file not found: {text} (pass a dict, a JSON string, "
                    "or an existing .asl.json path)"
                )
            try:
                document = json.loads(path.read_text())
            except ValueError as error:
                raise AirflowException(f"{path} is not valid JSON: {error}") from None
    else:
        raise AirflowException(
            f"definition must be a dict, a JSON string or a path, not {type(definition).__name__}"
        )
    if (
        not isinstance(document, dict)
        or not isinstance(document.get("States"), dict)
        or not document["States"]
    ):
        raise AirflowException("The state machine definition needs a non-empty 'States' object")
    if document.get("StartAt") not in document["States"]:
        raise AirflowException(
            f"The state machine definition's StartAt {document.get('StartAt')!r} is not one of its States"
        )
    return document


def canonical_json(document: Any) -> str:
    """Serialize with sorted keys and no spaces, so equal documents compare equal."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def normalize_logging(configuration: dict[str, Any] | None) -> dict[str, Any]:
    """Fill Step Functions' logging defaults so a missing key equals its default."""
    return {**_LOGGING_DEFAULTS, **(configuration or {})}


def execution_arn_for(state_machine_arn: str, name: str) -> str:
    """Return the ARN of the execution ``name`` of a state machine."""
    parts = state_machine_arn.split(":")
    return ":".join([*parts[:5], "execution", parts[6], name])


class StepFunctionDeployOperator(AwsBaseOperator[StepFunctionHook]):
    """Create a state machine, or update it when its definition, role or logging differ.

    Definitions are compared as canonical JSON (sorted keys), so formatting differences do not
    cause updates; when nothing differs no call is made. Returns the state machine ARN. The type
    (STANDARD/EXPRESS) cannot be changed in place: a mismatch fails with a clear message.

    :param state_machine_name: name of the state machine.
    :param definition: ASL as a dict, a JSON string, or a path to an ``.asl.json`` file
        (relative paths are tried against the working directory, then the DAG file's folder).
    :param role_arn: IAM role the state machine runs as.
    :param logging_configuration: Step Functions ``loggingConfiguration``.
    :param publish_version: publish a version on create/update.
    :param state_machine_type: STANDARD or EXPRESS.
    """

    aws_hook_class = StepFunctionHook
    template_fields: Sequence[str] = aws_template_fields("state_machine_name", "role_arn")
    operator_extra_links = (StateMachineLink(),)
    ui_color = "#f9c915"

    def __init__(
        self,
        *,
        state_machine_name: str,
        definition: dict[str, Any] | str,
        role_arn: str,
        logging_configuration: dict[str, Any] | None = None,
        publish_version: bool = False,
        state_machine_type: str = "STANDARD",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if state_machine_type not in STATE_MACHINE_TYPES:
            raise ValueError(f"state_machine_type must be STANDARD or EXPRESS, not {state_machine_type!r}")
        if isinstance(definition, dict):
            load_definition(definition)
        self.state_machine_name = state_machine_name
        self.definition = definition
        self.role_arn = role_arn
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
                    return machine["stateMachineArn"]
            if not page.get("nextToken"):
                return None
            kwargs["nextToken"] = page["nextToken"]

    def execute(self, context: Context) -> str:
        if not NAME_PATTERN.match(self.state_machine_name or ""):
            raise AirflowException(
                f"state_machine_name {self.state_machine_name!r} must be 1-80 characters of [A-Za-z0-9-_]"
            )
        dag = context.get("dag")
        base_dir = Path(dag.fileloc).parent if dag is not None and getattr(dag, "fileloc", None) else None
        document = load_definition(self.definition, base_dir)
        definition = canonical_json(document)
        arn = self.find_state_machine()
        extra: dict[str, Any] = {}
        if self.logging_configuration:
            extra["loggingConfiguration"] = self.logging_configuration
        if arn is None:
            arn = self.hook.conn.create_state_machine(
                name=self.state_machine_name,
                definition=definition,
                roleArn=self.role_arn,
                type=self.state_machine_type,
                publish=self.publish_version,
                **extra,
            )["stateMachineArn"]
            self.log.info("Created state machine %s", arn)
        else:
            self._update_if_changed(arn, document, definition, extra)
        persist_link(StateMachineLink, context, self, state_machine_arn=arn)
        return arn

    def _update_if_changed(
        self, arn: str, document: dict[str, Any], definition: str, extra: dict[str, Any]
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
        self.hook.conn.update_state_machine(stateMachineArn=arn, **update)
        self.log.info("Updated state machine %s (%s changed)", arn, ", ".join(changes))


class StepFunctionRunOperator(AwsBaseOperator[StepFunctionHook]):
    """Start a state machine execution once per task try chain and wait for it.

    The default execution name is ``<dag_id>__<run_id>__<task_id>`` sanitized to 80 characters
    of ``[A-Za-z0-9-_]`` (``__c<n>`` is appended after the task is cleared; long names end with a
    hash). When StartExecution answers ``ExecutionAlreadyExists`` for that name, the task
    attaches to that execution if it is RUNNING or SUCCEEDED; if it FAILED, TIMED_OUT or was
    ABORTED (a retry after a failed execution), the next name ``<name>-r2``, ``-r3``, ... is used,
    so each retry runs once. While waiting, each state entered and exited is logged. A failed
    execution fails the task with the failed state's name, error and cause from the execution
    history. Returns the execution ARN; the execution output (parsed JSON) is pushed to XCom
    under ``execution_output``.

    :param state_machine_arn: ARN of the state machine (a version or alias ARN works too).
    :param input: execution input (dict or JSON string; templated).
    :param execution_name: execution name; default derived from dag_id/run_id/task_id.
    :param wait_for_completion: wait for the execution to end.
    :param poll_interval: seconds between the first polls (later polls back off up to a minute).
    :param deferrable: wait on the triggerer instead of the worker.
    """

    aws_hook_class = StepFunctionHook
    template_fields: Sequence[str] = aws_template_fields("state_machine_arn", "input", "execution_name")
    template_fields_renderers = {"input": "json"}
    operator_extra_links = (StateMachineExecutionLink(),)
    ui_color = "#f9c915"

    def __init__(
        self,
        *,
        state_machine_arn: str,
        input: dict[str, Any] | str | None = None,  # noqa: A002 - the Step Functions API's own name
        execution_name: str | None = None,
        wait_for_completion: bool = True,
        poll_interval: float = 5,
        deferrable: bool = default_deferrable(),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.state_machine_arn = state_machine_arn
        self.input = input
        self.execution_name = execution_name
        self.wait_for_completion = wait_for_completion
        self.poll_interval = poll_interval
        self.deferrable = deferrable
        self.execution_arn: str | None = None

    def _input_json(self) -> str:
        if self.input is None:
            return "{}"
        if isinstance(self.input, str):
            try:
                json.loads(self.input)
            except ValueError as error:
                raise AirflowException(f"input is not valid JSON: {error}") from None
            return self.input
        try:
            return json.dumps(self.input, sort_keys=True)
        except (TypeError, ValueError) as error:
            raise AirflowException(f"input must be JSON-serializable: {error}") from None

    def _base_name(self, context: Context) -> str:
        if self.execution_name is None:
            return sfn_execution_name(context)
        if not NAME_PATTERN.match(self.execution_name):
            raise AirflowException(
                f"execution_name {self.execution_name!r} must be 1-{SFN_NAME_MAX} characters of [A-Za-z0-9-_]"
            )
        return self.execution_name

    def start_or_attach(self, base_name: str, input_json: str) -> str:
        """Start the execution, or attach to the one this try chain already started."""
        conn = self.hook.conn
        for attempt in range(1, MAX_START_ATTEMPTS + 1):
            name = base_name if attempt == 1 else sfn_name(base_name, suffix=f"-r{attempt}")
            try:
                arn = conn.start_execution(
                    stateMachineArn=self.state_machine_arn, name=name, input=input_json
                )["executionArn"]
                self.log.info("Started execution %s", arn)
                return arn
            except ClientError as error:
                code = error_code(error)
                if code == "StateMachineDoesNotExist":
                    raise AirflowException(
                        f"State machine {self.state_machine_arn} does not exist: deploy it first "
                        "(StepFunctionDeployOperator) or fix state_machine_arn"
                    ) from error
                if code != "ExecutionAlreadyExists":
                    raise
            arn = execution_arn_for(self.state_machine_arn, name)
            status = conn.describe_execution(executionArn=arn).get("status")
            if status in REATTACH_STATUSES:
                self.log.info("Execution %s already exists (%s): attaching to it", arn, status)
                return arn
            self.log.info("Execution %s already ended %s: this try starts a new one", arn, status)
        raise AirflowException(
            f"More than {MAX_START_ATTEMPTS} executions named '{base_name}-r<n>' already ended; "
            "pass a new execution_name"
        )

    def make_trigger(self) -> StepFunctionExecutionTrigger:
        """Return the trigger that waits for this task's execution."""
        if self.execution_arn is None:
            raise AirflowException("No execution to wait for: execute() has not started one")
        return StepFunctionExecutionTrigger(
            execution_arn=self.execution_arn, poll_interval=self.poll_interval, **trigger_kwargs(self)
        )

    def execute(self, context: Context) -> str:
        if not STATE_MACHINE_ARN.match(self.state_machine_arn or ""):
            raise AirflowException(
                f"state_machine_arn {self.state_machine_arn!r} is not a state machine ARN "
                "(arn:aws:states:<region>:<account>:stateMachine:<name>)"
            )
        input_json = self._input_json()
        self.execution_arn = self.start_or_attach(self._base_name(context), input_json)
        persist_link(StateMachineExecutionLink, context, self, execution_arn=self.execution_arn)
        if self.wait_for_completion:
            event = wait_or_defer(self, self.make_trigger())
            self._push_output(context, event)
        return self.execution_arn

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> str:
        """Resume after the trigger: fail with state, error and cause, or return the execution ARN."""
        event = raise_for_event(event)
        self._push_output(context, event)
        return event["execution_arn"]

    def _push_output(self, context: Context, event: dict[str, Any]) -> None:
        self.log.info("Execution %s succeeded", event.get("execution_arn"))
        output = event.get("output")
        if output is None:
            return
        try:
            value = json.loads(output)
        except ValueError:
            value = output
        context["ti"].xcom_push(key=OUTPUT_XCOM_KEY, value=value)

    def on_kill(self) -> None:
        """Stop the execution this task started or attached to (StopExecution)."""
        if self.execution_arn:
            StepFunctionExecutionTrigger(execution_arn=self.execution_arn).stop(self.hook)
