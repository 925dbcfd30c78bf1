"""Glue Spark (glueetl) job runs on the sandbox's local PySpark, with the awsglue API, through boto3.

Expected values come from DuckDB / pyarrow on the raw files, never from the code under test.
"""

from __future__ import annotations

import io
import time
import uuid
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytest.importorskip("pyspark", reason="glueetl runs need the sandbox's spark extra (pyspark)")

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
