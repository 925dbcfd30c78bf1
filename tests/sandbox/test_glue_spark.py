"""Glue Spark (glueetl) job runs on the sandbox's local PySpark, with the awsglue API, through boto3.

Expected values come from DuckDB / pyarrow on the raw files, never from the code under test.
"""

from __future__ import annotations

import io
import json
import time
import uuid
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pyspark  # noqa: F401 - the spark extra (installed by the test extra); a missing one fails here, never skips
import pytest

pytestmark = [pytest.mark.spark, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
SEED_CSV = SHARED / "data" / "seed" / "csvlog.csv"
SEED_ARTICLE = SHARED / "seeds" / "004_e4ee451e59352ec7.txt"
FLOW_SCRIPT = ROOT / "packages" / "flows" / "airflow_sfn_etl_flows" / "dags" / "glue_scripts" / "se2_job0_pyspark.py"
#: The crawler types csvlog's columns so (shared/data/seed/NOTICE.md): 007 is the bigint 7.
CSVLOG_TYPES = {"deviceid": "string", "uuid": "int64", "appid": "int64", "country": "string", "year": "int64",
                "month": "int64", "day": "int64", "hour": "int64"}
CSVLOG_SQL = ("SELECT deviceid, CAST(uuid AS BIGINT) AS uuid, CAST(appid AS BIGINT) AS appid, country, "
              "CAST(year AS BIGINT) AS year, CAST(month AS BIGINT) AS month, CAST(day AS BIGINT) AS day, "
              "CAST(hour AS BIGINT) AS hour FROM read_csv('{path}', header=true, all_varchar=true) ORDER BY uuid")
#: The first glueetl run starts the Spark JVM; later ones reuse it.
RUN_TIMEOUT = 300.0


def _name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module", autouse=True)
def spark_host(sandbox):
    """The sandbox's Spark JVM, started once for this module (the first run would start it anyway)."""
    from airflow_sfn_etl_sandbox.glue_spark import runner

    host = runner._get_host()
    assert host.ready.wait(RUN_TIMEOUT) and host.gateway, host.failure()
    return host


@pytest.fixture
def glue(sandbox_env):
    return sandbox_env.client("glue")


@pytest.fixture
def s3(sandbox_env):
    return sandbox_env.client("s3")


@pytest.fixture
def bucket(s3):
    name = _name("spark-")
    s3.create_bucket(Bucket=name)
    return name


def make_job(glue, s3, bucket: str, script: bytes | str, **extra) -> str:
    name = _name("etl_")
    s3.put_object(Bucket=bucket, Key=f"scripts/{name}.py", Body=script)
    glue.create_job(Name=name, Role="arn:aws:iam::123456789012:role/glue", GlueVersion="5.0",
                    Command={"Name": "glueetl", "ScriptLocation": f"s3://{bucket}/scripts/{name}.py",
                             "PythonVersion": "3"}, **extra)
    return name


def wait_run(glue, name: str, run_id: str, timeout: float = RUN_TIMEOUT) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        run = glue.get_job_run(JobName=name, RunId=run_id)["JobRun"]
        if run["JobRunState"] not in ("STARTING", "RUNNING", "STOPPING"):
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} of {name} did not finish in {timeout}s")


def run_job(glue, name: str, **kwargs) -> dict:
    return wait_run(glue, name, glue.start_job_run(JobName=name, **kwargs)["JobRunId"])


def crawl(glue, path: str, database: str, prefix: str = "") -> None:
    try:
        glue.create_database(DatabaseInput={"Name": database})
    except glue.exceptions.AlreadyExistsException:
        pass
    crawler = _name("crawler_")
    glue.create_crawler(Name=crawler, Role="arn:aws:iam::123456789012:role/crawler", DatabaseName=database,
                        TablePrefix=prefix, Targets={"S3Targets": [{"Path": path}]})
    glue.start_crawler(Name=crawler)
    end = time.monotonic() + 30
    while time.monotonic() < end:
        state = glue.get_crawler(Name=crawler)["Crawler"]
        if state["State"] == "READY" and "LastCrawl" in state:
            assert state["LastCrawl"]["Status"] == "SUCCEEDED", state["LastCrawl"]
            return
        time.sleep(0.1)
    raise AssertionError(f"crawler {crawler} did not finish")


def read_parquet_prefix(s3, bucket: str, prefix: str) -> pa.Table:
    """Every Parquet file under the prefix, as one Arrow table (read with pyarrow)."""
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
            if o["Key"].endswith(".parquet")]
    assert keys, f"no Parquet files under s3://{bucket}/{prefix}"
    return pa.concat_tables([pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=k)["Body"].read()))
                             for k in keys])


