"""What the fault tests share: small resources on the sandbox, an in-process task runner, run counts."""

from __future__ import annotations

import asyncio
import importlib
import json
import time
from types import SimpleNamespace
from typing import Any
from unittest.mock import MagicMock

BUCKET = "faults-data"
RESULTS = "faults-results"
DATABASE = "faults"
GLUE_JOB = "fj_job"
DATABREW_JOB = "fb_marketing"
CRAWLER = "fc_crawler"
WORKGROUP = "faults_wg"
TOPIC = "faults-topic"
STATE_MACHINE = "faults_sm"
ROLE_ARN = "arn:aws:iam::123456789012:role/faults"
SCRIPT = 'import sys\nprint("fault-test job ran with", sys.argv[1:])\n'
WAIT_MACHINE = {
    "StartAt": "Hold",
    "States": {
        "Hold": {"Type": "Wait", "SecondsPath": "$.hold", "Next": "Done"},
        "Done": {"Type": "Pass", "Result": {"ok": True}, "End": True},
    },
}


def provision(session: Any, endpoint_url: str) -> dict[str, Any]:
    """A Glue job, a crawler, an Athena workgroup, a topic, a state machine (and the flows' DataBrew jobs)."""
    kw = {"endpoint_url": endpoint_url}
    s3 = session.client("s3", **kw)
    for bucket in (BUCKET, RESULTS):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=BUCKET, Key="in/data.csv", Body=b"id,name,qty\n1,a,007\n2,b,3\n")
    s3.put_object(Bucket=BUCKET, Key="scripts/job.py", Body=SCRIPT.encode())
    glue = session.client("glue", **kw)
    glue.create_database(DatabaseInput={"Name": DATABASE})
    glue.create_crawler(
        Name=CRAWLER,
        Role=ROLE_ARN,
        DatabaseName=DATABASE,
        Targets={"S3Targets": [{"Path": f"s3://{BUCKET}/in/"}]},
    )
    glue.create_job(
        Name=GLUE_JOB,
        Role=ROLE_ARN,
        MaxCapacity=0.0625,
        ExecutionProperty={"MaxConcurrentRuns": 20},
        Command={
            "Name": "pythonshell",
            "ScriptLocation": f"s3://{BUCKET}/scripts/job.py",
            "PythonVersion": "3.9",
        },
    )
    athena = session.client("athena", **kw)
    athena.create_work_group(
        Name=WORKGROUP, Configuration={"ResultConfiguration": {"OutputLocation": f"s3://{RESULTS}/"}}
    )
    topic_arn = session.client("sns", **kw).create_topic(Name=TOPIC)["TopicArn"]
    sfn = session.client("stepfunctions", **kw)
    machine_arn = sfn.create_state_machine(
        name=STATE_MACHINE, definition=json.dumps(WAIT_MACHINE), roleArn=ROLE_ARN
    )["stateMachineArn"]
    return {"topic_arn": topic_arn, "state_machine_arn": machine_arn}


def context(
    task_id: str,
    *,
    dag_id: str = "faults_dag",
    run_id: str = "manual__fault",
    try_number: int = 1,
    max_tries: int = 2,
    retries: int = 2,
) -> dict[str, Any]:
    """The parts of a task context the operators read (a try of the chain starting at try 1)."""
    ti = MagicMock(name="ti")
    ti.dag_id, ti.run_id, ti.task_id = dag_id, run_id, task_id
    ti.try_number, ti.max_tries, ti.map_index = try_number, max_tries, -1
    task = SimpleNamespace(task_id=task_id, retries=retries)
    dag = SimpleNamespace(dag_id=dag_id, fileloc=__file__, template_searchpath=None, folder=".")
    return {"ti": ti, "task_instance": ti, "task": task, "dag": dag, "run_id": run_id, "params": {}}


def rebuild(classpath: str, kwargs: dict[str, Any]) -> Any:
    """Rebuild a trigger from its serialized form, as the triggerer does."""
    module, _, name = classpath.rpartition(".")
    return getattr(importlib.import_module(module), name)(**kwargs)


def run_trigger(trigger: Any) -> dict[str, Any]:
    """Serialize the trigger, rebuild it, run it to its event on a fresh asyncio loop."""
    fresh = rebuild(*trigger.serialize())

    async def first() -> dict[str, Any]:
        async for event in fresh.run():
            return dict(event.payload)
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(first())


def run_task(op: Any, ctx: dict[str, Any], *, deferred: list[Any] | None = None) -> Any:
    """Run an operator like a worker + triggerer: execute, and on deferral run the trigger, then resume."""
    from airflow.sdk.exceptions import TaskDeferred

    try:
        return op.execute(ctx)
    except TaskDeferred as deferral:
        if deferred is not None:
            deferred.append(deferral.trigger)
        event = run_trigger(deferral.trigger)
        return getattr(op, deferral.method_name)(ctx, event=event)


# -- run counts, read from the sandbox ---------------------------------------------------------
def glue_runs(glue: Any, job: str = GLUE_JOB) -> list[dict[str, Any]]:
    return glue.get_job_runs(JobName=job, MaxResults=200)["JobRuns"]


def databrew_runs(databrew: Any, job: str) -> list[dict[str, Any]]:
    return databrew.list_job_runs(Name=job)["JobRuns"]


def athena_runs(athena: Any, workgroup: str = WORKGROUP) -> list[str]:
    return athena.list_query_executions(WorkGroup=workgroup)["QueryExecutionIds"]


def sfn_runs(sfn: Any, machine_arn: str) -> list[dict[str, Any]]:
    return sfn.list_executions(stateMachineArn=machine_arn)["executions"]


def crawls(glue: Any, crawler: str = CRAWLER) -> list[dict[str, Any]]:
    return glue.list_crawls(CrawlerName=crawler)["Crawls"]


