"""Corpus DAGs run the same on both engines: each DAG on Airflow (``dag.test()`` against the sandbox)
and its compiled state machine on the sandbox's Step Functions, against the same resources; what
they leave behind (S3 objects, Athena results, SNS and SQS messages, nested executions' inputs) must
be equal, and is checked against what the DAG is written to do.

The DAGs run here take every resource name from their params, so each run gets resources of its own
(the housekeeping DAG names its bucket, which the test creates). The other compiling corpus DAGs name
crawlers, DataBrew jobs, Glue jobs, Lambda functions or tables by literal names: the sibling module
``test_corpus_engines_named.py`` provisions those and compares them the same way.
"""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_sfn_etl.asl import build_iam_policy, definition
from airflow_sfn_etl.asl.loader import compile_dag_file
from airflow_sfn_etl_sandbox.client import SandboxClient
from tests.asl.policy_calls import STOP_ACTIONS, allowed, machine_calls, requests_of, unneeded

pytestmark = [pytest.mark.e2e]

CORPUS = Path(__file__).parent / "corpus"
ACCOUNT = "123456789012"

#: A Glue Python shell job: writes ``out/<table>.txt`` holding the table's name into ``--bucket``.
SCRIPT = b"""
import sys, boto3
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
boto3.client("s3").put_object(Bucket=args["--bucket"], Key="out/" + args["--table"] + ".txt",
                              Body=args["--table"].encode())
"""
HOUSEKEEPING_BUCKET = "corpus-housekeeping"
LANDING = {"landing/orders.csv": b"id\n1\n", "landing/customers.csv": b"id\n2\n", "landing/items 2026.csv": b"id\n3\n"}
MARKERS = ["markers/orders.ready", "markers/customers.ready", "markers/items.ready"]