def sorted_rows(table: pa.Table, key: str) -> list[tuple]:
    names = table.column_names
    return sorted((tuple(r[n] for n in names) for r in table.to_pylist()), key=lambda r: r[names.index(key)])


def log_messages(sandbox, group: str, run_id: str) -> list[str]:
    logs = sandbox.client("logs")
    try:
        events = logs.get_log_events(logGroupName=group, logStreamName=run_id)["events"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [e["message"] for e in events]


def seed_article_script() -> str:
    """The job script of the seed article, verbatim (between its file name and the next section)."""
    text = SEED_ARTICLE.read_text(encoding="utf-8")
    start = text.index("se2_job0.py\n") + len("se2_job0.py\n")
    end = text.index("job.commit()", start) + len("job.commit()")
    return text[start:end] + "\n"


#: The only edits the flow's script makes to the seed's (its header lists them): hard-coded names -> job arguments.
FLOW_SCRIPT_EDITS = [
    ("args = getResolvedOptions(sys.argv, ['JOB_NAME'])",
     "args = getResolvedOptions(sys.argv, ['JOB_NAME', 'database', 'table', 'output_path'])"),
    ('from_catalog(database = "se2", table_name = "se2_in0", transformation_ctx',
     "from_catalog(database = args['database'], table_name = args['table'], transformation_ctx"),
    ('connection_type = "s3", connection_options = {"path": "s3://test-glue00/se2/out0"}, format = "parquet", '
     'transformation_ctx = "datasink4")',
     'connection_type = "s3", connection_options = {"path": args[\'output_path\']}, format = "parquet", '
     'transformation_ctx = "datasink4")'),
]


def test_flow_script_is_the_seed_script_with_its_documented_edits():
    script = FLOW_SCRIPT.read_text(encoding="utf-8")
    header_end = script.index('"""', 3) + len('"""\n\n')
    expected = seed_article_script()
    for before, after in FLOW_SCRIPT_EDITS:
        assert expected.count(before) == 1, before
        expected = expected.replace(before, after)
    assert script[header_end:] == expected


def expected_csvlog() -> list[tuple]:
    """csvlog.csv's rows typed as the crawler types them, by DuckDB, sorted by uuid."""
    return duckdb.sql(CSVLOG_SQL.format(path=SEED_CSV)).fetchall()


def athena_rows(sandbox, sql: str, database: str, output: str) -> list[list[str | None]]:
    athena = sandbox.client("athena")
    qid = athena.start_query_execution(QueryString=sql, QueryExecutionContext={"Database": database},
                                       ResultConfiguration={"OutputLocation": output})["QueryExecutionId"]
    end = time.monotonic() + 60
    while time.monotonic() < end:
        status = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if status["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            assert status["State"] == "SUCCEEDED", status
            break
        time.sleep(0.1)
    rows = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
    return [[d.get("VarCharValue") for d in row["Data"]] for row in rows[1:]]


def test_seed_article_job_runs_unchanged_on_the_crawled_table(sandbox_env, glue, s3):
    """The crawler flow of the seed: crawl s3://test-glue00/se2/in0/, then its PySpark job, unchanged."""
    bucket = "test-glue00"
    try:
        s3.create_bucket(Bucket=bucket)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    for key in [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="se2/").get("Contents", [])]:
        s3.delete_object(Bucket=bucket, Key=key)
    s3.put_object(Bucket=bucket, Key="se2/in0/", Body=b"")
    s3.put_object(Bucket=bucket, Key="se2/in0/cvlog.csv", Body=SEED_CSV.read_bytes())
    crawl(glue, f"s3://{bucket}/se2/in0/", "se2", prefix="se2_")
    name = make_job(glue, s3, bucket, seed_article_script())

    run = run_job(glue, name)

    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    out = read_parquet_prefix(s3, bucket, "se2/out0/")
    assert {f.name: str(f.type) for f in out.schema} == CSVLOG_TYPES
    assert sorted_rows(out, "uuid") == expected_csvlog()


def test_flow_job_script_end_to_end_and_read_back_through_athena(sandbox_env, glue, s3, bucket):
    """The reference flow's se2_job0 PySpark script: crawled CSV in, typed Parquet out, Athena reads it."""
    s3.put_object(Bucket=bucket, Key="se2/in0/csvlog.csv", Body=SEED_CSV.read_bytes())
    database = _name("se2_")
    crawl(glue, f"s3://{bucket}/se2/in0/", database, prefix="se2_")
    name = make_job(glue, s3, bucket, FLOW_SCRIPT.read_bytes(),
                    DefaultArguments={"--database": database, "--table": "se2_in0",
                                      "--output_path": "s3://placeholder/never-used/"})

    run = run_job(glue, name, Arguments={"--output_path": f"s3://{bucket}/se2/out0/"})

    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    assert run["LogGroupName"] == "/aws-glue/jobs"
    out = read_parquet_prefix(s3, bucket, "se2/out0/")
    expected = expected_csvlog()
    assert {f.name: str(f.type) for f in out.schema} == CSVLOG_TYPES
    assert sorted_rows(out, "uuid") == expected
    assert not [o for o in s3.list_objects_v2(Bucket=bucket, Prefix="se2/out0/")["Contents"]
                if o["Key"].endswith("_SUCCESS")]
    errors = log_messages(sandbox_env, "/aws-glue/jobs/error", run["Id"])
    assert any("job bookmarks are not kept by the sandbox" in m for m in errors), errors

    crawl(glue, f"s3://{bucket}/se2/out0/", database, prefix="se2_")
    rows = athena_rows(sandbox_env, "SELECT deviceid, uuid, appid, country, year, month, day, hour "
                                    "FROM se2_out0 ORDER BY uuid", database, f"s3://{bucket}/athena/")
    assert rows == [[str(v) for v in rec] for rec in expected]


RAISES = b'''
import sys
from awsglue.context import GlueContext
from pyspark.context import SparkContext

glue_context = GlueContext(SparkContext.getOrCreate())
print("rows before failing:", glue_context.spark_session.range(3).count())
raise ValueError("bad input row 42")
'''

READS_MISSING_TABLE = b'''
import sys
from awsglue.context import GlueContext
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["database"])
glue_context = GlueContext(SparkContext())
glue_context.create_dynamic_frame.from_catalog(database=args["database"], table_name="no_such_table")
'''

#: Spark tasks that append to a local heartbeat file until they are cancelled.
SPINS = b'''
import sys
import time
from awsglue.utils import getResolvedOptions
from pyspark.sql import SparkSession

args = getResolvedOptions(sys.argv, ["beat"])
spark = SparkSession.builder.getOrCreate()


def spin(rows):
    while True:
        with open(args["beat"], "a") as fh:
            fh.write("beat\\n")
        time.sleep(0.1)
    yield from rows


spark.sparkContext.parallelize([1], 1).mapPartitions(spin).count()
'''


def wait_state(glue, name: str, run_id: str, wanted: str, timeout: float = RUN_TIMEOUT) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if glue.get_job_run(JobName=name, RunId=run_id)["JobRun"]["JobRunState"] == wanted:
            return
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} never reached {wanted}")


