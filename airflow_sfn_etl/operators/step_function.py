"""Operators that deploy (create-or-update) a state machine and run it once per task try chain."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from airflow.providers.amazon.aws.hooks.step_function import StepFunctionHook
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowException
from botocore.exceptions import ClientError

from airflow_sfn_etl.asl.errors import AslValidationError
from airflow_sfn_etl.asl.validate import validate_or_raise
from airflow_sfn_etl.links.step_function import StateMachineExecutionLink, StateMachineLink
from airflow_sfn_etl.operators.base import DEFER_AFTER_SECONDS, StopsRunOnKill, wait_or_defer
from airflow_sfn_etl.triggers.step_function import StepFunctionExecutionTrigger
from airflow_sfn_etl.utils.aws import default_deferrable, error_code, persist_link, trigger_kwargs
from airflow_sfn_etl.utils.polling import raise_for_event
from airflow_sfn_etl.utils.run_key import SFN_NAME_MAX, sfn_execution_name, sfn_name
from airflow_sfn_etl.utils.start_once import start_once

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
#: How often a create/update is retried while a new role's trust is not yet visible to Step Functions.
ROLE_PROPAGATION_ATTEMPTS = 10
ROLE_PROPAGATION_DELAY = 3.0


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


def plain_params(context: Any) -> dict[str, Any]:
    """The DAG run's params (``context["params"]``) as a plain JSON-serializable dict."""
    params = context.get("params") if hasattr(context, "get") else None
    if params is None:
        return {}
    dump = getattr(params, "dump", None)
    values = dump() if callable(dump) else dict(params)
    out: dict[str, Any] = {}
    for key in sorted(values):
        value = values[key]
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            raise AirflowException(
                f"DAG param '{key}' ({type(value).__name__}) is not JSON-serializable, so it cannot be "
                "passed as execution input; give it a JSON value or pass input explicitly"
            ) from None
        out[str(key)] = value
    return out


def invalid_definition_message(name: str, source: str, error: Exception) -> str:
    """The message of an invalid definition: which state machine, from where, and each problem."""
    problems = getattr(error, "errors", None) or [str(error)]
    return (
        f"The definition of state machine '{name}' ({source}) is invalid; nothing was deployed:\n"
        + "\n".join(f"- {p}" for p in problems)
    )


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
        document, defaults, source = self._document(base_dir)
        try:
            validate_or_raise(document)
        except AslValidationError as error:
            raise AirflowException(
                invalid_definition_message(self.state_machine_name, source, error)
            ) from None
        definition = canonical_json(document)
        role_created = False
        if self.create_role:
            values = {**defaults, **plain_params(context), **(self.policy_params or {})}
            self.role_arn = self.ensure_role(document, values)
            role_created = True
        arn = self.find_state_machine()
        extra: dict[str, Any] = {}
        if self.logging_configuration:
            extra["loggingConfiguration"] = self.logging_configuration
        if arn is None:
            arn = self._retry_while_role_propagates(
                lambda: self.hook.conn.create_state_machine(
                    name=self.state_machine_name,
                    definition=definition,
                    roleArn=self.role_arn,
                    type=self.state_machine_type,
                    publish=self.publish_version,
                    **extra,
                )["stateMachineArn"],
                role_created,
            )
            self.log.info("Created state machine %s", arn)
        else:
            self._update_if_changed(arn, document, definition, extra, role_created)
        persist_link(StateMachineLink, context, self, state_machine_arn=arn)
        return arn

    def _document(self, base_dir: Path | None) -> tuple[dict[str, Any], dict[str, Any], str]:
        """(definition, param defaults of its source DAG, where it came from) without any AWS call."""
        if self.source_dag_file is None:
            assert self.definition is not None
            source = (
                self.definition
                if isinstance(self.definition, str) and len(self.definition) < 300
                else "given"
            )
            return load_definition(self.definition, base_dir), {}, f"definition {source}"
        from airflow_sfn_etl.asl import AslError, compile_dag, definition
        from airflow_sfn_etl.asl.loader import load_dags, pick_dag

        path = Path(self.source_dag_file)
        if not path.is_absolute() and not path.is_file() and base_dir is not None:
            path = base_dir / path
        if not path.is_file():
            raise AirflowException(
                f"source_dag_file {self.source_dag_file!r} not found (tried the working directory"
                + (f" and {base_dir}" if base_dir else "")
                + "); give the path of the Airflow DAG file to compile"
            )
        source = f"compiled from DAG file {path}" + (
            f", DAG '{self.source_dag_id}'" if self.source_dag_id else ""
        )
        try:
            dag = pick_dag(load_dags(str(path)), self.source_dag_id, str(path))
            machine = compile_dag(dag)
        except (AslError, LookupError) as error:
            raise AirflowException(
                f"Cannot compile the state machine '{self.state_machine_name}' ({source}): {error}"
            ) from None
        for note in machine.notes:
            self.log.info("Compiler note: %s", note)
        self.log.info("Compiled DAG '%s' to %d states", machine.dag_id, len(machine.graph.iter_states()))
        return definition(machine), dict(machine.param_defaults), source

    def ensure_role(self, document: dict[str, Any], params: dict[str, Any]) -> str:
        """Create or update the execution role with the generated least-privilege policy; return its ARN."""
        from airflow_sfn_etl.asl.iam import build_iam_policy_from_definition

        role_name = self.role_name or f"{self.state_machine_name}-role"
        account = self.hook.account_id
        region = self.hook.conn_region_name
        policy = build_iam_policy_from_definition(document, region=region, account=account, params=params)
        for note in policy.notes:
            self.log.info("IAM note: %s", note)
        iam = AwsBaseHook(
            aws_conn_id=self.aws_conn_id,
            client_type="iam",
            region_name=self.region_name,
            verify=self.verify,
            config=self.botocore_config,
        ).conn
        trust = json.dumps(trust_policy(account), sort_keys=True)
        try:
            role = iam.get_role(RoleName=role_name)["Role"]
            iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=trust)
            self.log.info("Updating IAM role %s", role["Arn"])
        except ClientError as error:
            if error_code(error) != "NoSuchEntity":
                raise
            role = iam.create_role(
                RoleName=role_name,
                AssumeRolePolicyDocument=trust,
                Description=f"Execution role of Step Functions state machine {self.state_machine_name}",
            )["Role"]
            self.log.info("Created IAM role %s", role["Arn"])
        iam.put_role_policy(
            RoleName=role_name,
            PolicyName=f"{self.state_machine_name}-least-privilege",
            PolicyDocument=json.dumps(policy.document, sort_keys=True),
        )
        self.log.info(
            "Role %s has the generated policy: %d statements", role_name, len(policy.document["Statement"])
        )
        return str(role["Arn"])

    def _retry_while_role_propagates(self, call: Any, role_created: bool) -> Any:
        """Run ``call``; while a just-written role is not yet assumable by Step Functions, retry."""
        for attempt in range(1, ROLE_PROPAGATION_ATTEMPTS + 1):
            try:
                return call()
            except ClientError as error:
                retry = role_created and error_code(error) in ("AccessDeniedException", "InvalidArn")
                if not retry or attempt == ROLE_PROPAGATION_ATTEMPTS:
                    raise
                self.log.info("The new role is not assumable yet (%s); retrying", error_code(error))
                time.sleep(ROLE_PROPAGATION_DELAY)
        raise AssertionError("unreachable")

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
        self._retry_while_role_propagates(
            lambda: self.hook.conn.update_state_machine(stateMachineArn=arn, **update), role_created
        )
        self.log.info("Updated state machine %s (%s changed)", arn, ", ".join(changes))


