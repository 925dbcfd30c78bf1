"""The sandbox's runtime for ``python3.x`` Lambda functions: one subprocess per invocation.

The function's deployment package (moto keeps it, from ``ZipFile`` or ``S3Bucket`` / ``S3Key``)
is unpacked once per code hash under ``<data dir>/lambda/<function>/<CodeSha256>``. Each
invocation starts the sandbox's own Python on :mod:`.bootstrap` there, with the function's
``Environment.Variables``, Lambda's reserved variables (``AWS_REGION``,
``AWS_LAMBDA_FUNCTION_NAME``, ``_HANDLER``, ``LAMBDA_TASK_ROOT``, ...) and the sandbox endpoint
and credentials (:func:`..glue_jobs.python_shell.sandbox_env`), so boto3 in the handler calls
the sandbox. The function's ``Timeout`` kills the process (:func:`..glue_jobs.python_shell.kill`).
Output goes to CloudWatch Logs ``/aws/lambda/<name>`` as it comes (:class:`..glue_jobs.logs.LogPump`),
between the ``START`` / ``END`` / ``REPORT`` lines Lambda writes.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import runtime
from ..aws import AwsError
from ..glue_jobs.logs import LogPump
from ..glue_jobs.python_shell import kill, sandbox_env
from ..state import put_log_lines

#: Seconds between two looks at the process (and its output).
POLL_SECONDS = 0.05
#: How much of the log a ``LogType: Tail`` invocation answers (the end of it), as Lambda does.
TAIL_BYTES = 4096
BOOTSTRAP = Path(__file__).with_name("bootstrap.py")

_unpack_lock = threading.Lock()


@dataclass
class Invocation:
    """What one invocation of a function version runs with."""

    function: Any  #: moto's LambdaFunction (the version or $LATEST)
    region: str
    event: bytes  #: the request payload (JSON)
    invoked_arn: str  #: the ARN the caller used (with its qualifier, if any)
    client_context: Any = None
    request_id: str = ""

    def __post_init__(self) -> None:
        self.request_id = self.request_id or str(uuid.uuid4())

    @property
    def version(self) -> str:
        return str(self.function.version)

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.function.function_name}"


@dataclass
class Outcome:
    """The answer of an invocation: the payload (JSON text), whether it is an error, the log."""

    payload: bytes
    error: bool
    log_lines: list[str]

    def tail(self) -> str:
        """The last 4 KB of the log, base64 (``X-Amz-Log-Result``)."""
        data = "".join(line + "\n" for line in self.log_lines).encode()
        return base64.b64encode(data[-TAIL_BYTES:]).decode()


def code_dir(function: Any) -> Path:
    """The function's unpacked deployment package (unpacked on first use of this code)."""
    digest = str(getattr(function, "code_digest", "") or hashlib.sha256(function.code_bytes).hexdigest())
    target = runtime.data_dir() / "lambda" / function.function_name / digest
    with _unpack_lock:
        if not target.is_dir():
            staging = target.with_name(target.name + ".unpacking")
            try:
                with zipfile.ZipFile(io.BytesIO(function.code_bytes)) as archive:
                    archive.extractall(staging)
            except (zipfile.BadZipFile, ValueError) as exc:
                raise AwsError("InvalidZipFileException",
                               f"Lambda was unable to unzip the deployment package of function "
                               f"{function.function_name}: {exc}", 502) from None
            staging.rename(target)
    return target


def _log_stream(version: str) -> str:
    day = datetime.now(timezone.utc).strftime("%Y/%m/%d")
    return f"{day}/[{version}]{uuid.uuid4().hex}"


def function_env(inv: Invocation, task_root: Path, stream: str) -> dict[str, str]:
    """The handler's environment: the function's variables, then Lambda's reserved ones."""
    fn = inv.function
    base = sandbox_env(inv.region)
    env = dict(base)
    env.update({str(k): str(v) for k, v in (fn.environment_vars or {}).items()})
    env.update({k: v for k, v in base.items() if k.startswith("AWS_")})  # the sandbox's endpoint wins
    env.update({
        "_HANDLER": str(fn.handler),
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
        "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
        "AWS_LAMBDA_FUNCTION_VERSION": inv.version,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": inv.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "AWS_SESSION_TOKEN": "testing",
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_RUNTIME_DIR": str(BOOTSTRAP.parent),
        "TZ": ":UTC",
    })
    return env