def wait_for_file(path: Path, timeout: float = RUN_TIMEOUT) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.exists() and path.stat().st_size:
            return
        time.sleep(0.1)
    raise AssertionError(f"{path} was never written")


def wait_until_still(path: Path, quiet: float = 3.0, timeout: float = 60.0) -> None:
    """Returns once ``path`` has not grown for ``quiet`` seconds: its writers (Spark tasks) have ended."""
    end = time.monotonic() + timeout
    size, since = path.stat().st_size, time.monotonic()
    while time.monotonic() < end:
        time.sleep(0.2)
        now = path.stat().st_size
        if now != size:
            size, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
    raise AssertionError(f"{path} kept growing: the Spark tasks were not cancelled")


def test_script_that_raises_fails_the_run_with_the_error(sandbox_env, glue, s3, bucket):
    name = make_job(glue, s3, bucket, RAISES)

    run = run_job(glue, name)

    assert run["JobRunState"] == "FAILED"
    assert run["ErrorMessage"] == "ValueError: bad input row 42"
    assert log_messages(sandbox_env, "/aws-glue/jobs/output", run["Id"]) == ["rows before failing: 3"]
    errors = log_messages(sandbox_env, "/aws-glue/jobs/error", run["Id"])
    assert "Traceback (most recent call last):" in errors
    assert errors[-1] == "ValueError: bad input row 42"


def test_reading_a_table_that_does_not_exist_fails_the_run(sandbox_env, glue, s3, bucket):
    database = _name("db_")
    glue.create_database(DatabaseInput={"Name": database})
    name = make_job(glue, s3, bucket, READS_MISSING_TABLE, DefaultArguments={"--database": database})

    run = run_job(glue, name)

    assert run["JobRunState"] == "FAILED"
    assert run["ErrorMessage"].startswith("EntityNotFoundException: ")
    assert "no_such_table" in run["ErrorMessage"]


