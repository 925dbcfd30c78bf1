"""Glue job runs on the sandbox, through plain boto3: real Python shell runs, failures, stop, limits."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

WRITE_OBJECT = b'''
import sys
import boto3
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["JOB_NAME", "JOB_RUN_ID", "target_bucket", "target_key", "greeting"])
print("writing", args["target_key"])
body = f"{args['greeting']} from {args['JOB_NAME']} {args['JOB_RUN_ID']}"
boto3.client("s3").put_object(Bucket=args["target_bucket"], Key=args["target_key"], Body=body.encode())
'''

RAISES = b'''
import sys
print("about to fail")
raise ValueError("bad input row 42")
'''

SLEEPS = b'''
import os
import time
print(f"sleeping as pid {os.getpid()}", flush=True)
time.sleep(60)
print("woke up", flush=True)
'''


def _name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def add_fault(sandbox, rule: dict) -> None:
    req = urllib.request.Request(f"{sandbox.endpoint_url}/_sandbox/faults", data=json.dumps(rule).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()


@pytest.fixture
def glue(sandbox_env):
    return sandbox_env.client("glue")


@pytest.fixture
def s3(sandbox_env):
    return sandbox_env.client("s3")


@pytest.fixture
def bucket(s3):
    name = _name("jobs-")
    s3.create_bucket(Bucket=name)
    return name


def make_job(glue, s3, bucket: str, script: bytes, *, kind: str = "pythonshell", **extra) -> str:
    name = _name("job_")
    s3.put_object(Bucket=bucket, Key=f"scripts/{name}.py", Body=script)
    glue.create_job(Name=name, Role="arn:aws:iam::123456789012:role/glue",
                    Command={"Name": kind, "ScriptLocation": f"s3://{bucket}/scripts/{name}.py",
                             "PythonVersion": "3.9"}, **extra)
    return name


def wait_run(glue, name: str, run_id: str, timeout: float = 30.0) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        run = glue.get_job_run(JobName=name, RunId=run_id)["JobRun"]
        if run["JobRunState"] not in ("STARTING", "RUNNING", "STOPPING"):
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} of {name} did not finish in {timeout}s")


def output_lines(sandbox_env, run_id: str) -> list[str]:
    """The lines a Python shell run printed so far (none before its log stream exists)."""
    try:
        events = sandbox_env.client("logs").get_log_events(
            logGroupName="/aws-glue/python-jobs/output", logStreamName=run_id)["events"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        return []
    return [e["message"] for e in events]


def wait_output(sandbox_env, run_id: str, prefix: str, timeout: float = 30.0) -> str:
    """Wait for the run to print a line starting with ``prefix``; return it."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for line in output_lines(sandbox_env, run_id):
            if line.startswith(prefix):
                return line
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} printed no line starting {prefix!r} in {timeout}s")


def wait_state(glue, name: str, run_id: str, wanted: str, timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if glue.get_job_run(JobName=name, RunId=run_id)["JobRun"]["JobRunState"] == wanted:
            return
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} never reached {wanted}")


def test_python_shell_job_runs_the_script_with_its_arguments(sandbox_env, glue, s3, bucket):
    name = make_job(glue, s3, bucket, WRITE_OBJECT,
                    DefaultArguments={"--target_bucket": bucket, "--greeting": "default"})
    run_id = glue.start_job_run(JobName=name, Arguments={"--target_key": "out/result.txt",
                                                         "--greeting": "hello"})["JobRunId"]

    run = wait_run(glue, name, run_id)

    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    body = s3.get_object(Bucket=bucket, Key="out/result.txt")["Body"].read().decode()
    assert body == f"hello from {name} {run_id}"
    assert run["Arguments"] == {"--target_key": "out/result.txt", "--greeting": "hello"}
    assert run["Attempt"] == 0 and run["PredecessorRuns"] == []
    assert run["CompletedOn"] >= run["StartedOn"]
    assert isinstance(run["ExecutionTime"], int)
    assert run["LogGroupName"] == "/aws-glue/python-jobs"
    events = sandbox_env.client("logs").get_log_events(
        logGroupName="/aws-glue/python-jobs/output", logStreamName=run_id)["events"]
    assert [e["message"] for e in events] == ["writing out/result.txt"]


def test_script_that_raises_fails_the_run_with_the_error(sandbox_env, glue, s3, bucket):
    name = make_job(glue, s3, bucket, RAISES)
    run_id = glue.start_job_run(JobName=name)["JobRunId"]
    run = wait_run(glue, name, run_id)
    assert run["JobRunState"] == "FAILED"
    assert run["ErrorMessage"] == "ValueError: bad input row 42"
    errors = sandbox_env.client("logs").get_log_events(
        logGroupName="/aws-glue/python-jobs/error", logStreamName=run_id)["events"]
    assert any("Traceback" in e["message"] for e in errors)


