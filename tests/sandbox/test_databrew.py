"""DataBrew job runs on the sandbox, through plain boto3: the workshop's sales and marketing recipes
applied for real to the workshop CSVs, plus failures, stop and faults."""

from __future__ import annotations

import csv
import gzip
import io
import json
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError

WORKSHOP = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "workshop"
ROLE = "arn:aws:iam::123456789012:role/databrew"

#: Raw header -> column name of S1 (sales_data_output).
SALES_RENAMES = [
    ("Date", "date"), ("Salesperson", "salesperson"), ("Lead Name", "lead_name"), ("Segment", "segment"),
    ("Region", "region"), ("Target Close", "target_close"),
    ("Forecasted Monthly Revenue", "forecasted_monthly_revenue"), ("Opportunity Stage", "opportunity_stage"),
    ("Weighted Revenue", "weighted_revenue"), ("Is Closed", "closed_opportunity"),
    ("ActiveItem", "active_opportunity"), ("IsLatest", "latest_status_entry"),
]
#: Raw header -> column name of M1 (marketing_data_output).
MARKETING_RENAMES = [
    ("Date", "date"), ("New visitors SEO", "new_visitors_seo"), ("New visitors CPC", "new_visitors_cpc"),
    ("New visitors Social Media", "new_visitors_social_media"), ("Return visitors", "return_visitors"),
    ("Twitter mentions", "twitter_mentions"), ("Twitter follower adds", "twitter_follower_adds"),
    ("Twitter followers cumulative", "twitter_followers_cumulative"),
    ("Mailing list adds ", "mailing_list_adds_"), ("Mailing list cumulative", "mailing_list_cumulative"),
    ("Website Pageviews", "website_pageviews"), ("Website Visits", "website_visits"),
    ("Website Unique Visits", "website_unique_visits"), ("Mobile uniques", "mobile_uniques"),
    ("Tablet uniques", "tablet_uniques"), ("Desktop uniques", "desktop_uniques"),
    ("Free sign up", "free_sign_up"), ("Paid conversion", "paid_conversion"), ("Events", "events"),
]
#: S1's data columns and their Parquet types (int -> int32).
S1_TYPES = [
    ("date", pa.string()), ("salesperson", pa.string()), ("lead_name", pa.string()), ("segment", pa.string()),
    ("region", pa.string()), ("target_close", pa.string()), ("forecasted_monthly_revenue", pa.int32()),
    ("opportunity_stage", pa.string()), ("weighted_revenue", pa.int32()), ("closed_opportunity", pa.bool_()),
    ("active_opportunity", pa.bool_()), ("latest_status_entry", pa.bool_()),
]
M1_TYPES = [("date", pa.string())] + [(new, pa.int32()) for _, new in MARKETING_RENAMES[1:-1]] + [
    ("events", pa.string())]


def step(operation: str, **parameters: str) -> dict:
    return {"Action": {"Operation": operation, "Parameters": parameters}}


def date_parts_steps() -> list[dict]:
    return [step(op, sourceColumn="date", targetColumn=op.lower()) for op in ("YEAR", "MONTH", "DAY")]


SALES_STEPS = ([step("RENAME", sourceColumn=a, targetColumn=b) for a, b in SALES_RENAMES]
               + [step("CHANGE_DATA_TYPE", sourceColumn="active_opportunity", columnDataType="boolean"),
                  step("CHANGE_DATA_TYPE", sourceColumn="latest_status_entry", columnDataType="boolean")]
               + date_parts_steps())
MARKETING_STEPS = ([step("RENAME", sourceColumn=a, targetColumn=b) for a, b in MARKETING_RENAMES]
                   + date_parts_steps())


def _name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def add_fault(sandbox, rule: dict) -> None:
    req = urllib.request.Request(f"{sandbox.endpoint_url}/_sandbox/faults", data=json.dumps(rule).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()


def wait_run(brew, name: str, run_id: str, timeout: float = 60.0) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        run = brew.describe_job_run(Name=name, RunId=run_id)
        if run["State"] not in ("STARTING", "RUNNING", "STOPPING"):
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} of {name} did not finish in {timeout}s")


