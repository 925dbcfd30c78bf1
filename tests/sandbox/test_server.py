"""The sandbox server: endpoint and env, admin endpoints, reset, state snapshots."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

from airflow_sfn_etl_sandbox import persist
from airflow_sfn_etl_sandbox.client import SandboxClient


def test_env_points_sdks_and_airflow_at_the_sandbox(sandbox):
    env = sandbox.env()
    assert env["AWS_ENDPOINT_URL"] == sandbox.endpoint_url
    assert sandbox.endpoint_url.startswith("http://127.0.0.1:")
    conn = json.loads(env["AIRFLOW_CONN_AWS_DEFAULT"])
    assert conn["conn_type"] == "aws" and conn["extra"]["endpoint_url"] == sandbox.endpoint_url
    assert env["AWS_DEFAULT_REGION"] == "us-east-1"


def test_unknown_admin_endpoint_is_404(sandbox):
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{sandbox.endpoint_url}/_sandbox/nope")
    assert err.value.code == 404
    assert "faults" in json.loads(err.value.read())["error"]


def _state(sb, bucket: str) -> None:
    s3 = sb.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a/b.txt", Body=b"hello")
    sb.client("glue").create_database(DatabaseInput={"Name": bucket.replace("-", "_")})


def test_reset_forgets_state_faults_and_queries(sandbox_env):
    sb = sandbox_env
    bucket = f"reset-{uuid.uuid4().hex[:8]}"
    _state(sb, bucket)
    athena = sb.client("athena")
    qid = athena.start_query_execution(
        QueryString="SELECT 1", ResultConfiguration={"OutputLocation": f"s3://{bucket}/"}
    )["QueryExecutionId"]
    admin = SandboxClient(sb.endpoint_url)
    admin.fail_glue_job("j", "boom")
    sb.reset()
    assert bucket not in [b["Name"] for b in sb.client("s3").list_buckets()["Buckets"]]
    assert admin.faults()["run_rules"] == []
    with pytest.raises(ClientError, match="was not found"):
        athena.get_query_execution(QueryExecutionId=qid)
    # The same through the admin endpoint, from another process's point of view.
    _state(sb, bucket)
    admin.reset()
    assert sb.client("s3").list_buckets()["Buckets"] == []


def test_snapshot_and_restore_moto_state(sandbox_env, tmp_path):
    sb = sandbox_env
    bucket = f"persist-{uuid.uuid4().hex[:8]}"
    _state(sb, bucket)
    wg = f"wg{uuid.uuid4().hex[:6]}"
    sb.client("athena").create_work_group(
        Name=wg, Configuration={"ResultConfiguration": {"OutputLocation": f"s3://{bucket}/"}}
    )
    topic = sb.client("sns").create_topic(Name="persisted")["TopicArn"]
    queue = sb.client("sqs").create_queue(QueueName="persisted")["QueueUrl"]
    report = persist.snapshot(tmp_path)
    assert "s3/123456789012/aws" in report["saved"] and report["skipped"] == []
    sb.reset()
    assert sb.client("s3").list_buckets()["Buckets"] == []
    restored = persist.restore(tmp_path)
    assert "glue/123456789012/us-east-1" in restored
    assert sb.client("s3").get_object(Bucket=bucket, Key="a/b.txt")["Body"].read() == b"hello"
    assert sb.client("glue").get_database(Name=bucket.replace("-", "_"))["Database"]["Name"]
    conf = sb.client("athena").get_work_group(WorkGroup=wg)["WorkGroup"]["Configuration"]
    assert conf["ResultConfiguration"]["OutputLocation"] == f"s3://{bucket}/"
    assert topic in [t["TopicArn"] for t in sb.client("sns").list_topics()["Topics"]]
    assert queue in sb.client("sqs").list_queues()["QueueUrls"]
    assert persist.restore(tmp_path / "empty") == []


#: Run in a fresh process (the sandbox's state is per process): a Sandbox(data_dir=...) that either makes
#: a query execution and a crawl, or reads them back after a restart; prints what it saw as JSON.
_PERSIST_SCRIPT = r'''
import json, sys, time
from airflow_sfn_etl_sandbox import Sandbox

data_dir, phase = sys.argv[1], sys.argv[2]

def wait(check):
    for _ in range(600):
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise SystemExit("timed out")

with Sandbox(data_dir=data_dir) as sb:
    s3, glue, athena = sb.client("s3"), sb.client("glue"), sb.client("athena")
    if phase == "make":
        s3.create_bucket(Bucket="kept")
        s3.put_object(Bucket="kept", Key="data/t/a.csv", Body=b"id,name\n1,a\n2,b\n")
        qid = athena.start_query_execution(QueryString="SELECT 41 + 1 AS answer",
                                           ResultConfiguration={"OutputLocation": "s3://kept/results/"})["QueryExecutionId"]
        wait(lambda: athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]["State"]
             in ("SUCCEEDED", "FAILED"))
        glue.create_crawler(Name="kept_crawler", Role="arn:aws:iam::123456789012:role/crawler",
                            DatabaseName="kept_db", Targets={"S3Targets": [{"Path": "s3://kept/data/"}]})
        glue.create_classifier(CsvClassifier={"Name": "kept_csv", "Delimiter": ";", "ContainsHeader": "PRESENT"})
        glue.start_crawler(Name="kept_crawler")
        wait(lambda: (c := glue.get_crawler(Name="kept_crawler")["Crawler"])["State"] == "READY"
             and "LastCrawl" in c)
    else:
        qid = athena.list_query_executions()["QueryExecutionIds"][0]
    out = {
        "restored": sb.restored,
        "query": athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]["State"],
        "rows": [[d.get("VarCharValue") for d in r["Data"]]
                 for r in athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]],
        "crawls": [(c["CrawlId"], c["State"]) for c in glue.list_crawls(CrawlerName="kept_crawler")["Crawls"]],
        "tables": [t["Name"] for t in glue.get_tables(DatabaseName="kept_db")["TableList"]],
        "classifier": {k: v for k, v in glue.get_classifier(Name="kept_csv")["Classifier"]["CsvClassifier"].items()
                       if k in ("Name", "Delimiter", "ContainsHeader", "Version")},
    }
print(json.dumps(out))
'''


def test_in_process_sandbox_with_a_data_dir_keeps_state_across_a_restart(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}

    def run(phase: str) -> dict:
        done = subprocess.run([sys.executable, "-c", _PERSIST_SCRIPT, str(tmp_path), phase], env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    made = run("make")
    assert made["restored"] == []  # nothing saved before
    assert made["query"] == "SUCCEEDED" and made["rows"] == [["answer"], ["42"]]
    assert len(made["crawls"]) == 1 and made["crawls"][0][1] == "COMPLETED" and made["tables"]
    assert (tmp_path / "state" / persist.STATE_FILE).exists()

    again = run("read")
    assert "sandbox/crawler" in again["restored"] and "sandbox/athena" in again["restored"]
    assert made["classifier"] == {"Name": "kept_csv", "Delimiter": ";", "ContainsHeader": "PRESENT", "Version": 1}
    assert {k: again[k] for k in ("query", "rows", "crawls", "tables", "classifier")} == {
        k: made[k] for k in ("query", "rows", "crawls", "tables", "classifier")}
