"""The stock amazon provider's operators, pointed at the sandbox: a third-party client works too."""

from __future__ import annotations

import json
import uuid
from unittest import mock

import pytest

SCRIPT = b"""
import sys, boto3
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
boto3.client("s3").put_object(Bucket=args["--bucket"], Key="upstream/done.txt", Body=args["--word"].encode())
print("wrote", args["--word"])
"""


@pytest.fixture
def names(sandbox_env):
    uid = uuid.uuid4().hex[:8]
    s3 = sandbox_env.client("s3")
    bucket = f"upstream-{uid}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="scripts/job.py", Body=SCRIPT)
    return {"bucket": bucket, "job": f"upstream_job_{uid}", "sm": f"upstream-sm-{uid}", "s3": s3}


def _context():
    """Just enough of a task context for the stock operators' console links."""
    return {"ti": mock.MagicMock(), "task_instance": mock.MagicMock()}


def test_stock_glue_job_operator_runs_a_python_shell_job(sandbox_env, names):
    from airflow.providers.amazon.aws.operators.glue import GlueJobOperator

    glue = sandbox_env.client("glue")
    glue.create_job(Name=names["job"], Role="arn:aws:iam::123456789012:role/glue",
                    Command={"Name": "pythonshell", "ScriptLocation": f"s3://{names['bucket']}/scripts/job.py"},
                    DefaultArguments={"--bucket": names["bucket"]})
    stock_glue = GlueJobOperator(task_id="stock_glue", job_name=names["job"], script_args={"--word": "hello"},
                         wait_for_completion=True, job_poll_interval=0.2, aws_conn_id="aws_default",
                         region_name="us-east-1")
    run_id = stock_glue.execute(_context())

    run = glue.get_job_run(JobName=names["job"], RunId=run_id)["JobRun"]
    assert run["JobRunState"] == "SUCCEEDED"
    body = names["s3"].get_object(Bucket=names["bucket"], Key="upstream/done.txt")["Body"].read()
    assert body == b"hello"


def test_stock_step_function_operator_and_sensor(sandbox_env, names):
    from airflow.providers.amazon.aws.operators.step_function import StepFunctionStartExecutionOperator
    from airflow.providers.amazon.aws.sensors.step_function import StepFunctionExecutionSensor

    sfn = sandbox_env.client("stepfunctions")
    definition = {"StartAt": "Double", "States": {"Double": {
        "Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"}, "End": True}}}
    arn = sfn.create_state_machine(name=names["sm"], definition=json.dumps(definition),
                                   roleArn="arn:aws:iam::123456789012:role/sfn")["stateMachineArn"]
    stock_start = StepFunctionStartExecutionOperator(
        task_id="stock_start", state_machine_arn=arn, name=f"stock-{uuid.uuid4().hex[:8]}",
        state_machine_input={"n": 21}, aws_conn_id="aws_default", region_name="us-east-1")
    execution_arn = stock_start.execute(_context())

    stock_wait = StepFunctionExecutionSensor(task_id="stock_wait", execution_arn=execution_arn, poke_interval=0.2,
                                         timeout=30, aws_conn_id="aws_default", region_name="us-east-1")
    stock_wait.execute(_context())  # raises unless the execution SUCCEEDED
    described = sfn.describe_execution(executionArn=execution_arn)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"doubled": 42}