def list_keys(s3, bucket: str, prefix: str = "") -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def setup_job(brew, s3, *, csv_name: str, steps: list[dict], output: dict | None = None,
              publish: bool = True, recipe_version: str = "LATEST_PUBLISHED") -> tuple[str, str, str]:
    """A bucket holding the raw CSV, a dataset, a (published) recipe and a recipe job; returns
    (job name, raw bucket, output bucket)."""
    raw, out = _name("raw-"), _name("out-")
    s3.create_bucket(Bucket=raw)
    s3.create_bucket(Bucket=out)
    s3.put_object(Bucket=raw, Key=f"input/{csv_name}", Body=(WORKSHOP / csv_name).read_bytes())
    dataset, recipe, job = _name("ds-"), _name("recipe-"), _name("job-")
    brew.create_dataset(Name=dataset, Format="CSV",
                        FormatOptions={"Csv": {"Delimiter": ",", "HeaderRow": True}},
                        Input={"S3InputDefinition": {"Bucket": raw, "Key": f"input/{csv_name}"}})
    brew.create_recipe(Name=recipe, Steps=steps)
    if publish:
        brew.publish_recipe(Name=recipe)
    output = output or {"Location": {"Bucket": out, "Key": "data/"}, "Format": "PARQUET",
                        "CompressionFormat": "SNAPPY", "PartitionColumns": ["year", "month", "day"],
                        "Overwrite": True}
    output["Location"]["Bucket"] = out
    brew.create_recipe_job(Name=job, DatasetName=dataset, RoleArn=ROLE, Outputs=[output],
                           RecipeReference={"Name": recipe, "RecipeVersion": recipe_version})
    return job, raw, out


def read_parquet_objects(s3, bucket: str, keys: list[str]) -> list[pa.Table]:
    """Every object as a Parquet table (fetched a few at a time)."""

    def fetch(key: str) -> pa.Table:
        return pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(fetch, keys))


def distinct_dates(csv_name: str) -> set[tuple[int, int, int]]:
    with open(WORKSHOP / csv_name, newline="") as fh:
        out = set()
        for row in csv.DictReader(fh):
            m, d, y = (int(x) for x in row["Date"].split("/"))
            out.add((y, m, d))
        return out


@pytest.fixture
def brew(sandbox_env):
    return sandbox_env.client("databrew")


@pytest.fixture
def s3(sandbox_env):
    return sandbox_env.client("s3")


@pytest.fixture(scope="module")
def sales_run(sandbox):
    """One real run of the sales recipe over the 20,994-row workshop CSV."""
    brew, s3 = sandbox.client("databrew"), sandbox.client("s3")
    job, _, out = setup_job(brew, s3, csv_name="sales_pipeline_data.csv", steps=SALES_STEPS)
    run_id = brew.start_job_run(Name=job)["RunId"]
    run = wait_run(brew, job, run_id)
    keys = list_keys(s3, out, "data/")
    return {"job": job, "run": run, "run_id": run_id, "out": out, "keys": keys,
            "tables": read_parquet_objects(s3, out, keys)}


def test_sales_recipe_writes_one_partition_folder_per_date(sales_run):
    run = sales_run["run"]
    assert run["State"] == "SUCCEEDED", run.get("ErrorMessage")
    folders = {k.rsplit("/", 1)[0] + "/" for k in sales_run["keys"]}
    expected = {f"data/year={y}/month={m}/day={d}/" for y, m, d in distinct_dates("sales_pipeline_data.csv")}
    assert folders == expected
    assert "data/year=2016/month=12/day=31/" in folders
    assert not any("month=0" in f or "day=0" in f for f in folders)  # integer months: month=1, not month=01
    assert all(k.endswith(".parquet") for k in sales_run["keys"])


def test_sales_output_rows_and_columns_match_s1(sales_run):
    tables = sales_run["tables"]
    assert sum(t.num_rows for t in tables) == 20994
    for table in tables:
        assert [(f.name, f.type) for f in table.schema] == S1_TYPES
    rows = pa.concat_tables(tables)
    assert set(rows.column("active_opportunity").to_pylist()) == {True, False}
    assert set(rows.column("latest_status_entry").to_pylist()) == {True, False}
    assert rows.column("closed_opportunity").null_count == 0


