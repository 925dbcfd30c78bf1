"""Operator that runs a Step Functions state machine once per task try chain and waits for it."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.step_function import StepFunctionHook
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowException
from botocore.exceptions import ClientError

from airflow_sfn_etl.links.step_function import StateMachineExecutionLink
from airflow_sfn_etl.operators.base import DEFER_AFTER_SECONDS, StopsRunOnKill, wait_or_defer
from airflow_sfn_etl.triggers.step_function import StepFunctionExecutionTrigger
from airflow_sfn_etl.utils.aws import default_deferrable, error_code, persist_link, trigger_kwargs
from airflow_sfn_etl.utils.events import StepFunctionExecutionSucceeded, WaitFailed
from airflow_sfn_etl.utils.polling import raise_for_event
from airflow_sfn_etl.utils.run_key import SFN_NAME_MAX, SFN_NAME_PATTERN, sfn_execution_name, sfn_name
from airflow_sfn_etl.utils.sfn_input import plain_params
from airflow_sfn_etl.utils.start_once import start_once

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_sfn_etl.utils.lineage import Lineage

STATE_MACHINE_ARN = re.compile(
    r"^arn:[a-z-]+:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]+(:[A-Za-z0-9_-]+)?$"
)
OUTPUT_XCOM_KEY = "execution_output"
REATTACH_STATUSES = ("RUNNING", "SUCCEEDED", "PENDING_REDRIVE")
MAX_START_ATTEMPTS = 50


def execution_arn_for(state_machine_arn: str, name: str) -> str:
    """Return the ARN of the execution ``name`` of a state machine."""
    parts = state_machine_arn.split(":")
    return ":".join([*parts[:5], "execution", parts[6], name])


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

    OpenLineage (with the ``openlineage`` extra): the execution is the external run; the datasets
    are the union of those of the Athena, Glue and DataBrew tasks it scheduled, with the
    parameters its history records (:func:`~airflow_sfn_etl.utils.lineage.
    step_functions_execution_lineage`): a machine compiled from a DAG has its DAG's datasets.

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
        if not SFN_NAME_PATTERN.match(self.execution_name):
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
                def start(name: str = name) -> str:
                    arn: str = conn.start_execution(
                        stateMachineArn=self.state_machine_arn, name=name, input=input_json
                    )["executionArn"]
                    return arn

                arn, _ = start_once(
                    start,
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

    def execute_complete(
        self, context: Context, event: StepFunctionExecutionSucceeded | WaitFailed | None = None
    ) -> str:
        """Resume after the trigger: fail with state, error and cause, or return the execution ARN."""
        succeeded = raise_for_event(event)
        self.execution_arn = succeeded["execution_arn"]
        self._push_output(context, succeeded)
        return succeeded["execution_arn"]

    def get_openlineage_facets_on_complete(self, task_instance: object = None) -> Lineage:
        """The datasets of the tasks the execution scheduled; the execution as the external run."""
        from airflow_sfn_etl.utils.lineage import AwsCatalog, step_functions_execution_lineage

        return step_functions_execution_lineage(AwsCatalog(self), self.execution_arn, self.state_machine_arn)

    def _push_output(self, context: Context, event: StepFunctionExecutionSucceeded) -> None:
        self.log.info("Execution %s succeeded", event.get("execution_arn"))
        output = event.get("output")
        if output is None:
            return
        try:
            value = json.loads(output)
        except ValueError:
            value = output
        context["ti"].xcom_push(key=OUTPUT_XCOM_KEY, value=value)