def test_missing_job_argument_fails_with_glue_argument_error(sandbox_env, glue, s3, bucket):
    name = make_job(glue, s3, bucket, READS_MISSING_TABLE)

    run = run_job(glue, name)

    assert run["JobRunState"] == "FAILED"
    assert run["ErrorMessage"] == "GlueArgumentError: the following arguments are required: --database"


def test_batch_stop_job_run_cancels_the_spark_work(sandbox_env, glue, s3, bucket, tmp_path):
    beat = tmp_path / "beat.txt"
    name = make_job(glue, s3, bucket, SPINS, DefaultArguments={"--beat": str(beat)})
    run_id = glue.start_job_run(JobName=name)["JobRunId"]
    wait_for_file(beat)  # a Spark task is running

    answer = glue.batch_stop_job_run(JobName=name, JobRunIds=[run_id])

    assert answer["SuccessfulSubmissions"] == [{"JobName": name, "JobRunId": run_id}]
    run = wait_run(glue, name, run_id)
    assert run["JobRunState"] == "STOPPED"
    assert "ErrorMessage" not in run
    wait_until_still(beat)


def test_timeout_ends_the_run_and_cancels_the_spark_work(sandbox_env, glue, s3, bucket, tmp_path, monkeypatch):
    from airflow_sfn_etl_sandbox import glue_jobs

    # Timeout is in minutes; one "minute" here is long enough for the warm JVM to start the task.
    monkeypatch.setattr(glue_jobs, "TIMEOUT_UNIT_SECONDS", 30.0)
    beat = tmp_path / "beat.txt"
    name = make_job(glue, s3, bucket, SPINS, DefaultArguments={"--beat": str(beat)})

    run = run_job(glue, name, Timeout=1)

    assert run["JobRunState"] == "TIMEOUT"
    assert run["ErrorMessage"] == "Job run timed out after 1 minutes"
    assert run["Timeout"] == 1
    if beat.exists():  # the task had started: it is cancelled with the run
        wait_until_still(beat)


#: Each run registers a temporary view of its own under one name, waits (on S3) until the other run
#: has too, then writes what its view holds: runs that shared a Spark session would mix them up.
CONCURRENT = b'''
import sys
import time
import boto3
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext

args = getResolvedOptions(sys.argv, ["JOB_RUN_ID", "bucket", "tag"])
spark = GlueContext(SparkContext.getOrCreate()).spark_session
spark.range(int(args["tag"])).createOrReplaceTempView("numbers")
s3 = boto3.client("s3")
s3.put_object(Bucket=args["bucket"], Key="arrived/" + args["JOB_RUN_ID"], Body=b"")
deadline = time.time() + 240
while s3.list_objects_v2(Bucket=args["bucket"], Prefix="arrived/").get("KeyCount", 0) < 2:
    if time.time() > deadline:
        raise RuntimeError("the other run never arrived")
    time.sleep(0.2)
total = spark.sql("SELECT count(*) AS n, sum(id) AS s FROM numbers").first()
spark.createDataFrame([(args["tag"], total.n, total.s)], "tag string, n long, s long").write.parquet(
    "s3://" + args["bucket"] + "/out/tag=" + args["tag"])
'''


def test_two_concurrent_runs_share_the_jvm_with_sessions_of_their_own(sandbox_env, glue, s3, bucket):
    name = make_job(glue, s3, bucket, CONCURRENT, ExecutionProperty={"MaxConcurrentRuns": 2},
                    DefaultArguments={"--bucket": bucket})
    first = glue.start_job_run(JobName=name, Arguments={"--tag": "10"})["JobRunId"]
    second = glue.start_job_run(JobName=name, Arguments={"--tag": "1000"})["JobRunId"]

    runs = [wait_run(glue, name, first), wait_run(glue, name, second)]

    assert [r["JobRunState"] for r in runs] == ["SUCCEEDED", "SUCCEEDED"], [r.get("ErrorMessage") for r in runs]
    for tag in (10, 1000):
        out = read_parquet_prefix(s3, bucket, f"out/tag={tag}/")
        expected = duckdb.sql(f"SELECT count(*), sum(i) FROM range({tag}) t(i)").fetchall()[0]
        assert [(r["n"], r["s"]) for r in out.to_pylist()] == [expected]


RUN_CONTEXT = b'''
import json, os, sys
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "tag"])
sc = SparkContext.getOrCreate()
print("RUN-CONTEXT " + json.dumps({"run_id": os.environ.get("GLUE_JOB_RUN_ID"), "region": os.environ.get("AWS_REGION"),
                                  "cwd_has_script": os.path.exists(os.path.basename(sys.argv[0])),
                                  "stdin": sys.stdin.read(), "tag": args["tag"], "job": args["JOB_NAME"],
                                  "sum": sc.parallelize(range(int(args["tag"]))).sum()}))
'''