def test_sales_partition_values_agree_with_the_date_column(sales_run):
    for key, table in zip(sales_run["keys"][:50], sales_run["tables"][:50], strict=True):
        parts = dict(seg.split("=") for seg in key.split("/")[1:4])
        for date in set(table.column("date").to_pylist()):
            m, d, y = date.split("/")
            assert (y, m, d) == (parts["year"], parts["month"], parts["day"])


def test_describe_and_list_job_runs(sandbox, sales_run):
    brew = sandbox.client("databrew")
    run = sales_run["run"]
    assert run["JobName"] == sales_run["job"] and run["RunId"] == sales_run["run_id"]
    assert run["Attempt"] == 0
    assert run["CompletedOn"] >= run["StartedOn"]
    assert isinstance(run["ExecutionTime"], int)
    assert run["RecipeReference"]["RecipeVersion"] == "LATEST_PUBLISHED"
    assert run["Outputs"][0]["PartitionColumns"] == ["year", "month", "day"]
    runs = brew.list_job_runs(Name=sales_run["job"])["JobRuns"]
    assert [r["RunId"] for r in runs] == [sales_run["run_id"]]


def test_marketing_recipe_output_matches_m1(brew, s3):
    job, _, out = setup_job(brew, s3, csv_name="marketing_data.csv", steps=MARKETING_STEPS)
    run = wait_run(brew, job, brew.start_job_run(Name=job)["RunId"])
    assert run["State"] == "SUCCEEDED", run.get("ErrorMessage")
    keys = list_keys(s3, out, "data/")
    tables = read_parquet_objects(s3, out, keys)
    assert sum(t.num_rows for t in tables) == 1461
    for table in tables:
        assert [(f.name, f.type) for f in table.schema] == M1_TYPES
    folders = {k.rsplit("/", 1)[0] for k in keys}
    assert len(folders) == len(distinct_dates("marketing_data.csv")) == 1461
    assert "data/year=2013/month=1/day=1" in folders
    assert "data/year=2016/month=12/day=31" in folders


def test_overwrite_replaces_earlier_output(brew, s3):
    job, _, out = setup_job(brew, s3, csv_name="marketing_data.csv", steps=MARKETING_STEPS)
    s3.put_object(Bucket=out, Key="data/stale.csv", Body=b"old")
    assert wait_run(brew, job, brew.start_job_run(Name=job)["RunId"])["State"] == "SUCCEEDED"
    keys = list_keys(s3, out, "data/")
    assert "data/stale.csv" not in keys
    assert len(keys) == 1461


def test_csv_gzip_output_without_partitions(brew, s3):
    output = {"Location": {"Bucket": "", "Key": "csv"}, "Format": "CSV", "CompressionFormat": "GZIP"}
    steps = [step("RENAME", sourceColumn="Date", targetColumn="day_of_sale"),
             step("DELETE", sourceColumns=json.dumps(["Events", "Mailing list adds "])),
             step("LOWER_CASE", sourceColumn="day_of_sale")]
    job, _, out = setup_job(brew, s3, csv_name="marketing_data.csv", steps=steps, output=output)
    assert wait_run(brew, job, brew.start_job_run(Name=job)["RunId"])["State"] == "SUCCEEDED"
    (key,) = list_keys(s3, out, "csv/")
    assert key.endswith(".csv.gz")
    text = gzip.decompress(s3.get_object(Bucket=out, Key=key)["Body"].read()).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "day_of_sale" and "Events" not in rows[0] and "Mailing list adds " not in rows[0]
    assert len(rows) == 1462


def test_unknown_operation_fails_the_run_naming_step_and_operation(brew, s3):
    steps = [step("RENAME", sourceColumn="Date", targetColumn="date"),
             step("MAKE_IT_PRETTY", sourceColumn="date")]
    job, _, out = setup_job(brew, s3, csv_name="marketing_data.csv", steps=steps)
    run = wait_run(brew, job, brew.start_job_run(Name=job)["RunId"])
    assert run["State"] == "FAILED"
    assert "step 2" in run["ErrorMessage"] and "MAKE_IT_PRETTY" in run["ErrorMessage"]
    assert list_keys(s3, out) == []


