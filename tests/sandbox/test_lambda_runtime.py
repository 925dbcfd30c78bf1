"""Lambda on the sandbox: python3.x functions run as subprocesses, as AWS documents Invoke."""

from __future__ import annotations

import base64
import io
import json
import time
import uuid
import zipfile
from typing import Any
from unittest import mock

import pytest
from botocore.config import Config

HANDLER = '''
import json, logging, os
import boto3

logging.getLogger().setLevel(logging.INFO)


def echo(event, context):
    print("echo", json.dumps(event))
    logging.info("called with %s", event.get("n"))
    return {"event": event, "mode": os.environ.get("MODE"), "region": os.environ["AWS_REGION"],
            "name": os.environ["AWS_LAMBDA_FUNCTION_NAME"], "ctx_name": context.function_name,
            "ctx_version": context.function_version, "ctx_arn": context.invoked_function_arn,
            "ctx_memory": context.memory_limit_in_mb, "ctx_request": context.aws_request_id,
            "ctx_group": context.log_group_name, "ctx_stream": context.log_stream_name,
            "remaining": context.get_remaining_time_in_millis()}


def write_s3(event, context):
    boto3.client("s3").put_object(Bucket=event["bucket"], Key=event["key"], Body=event["body"].encode())
    return {"written": event["key"]}


def fail(event, context):
    raise ValueError("no good: " + str(event.get("n")))


def sleep(event, context):
    import time
    time.sleep(30)
'''


def _zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buf.getvalue()


@pytest.fixture
def lam(sandbox_env: Any) -> dict[str, Any]:
    iam = sandbox_env.client("iam")
    uid = uuid.uuid4().hex[:8]
    role = iam.create_role(RoleName=f"lambda-{uid}", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]["Arn"]
    client = sandbox_env.client("lambda", config=Config(retries={"max_attempts": 1}))
    s3 = sandbox_env.client("s3")
    bucket = f"lambda-{uid}"
    s3.create_bucket(Bucket=bucket)

    def create(handler: str, **extra: Any) -> str:
        name = f"fn-{handler.split('.')[-1]}-{uuid.uuid4().hex[:8]}"
        spec: dict[str, Any] = {"Runtime": "python3.11", "Code": {"ZipFile": _zip({"app.py": HANDLER})}}
        spec.update(extra)
        client.create_function(FunctionName=name, Role=role, Handler=handler, **spec)
        return name

    return {"client": client, "create": create, "s3": s3, "bucket": bucket, "role": role,
            "logs": sandbox_env.client("logs")}


def _log_messages(logs: Any, name: str) -> list[str]:
    group = f"/aws/lambda/{name}"
    out = []
    for stream in logs.describe_log_streams(logGroupName=group)["logStreams"]:
        events = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])["events"]
        out += [e["message"] for e in events]
    return out


def test_invoke_answers_the_handlers_return_value_with_env_and_context(lam):
    name = lam["create"]("app.echo", Environment={"Variables": {"MODE": "blue"}}, MemorySize=256, Timeout=5)
    event = {"n": 7, "items": ["a", "b"]}
    answer = lam["client"].invoke(FunctionName=name, Payload=json.dumps(event).encode())

    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    assert answer["ExecutedVersion"] == "$LATEST"
    result = json.loads(answer["Payload"].read())
    assert result["event"] == event
    assert (result["mode"], result["region"], result["name"]) == ("blue", "us-east-1", name)
    assert (result["ctx_name"], result["ctx_version"], result["ctx_memory"]) == (name, "$LATEST", 256)
    assert result["ctx_arn"] == f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
    assert result["ctx_group"] == f"/aws/lambda/{name}"
    assert result["ctx_request"] == answer["ResponseMetadata"]["RequestId"]
    assert 0 < result["remaining"] <= 5000

    logs = _log_messages(lam["logs"], name)  # START, the output, END, REPORT as Lambda writes them
    request = result["ctx_request"]
    assert logs[0] == f"START RequestId: {request} Version: $LATEST"
    assert f"echo {json.dumps(event)}" in logs
    assert any(m.startswith("[INFO]\t") and m.endswith(f"\t{request}\tcalled with 7") for m in logs)
    assert logs[-2] == f"END RequestId: {request}"
    assert logs[-1].startswith(f"REPORT RequestId: {request}\tDuration: ") and "\tMemory Size: 256 MB\t" in logs[-1]
    streams = lam["logs"].describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]
    assert [s["logStreamName"] for s in streams] == [result["ctx_stream"]]