def test_consecutive_runs_each_see_only_their_own_arguments_environment_and_input(sandbox_env, glue, s3, bucket):
    """Runs are served by driver processes started ahead of them: each still gets its own run id, arguments,
    working folder and an empty standard input, as a Glue run's driver does."""
    logs = sandbox_env.client("logs")
    name = make_job(glue, s3, bucket, RUN_CONTEXT)
    seen = []
    for tag in (3, 40, 500):
        run_id = glue.start_job_run(JobName=name, Arguments={"--tag": str(tag)})["JobRunId"]
        run = wait_run(glue, name, run_id)
        assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
        events = logs.get_log_events(logGroupName="/aws-glue/jobs/output", logStreamName=run_id)["events"]
        [line] = [e["message"] for e in events if e["message"].startswith("RUN-CONTEXT ")]
        seen.append((run_id, tag, json.loads(line.removeprefix("RUN-CONTEXT "))))
    for run_id, tag, context in seen:
        [(expected_sum,)] = duckdb.sql(f"SELECT sum(i) FROM range({tag}) t(i)").fetchall()
        assert context == {"run_id": run_id, "region": glue.meta.region_name, "cwd_has_script": True, "stdin": "",
                           "tag": str(tag), "job": name, "sum": expected_sum}


PER_COUNTRY_SQL = ("SELECT country, count(*), sum(CAST(hour AS BIGINT)) FROM read_csv('{path}', header=true, "
                   "all_varchar=true) GROUP BY country ORDER BY country")
PLAIN_SPARK = b'''
import sys
from awsglue.utils import getResolvedOptions
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["bucket"])
spark = SparkSession.builder.appName("plain").getOrCreate()
logs = spark.read.csv("s3://" + args["bucket"] + "/raw/csvlog.csv", header=True, inferSchema=True)
per_country = logs.groupBy("country").agg(F.count("*").alias("n"), F.sum("hour").alias("hours"))
per_country.write.parquet("s3://" + args["bucket"] + "/agg/")
per_country.write.mode("overwrite").parquet("s3://" + args["bucket"] + "/agg/")
try:
    per_country.write.parquet("s3a://" + args["bucket"] + "/agg/")
except Exception as exc:
    print("second write:", type(exc).__name__, str(exc).splitlines()[0])
logs.write.partitionBy("deviceid").mode("append").json("s3://" + args["bucket"] + "/by_device/")
back = spark.read.json("s3://" + args["bucket"] + "/by_device/")
print("read back", back.count(), sorted(r.deviceid for r in back.select("deviceid").distinct().collect()))
'''


def test_plain_spark_reads_and_writes_s3_paths(sandbox_env, glue, s3, bucket):
    s3.put_object(Bucket=bucket, Key="raw/csvlog.csv", Body=SEED_CSV.read_bytes())
    s3.put_object(Bucket=bucket, Key="agg/stale.parquet", Body=b"overwritten by the job")
    name = make_job(glue, s3, bucket, PLAIN_SPARK, DefaultArguments={"--bucket": bucket})

    run = run_job(glue, name)

    assert run["JobRunState"] == "FAILED", "the first write must fail: s3://.../agg/ already has an object"
    assert run["ErrorMessage"].startswith(f"AnalysisException: [PATH_ALREADY_EXISTS] Path s3://{bucket}/agg/")
    s3.delete_object(Bucket=bucket, Key="agg/stale.parquet")

    run = run_job(glue, name)

    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    expected = duckdb.sql(PER_COUNTRY_SQL.format(path=SEED_CSV)).fetchall()
    out = read_parquet_prefix(s3, bucket, "agg/")
    assert sorted_rows(out, "country") == expected
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="agg/")["Contents"]]
    assert "agg/_SUCCESS" in keys and not [k for k in keys if k.endswith(".crc")]
    devices = duckdb.sql(f"SELECT DISTINCT deviceid FROM read_csv('{SEED_CSV}', header=true) ORDER BY 1").fetchall()
    folders = {k.split("/")[1] for k in (o["Key"] for o in s3.list_objects_v2(
        Bucket=bucket, Prefix="by_device/")["Contents"]) if "=" in k}
    assert folders == {f"deviceid={d}" for (d,) in devices}
    printed = log_messages(sandbox_env, "/aws-glue/jobs/output", run["Id"])
    assert printed[0] == (f"second write: AnalysisException [PATH_ALREADY_EXISTS] Path s3a://{bucket}/agg/ already "
                          "exists. Set mode as \"overwrite\" to overwrite the existing path.")
    # The failed first run stopped before its JSON append: one append of the 19 rows is there.
    assert printed[1] == f"read back 19 {sorted(d for (d,) in devices)}"