class StepFunctionRunOperator(StopsRunOnKill, AwsBaseOperator[StepFunctionHook]):
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
    :param input: execution input (dict or JSON string; templated); ``None``: the DAG run's params.
    :param execution_name: execution name; default derived from dag_id/run_id/task_id.
    :param wait_for_completion: wait for the execution to end.
    :param poll_interval: seconds between the first polls (later polls back off).
    :param max_poll_interval: upper bound of the delay between polls, in seconds.
    :param deferrable: wait on the triggerer instead of the worker.
    :param defer_after: when deferrable, seconds to poll the run in the worker before deferring; a
        run that ends sooner needs no deferral (0: defer after one look).
    """

    aws_hook_class = StepFunctionHook
    run_attribute = "execution_arn"
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
        max_poll_interval: float = 60,
        deferrable: bool = default_deferrable(),
        defer_after: float = DEFER_AFTER_SECONDS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.max_poll_interval = max(max_poll_interval, poll_interval)
        self.state_machine_arn = state_machine_arn
        self.input = input
        self.execution_name = execution_name
        self.wait_for_completion = wait_for_completion
        self.poll_interval = poll_interval
        self.deferrable = deferrable
        self.defer_after = defer_after
        self.execution_arn: str | None = None

    def _input_json(self, context: Context) -> str:
        if self.input is None:
            return json.dumps(plain_params(context), sort_keys=True)
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
                # The name makes a repeated start safe: retry a throttling burst here, with backoff.
                arn, _ = start_once(
                    lambda name=name: conn.start_execution(
                        stateMachineArn=self.state_machine_arn, name=name, input=input_json
                    )["executionArn"],
                    lambda: None,
                    what=f"Step Functions execution {name}",
                )
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
            execution_arn=self.execution_arn,
            poll_interval=self.poll_interval,
            max_poll_interval=self.max_poll_interval,
            **trigger_kwargs(self),
        )

    def execute(self, context: Context) -> str:
        if not STATE_MACHINE_ARN.match(self.state_machine_arn or ""):
            raise AirflowException(
                f"state_machine_arn {self.state_machine_arn!r} is not a state machine ARN "
                "(arn:aws:states:<region>:<account>:stateMachine:<name>)"
            )
        input_json = self._input_json(context)
        self.execution_arn = self.start_or_attach(self._base_name(context), input_json)
        self.raise_if_killed()
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