def test_misspelt_step_parameter_fails_the_run_naming_step_and_parameter(brew, s3):
    steps = [step("RENAME", sourceColumn="Date", targetColumn="date"),
             step("RENAME", sourceColum="Events", targetColumn="events")]
    job, _, out = setup_job(brew, s3, csv_name="marketing_data.csv", steps=steps)
    run = wait_run(brew, job, brew.start_job_run(Name=job)["RunId"])
    assert run["State"] == "FAILED"
    assert "Recipe step 2 (RENAME): unknown parameter 'sourceColum'" in run["ErrorMessage"]
    assert list_keys(s3, out) == []


def test_missing_column_fails_the_run(brew, s3):
    steps = [step("RENAME", sourceColumn="No Such Column", targetColumn="x")]
    job, _, _ = setup_job(brew, s3, csv_name="marketing_data.csv", steps=steps)
    run = wait_run(brew, job, brew.start_job_run(Name=job)["RunId"])
    assert run["State"] == "FAILED"
    assert "Recipe step 1 (RENAME)" in run["ErrorMessage"] and "No Such Column" in run["ErrorMessage"]


def test_unpublished_recipe_fails_the_run(brew, s3):
    job, _, _ = setup_job(brew, s3, csv_name="marketing_data.csv", steps=MARKETING_STEPS, publish=False)
    run = wait_run(brew, job, brew.start_job_run(Name=job)["RunId"])
    assert run["State"] == "FAILED"
    assert "LATEST_PUBLISHED" in run["ErrorMessage"]


def test_explicit_recipe_version(brew, s3):
    job, _, out = setup_job(brew, s3, csv_name="marketing_data.csv", steps=MARKETING_STEPS,
                            recipe_version="1.0")
    assert wait_run(brew, job, brew.start_job_run(Name=job)["RunId"])["State"] == "SUCCEEDED"
    assert len(list_keys(s3, out, "data/")) == 1461


def test_stop_job_run(sandbox_env, brew, s3):
    job, _, out = setup_job(brew, s3, csv_name="marketing_data.csv", steps=MARKETING_STEPS)
    add_fault(sandbox_env, {"kind": "delay", "target": "databrew_job", "name": job, "seconds": 30})
    run_id = brew.start_job_run(Name=job)["RunId"]
    with pytest.raises(ClientError) as err:
        brew.start_job_run(Name=job)
    assert err.value.response["Error"]["Code"] == "ConflictException"

    assert brew.stop_job_run(Name=job, RunId=run_id)["RunId"] == run_id

    run = wait_run(brew, job, run_id, timeout=10)
    assert run["State"] == "STOPPED"
    assert list_keys(s3, out) == []


def test_fault_fail(sandbox_env, brew, s3):
    job, _, out = setup_job(brew, s3, csv_name="marketing_data.csv", steps=MARKETING_STEPS)
    add_fault(sandbox_env, {"kind": "fail", "target": "databrew_job", "name": job,
                            "message": "Internal error: executor lost"})
    run = wait_run(brew, job, brew.start_job_run(Name=job)["RunId"])
    assert (run["State"], run["ErrorMessage"]) == ("FAILED", "Internal error: executor lost")
    assert list_keys(s3, out) == []


def test_unknown_job_and_run(brew):
    with pytest.raises(ClientError) as err:
        brew.start_job_run(Name="no-such-job-sandbox")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_airflow_glue_databrew_hook(sandbox_env, s3):
    from airflow.providers.amazon.aws.hooks.glue_databrew import GlueDataBrewHook

    brew = sandbox_env.client("databrew")
    job, _, out = setup_job(brew, s3, csv_name="marketing_data.csv", steps=MARKETING_STEPS)
    hook = GlueDataBrewHook(aws_conn_id="aws_default")
    run_id = hook.conn.start_job_run(Name=job)["RunId"]
    assert hook.job_completion(job, run_id, delay=1, max_attempts=30) == "SUCCEEDED"
    assert len(list_keys(s3, out, "data/")) == 1461