def test_stock_glue_job_operator_runs_a_glueetl_job(sandbox_env, s3, bucket):
    """The amazon provider's GlueJobOperator creates the glueetl job from script_location and waits for it."""
    from unittest import mock

    from airflow.providers.amazon.aws.operators.glue import GlueJobOperator

    s3.put_object(Bucket=bucket, Key="raw/csvlog.csv", Body=SEED_CSV.read_bytes())
    s3.put_object(Bucket=bucket, Key="scripts/plain.py", Body=PLAIN_SPARK)
    job_name = _name("stock_etl_")
    stock_glueetl = GlueJobOperator(
        task_id="stock_glueetl", job_name=job_name, script_location=f"s3://{bucket}/scripts/plain.py",
        s3_bucket=bucket, iam_role_arn="arn:aws:iam::123456789012:role/glue",
        create_job_kwargs={"Command": {"Name": "glueetl", "ScriptLocation": f"s3://{bucket}/scripts/plain.py",
                                       "PythonVersion": "3"}, "GlueVersion": "5.0", "NumberOfWorkers": 2,
                           "WorkerType": "G.1X", "DefaultArguments": {"--bucket": bucket}},
        wait_for_completion=True, verbose=True, job_poll_interval=0.5, aws_conn_id="aws_default",
        region_name="us-east-1")

    run_id = stock_glueetl.execute({"ti": mock.MagicMock(), "task_instance": mock.MagicMock()})

    run = sandbox_env.client("glue").get_job_run(JobName=job_name, RunId=run_id)["JobRun"]
    assert run["JobRunState"] == "SUCCEEDED"
    assert run["WorkerType"] == "G.1X" and run["NumberOfWorkers"] == 2
    out = read_parquet_prefix(s3, bucket, "agg/")
    expected = duckdb.sql(PER_COUNTRY_SQL.format(path=SEED_CSV)).fetchall()
    assert sorted_rows(out, "country") == expected


def test_stock_glue_job_operator_runs_the_seed_gluecontext_script_verbosely(sandbox_env, glue, s3, bucket, caplog,
                                                                          capfd):
    """The amazon provider's GlueJobOperator with script_location, create_job_kwargs and verbose=True runs the
    seed's GlueContext script; the driver's output and error streams reach the task log."""
    import logging
    from unittest import mock

    from airflow.providers.amazon.aws.operators.glue import GlueJobOperator

    s3.put_object(Bucket=bucket, Key="se2/in0/csvlog.csv", Body=SEED_CSV.read_bytes())
    database = _name("se2_")
    crawl(glue, f"s3://{bucket}/se2/in0/", database, prefix="se2_")
    s3.put_object(Bucket=bucket, Key="scripts/se2_job0.py", Body=FLOW_SCRIPT.read_bytes())
    job_name = _name("stock_se2_")
    stock_seed_job = GlueJobOperator(
        task_id="stock_seed_job", job_name=job_name, script_location=f"s3://{bucket}/scripts/se2_job0.py",
        s3_bucket=bucket, iam_role_arn="arn:aws:iam::123456789012:role/glue",
        create_job_kwargs={"Command": {"Name": "glueetl", "ScriptLocation": f"s3://{bucket}/scripts/se2_job0.py",
                                       "PythonVersion": "3"}, "GlueVersion": "5.0", "NumberOfWorkers": 2,
                           "WorkerType": "G.1X"},
        script_args={"--database": database, "--table": "se2_in0", "--output_path": f"s3://{bucket}/se2/out0/"},
        wait_for_completion=True, verbose=True, job_poll_interval=0.5, aws_conn_id="aws_default",
        region_name="us-east-1")

    with caplog.at_level(logging.INFO):
        run_id = stock_seed_job.execute({"ti": mock.MagicMock(), "task_instance": mock.MagicMock()})

    run = glue.get_job_run(JobName=job_name, RunId=run_id)["JobRun"]
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    out = read_parquet_prefix(s3, bucket, "se2/out0/")
    assert {f.name: str(f.type) for f in out.schema} == CSVLOG_TYPES
    assert sorted_rows(out, "uuid") == expected_csvlog()
    # verbose=True prints the run's CloudWatch streams: the driver's bookmark notice is in the error group.
    captured = capfd.readouterr()
    printed = "\n".join([*(r.getMessage() for r in caplog.records), captured.out, captured.err])
    assert "/aws-glue/jobs/error" in printed and "job bookmarks are not kept by the sandbox" in printed, printed[-2000:]