def test_a_published_version_and_code_from_s3(lam):
    lam["s3"].put_object(Bucket=lam["bucket"], Key="code/fn.zip", Body=_zip({"pkg/handler.py": HANDLER,
                                                                            "pkg/__init__.py": ""}))
    name = lam["create"]("pkg.handler.echo", Code={"S3Bucket": lam["bucket"], "S3Key": "code/fn.zip"})
    version = lam["client"].publish_version(FunctionName=name)["Version"]
    answer = lam["client"].invoke(FunctionName=name, Qualifier=version, Payload=b'{"n": 1}')
    result = json.loads(answer["Payload"].read())
    assert answer["ExecutedVersion"] == version == result["ctx_version"]
    assert result["ctx_arn"].endswith(f":function:{name}:{version}")


def test_boto3_in_the_handler_reaches_the_sandbox(lam):
    name = lam["create"]("app.write_s3")
    answer = lam["client"].invoke(FunctionName=name, Payload=json.dumps(
        {"bucket": lam["bucket"], "key": "out/hello.txt", "body": "from lambda"}).encode())
    assert json.loads(answer["Payload"].read()) == {"written": "out/hello.txt"}
    assert lam["s3"].get_object(Bucket=lam["bucket"], Key="out/hello.txt")["Body"].read() == b"from lambda"


def test_a_handler_exception_is_an_unhandled_function_error(lam):
    name = lam["create"]("app.fail")
    answer = lam["client"].invoke(FunctionName=name, Payload=b'{"n": 3}', LogType="Tail")
    assert answer["StatusCode"] == 200 and answer["FunctionError"] == "Unhandled"
    error = json.loads(answer["Payload"].read())
    assert set(error) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert (error["errorMessage"], error["errorType"]) == ("no good: 3", "ValueError")
    assert error["requestId"] == answer["ResponseMetadata"]["RequestId"]
    assert 'raise ValueError("no good: " + str(event.get("n")))' in error["stackTrace"][-1]
    tail = base64.b64decode(answer["LogResult"]).decode()
    assert "[ERROR] ValueError: no good: 3" in tail and f"END RequestId: {error['requestId']}" in tail


def test_a_missing_handler_is_a_runtime_error(lam):
    name = lam["create"]("app.nope")
    answer = lam["client"].invoke(FunctionName=name)
    error = json.loads(answer["Payload"].read())
    assert answer["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.HandlerNotFound"
    assert error["errorMessage"] == "Handler 'nope' missing on module 'app'"


def test_the_timeout_ends_the_invocation(lam):
    name = lam["create"]("app.sleep", Timeout=1)
    answer = lam["client"].invoke(FunctionName=name, LogType="Tail")
    assert answer["FunctionError"] == "Unhandled"
    error = json.loads(answer["Payload"].read())
    request = answer["ResponseMetadata"]["RequestId"]
    assert error == {"errorType": "Sandbox.Timedout",
                     "errorMessage": f"RequestId: {request} Error: Task timed out after 1.00 seconds"}
    tail = base64.b64decode(answer["LogResult"]).decode().splitlines()
    assert tail[-3].endswith(f" {request} Task timed out after 1.00 seconds")
    assert tail[-1].startswith(f"REPORT RequestId: {request}") and tail[-1].endswith("\tStatus: timeout")


def test_tail_is_the_last_4_kb_of_the_log(lam):
    name = lam["create"]("app.echo")
    big = {"n": 1, "text": "x" * 6000}
    answer = lam["client"].invoke(FunctionName=name, Payload=json.dumps(big).encode(), LogType="Tail")
    tail = base64.b64decode(answer["LogResult"])
    assert len(tail) == 4096
    full = "".join(m + "\n" for m in _log_messages(lam["logs"], name)).encode()
    assert full.endswith(tail)
    assert "LogResult" not in lam["client"].invoke(FunctionName=name, Payload=b"{}")


def test_event_invocation_answers_202_and_runs_in_the_background(lam):
    name = lam["create"]("app.write_s3")
    answer = lam["client"].invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(
        {"bucket": lam["bucket"], "key": "out/async.txt", "body": "later"}).encode())
    assert answer["StatusCode"] == 202 and answer["Payload"].read() == b""
    for _ in range(200):
        keys = [o["Key"] for o in lam["s3"].list_objects_v2(Bucket=lam["bucket"]).get("Contents", [])]
        if "out/async.txt" in keys:
            break
        time.sleep(0.1)
    assert lam["s3"].get_object(Bucket=lam["bucket"], Key="out/async.txt")["Body"].read() == b"later"


def test_dry_run_and_bad_input(lam):
    name = lam["create"]("app.echo")
    assert lam["client"].invoke(FunctionName=name, InvocationType="DryRun")["StatusCode"] == 204
    with pytest.raises(lam["client"].exceptions.InvalidRequestContentException):
        lam["client"].invoke(FunctionName=name, Payload=b"not json")
    with pytest.raises(lam["client"].exceptions.ResourceNotFoundException):
        lam["client"].invoke(FunctionName=f"missing-{uuid.uuid4().hex[:6]}")