def test_parquet_dataset_under_a_prefix(brew, s3):
    raw, out = _name("raw-"), _name("out-")
    s3.create_bucket(Bucket=raw)
    s3.create_bucket(Bucket=out)
    for i, names in enumerate((["ALICE", "Bob"], ["CAROL"])):
        buf = io.BytesIO()
        pq.write_table(pa.table({"Name": names, "Score": [i * 10 + n for n in range(len(names))]}), buf)
        s3.put_object(Bucket=raw, Key=f"people/part-{i}.parquet", Body=buf.getvalue())
    dataset, recipe, job = _name("ds-"), _name("recipe-"), _name("job-")
    brew.create_dataset(Name=dataset, Format="PARQUET",
                        Input={"S3InputDefinition": {"Bucket": raw, "Key": "people/"}})
    brew.create_recipe(Name=recipe, Steps=[step("LOWER_CASE", sourceColumn="Name"),
                                           step("RENAME", sourceColumn="Name", targetColumn="name")])
    brew.publish_recipe(Name=recipe)
    brew.create_recipe_job(Name=job, DatasetName=dataset, RoleArn=ROLE,
                           RecipeReference={"Name": recipe, "RecipeVersion": "1.0"},
                           Outputs=[{"Location": {"Bucket": out, "Key": "people"}, "Format": "JSON"}])
    assert wait_run(brew, job, brew.start_job_run(Name=job)["RunId"])["State"] == "SUCCEEDED"
    (key,) = list_keys(s3, out)
    lines = s3.get_object(Bucket=out, Key=key)["Body"].read().decode().splitlines()
    assert [json.loads(ln) for ln in lines] == [{"name": "alice", "Score": 0}, {"name": "bob", "Score": 1},
                                                {"name": "carol", "Score": 10}]


def _log_messages(sandbox_env, job: str, run_id: str) -> list[str]:
    logs = sandbox_env.client("logs")
    events = logs.get_log_events(logGroupName=f"/aws-glue-databrew/jobs/{job}", logStreamName=run_id,
                                 startFromHead=True)["events"]
    return [e["message"] for e in events]


def test_run_log_in_cloudwatch_logs(sandbox_env, brew, s3):
    output = {"Location": {"Bucket": "", "Key": "csv/"}, "Format": "CSV"}
    job, _, _ = setup_job(brew, s3, csv_name="marketing_data.csv", steps=MARKETING_STEPS[:1], output=output)
    run_id = brew.start_job_run(Name=job)["RunId"]
    run = wait_run(brew, job, run_id)
    assert run["State"] == "SUCCEEDED" and run["LogGroupName"] == f"/aws-glue-databrew/jobs/{job}"
    with open(WORKSHOP / "marketing_data.csv", newline="") as fh:
        rows = sum(1 for _ in csv.DictReader(fh))
    messages = _log_messages(sandbox_env, job, run_id)
    assert messages[0] == f"Job run {run_id} of recipe job {job} started"
    assert f"Read {rows} rows of dataset" in messages[1]
    assert messages[2] == f"Wrote {rows} rows in 1 objects"
    assert messages[-1] == "Job run succeeded"

    bad, _, _ = setup_job(brew, s3, csv_name="marketing_data.csv", steps=[step("MAKE_IT_PRETTY")], output=output)
    bad_run = brew.start_job_run(Name=bad)["RunId"]
    assert wait_run(brew, bad, bad_run)["State"] == "FAILED"
    assert _log_messages(sandbox_env, bad, bad_run)[-1].startswith(
        "Job run failed: Recipe step 1: unsupported operation 'MAKE_IT_PRETTY'")


def test_run_log_disabled(sandbox_env, brew, s3):
    job, _, out = setup_job(brew, s3, csv_name="marketing_data.csv", steps=MARKETING_STEPS[:1],
                            output={"Location": {"Bucket": "", "Key": "csv/"}, "Format": "CSV"})
    brew.update_recipe_job(Name=job, RoleArn=ROLE, LogSubscription="DISABLE",
                           Outputs=[{"Location": {"Bucket": out, "Key": "csv/"}, "Format": "CSV"}])
    assert wait_run(brew, job, brew.start_job_run(Name=job)["RunId"])["State"] == "SUCCEEDED"
    groups = sandbox_env.client("logs").describe_log_groups(logGroupNamePrefix=f"/aws-glue-databrew/jobs/{job}")
    assert groups["logGroups"] == []