TRANSFORMS = b'''
import sys
from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "bucket", "database"])
glue = GlueContext(SparkContext.getOrCreate())
job = Job(glue)
job.init(args["JOB_NAME"], args)
base = "s3://" + args["bucket"]

logs = glue.create_dynamic_frame.from_options("s3", {"paths": [base + "/in/csv/"]}, format="csv",
                                              format_options={"withHeader": True})
logs.printSchema()
typed = ApplyMapping.apply(frame=logs, mappings=[
    ("deviceid", "string", "device", "string"),
    ("uuid", "string", "uuid", "long"),
    ("appid", "string", "app.id", "int"),
    ("country", "string", "app.country", "string"),
    ("hour", "string", "hour", "int"),
    ("no_such_field", "string", "missing", "string"),
])
typed.printSchema()
typed.show(2)


def flag(rec):
    rec["late"] = rec["hour"] >= 14
    return rec


iphones = Filter.apply(frame=typed, f=lambda rec: rec["device"] == "iphone")
trimmed = DropFields.apply(RenameField.apply(Map.apply(frame=iphones, f=flag), "device", "kind"), ["app.country"])
print("iphones", trimmed.count())
glue.write_dynamic_frame.from_options(trimmed, "s3", {"path": base + "/out/iphones/"}, format="json")

countries = glue.create_dynamic_frame.from_options("s3", {"paths": [base + "/in/countries/"]}, format="json")
named = SelectFields.apply(Join.apply(logs, countries, "country", "code"), ["uuid", "name"])
glue.write_dynamic_frame.from_options(named, "s3", {"path": base + "/out/named/", "partitionKeys": ["name"]},
                                      format="parquet")

nulls = glue.create_dynamic_frame.from_options("s3", {"paths": [base + "/in/nulls/"]}, format="json")
DropNullFields.apply(frame=ResolveChoice.apply(frame=nulls, specs=[("a", "cast:string")])).printSchema()

december = glue.create_dynamic_frame.from_catalog(database=args["database"], table_name="logs_by_month",
                                                  push_down_predicate="month = 12")
print("december", december.count())
glue.write_dynamic_frame.from_catalog(frame=december.select_fields(["uuid", "deviceid"]),
                                      database=args["database"], table_name="target")

glue.purge_s3_path(base + "/purge/", {"retentionPeriod": 0})
glue.purge_s3_path(base + "/keep/")
try:
    Relationalize.apply(frame=logs, staging_path=base + "/tmp/", name="root")
except NotImplementedError as exc:
    print("not emulated:", exc)
job.commit()
'''
COUNTRIES = {"JP": "Japan", "FR": "France", "AUS": "Australia"}


