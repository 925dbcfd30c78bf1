"""``airflow-sfn-etl sandbox``: foreground server, printed settings, Ctrl-C, state kept in --data-dir."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import boto3

from airflow_sfn_etl.cli import build_parser

START = [
    sys.executable,
    "-c",
    "import sys; from airflow_sfn_etl.cli import main; sys.exit(main(sys.argv[1:]))",
]


def test_parser_options():
    args = build_parser().parse_args(["sandbox", "--port", "0", "--data-dir", "/tmp/x"])
    assert args.port == 0 and args.data_dir == "/tmp/x" and callable(args.func)
    assert build_parser().parse_args(["sandbox"]).port == 4566


def _start(data_dir) -> tuple[subprocess.Popen, list[str], float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    began = time.perf_counter()
    proc = subprocess.Popen(
        [*START, "sandbox", "--port", "0", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines = []
    while True:
        line = proc.stdout.readline()
        assert line, f"sandbox exited early: {lines}"
        lines.append(line.rstrip("\n"))
        if line.startswith("Press Ctrl-C"):
            return proc, lines, time.perf_counter() - began


def _stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    return out


def _client(service: str, endpoint: str):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_cli_starts_prints_settings_and_keeps_state(tmp_path):
    proc, lines, seconds = _start(tmp_path)
    try:
        endpoint = lines[0].split(" listening on ")[1].split()[0]
        print(f"sandbox CLI ready in {seconds:.2f}s")
        assert f"  export AWS_ENDPOINT_URL={endpoint}" in lines
        conn = next(line for line in lines if "AIRFLOW_CONN_AWS_DEFAULT" in line)
        assert endpoint in conn and conn.startswith("  export AIRFLOW_CONN_AWS_DEFAULT='{")
        s3 = _client("s3", endpoint)
        s3.create_bucket(Bucket="kept")
        s3.put_object(Bucket="kept", Key="k.txt", Body=b"survives")
        _client("glue", endpoint).create_database(DatabaseInput={"Name": "kept_db"})
    finally:
        out = _stop(proc)
    assert "saved state to" in out and "AWS sandbox stopped." in out
    assert (tmp_path / "state" / "moto-state.pickle").exists()

    proc, lines, _ = _start(tmp_path)
    try:
        endpoint = lines[0].split(" listening on ")[1].split()[0]
        assert "restored" in lines[0]
        assert _client("s3", endpoint).get_object(Bucket="kept", Key="k.txt")["Body"].read() == b"survives"
        assert _client("glue", endpoint).get_database(Name="kept_db")["Database"]["Name"] == "kept_db"
    finally:
        _stop(proc)


def test_ctrl_c_right_after_the_banner_stops_cleanly(tmp_path):
    """A Ctrl-C that lands as soon as the banner is out (before the CLI waits) still saves, stops and exits 0."""
    for attempt in range(3):
        proc, _, _ = _start(tmp_path / f"data{attempt}")
        out = _stop(proc)
        assert out.rstrip().endswith("AWS sandbox stopped."), out


def _wait(check, what: str, timeout: float = 60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what} did not finish")


def test_query_executions_job_runs_and_crawls_survive_a_restart(tmp_path):
    proc, lines, _ = _start(tmp_path)
    try:
        endpoint = lines[0].split(" listening on ")[1].split()[0]
        s3, glue, athena = (_client(s, endpoint) for s in ("s3", "glue", "athena"))
        s3.create_bucket(Bucket="runs")
        qid = athena.start_query_execution(
            QueryString="SELECT x, x * 2 AS twice FROM (VALUES 1, 2, 3) AS t(x)",
            ResultConfiguration={"OutputLocation": "s3://runs/results/"},
        )["QueryExecutionId"]
        _wait(lambda: athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]["State"]
              in ("SUCCEEDED", "FAILED"), "the query")
        execution = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        results = athena.get_query_results(QueryExecutionId=qid)
        s3.put_object(Bucket="runs", Key="scripts/job.py", Body=b"print('hello')\n")
        glue.create_job(Name="kept_job", Role="arn:aws:iam::123456789012:role/glue",
                        Command={"Name": "pythonshell", "ScriptLocation": "s3://runs/scripts/job.py",
                                 "PythonVersion": "3.9"})
        run_id = glue.start_job_run(JobName="kept_job")["JobRunId"]
        job_run = _wait(lambda: (r := glue.get_job_run(JobName="kept_job", RunId=run_id)["JobRun"])
                        ["JobRunState"] not in ("STARTING", "RUNNING", "STOPPING") and r, "the job run")
        s3.put_object(Bucket="runs", Key="data/t/a.csv", Body=b"id,name\n1,a\n2,b\n")
        glue.create_database(DatabaseInput={"Name": "crawled"})
        glue.create_crawler(Name="kept_crawler", Role="arn:aws:iam::123456789012:role/crawler",
                            DatabaseName="crawled", Targets={"S3Targets": [{"Path": "s3://runs/data/"}]})
        glue.start_crawler(Name="kept_crawler")
        crawler = _wait(lambda: (c := glue.get_crawler(Name="kept_crawler")["Crawler"])["State"] == "READY"
                        and "LastCrawl" in c and c, "the crawl")
        crawls = glue.list_crawls(CrawlerName="kept_crawler")["Crawls"]
    finally:
        _stop(proc)
    assert execution["Status"]["State"] == "SUCCEEDED"
    assert job_run["JobRunState"] == "SUCCEEDED"
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED"

    proc, lines, _ = _start(tmp_path)
    try:
        endpoint = lines[0].split(" listening on ")[1].split()[0]
        glue, athena = _client("glue", endpoint), _client("athena", endpoint)
        assert athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"] == execution
        again = athena.get_query_results(QueryExecutionId=qid)
        assert again["ResultSet"] == results["ResultSet"] and again["UpdateCount"] == results["UpdateCount"]
        assert qid in athena.list_query_executions()["QueryExecutionIds"]
        assert glue.get_job_run(JobName="kept_job", RunId=run_id)["JobRun"] == job_run
        assert [r["Id"] for r in glue.get_job_runs(JobName="kept_job")["JobRuns"]] == [run_id]
        restored = glue.get_crawler(Name="kept_crawler")["Crawler"]
        assert restored["State"] == "READY" and restored["LastCrawl"] == crawler["LastCrawl"]
        assert glue.list_crawls(CrawlerName="kept_crawler")["Crawls"] == crawls
    finally:
        _stop(proc)