def invoke(inv: Invocation) -> Outcome:
    """Run the function's handler on the invocation's event; the answer Lambda would give."""
    fn = inv.function
    task_root = code_dir(fn)
    stream = _log_stream(inv.version)
    work = runtime.data_dir() / "lambda-invocations" / inv.request_id
    work.mkdir(parents=True, exist_ok=True)
    event_path, result_path = work / "event.json", work / "result.json"
    event_path.write_bytes(inv.event or b"{}")
    timeout = float(fn.timeout or 3)
    began = time.time()
    spec = {
        "handler": str(fn.handler), "event_path": str(event_path), "result_path": str(result_path),
        "function_name": fn.function_name, "function_version": inv.version,
        "invoked_function_arn": inv.invoked_arn, "memory_limit_in_mb": int(fn.memory_size),
        "aws_request_id": inv.request_id, "log_group_name": inv.log_group, "log_stream_name": stream,
        "client_context": inv.client_context, "deadline_ms": int((began + timeout) * 1000),
    }
    (work / "invocation.json").write_text(json.dumps(spec))
    start_line = f"START RequestId: {inv.request_id} Version: {inv.version}"
    put_log_lines(inv.region, inv.log_group, stream, [start_line])
    log_path = work / "output.log"
    pump = LogPump(log_path, inv.region, inv.log_group, stream)
    with open(log_path, "wb") as out:
        proc = subprocess.Popen([sys.executable, str(BOOTSTRAP), str(work / "invocation.json")],
                                cwd=task_root, env=function_env(inv, task_root, stream), stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    timed_out = False
    try:
        while proc.poll() is None:
            pump.pump()
            if time.time() - began >= timeout:
                timed_out = True
                kill(proc)
                break
            time.sleep(POLL_SECONDS)
    finally:
        if proc.poll() is None:
            kill(proc)
        pump.pump(final=True)
    duration_ms = (time.time() - began) * 1000
    result: dict[str, Any] = {}
    if not timed_out and result_path.exists():
        result = json.loads(result_path.read_text())
    shutil.rmtree(work, ignore_errors=True)
    lines = [start_line, *pump.lines]
    closing: list[str] = []
    if timed_out:
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        message = f"Task timed out after {timeout:.2f} seconds"
        closing.append(f"{stamp} {inv.request_id} {message}")
        error: dict[str, Any] | None = {"errorType": "Sandbox.Timedout",
                                        "errorMessage": f"RequestId: {inv.request_id} Error: {message}"}
    elif "payload" in result or "payload_base64" in result:
        error = None
    elif "error" in result:
        error = result["error"]
    else:
        message = f"Runtime exited with error: exit status {proc.returncode}"
        closing.append(f"RequestId: {inv.request_id} Error: {message}")
        error = {"errorType": "Runtime.ExitError",
                 "errorMessage": f"RequestId: {inv.request_id} Error: {message}"}
    report = (f"REPORT RequestId: {inv.request_id}\tDuration: {duration_ms:.2f} ms\t"
              f"Billed Duration: {int(duration_ms) + 1} ms\tMemory Size: {int(fn.memory_size)} MB\t"
              f"Max Memory Used: {int(result.get('max_rss_kb', 0)) // 1024} MB")
    if timed_out:
        report += "\tStatus: timeout"
    closing += [f"END RequestId: {inv.request_id}", report]
    put_log_lines(inv.region, inv.log_group, stream, closing)
    lines += closing
    if error is not None:
        return Outcome(json.dumps(error).encode(), True, lines)
    if "payload_base64" in result:
        return Outcome(base64.b64decode(result["payload_base64"]), False, lines)
    return Outcome(str(result["payload"]).encode(), False, lines)
