"""DataBrew profile jobs on the sandbox: the statistics JSON a run writes, the Configuration and
JobSample it honours, the parts it does not emulate, and the stock and our operators running one.

Expected statistics come from DuckDB on the raw CSV text and plain Python (``statistics``,
``collections.Counter``), never from the sandbox's profile code.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
import uuid
from collections import Counter
from types import SimpleNamespace
from unittest import mock

import duckdb
import pytest

from tests.sandbox.test_databrew import WORKSHOP, list_keys, wait_run
from tests.sandbox.test_databrew_recipe_steps import RAW, ROLE, duckdb_on_raw


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    return duckdb_on_raw(tmp_path_factory.mktemp("raw"))


def raw_rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(RAW)))


def profile_job(sandbox_env, body: bytes = RAW.encode(), **job_args) -> tuple[str, str, str]:
    """A bucket holding ``body`` as a CSV, its dataset and a profile job; returns (job, bucket, dataset)."""
    brew, s3 = sandbox_env.client("databrew"), sandbox_env.client("s3")
    suffix = uuid.uuid4().hex[:8]
    bucket, dataset, job = f"profile-{suffix}", f"people-{suffix}", f"profile-job-{suffix}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="in/people.csv", Body=body)
    brew.create_dataset(Name=dataset, Format="CSV", FormatOptions={"Csv": {"Delimiter": ",", "HeaderRow": True}},
                        Input={"S3InputDefinition": {"Bucket": bucket, "Key": "in/people.csv"}})
    brew.create_profile_job(Name=job, DatasetName=dataset, RoleArn=ROLE,
                            OutputLocation={"Bucket": bucket, "Key": "profiles/"}, **job_args)
    return job, bucket, dataset


def run_profile(sandbox_env, **job_args) -> tuple[dict, dict]:
    """Run a profile job of the raw CSV; returns (the run, the statistics JSON it wrote)."""
    brew, s3 = sandbox_env.client("databrew"), sandbox_env.client("s3")
    job, bucket, dataset = profile_job(sandbox_env, **job_args)
    run_id = brew.start_job_run(Name=job)["RunId"]
    run = wait_run(brew, job, run_id)
    assert run["State"] == "SUCCEEDED", run.get("ErrorMessage")
    (key,) = list_keys(s3, bucket, "profiles/")
    assert key == f"profiles/{dataset}_{run_id}.json"
    return run, json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def by_name(result: dict) -> dict[str, dict]:
    return {c["name"]: c for c in result["columns"]}


def most_common(values: list) -> list[dict]:
    """Most frequent first, ties by value (the order the sandbox documents)."""
    counts = sorted(Counter(values).items(), key=lambda p: (-p[1], p[0]))
    return [{"value": v, "count": n} for v, n in counts[:10]]


# ---- the default profile ------------------------------------------------------------------------

def test_profile_job_writes_the_dataset_statistics(sandbox_env, raw):
    run, result = run_profile(sandbox_env, JobSample={"Mode": "FULL_DATASET"})
    rows = raw_rows()
    assert result["rowsCount"] == len(rows) == raw.execute("SELECT count(*) FROM raw").fetchone()[0]
    assert result["columnsCount"] == len(rows[0])
    (distinct_rows,) = raw.execute("SELECT count(*) FROM (SELECT DISTINCT * FROM raw)").fetchone()
    assert result["duplicateRowsCount"] == len(rows) - distinct_rows == 1
    assert result["sample"] == {"mode": "FULL_DATASET"}
    assert run["JobSample"] == {"Mode": "FULL_DATASET"}

    columns = by_name(result)
    # signup holds day-first dates the CSV reader keeps as text: a supported (string) column.
    assert list(columns) == list(rows[0])
    for name in rows[0]:
        values = [r[name] for r in rows if r[name] != ""]
        got = columns[name]
        assert got["missingValuesCount"] == len(rows) - len(values), name
        assert got["validValuesCount"] == len(values), name
        assert got["distinctValuesCount"] == len(set(values)), name
        assert got["uniqueValuesCount"] == sum(1 for n in Counter(values).values() if n == 1), name
    assert columns["city"]["type"] == "string"
    assert columns["city"]["mostCommonValues"] == most_common([r["city"] for r in rows if r["city"]])
    assert "mean" not in columns["city"]


@pytest.mark.parametrize("name", ["id", "score"])
def test_number_column_statistics_match_duckdb(sandbox_env, raw, name):
    _, result = run_profile(sandbox_env, JobSample={"Mode": "FULL_DATASET"})
    got = by_name(result)[name]
    values = [int(r[name]) for r in raw_rows() if r[name] != ""]
    row = raw.execute(
        f"SELECT min(v), max(v), avg(v), median(v), stddev_samp(v), var_samp(v), sum(v), "
        f"quantile_cont(v, [0.05, 0.25, 0.5, 0.75, 0.95]) FROM (SELECT CAST({name} AS DOUBLE) AS v FROM raw) "
        f"WHERE v IS NOT NULL").fetchone()
    low, high, mean, median, std, var, total, quantiles = row
    assert got["type"] == "int"
    assert (got["min"], got["max"], got["sum"]) == (low, high, total)
    assert got["mean"] == pytest.approx(mean)
    assert got["median"] == pytest.approx(median) == statistics.median(values)
    assert got["standardDeviation"] == pytest.approx(std) == pytest.approx(statistics.stdev(values))
    assert got["variance"] == pytest.approx(var)
    assert got["range"] == high - low
    assert got["quantiles"] == pytest.approx(dict(zip(["0.05", "0.25", "0.5", "0.75", "0.95"], quantiles,
                                                      strict=True)))
    assert got["interQuartileRange"] == pytest.approx(quantiles[3] - quantiles[1])
    counts = Counter(values)
    assert got["mode"] == min(v for v, n in counts.items() if n == max(counts.values()))
    assert got["zerosCount"] == values.count(0)
    assert got["mostCommonValues"] == most_common(values)
    bins = got["valueDistribution"]
    assert len(bins) == 10 and sum(b["count"] for b in bins) == len(values)
    assert bins[0]["lowerBound"] == low and bins[-1]["upperBound"] == high


def test_correlation_of_the_number_columns(sandbox_env, raw):
    _, result = run_profile(sandbox_env, JobSample={"Mode": "FULL_DATASET"})
    (expected,) = raw.execute("SELECT corr(CAST(id AS DOUBLE), CAST(score AS DOUBLE)) FROM raw").fetchone()
    assert set(result["correlations"]) == {"id", "score"}
    assert result["correlations"]["id"]["score"] == pytest.approx(expected)
    assert result["correlations"]["score"]["id"] == pytest.approx(expected)
    assert result["correlations"]["id"]["id"] == pytest.approx(1.0)


# ---- Configuration and JobSample ----------------------------------------------------------------

def test_configuration_selects_columns_statistics_and_bins(sandbox_env):
    configuration = {
        "ProfileColumns": [{"Name": "city"}, {"Regex": "sc.*"}],
        "DatasetStatisticsConfiguration": {"IncludedStatistics": ["DUPLICATE_ROWS_COUNT"]},
        "ColumnStatisticsConfigurations": [
            {"Statistics": {"IncludedStatistics": ["MISSING_VALUES_COUNT"]}},
            {"Selectors": [{"Name": "score"}],
             "Statistics": {"IncludedStatistics": ["MEAN", "VALUE_DISTRIBUTION"],
                            "Overrides": [{"Statistic": "VALUE_DISTRIBUTION", "Parameters": {"binNumber": "2"}}]}},
        ],
    }
    _, result = run_profile(sandbox_env, Configuration=configuration, JobSample={"Mode": "FULL_DATASET"})
    assert "correlations" not in result and result["duplicateRowsCount"] == 1
    columns = by_name(result)
    assert list(columns) == ["score", "city"]  # dataset order; the others are not selected
    rows = raw_rows()
    assert columns["city"] == {"name": "city", "type": "string",
                               "missingValuesCount": sum(1 for r in rows if r["city"] == "")}
    scores = [int(r["score"]) for r in rows if r["score"] != ""]
    low, high = min(scores), max(scores)
    middle = (low + high) / 2
    assert columns["score"] == {
        "name": "score", "type": "int", "mean": pytest.approx(statistics.mean(scores)),
        "valueDistribution": [
            {"lowerBound": low, "upperBound": middle, "count": sum(1 for s in scores if s < middle)},
            {"lowerBound": middle, "upperBound": high, "count": sum(1 for s in scores if s >= middle)}]}


def test_custom_rows_sample_profiles_the_first_rows(sandbox_env):
    run, result = run_profile(sandbox_env, JobSample={"Mode": "CUSTOM_ROWS", "Size": 3})
    first = raw_rows()[:3]
    assert result["rowsCount"] == 3 and result["sample"] == {"mode": "CUSTOM_ROWS", "size": 3}
    assert by_name(result)["name"]["missingValuesCount"] == sum(1 for r in first if r["name"] == "")
    assert by_name(result)["id"]["max"] == max(int(r["id"]) for r in first)


def test_default_sample_is_the_first_20000_rows(sandbox_env):
    body = (WORKSHOP / "sales_pipeline_data.csv").read_bytes()
    brew, s3 = sandbox_env.client("databrew"), sandbox_env.client("s3")
    job, bucket, _ = profile_job(sandbox_env, body=body, Configuration={"ProfileColumns": [{"Name": "Region"}]})
    assert "JobSample" not in brew.describe_job(Name=job)
    assert wait_run(brew, job, brew.start_job_run(Name=job)["RunId"])["State"] == "SUCCEEDED"
    (key,) = list_keys(s3, bucket, "profiles/")
    result = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    regions = [r["Region"] for r in csv.DictReader(io.StringIO(body.decode()))]
    assert len(regions) > 20000
    assert result["rowsCount"] == 20000 and result["sample"] == {"mode": "CUSTOM_ROWS", "size": 20000}
    assert by_name(result)["Region"]["mostCommonValues"] == most_common(regions[:20000])


def test_job_sample_is_kept_by_describe_and_update(sandbox_env):
    brew = sandbox_env.client("databrew")
    configuration = {"ProfileColumns": [{"Name": "city"}]}
    job, bucket, _ = profile_job(sandbox_env, JobSample={"Mode": "CUSTOM_ROWS", "Size": 5},
                                 Configuration=configuration)
    described = brew.describe_job(Name=job)
    assert described["JobSample"] == {"Mode": "CUSTOM_ROWS", "Size": 5}
    assert described["ProfileConfiguration"] == configuration
    brew.update_profile_job(Name=job, RoleArn=ROLE, OutputLocation={"Bucket": bucket, "Key": "profiles/"},
                            JobSample={"Mode": "FULL_DATASET"})
    assert brew.describe_job(Name=job)["JobSample"] == {"Mode": "FULL_DATASET"}


def test_job_sample_and_timeout_survive_a_snapshot_and_restart(sandbox_env, tmp_path, monkeypatch):
    """Saved state (``--data-dir``) keeps a job's JobSample and Timeout: after a restore DescribeJob shows
    them, a run times out after the saved Timeout and profiles the saved sample."""
    from airflow_sfn_etl_sandbox import databrew, faults, persist

    brew, s3 = sandbox_env.client("databrew"), sandbox_env.client("s3")
    job, bucket, _ = profile_job(sandbox_env, JobSample={"Mode": "CUSTOM_ROWS", "Size": 3}, Timeout=1)
    assert persist.snapshot(tmp_path)["skipped"] == []
    sandbox_env.reset()
    with pytest.raises(brew.exceptions.ResourceNotFoundException):
        brew.describe_job(Name=job)
    assert "sandbox/databrew" in persist.restore(tmp_path)

    described = brew.describe_job(Name=job)
    assert described["JobSample"] == {"Mode": "CUSTOM_ROWS", "Size": 3}
    assert described["Timeout"] == 1
    monkeypatch.setattr(databrew, "TIMEOUT_UNIT_SECONDS", 0.5)
    faults.add_rule({"kind": "delay", "target": "databrew_job", "name": job, "seconds": 60})
    run = wait_run(brew, job, brew.start_job_run(Name=job)["RunId"], timeout=30)
    assert run["State"] == "TIMEOUT" and run["ErrorMessage"] == "Job run timed out after 1 minutes"
    faults.clear()
    monkeypatch.undo()
    run = wait_run(brew, job, brew.start_job_run(Name=job)["RunId"])
    assert run["State"] == "SUCCEEDED", run.get("ErrorMessage")
    assert run["JobSample"] == {"Mode": "CUSTOM_ROWS", "Size": 3}
    (key,) = list_keys(s3, bucket, "profiles/")
    result = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert result["rowsCount"] == 3 and result["sample"] == {"mode": "CUSTOM_ROWS", "size": 3}


# ---- what is not emulated -----------------------------------------------------------------------

@pytest.mark.parametrize(("job_args", "message"), [
    ({"Configuration": {"EntityDetectorConfiguration": {"EntityTypes": ["USA_ALL"]}}},
     "Configuration.EntityDetectorConfiguration: PII entity detection is not emulated by the sandbox"),
    ({"Configuration": {"ColumnStatisticsConfigurations": [{"Statistics": {"IncludedStatistics": ["KURTOSIS"]}}]}},
     "Configuration.ColumnStatisticsConfigurations[1].Statistics.IncludedStatistics: statistic 'KURTOSIS' is "
     "not emulated by the sandbox"),
    ({"Configuration": {"DatasetStatisticsConfiguration": {"Overrides": [
        {"Statistic": "CORRELATION", "Parameters": {"columnNumber": "5"}}]}}},
     "parameter 'columnNumber' of CORRELATION is not emulated by the sandbox"),
    ({"Configuration": {"ProfileColumns": [{"Name": "no_such"}]}},
     "Configuration.ProfileColumns: no column named 'no_such'"),
    ({"ValidationConfigurations": [{"RulesetArn": "arn:aws:databrew:us-east-1:123456789012:ruleset/r"}]},
     "ValidationConfigurations: data quality rulesets are not emulated by the sandbox"),
])
def test_unemulated_configuration_fails_the_run_naming_it(sandbox_env, job_args, message):
    brew, s3 = sandbox_env.client("databrew"), sandbox_env.client("s3")
    job, bucket, _ = profile_job(sandbox_env, **job_args)
    run = wait_run(brew, job, brew.start_job_run(Name=job)["RunId"])
    assert run["State"] == "FAILED"
    assert message in run["ErrorMessage"]
    assert list_keys(s3, bucket, "profiles/") == []


# ---- through the operators ----------------------------------------------------------------------

def _context() -> dict:
    ti = mock.MagicMock()
    ti.try_number, ti.max_tries, ti.map_index = 1, 0, -1
    return {"ti": ti, "task_instance": ti, "task": SimpleNamespace(task_id="profile", retries=0),
            "run_id": "manual__profile", "params": {}}


def test_stock_operator_runs_a_profile_job(sandbox_env):
    from airflow.providers.amazon.aws.operators.glue_databrew import GlueDataBrewStartJobOperator

    s3 = sandbox_env.client("s3")
    job, bucket, dataset = profile_job(sandbox_env, JobSample={"Mode": "FULL_DATASET"})
    stock_profile = GlueDataBrewStartJobOperator(task_id="stock_profile", job_name=job, wait_for_completion=True,
                                                 waiter_delay=1, waiter_max_attempts=60, aws_conn_id="aws_default",
                                                 region_name="us-east-1")
    out = stock_profile.execute(_context())  # returns when the run has ended, whatever its state
    brew = sandbox_env.client("databrew")
    assert brew.describe_job_run(Name=job, RunId=out["run_id"])["State"] == "SUCCEEDED"
    (key,) = list_keys(s3, bucket, "profiles/")
    assert key == f"profiles/{dataset}_{out['run_id']}.json"
    assert json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())["rowsCount"] == len(raw_rows())


def test_our_operator_runs_a_profile_job_and_fails_on_an_unemulated_one(sandbox_env):
    from airflow.providers.common.compat.sdk import AirflowException

    from airflow_sfn_etl.operators.databrew import DataBrewStartJobOperator

    s3 = sandbox_env.client("s3")
    job, bucket, dataset = profile_job(sandbox_env, JobSample={"Mode": "CUSTOM_ROWS", "Size": 4})
    run_id = DataBrewStartJobOperator(task_id="profile", job_name=job, poll_interval=0.2,
                                      deferrable=False).execute(_context())
    result = json.loads(s3.get_object(Bucket=bucket, Key=f"profiles/{dataset}_{run_id}.json")["Body"].read())
    assert result["rowsCount"] == 4

    bad, _, _ = profile_job(sandbox_env, Configuration={"EntityDetectorConfiguration": {"EntityTypes": ["EMAIL"]}})
    with pytest.raises(AirflowException, match="PII entity detection is not emulated by the sandbox"):
        DataBrewStartJobOperator(task_id="profile", job_name=bad, poll_interval=0.2,
                                 deferrable=False).execute(_context())

