"""The per-request log: ``service operation -> status (ms)`` for each AWS call, switched on by an
admin endpoint or by ``SFN_ETL_SANDBOX_REQUEST_LOG`` at start."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from airflow_sfn_etl_sandbox.client import SandboxClient, SandboxError

LOGGER = "airflow_sfn_etl_sandbox.requests"
LINE = re.compile(r"^(\S+) (\S+) -> (\d{3}) \((\d+\.\d) ms\)$")


def _lines(caplog) -> list[tuple[str, str, int]]:
    out = []
    for record in caplog.records:
        if record.name == LOGGER:
            m = LINE.match(record.getMessage())
            assert m, record.getMessage()
            out.append((m.group(1), m.group(2), int(m.group(3))))
    return out


def test_admin_switch_logs_each_call_with_its_status(sandbox_env, caplog):
    sb = sandbox_env
    admin = SandboxClient(sb.endpoint_url)
    glue = sb.client("glue", config=Config(retries={"total_max_attempts": 1}))
    missing = f"no-such-job-{uuid.uuid4().hex[:8]}"
    admin.log_requests(False)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        sb.client("s3").list_buckets()  # not logged yet
        try:
            assert admin.log_requests(True) == {"requests": True}
            assert admin.log_switches() == {"requests": True}
            sb.client("sqs").list_queues()
            with pytest.raises(ClientError, match="EntityNotFoundException"):
                glue.get_job(JobName=missing)
            admin.throttle("glue", operations=["GetJobs"], count=1)
            with pytest.raises(ClientError, match="ThrottlingException"):
                glue.get_jobs()
        finally:
            assert admin.log_requests(False) == {"requests": False}
        sb.client("athena").list_work_groups()  # logged no more
    lines = _lines(caplog)
    assert ("sqs", "ListQueues", 200) in lines
    assert ("glue", "GetJob", 400) in lines
    assert ("glue", "GetJobs", 400) in lines  # an injected fault is logged with the status it answered
    assert ("s3", "ListBuckets", 200) not in lines and ("athena", "ListWorkGroups", 200) not in lines


def test_admin_switch_refuses_a_bad_body(sandbox):
    with pytest.raises(SandboxError, match="HTTP 400"):
        SandboxClient(sandbox.endpoint_url)._request("POST", "/_sandbox/log", {"requests": "yes"})
    request = urllib.request.Request(f"{sandbox.endpoint_url}/_sandbox/log", method="DELETE")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request)
    assert err.value.code == 405


def test_environment_variable_turns_the_log_on_at_start():
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["SFN_ETL_SANDBOX_REQUEST_LOG"] = "1"
    proc = subprocess.Popen([sys.executable, "-m", "airflow_sfn_etl_sandbox.cli", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        banner = []
        while not banner or not banner[-1].startswith("Press Ctrl-C"):
            line = proc.stdout.readline()
            assert line, f"sandbox exited early: {banner}"
            banner.append(line.rstrip("\n"))
        endpoint = banner[0].split(" listening on ")[1].split()[0]
        assert SandboxClient(endpoint).log_switches() == {"requests": True}
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                     aws_secret_access_key="testing").list_buckets()
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert any(LINE.match(line.split(" ", 2)[-1]) and " s3 ListBuckets -> 200 (" in line
               for line in out.splitlines()), out


def test_the_call_record_keeps_each_call_with_what_it_names(sandbox_env):
    sb = sandbox_env
    admin = SandboxClient(sb.endpoint_url)
    bucket = f"record-{uuid.uuid4().hex[:8]}"
    s3 = sb.client("s3")
    s3.create_bucket(Bucket=bucket)
    admin.record_calls(True)
    try:
        s3.put_object(Bucket=bucket, Key="a b.txt", Body=b"x", ACL="private")
        s3.copy_object(Bucket=bucket, Key="c.txt", CopySource={"Bucket": bucket, "Key": "a b.txt"})
        calls = admin.recorded_calls()
    finally:
        admin.record_calls(False)
    put, copy = calls
    assert (put["method"], put["path"], put["access_key"]) == ("PUT", f"/{bucket}/a b.txt", "testing")
    assert put["status"] == 200
    assert put["headers"]["x-amz-acl"] == "private"
    assert copy["headers"]["x-amz-copy-source"] == f"{bucket}/a%20b.txt"
    # Stopped: nothing more is kept; started again: the record is emptied first.
    s3.list_buckets()
    assert len(admin.recorded_calls()) == 2
    admin.record_calls(True)
    assert admin.recorded_calls() == []
    admin.record_calls(False)


def test_the_call_record_switch_needs_a_boolean(sandbox_env):
    request = urllib.request.Request(
        f"{sandbox_env.endpoint_url}/_sandbox/calls", data=b'{"recording": "yes"}', method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request)
    assert info.value.code == 400