class Resources:
    """One run's resources on the sandbox, named from a fresh id."""

    def __init__(self, sb: Any, housekeeping: bool = False) -> None:
        self.sb = sb
        #: The buckets whose objects are the run's outcome (the housekeeping DAG's bucket only for it).
        self.uid = uuid.uuid4().hex[:8]
        self.s3, self.sqs, self.sfn = sb.client("s3"), sb.client("sqs"), sb.client("stepfunctions")
        self.bucket = f"corpus-{self.uid}"
        self.buckets = [self.bucket, HOUSEKEEPING_BUCKET] if housekeeping else [self.bucket]
        self.s3.create_bucket(Bucket=self.bucket)
        self.s3.put_object(Bucket=self.bucket, Key="scripts/job.py", Body=SCRIPT)
        self.job = f"corpus_loader_{self.uid}"
        sb.client("glue").create_job(
            Name=self.job, Role=f"arn:aws:iam::{ACCOUNT}:role/glue",
            Command={"Name": "pythonshell", "ScriptLocation": f"s3://{self.bucket}/scripts/job.py"},
            ExecutionProperty={"MaxConcurrentRuns": 5},
        )
        self.queue_url = self.sqs.create_queue(QueueName=f"corpus-{self.uid}")["QueueUrl"]
        self.topic_arn = sb.client("sns").create_topic(Name=f"corpus-{self.uid}")["TopicArn"]
        # What the topic's subscribers get (a message sent with MessageStructure=json arrives as its text).
        self.subscriber_url = self.sqs.create_queue(QueueName=f"corpus-{self.uid}-subscriber")["QueueUrl"]
        subscriber_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.subscriber_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        sb.client("sns").subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=subscriber_arn)
        # The nested machine tells the queue which day it ran for.
        self.child_arn = self.sfn.create_state_machine(
            name=f"corpus-child-{self.uid}", roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn",
            definition=json.dumps({"StartAt": "Tell", "States": {"Tell": {
                "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": True,
                "Parameters": {"QueueUrl": self.queue_url,
                               "MessageBody.$": "States.Format('child ran for {} as {}', $.day, $.format)"},
            }}}),
        )["stateMachineArn"]
        self.params = {"bucket": self.bucket, "job": self.job, "queue_url": self.queue_url,
                       "topic_arn": self.topic_arn, "child_arn": self.child_arn, "day": "2026-03-04"}

    def prepare(self) -> None:
        """What the DAGs expect before a run: the landing files and markers, no outputs."""
        if HOUSEKEEPING_BUCKET in self.buckets:
            if HOUSEKEEPING_BUCKET not in {b["Name"] for b in self.s3.list_buckets()["Buckets"]}:
                self.s3.create_bucket(Bucket=HOUSEKEEPING_BUCKET)
        for bucket in self.buckets:
            for key in self._keys(bucket):
                if not key.startswith("scripts/"):
                    self.s3.delete_object(Bucket=bucket, Key=key)
        if HOUSEKEEPING_BUCKET in self.buckets:
            for key, body in LANDING.items():
                self.s3.put_object(Bucket=HOUSEKEEPING_BUCKET, Key=key, Body=body)
        for key in MARKERS:
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=b"")
        self._drain()
        self._drain(self.subscriber_url)

    def _keys(self, bucket: str) -> list[str]:
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=bucket).get("Contents", [])]

    def _drain(self, queue_url: str | None = None) -> list[str]:
        queue_url = queue_url or self.queue_url
        bodies: list[str] = []
        while True:
            got = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return bodies
            for message in got:
                bodies.append(message["Body"])
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    def outcome(self) -> dict[str, Any]:
        """What a run left: objects (Athena results by their rows), messages, nested executions' inputs."""
        objects: dict[str, Any] = {}
        for bucket in self.buckets:
            for key in self._keys(bucket):
                if key.startswith("scripts/"):
                    continue
                body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
                if key.startswith("athena/"):
                    if key.endswith(".csv"):  # named by the query execution id: keep the rows
                        objects.setdefault("athena results", []).append(list(csv.reader(io.StringIO(body))))
                    continue
                objects[f"{bucket}/{key}".replace(self.uid, "<uid>")] = body
        executions = self.sfn.list_executions(stateMachineArn=self.child_arn)["executions"]
        return {
            "objects": objects,
            "sqs": sorted(self._drain()),
            "sns": sorted(
                (envelope.get("Subject"), envelope["Message"])
                for envelope in map(json.loads, self._drain(self.subscriber_url))
            ),
            "child inputs": sorted(
                (json.loads(self.sfn.describe_execution(executionArn=e["executionArn"])["input"]) for e in executions),
                key=lambda document: json.dumps(document, sort_keys=True),
            ),
        }


def _new(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """``after`` with only the child executions that ``before`` did not have."""
    out = dict(after)
    out["child inputs"] = list(after["child inputs"])
    for item in before["child inputs"]:
        out["child inputs"].remove(item)
    return out


#: file, dag_id, what the DAG is written to leave (from its tasks, with the run's resources).
EXPECTED: dict[tuple[str, str], Callable[[Resources], dict[str, Any]]] = {
    ("stock_glue_sensor_dag.py", "corpus_stock_glue_sensor"): lambda r: {
        "objects": {"corpus-<uid>/out/orders.txt": "orders", "athena results": [[["loaded_table"], ["orders"]]]}
        | _markers(),
        "sqs": [], "sns": [("Load finished", "orders loaded")], "child inputs": [],
    },
    ("user_nested_machine_dag.py", "corpus_nested_machine"): lambda r: {
        "objects": _markers(),
        "sqs": sorted(["child ran for 2026-03-04 as csv", "export for 2026-03-04 is ready"]),
        "sns": [], "child inputs": [{"day": "2026-03-04", "format": "csv"}],
    },
    ("stock_s3_housekeeping_dag.py", "corpus_s3_housekeeping"): lambda r: {
        "objects": {
            f"{HOUSEKEEPING_BUCKET}/{key.replace('landing/', 'archive/')}": body.decode()
            for key, body in LANDING.items()
        } | _markers(),
        "sqs": [], "sns": [], "child inputs": [],
    },
    ("user_retries_timeouts_dag.py", "corpus_retries_timeouts"): lambda r: {
        "objects": {"corpus-<uid>/out/customers.txt": "customers"} | _markers(),
        "sqs": ["customers loaded"], "sns": [], "child inputs": [],
    },
    ("user_parallel_groups_dag.py", "corpus_parallel_groups"): lambda r: {
        "objects": {"corpus-<uid>/out/orders.txt": "orders", "corpus-<uid>/out/accounts.txt": "accounts"} | _markers(),
        "sqs": ["accounts loaded"], "sns": [(None, "sales and crm loaded")], "child inputs": [],
    },
    ("stock_mapped_sqs_dag.py", "corpus_mapped_sqs"): lambda r: {
        "objects": {},  # the markers are dropped
        "sqs": sorted(f"table {t} ready" for t in ("orders", "customers", "items")), "sns": [], "child inputs": [],
    },
}


def _markers() -> dict[str, str]:
    return {f"corpus-<uid>/{key}": "" for key in MARKERS}


def _normalised(outcome: dict[str, Any]) -> dict[str, Any]:
    out = dict(outcome)
    out["sns"] = sorted((s, m) for s, m in outcome["sns"])
    objects = dict(outcome["objects"])
    if "athena results" in objects:
        objects["athena results"] = sorted(objects["athena results"])
    out["objects"] = objects
    return out


@pytest.fixture(scope="module")
def corpus_bag(airflow_db: Any) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(CORPUS))
    assert bag.import_errors == {}
    return bag