@pytest.mark.parametrize("runtime", ["nodejs20.x", "java21", "provided.al2"])
def test_other_runtimes_fail_naming_the_runtime(lam, runtime):
    name = lam["create"]("app.echo", Runtime=runtime)
    with pytest.raises(lam["client"].exceptions.InvalidRuntimeException) as err:
        lam["client"].invoke(FunctionName=name)
    assert f"Runtime {runtime} of function {name} is not emulated by the sandbox" in str(err.value)


def test_stock_lambda_invoke_function_operator(lam, sandbox_env):
    from airflow.providers.amazon.aws.operators.lambda_function import LambdaInvokeFunctionOperator

    name = lam["create"]("app.echo")
    stock_lambda = LambdaInvokeFunctionOperator(task_id="stock_lambda", function_name=name,
                                                payload=json.dumps({"n": 5}), aws_conn_id="aws_default",
                                                region_name="us-east-1")
    payload = stock_lambda.execute({"ti": mock.MagicMock(), "task_instance": mock.MagicMock()})
    assert json.loads(payload)["event"] == {"n": 5}

    stock_lambda_fail = LambdaInvokeFunctionOperator(
        task_id="stock_lambda_fail", function_name=lam["create"]("app.fail"), payload="{}",
        aws_conn_id="aws_default", region_name="us-east-1")
    with pytest.raises(ValueError, match="Lambda function execution resulted in error"):
        stock_lambda_fail.execute({"ti": mock.MagicMock(), "task_instance": mock.MagicMock()})


def _run_machine(sandbox_env: Any, definition: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    sfn = sandbox_env.client("stepfunctions")
    arn = sfn.create_state_machine(name=f"lambda-sm-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition),
                                   roleArn="arn:aws:iam::123456789012:role/sfn")["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(payload))["executionArn"]
    for _ in range(300):
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            return dict(described)
        time.sleep(0.1)
    raise AssertionError(f"execution still running: {execution}")


def test_state_machine_lambda_invoke_runs_the_function(lam, sandbox_env):
    name = lam["create"]("app.echo")
    definition = {"StartAt": "Call", "States": {
        "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                 "Parameters": {"FunctionName": name, "Payload.$": "$"}, "Next": "Plain"},
        "Plain": {"Type": "Task", "Resource": f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
                  "InputPath": "$.Payload.event", "ResultSelector": {"n.$": "$.event.n"}, "End": True}}}
    described = _run_machine(sandbox_env, definition, {"n": 11})
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"n": 11}

    history = sandbox_env.client("stepfunctions").get_execution_history(
        executionArn=described["executionArn"])["events"]
    succeeded = next(e for e in history if e["type"] == "TaskSucceeded")
    invoked = json.loads(succeeded["taskSucceededEventDetails"]["output"])
    assert set(invoked) == {"ExecutedVersion", "Payload", "SdkHttpMetadata", "SdkResponseMetadata", "StatusCode"}
    assert invoked["StatusCode"] == 200 and invoked["ExecutedVersion"] == "$LATEST"
    assert invoked["Payload"]["event"] == {"n": 11}
    assert invoked["SdkHttpMetadata"]["HttpHeaders"]["X-Amz-Executed-Version"] == "$LATEST"
    assert invoked["SdkResponseMetadata"]["RequestId"] == invoked["Payload"]["ctx_request"]


def test_state_machine_lambda_error_fails_the_task_with_the_error_type(lam, sandbox_env):
    name = lam["create"]("app.fail")
    definition = {"StartAt": "Call", "States": {
        "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                 "Parameters": {"FunctionName": name, "Payload": {"n": 4}},
                 "Catch": [{"ErrorEquals": ["ValueError"], "ResultPath": "$.error", "Next": "Caught"}], "End": True},
        "Caught": {"Type": "Pass", "End": True}}}
    described = _run_machine(sandbox_env, definition, {})
    assert described["status"] == "SUCCEEDED", described
    error = json.loads(described["output"])["error"]
    assert error["Error"] == "ValueError"
    cause = json.loads(error["Cause"])
    assert (cause["errorType"], cause["errorMessage"]) == ("ValueError", "no good: 4")


def test_state_machine_fails_a_function_the_runtime_does_not_run(lam, sandbox_env):
    name = lam["create"]("index.handler", Runtime="nodejs20.x")
    integrated = _run_machine(sandbox_env, {"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": name}, "End": True}}}, {})
    assert integrated["status"] == "FAILED"
    assert integrated["error"] == "Lambda.InvalidRuntimeException"
    assert f"Runtime nodejs20.x of function {name} is not emulated by the sandbox" in integrated["cause"]
    plain = _run_machine(sandbox_env, {"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": f"arn:aws:lambda:us-east-1:123456789012:function:{name}", "End": True}}}, {})
    assert plain["status"] == "FAILED" and plain["error"] == "Exception"
    assert f"Runtime nodejs20.x of function {name} is not emulated by the sandbox" in plain["cause"]