def test_batch_stop_job_run_kills_the_process(sandbox_env, glue, s3, bucket):
    name = make_job(glue, s3, bucket, SLEEPS)
    run_id = glue.start_job_run(JobName=name)["JobRunId"]
    wait_state(glue, name, run_id, "RUNNING")
    pid = int(wait_output(sandbox_env, run_id, "sleeping as pid ").rsplit(" ", 1)[1])

    answer = glue.batch_stop_job_run(JobName=name, JobRunIds=[run_id, "jr_unknown"])

    assert answer["SuccessfulSubmissions"] == [{"JobName": name, "JobRunId": run_id}]
    assert [e["JobRunId"] for e in answer["Errors"]] == ["jr_unknown"]
    run = wait_run(glue, name, run_id)
    assert run["JobRunState"] == "STOPPED"
    assert "woke up" not in output_lines(sandbox_env, run_id)
    with pytest.raises(ProcessLookupError):  # the script's process is gone, not left sleeping
        os.kill(pid, 0)


def test_max_concurrent_runs_is_enforced(glue, s3, bucket):
    name = make_job(glue, s3, bucket, SLEEPS, ExecutionProperty={"MaxConcurrentRuns": 2})
    first = glue.start_job_run(JobName=name)["JobRunId"]
    second = glue.start_job_run(JobName=name)["JobRunId"]
    with pytest.raises(ClientError) as err:
        glue.start_job_run(JobName=name)
    assert err.value.response["Error"]["Code"] == "ConcurrentRunsExceededException"
    glue.batch_stop_job_run(JobName=name, JobRunIds=[first, second])
    assert wait_run(glue, name, first)["JobRunState"] == "STOPPED"
    assert wait_run(glue, name, second)["JobRunState"] == "STOPPED"
    third = glue.start_job_run(JobName=name)["JobRunId"]
    glue.batch_stop_job_run(JobName=name, JobRunIds=[third])
    assert wait_run(glue, name, third)["JobRunState"] == "STOPPED"


def test_default_max_concurrent_runs_is_one(glue, s3, bucket):
    name = make_job(glue, s3, bucket, SLEEPS)
    run_id = glue.start_job_run(JobName=name)["JobRunId"]
    with pytest.raises(ClientError) as err:
        glue.start_job_run(JobName=name)
    assert err.value.response["Error"]["Code"] == "ConcurrentRunsExceededException"
    glue.batch_stop_job_run(JobName=name, JobRunIds=[run_id])
    wait_run(glue, name, run_id)