@pytest.mark.parametrize(("file", "dag_id"), sorted(EXPECTED))
def test_a_corpus_dag_leaves_the_same_on_airflow_and_on_step_functions(
    file: str, dag_id: str, sandbox_env: Any, corpus_bag: Any, monkeypatch: Any
) -> None:
    bundle = {"name": "corpus", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
              "kwargs": {"path": str(CORPUS), "refresh_interval": 0}}
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps([bundle]))
    resources = Resources(sandbox_env, housekeeping=dag_id == "corpus_s3_housekeeping")
    dag = corpus_bag.get_dag(dag_id)
    params = {k: v for k, v in resources.params.items() if k in dag.params}

    resources.prepare()
    before = resources.outcome()
    run = dag.test(run_conf=params)
    assert str(run.state) == "success", {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    on_airflow = _normalised(_new(before, resources.outcome()))

    resources.prepare()
    before = resources.outcome()
    sfn = resources.sfn
    machine = compile_dag_file(str(CORPUS / file), dag_id)
    arn = sfn.create_state_machine(
        name=f"{dag_id.replace('_', '-')}-{resources.uid}", roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn",
        definition=json.dumps(definition(machine)),
    )["stateMachineArn"]
    admin = SandboxClient(sandbox_env.endpoint_url)
    admin.record_calls(True)
    try:
        execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(params))["executionArn"]
        for _ in range(900):
            described = sfn.describe_execution(executionArn=execution)
            if described["status"] != "RUNNING":
                break
            time.sleep(0.2)
        calls = machine_calls(admin.recorded_calls())
    finally:
        admin.record_calls(False)
    assert described["status"] == "SUCCEEDED", described
    on_step_functions = _normalised(_new(before, resources.outcome()))

    # The execution role's policy, generated for the run's params, allows every call the machine made
    # (the nested machine's own calls included: they run with the same interpreter, hence the filter on
    # the child's queue) and grants nothing the run did not need.
    athena = sandbox_env.client("athena")
    requests = {
        request
        for call in calls
        if not (call["service"] == "sqs" and "child ran" in call["params"].get("MessageBody", ""))
        for request in requests_of(
            call, ACCOUNT, lambda qid: athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["WorkGroup"]
        )
    }
    policy = build_iam_policy(machine, region="us-east-1", account=ACCOUNT, params=params).document
    assert requests and sorted(r for r in requests if not allowed(policy, *r)) == []
    assert unneeded(policy, requests, frozenset(STOP_ACTIONS)) == []

    assert on_step_functions == on_airflow
    assert on_airflow == _normalised(EXPECTED[(file, dag_id)](resources))