def wait_for(predicate: Any, timeout: float = 30, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# -- processes that can be killed ---------------------------------------------------------------
RUNNER = __file__.replace("harness.py", "proc_runner.py")


def spawn(mode: str, spec: dict[str, Any]) -> Any:
    """Start ``proc_runner.py`` (a real worker / triggerer process) with ``spec``."""
    import subprocess
    import sys

    return subprocess.Popen(
        [sys.executable, RUNNER, mode, json.dumps(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def kill(proc: Any) -> str:
    """SIGKILL the process (no on_kill, no cleanup: the worker is simply gone); return its output."""
    import signal

    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, out
    return out


def finish(proc: Any, prefix: str, timeout: float = 90) -> Any:
    """Wait for the process; return the JSON after ``prefix`` on its output, failing with the output."""
    out, _ = proc.communicate(timeout=timeout)
    for line in out.splitlines():
        if line.startswith(prefix + " "):
            return json.loads(line[len(prefix) + 1 :])
    raise AssertionError(f"exit {proc.returncode}, no {prefix} line:\n{out[-4000:]}")


# -- one description per service of "a run that keeps going", its count and its state ------------
SERVICES = ("glue_job", "crawler", "databrew", "athena", "sfn")
HOLD = 4  # seconds a delayed run keeps going


def slow_run(service: str, aws: dict[str, Any], admin: Any, seconds: float = HOLD) -> dict[str, Any]:
    """Operator kwargs for a run of ``service`` that takes ``seconds`` (a delay fault or a Wait state).

    A deferrable operator given these defers after its first look (``defer_after=0``), so the
    tests exercise the trigger whatever ``seconds`` is.
    """
    return {**_slow_run(service, aws, admin, seconds), "defer_after": 0}


def _slow_run(service: str, aws: dict[str, Any], admin: Any, seconds: float) -> dict[str, Any]:
    if service == "glue_job":
        admin.delay("glue_job", GLUE_JOB, seconds=seconds)
        return {"job_name": GLUE_JOB, "poll_interval": 0.3}
    if service == "crawler":
        admin.delay("crawler", CRAWLER, seconds=seconds)
        return {"crawler_name": CRAWLER, "poll_interval": 0.3}
    if service == "databrew":
        admin.delay("databrew_job", DATABREW_JOB, seconds=seconds)
        return {"job_name": DATABREW_JOB, "poll_interval": 0.3}
    if service == "athena":
        admin.delay("athena_query", pattern="SELECT 42", seconds=seconds)
        return {"query": "SELECT 42 AS answer", "workgroup": WORKGROUP, "poll_interval": 0.3}
    if service == "sfn":
        return {
            "state_machine_arn": aws["state_machine_arn"],
            "input": {"hold": max(1, round(seconds))},
            "poll_interval": 0.3,
        }
    raise ValueError(service)


def runs(service: str, aws: dict[str, Any]) -> list[tuple[str, str]]:
    """``[(run id, state)]`` of every run of ``service``'s test resource, read from the sandbox."""
    if service == "glue_job":
        return [(r["Id"], r["JobRunState"]) for r in glue_runs(aws["glue"])]
    if service == "crawler":
        history = [(c["CrawlId"], c["State"]) for c in crawls(aws["glue"])]
        state = aws["glue"].get_crawler(Name=CRAWLER)["Crawler"]["State"]
        return history if history or state != "RUNNING" else [("current", "RUNNING")]
    if service == "databrew":
        return [(r["RunId"], r["State"]) for r in databrew_runs(aws["databrew"], DATABREW_JOB)]
    if service == "athena":
        ids = athena_runs(aws["athena"])
        return [
            (i, aws["athena"].get_query_execution(QueryExecutionId=i)["QueryExecution"]["Status"]["State"])
            for i in ids
        ]
    if service == "sfn":
        return [
            (r["executionArn"], r["status"]) for r in sfn_runs(aws["stepfunctions"], aws["state_machine_arn"])
        ]
    raise ValueError(service)


RUNNING_STATES = {"RUNNING", "STARTING", "QUEUED"}
SUCCESS_STATES = {"SUCCEEDED", "COMPLETED"}
STOPPED_STATES = {"STOPPED", "CANCELLED", "ABORTED", "STOPPING", "CANCELLING"}


def running(service: str, aws: dict[str, Any]) -> bool:
    found = runs(service, aws)
    return bool(found) and found[0][1] in RUNNING_STATES


class Background:
    """Run an operator's ``execute`` in a thread (a worker waiting for its run); keep its outcome."""

    def __init__(self, op: Any, ctx: dict[str, Any]) -> None:
        import threading

        self.op, self.ctx = op, ctx
        self.result: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.result = self.op.execute(self.ctx)
        except BaseException as error:  # noqa: BLE001 - the test judges it
            self.error = error

    def join(self, timeout: float = 60) -> Background:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the task is still waiting"
        return self


def stop_outside_airflow(service: str, aws: dict[str, Any]) -> None:
    """Stop the running run of ``service`` with a plain AWS call, as a user in the console would."""
    run_id = runs(service, aws)[0][0]
    if service == "glue_job":
        aws["glue"].batch_stop_job_run(JobName=GLUE_JOB, JobRunIds=[run_id])
    elif service == "crawler":
        aws["glue"].stop_crawler(Name=CRAWLER)
    elif service == "databrew":
        aws["databrew"].stop_job_run(Name=DATABREW_JOB, RunId=run_id)
    elif service == "athena":
        aws["athena"].stop_query_execution(QueryExecutionId=run_id)
    elif service == "sfn":
        aws["stepfunctions"].stop_execution(
            executionArn=run_id, error="Console.Stop", cause="stopped by an operator"
        )
