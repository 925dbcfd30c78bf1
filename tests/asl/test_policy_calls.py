"""The generated execution-role policy against the calls compiled machines make on the sandbox.

Each compiled machine runs on the sandbox's Step Functions with the call record on; every call the
machine made (as IAM authorizes it: :mod:`tests.asl.policy_calls`) must be allowed by the policy
generated for it, and every (action, resource) the policy grants must have been needed by a call in
one of the runs, except the ones listed below with why no sandbox run can make that call.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from airflow.providers.amazon.aws.operators.athena import AthenaOperator
from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
from airflow.providers.amazon.aws.operators.s3 import S3CopyObjectOperator, S3DeleteObjectsOperator
from airflow.providers.amazon.aws.operators.sns import SnsPublishOperator
from airflow.providers.amazon.aws.operators.sqs import SqsPublishOperator
from airflow.providers.amazon.aws.operators.step_function import StepFunctionStartExecutionOperator
from airflow.providers.amazon.aws.sensors.glue import GlueJobSensor

from airflow_sfn_etl.asl import build_iam_policy, compile_dag, definition
from airflow_sfn_etl_sandbox.client import SandboxClient
from tests.asl.conftest import make_dag
from tests.asl.policy_calls import allowed, iam_matches, machine_calls, requests_of, unneeded

REGION, ACCOUNT = "us-east-1", "123456789012"

SCRIPT = b"""
import sys, time, boto3
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
time.sleep(float(args.get("--sleep", "0")))
boto3.client("s3").put_object(Bucket=args["--bucket"], Key="out/job.txt", Body=b"done")
"""


def test_iam_wildcards_match_as_iam_does() -> None:
    assert iam_matches("arn:aws:s3:::lake/in/*", "arn:aws:s3:::lake/in/a/b.csv")
    assert not iam_matches("arn:aws:s3:::lake/in/*", "arn:aws:s3:::lake/out/a.csv")
    assert iam_matches("arn:aws:glue:*:1:job/j?b", "arn:aws:glue:eu-west-1:1:job/jab")
    assert iam_matches("arn:aws:s3:::b/[x]*", "arn:aws:s3:::b/[x]1") and not iam_matches("arn:aws:s3:::b/[x]", "b/x")
    policy = {"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/k*"]}]}
    assert allowed(policy, "s3:GetObject", "arn:aws:s3:::b/k1")
    assert not allowed(policy, "s3:PutObject", "arn:aws:s3:::b/k1")
    assert not allowed(policy, "s3:GetObject", "arn:aws:s3:::c/k1")


def _wait_for(check: Callable[[], Any], what: str, tries: int = 600) -> Any:
    for _ in range(tries):
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


def _run(sfn: Any, document: dict[str, Any], name: str) -> str:
    arn = sfn.create_state_machine(
        name=name, definition=json.dumps(document), roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn"
    )["stateMachineArn"]
    return str(sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"])


def _status(sfn: Any, execution: str) -> str:
    return _wait_for(
        lambda: (d := sfn.describe_execution(executionArn=execution))["status"] != "RUNNING" and d["status"],
        f"execution {execution} to end",
    )


@pytest.mark.e2e
def test_the_policy_allows_every_call_of_the_stock_operators_and_grants_nothing_unneeded(sandbox_env: Any) -> None:
    sb = sandbox_env
    uid = uuid.uuid4().hex[:8]
    s3, sfn, glue = sb.client("s3"), sb.client("stepfunctions"), sb.client("glue")
    bucket = f"calls-{uid}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="scripts/job.py", Body=SCRIPT)
    s3.put_object(Bucket=bucket, Key="in/a b.csv", Body=b"a\n1\n")
    job = f"calls_job_{uid}"
    glue.create_job(
        Name=job, Role=f"arn:aws:iam::{ACCOUNT}:role/glue", DefaultArguments={"--bucket": bucket},
        Command={"Name": "pythonshell", "ScriptLocation": f"s3://{bucket}/scripts/job.py"},
    )
    queue = sb.client("sqs").create_queue(QueueName=f"calls-{uid}")["QueueUrl"]
    topic = sb.client("sns").create_topic(Name=f"calls-{uid}")["TopicArn"]
    child = sfn.create_state_machine(
        name=f"calls-child-{uid}", roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn",
        definition=json.dumps({"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "SecondsPath": "$.hold",
                                                                        "End": True}}}),
    )["stateMachineArn"]

    with make_dag() as flow:
        copy = S3CopyObjectOperator(
            task_id="copy", source_bucket_key=f"s3://{bucket}/in/a b.csv", dest_bucket_key=f"s3://{bucket}/in/b.csv"
        )
        start = GlueJobOperator(task_id="start", job_name=job, wait_for_completion=False)
        wait = GlueJobSensor(task_id="wait", job_name=job, run_id=start.output)
        query = AthenaOperator(task_id="query", query="SELECT 1", output_location=f"s3://{bucket}/athena/")
        nested = StepFunctionStartExecutionOperator(
            task_id="nested", state_machine_arn=child, state_machine_input={"hold": 0}, deferrable=True
        )
        tell = SqsPublishOperator(task_id="tell", sqs_queue=queue, message_content="loaded")
        notify = SnsPublishOperator(task_id="notify", target_arn=topic, message="done")
        clean = S3DeleteObjectsOperator(task_id="clean", bucket=bucket, keys=["in/a b.csv", "in/b.csv"])
        copy >> start >> wait >> query >> nested >> tell >> notify >> clean
    # Stopped while the job and the child run: the machine stops both (BatchStopJobRun, StopExecution).
    with make_dag() as stopped:
        GlueJobOperator(task_id="slow_job", job_name=job, script_args={"--sleep": "30"}, wait_for_completion=True)
        StepFunctionStartExecutionOperator(
            task_id="slow_child", state_machine_arn=child, state_machine_input={"hold": 30}, deferrable=True
        )

    admin = SandboxClient(sb.endpoint_url)
    admin.record_calls(True)
    try:
        execution = _run(sfn, definition(compile_dag(flow)), f"calls-flow-{uid}")
        assert _status(sfn, execution) == "SUCCEEDED"
        before = len(admin.recorded_calls())

        def since_start() -> set[str]:
            return {c["operation"] for c in machine_calls(admin.recorded_calls()[before:])}

        execution = _run(sfn, definition(compile_dag(stopped)), f"calls-stopped-{uid}")
        _wait_for(lambda: {"GetJobRun", "DescribeExecution"} <= since_start(), "the job and the child to be polled")
        sfn.stop_execution(executionArn=execution)
        _wait_for(lambda: {"BatchStopJobRun", "StopExecution"} <= since_start(), "the machine to stop both")
        calls = machine_calls(admin.recorded_calls())
    finally:
        admin.record_calls(False)

    athena = sb.client("athena")
    requests = {
        request
        for call in calls
        for request in requests_of(
            call, ACCOUNT, lambda qid: athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["WorkGroup"]
        )
    }
    policies = [
        build_iam_policy(compile_dag(dag), region=REGION, account=ACCOUNT).document for dag in (flow, stopped)
    ]
    # Every call was allowed by the policy of the machine that made it (each machine's calls name only
    # its own resources, so one of the two policies must allow each).
    denied = sorted(r for r in requests if not any(allowed(p, *r) for p in policies))
    assert denied == []
    # The calls cover the services the machines use, so the check above is not vacuous.
    assert {a.split(":")[0] for a, _ in requests} == {"s3", "glue", "athena", "states", "sqs", "sns"}
    # Every grant was needed by a call, except what no sandbox run can call.
    assert [grant for policy in policies for grant in unneeded(policy, requests)] == []