def _parquet_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def test_awsglue_sources_transforms_and_sinks(sandbox_env, glue, s3, bucket):
    raw = f"read_csv('{SEED_CSV}', header=true, all_varchar=true)"
    s3.put_object(Bucket=bucket, Key="in/csv/csvlog.csv", Body=SEED_CSV.read_bytes())
    s3.put_object(Bucket=bucket, Key="in/countries/c.json",
                  Body="\n".join(f'{{"code": "{k}", "name": "{v}"}}' for k, v in COUNTRIES.items()).encode())
    s3.put_object(Bucket=bucket, Key="in/nulls/n.json",
                  Body=b'{"a": 1, "b": null, "c": {"d": null, "e": "x"}}\n{"a": 2, "c": {"e": "y"}}\n')
    s3.put_object(Bucket=bucket, Key="purge/old.txt", Body=b"x")
    s3.put_object(Bucket=bucket, Key="keep/new.txt", Body=b"x")
    database = _name("db_")
    glue.create_database(DatabaseInput={"Name": database})
    parquet_sd = {"InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                  "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                  "SerdeInfo": {"SerializationLibrary":
                                "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"}}
    glue.create_table(DatabaseName=database, TableInput={
        "Name": "logs_by_month", "TableType": "EXTERNAL_TABLE", "Parameters": {"classification": "parquet"},
        "PartitionKeys": [{"Name": "year", "Type": "bigint"}, {"Name": "month", "Type": "bigint"}],
        "StorageDescriptor": {"Columns": [{"Name": "deviceid", "Type": "string"}, {"Name": "uuid", "Type": "bigint"}],
                              "Location": f"s3://{bucket}/by_month/", **parquet_sd}})
    for (month,) in duckdb.sql(f"SELECT DISTINCT month FROM {raw}").fetchall():
        part = duckdb.sql(f"SELECT deviceid, CAST(uuid AS BIGINT) AS uuid FROM {raw} WHERE month = '{month}'").arrow()
        location = f"s3://{bucket}/by_month/year=2017/month={month}/"
        s3.put_object(Bucket=bucket, Key=f"by_month/year=2017/month={month}/part.parquet",
                      Body=_parquet_bytes(pa.table(part)))
        glue.create_partition(DatabaseName=database, TableName="logs_by_month", PartitionInput={
            "Values": ["2017", month], "StorageDescriptor": {**parquet_sd, "Location": location,
                                                            "Columns": [{"Name": "deviceid", "Type": "string"},
                                                                        {"Name": "uuid", "Type": "bigint"}]}})
    glue.create_table(DatabaseName=database, TableInput={
        "Name": "target", "TableType": "EXTERNAL_TABLE", "Parameters": {"classification": "csv"},
        "StorageDescriptor": {
            "Columns": [{"Name": "uuid", "Type": "bigint"}, {"Name": "deviceid", "Type": "string"}],
            "Location": f"s3://{bucket}/target/", "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                          "Parameters": {"field.delim": ","}}}})
    name = make_job(glue, s3, bucket, TRANSFORMS, DefaultArguments={"--bucket": bucket, "--database": database})

    run = run_job(glue, name)

    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    printed = "\n".join(log_messages(sandbox_env, "/aws-glue/jobs/output", run["Id"]))
    # from_options CSV: every field a string, as Glue reads CSV without a catalog.
    assert "root\n" + "\n".join(f"|-- {c}: string" for c in CSVLOG_TYPES) in printed
    assert ("root\n|-- device: string\n|-- uuid: long\n|-- app: struct\n|    |-- id: int\n"
            "|    |-- country: string\n|-- hour: int") in printed
    first_two = duckdb.sql(f"SELECT deviceid, CAST(uuid AS BIGINT), CAST(appid AS INT), country, "
                           f"CAST(hour AS INT) FROM {raw} LIMIT 2").fetchall()
    for device, uuid_, app, country, hour in first_two:
        assert json.dumps({"device": device, "uuid": uuid_, "app": {"id": app, "country": country}, "hour": hour},
                          separators=(",", ":")) in printed

    iphones = duckdb.sql(f"SELECT CAST(uuid AS BIGINT), CAST(appid AS INT), CAST(hour AS INT), "
                         f"CAST(hour AS INT) >= 14 FROM {raw} WHERE deviceid = 'iphone' ORDER BY 1").fetchall()
    assert f"iphones {len(iphones)}" in printed
    written = []
    for obj in s3.list_objects_v2(Bucket=bucket, Prefix="out/iphones/")["Contents"]:
        body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode()
        written += [json.loads(line) for line in body.splitlines() if line.strip()]
    assert sorted(written, key=lambda r: r["uuid"]) == [
        {"kind": "iphone", "uuid": u, "app": {"id": a}, "hour": h, "late": late} for u, a, h, late in iphones]

    named = duckdb.sql(f"SELECT CAST(uuid AS VARCHAR), c.name FROM {raw} JOIN (VALUES "
                       + ", ".join(f"('{k}', '{v}')" for k, v in COUNTRIES.items())
                       + ") c(code, name) ON country = c.code ORDER BY 1").fetchall()
    got = []
    for obj in s3.list_objects_v2(Bucket=bucket, Prefix="out/named/")["Contents"]:
        folder = obj["Key"].split("/")[2]
        table = pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()))
        got += [(r["uuid"], folder.split("=", 1)[1]) for r in table.to_pylist()]
    assert sorted(got) == named

    # DropNullFields drops b and c.d, null in every record; ResolveChoice cast a to string.
    assert "root\n|-- a: string\n|-- c: struct\n|    |-- e: string\n" in printed + "\n"

    december = duckdb.sql(f"SELECT CAST(uuid AS BIGINT), deviceid FROM {raw} WHERE month = '12' ORDER BY 1").fetchall()
    assert f"december {len(december)}" in printed
    target = []
    for obj in s3.list_objects_v2(Bucket=bucket, Prefix="target/")["Contents"]:
        body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode()
        target += [(int(line.split(",")[0]), line.split(",")[1]) for line in body.splitlines() if line]
    assert sorted(target) == december

    assert s3.list_objects_v2(Bucket=bucket, Prefix="purge/")["KeyCount"] == 0
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="keep/")["Contents"]] == ["keep/new.txt"]
    assert ("not emulated: awsglue.transforms.Relationalize is not emulated by the local AWS sandbox"
            in printed)