def test_glueetl_without_spark_fails_saying_so(glue, s3, bucket, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark", None)  # pyspark not importable, as without the spark extra
    name = make_job(glue, s3, bucket, b"from awsglue.context import GlueContext\n", kind="glueetl")
    run = wait_run(glue, name, glue.start_job_run(JobName=name)["JobRunId"])
    assert run["JobRunState"] == "FAILED"
    assert "Spark is not available in the sandbox" in run["ErrorMessage"]
    assert run["LogGroupName"] == "/aws-glue/jobs"


def test_missing_script_fails_the_run(glue, bucket):
    name = _name("job_")
    glue.create_job(Name=name, Role="r", Command={"Name": "pythonshell",
                                                   "ScriptLocation": f"s3://{bucket}/missing.py"})
    run = wait_run(glue, name, glue.start_job_run(JobName=name)["JobRunId"])
    assert run["JobRunState"] == "FAILED"
    assert f"s3://{bucket}/missing.py" in run["ErrorMessage"]


def test_timeout_ends_the_run_with_timeout(glue, s3, bucket, monkeypatch):
    from airflow_sfn_etl_sandbox import glue_jobs

    monkeypatch.setattr(glue_jobs, "TIMEOUT_UNIT_SECONDS", 0.5)
    name = make_job(glue, s3, bucket, SLEEPS)
    run = wait_run(glue, name, glue.start_job_run(JobName=name, Timeout=1)["JobRunId"])
    assert run["JobRunState"] == "TIMEOUT"
    assert run["Timeout"] == 1


def test_failed_runs_are_retried_max_retries_times(glue, s3, bucket):
    name = make_job(glue, s3, bucket, RAISES, MaxRetries=1)
    run_id = glue.start_job_run(JobName=name)["JobRunId"]
    assert wait_run(glue, name, run_id)["JobRunState"] == "FAILED"
    end = time.monotonic() + 15
    while time.monotonic() < end:
        runs = glue.get_job_runs(JobName=name)["JobRuns"]
        if len(runs) == 2 and runs[0]["JobRunState"] == "FAILED":
            break
        time.sleep(0.1)
    retry = runs[0]
    assert retry["Id"] == f"{run_id}_attempt_1"
    assert retry["Attempt"] == 1
    assert retry["PreviousRunId"] == run_id


def test_fault_fail_and_delay(sandbox_env, glue, s3, bucket):
    name = make_job(glue, s3, bucket, WRITE_OBJECT)
    add_fault(sandbox_env, {"kind": "fail", "target": "glue_job", "name": name, "message": "injected boom"})
    run = wait_run(glue, name, glue.start_job_run(JobName=name)["JobRunId"])
    assert (run["JobRunState"], run["ErrorMessage"]) == ("FAILED", "injected boom")

    other = make_job(glue, s3, bucket, b"print('ok')\n")
    add_fault(sandbox_env, {"kind": "delay", "target": "glue_job", "name": other, "seconds": 1})
    started = time.monotonic()
    run_id = glue.start_job_run(JobName=other)["JobRunId"]
    wait_state(glue, other, run_id, "RUNNING")
    assert wait_run(glue, other, run_id)["JobRunState"] == "SUCCEEDED"
    assert time.monotonic() - started >= 1


def test_get_job_runs_and_unknown_names(glue, s3, bucket):
    name = make_job(glue, s3, bucket, b"print('ok')\n")
    first = glue.start_job_run(JobName=name)["JobRunId"]
    wait_run(glue, name, first)
    second = glue.start_job_run(JobName=name)["JobRunId"]
    wait_run(glue, name, second)
    runs = glue.get_job_runs(JobName=name)["JobRuns"]
    assert [r["Id"] for r in runs] == [second, first]
    for call in (lambda: glue.get_job_run(JobName=name, RunId="jr_nope"),
                 lambda: glue.start_job_run(JobName="no_such_job_sandbox")):
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == "EntityNotFoundException"


def test_airflow_glue_job_hook(sandbox_env, s3, bucket):
    from airflow.providers.amazon.aws.hooks.glue import GlueJobHook

    glue = sandbox_env.client("glue")
    name = make_job(glue, s3, bucket, WRITE_OBJECT, DefaultArguments={"--target_bucket": bucket})
    hook = GlueJobHook(job_name=name, aws_conn_id="aws_default", job_poll_interval=0.2)
    run_id = hook.initialize_job({"--target_key": "hook/out.txt", "--greeting": "hi"})["JobRunId"]
    result = hook.job_completion(name, run_id, verbose=True)
    assert result == {"JobRunState": "SUCCEEDED", "JobRunId": run_id}
    assert s3.get_object(Bucket=bucket, Key="hook/out.txt")["Body"].read().startswith(b"hi from")


def test_get_job_runs_pages_newest_first(glue, s3, bucket):
    name = make_job(glue, s3, bucket, RAISES, ExecutionProperty={"MaxConcurrentRuns": 3})
    started = [glue.start_job_run(JobName=name)["JobRunId"] for _ in range(3)]
    for run_id in started:
        wait_run(glue, name, run_id)
    first = glue.get_job_runs(JobName=name, MaxResults=2)
    second = glue.get_job_runs(JobName=name, MaxResults=2, NextToken=first["NextToken"])
    assert len(first["JobRuns"]) == 2 and "NextToken" not in second
    assert [r["Id"] for r in first["JobRuns"] + second["JobRuns"]] == list(reversed(started))


def test_update_job_replaces_the_whole_definition(glue):
    """UpdateJob overwrites the definition (AWS): fields the JobUpdate leaves out are cleared."""
    name = _name("job_")
    glue.create_job(Name=name, Role="r", Command={"Name": "pythonshell", "ScriptLocation": "s3://b/a.py",
                                                   "PythonVersion": "3.9"},
                    DefaultArguments={"library-set": "analytics", "--x": "1"}, MaxCapacity=0.0625, Tags={"k": "v"})
    created = glue.get_job(JobName=name)["Job"]

    assert glue.update_job(JobName=name, JobUpdate={
        "Role": "r2", "Command": {"Name": "glueetl", "ScriptLocation": "s3://b/b.py", "PythonVersion": "3"},
        "GlueVersion": "5.0", "WorkerType": "G.1X", "NumberOfWorkers": 2,
        "DefaultArguments": {"--x": "2"}})["JobName"] == name

    job = glue.get_job(JobName=name)["Job"]
    assert job["Role"] == "r2"
    assert job["Command"] == {"Name": "glueetl", "ScriptLocation": "s3://b/b.py", "PythonVersion": "3"}
    assert (job["GlueVersion"], job["WorkerType"], job["NumberOfWorkers"]) == ("5.0", "G.1X", 2)
    assert job["DefaultArguments"] == {"--x": "2"}
    assert "MaxCapacity" not in job
    assert job["CreatedOn"] == created["CreatedOn"]
    arn = f"arn:aws:glue:{glue.meta.region_name}:123456789012:job/{name}"
    assert glue.get_tags(ResourceArn=arn)["Tags"] == {"k": "v"}
    with pytest.raises(ClientError) as err:
        glue.update_job(JobName=_name("missing_"), JobUpdate={"Role": "r", "Command": {"Name": "glueetl"}})
    assert err.value.response["Error"]["Code"] == "EntityNotFoundException"
