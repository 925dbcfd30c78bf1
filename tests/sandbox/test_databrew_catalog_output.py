"""DataBrew recipe jobs writing DataCatalogOutputs: into an existing Glue table's data, read back
through the sandbox's Athena; and the outputs the sandbox does not write failing the run.

Expected rows come from DuckDB on the raw CSV text.
"""

from __future__ import annotations

import uuid

import duckdb
import pytest

from tests.sandbox.test_athena import Env
from tests.sandbox.test_databrew import list_keys, wait_run
from tests.sandbox.test_databrew_recipe_steps import RAW, ROLE, duckdb_on_raw, step

STEPS = [step("DELETE_DUPLICATE_ROWS"), step("REMOVE_MISSING", sourceColumn="score"),
         step("DATE_FORMAT", sourceColumn="signup", dateTimeFormat="yyyy-mm-dd", targetColumn="signup_iso")]
COLUMNS = "id int, name string, score int, city string, signup string, full_name string, signup_iso string"
PARQUET = ("ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' "
           "STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat' "
           "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'")


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    return duckdb_on_raw(tmp_path_factory.mktemp("raw"))


@pytest.fixture
def env(sandbox_env) -> Env:
    return Env(sandbox_env)


def catalog_job(env: Env, outputs: dict, steps: list[dict] = STEPS) -> str:
    """The raw CSV as a dataset and a recipe job writing ``outputs``; returns the job name."""
    brew = env.sb.client("databrew")
    suffix = uuid.uuid4().hex[:8]
    env.s3.put_object(Bucket=env.data, Key="in/people.csv", Body=RAW.encode())
    brew.create_dataset(Name=f"ds-{suffix}", Format="CSV",
                        Input={"S3InputDefinition": {"Bucket": env.data, "Key": "in/people.csv"}})
    brew.create_recipe(Name=f"recipe-{suffix}", Steps=steps)
    brew.publish_recipe(Name=f"recipe-{suffix}")
    brew.create_recipe_job(Name=f"job-{suffix}", DatasetName=f"ds-{suffix}", RoleArn=ROLE,
                           RecipeReference={"Name": f"recipe-{suffix}", "RecipeVersion": "1.0"}, **outputs)
    return f"job-{suffix}"


def run(env: Env, job: str) -> dict:
    brew = env.sb.client("databrew")
    return wait_run(brew, job, brew.start_job_run(Name=job)["RunId"])


def expected_rows(raw) -> list[tuple]:
    return [tuple(str(v) for v in row) for row in raw.execute(
        "SELECT DISTINCT id::INT, score::INT, strftime(strptime(signup, '%d/%m/%Y'), '%Y-%m-%d') FROM raw "
        "WHERE score IS NOT NULL AND signup IS NOT NULL ORDER BY 1").fetchall()]


def test_writes_into_a_parquet_catalog_table_that_athena_reads(env, raw):
    env.run(f"CREATE EXTERNAL TABLE {env.db}.people ({COLUMNS}) {PARQUET} LOCATION 's3://{env.data}/people/'")
    env.s3.put_object(Bucket=env.data, Key="people/stale.parquet", Body=b"old")
    job = catalog_job(env, {"DataCatalogOutputs": [{"DatabaseName": env.db, "TableName": "people",
                                                    "Overwrite": True}]})
    described = run(env, job)
    assert described["State"] == "SUCCEEDED", described.get("ErrorMessage")
    assert described["DataCatalogOutputs"][0]["TableName"] == "people"
    keys = list_keys(env.s3, env.data, "people/")
    assert "people/stale.parquet" not in keys and all(k.endswith(".parquet") for k in keys)
    rows = env.query(f"SELECT id, score, signup_iso FROM {env.db}.people WHERE signup_iso IS NOT NULL ORDER BY id")
    assert [tuple(r) for r in rows[1:]] == expected_rows(raw)


def test_writes_a_headed_csv_table_at_the_s3_options_location(env, raw):
    env.run(f"CREATE EXTERNAL TABLE {env.db}.people_csv ({COLUMNS}) ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' "
            f"LOCATION 's3://{env.data}/csv/' TBLPROPERTIES ('skip.header.line.count'='1')")
    job = catalog_job(env, {"DataCatalogOutputs": [{
        "DatabaseName": env.db, "TableName": "people_csv",
        "S3Options": {"Location": {"Bucket": env.data, "Key": "csv/"}}}]})
    described = run(env, job)
    assert described["State"] == "SUCCEEDED", described.get("ErrorMessage")
    (key,) = list_keys(env.s3, env.data, "csv/")
    first = env.s3.get_object(Bucket=env.data, Key=key)["Body"].read().decode().splitlines()[0]
    assert first == "|".join(c.split()[0] for c in COLUMNS.split(", "))
    rows = env.query(f"SELECT id, score, signup_iso FROM {env.db}.people_csv WHERE signup_iso <> '' ORDER BY id")
    assert [tuple(r) for r in rows[1:]] == expected_rows(raw)


@pytest.mark.parametrize(("setup", "output", "message"), [
    (None, {"TableName": "nope"}, "the catalog table {db}.nope does not exist"),
    ("CREATE EXTERNAL TABLE {db}.narrow (id int) " + PARQUET + " LOCATION 's3://{bucket}/narrow/'",
     {"TableName": "narrow"}, "are not the columns of {db}.narrow"),
    ("CREATE EXTERNAL TABLE {db}.parts (" + COLUMNS + ") PARTITIONED BY (year string) " + PARQUET +
     " LOCATION 's3://{bucket}/parts/'", {"TableName": "parts"},
     "{db}.parts is partitioned; writing partitioned catalog tables is not emulated by the sandbox"),
    ("CREATE EXTERNAL TABLE {db}.spaced (" + COLUMNS + ") ROW FORMAT DELIMITED FIELDS TERMINATED BY ' ' "
     "LOCATION 's3://{bucket}/spaced/'", {"TableName": "spaced"},
     "(LazySimpleSerDe, no quoting) cannot hold the value 'Ann Lee' of column 'full_name'"),
    (None, {"TableName": "t", "DatabaseOptions": {"TableName": "x"}},
     "DataCatalogOutput 1: DatabaseOptions (a JDBC table) are not emulated by the sandbox"),
])
def test_catalog_outputs_the_sandbox_does_not_write_fail_the_run(env, setup, output, message):
    if setup:
        env.run(setup.format(db=env.db, bucket=env.data))
    job = catalog_job(env, {"DataCatalogOutputs": [{"DatabaseName": env.db, **output}],
                            "Outputs": [{"Location": {"Bucket": env.data, "Key": "plain/"}, "Format": "CSV"}]})
    described = run(env, job)
    assert described["State"] == "FAILED"
    assert message.format(db=env.db) in described["ErrorMessage"]
    assert list_keys(env.s3, env.data, "plain/") == []  # checked before anything is written


def test_database_outputs_fail_the_run(env):
    job = catalog_job(env, {"DatabaseOutputs": [{"GlueConnectionName": "pg",
                                                 "DatabaseOptions": {"TableName": "people"}}]})
    described = run(env, job)
    assert described["State"] == "FAILED"
    assert described["ErrorMessage"].startswith("DatabaseOutputs (JDBC databases) are not emulated by the sandbox")
