"""How DataBrew recipe steps read slashed dates: a column's dates in the one order its values allow,
a failure naming the step, the column and a value when they fit both orders, and the order given by
``dateTimeFormat`` where a step takes one for what it reads.

Every step that reads dates from text is run on four columns: dates that all fit both orders, dates
one of which can only be day first, one of which can only be month first, and the ambiguous ones with
a format. Expected values come from Python's ``datetime.strptime`` on the raw text, never from the
sandbox's recipe code.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pyarrow as pa
import pytest

from airflow_sfn_etl_sandbox.recipes import RecipeError, apply_recipe
from tests.sandbox.test_databrew import list_keys, wait_run
from tests.sandbox.test_databrew_recipe_steps import ROLE, step

#: Dates that read as a date both month first and day first (no field above 12), and a blank.
AMBIGUOUS = ["03/01/2024", "04/02/2024", "12/11/2023", "05/06/2024", None]
#: The same with one that can only be day first (25/02/2024).
DAY_FIRST = ["03/01/2024", "25/02/2024", "12/11/2023", "05/06/2024", None]
#: The same with one that can only be month first (02/25/2024).
MONTH_FIRST = ["03/01/2024", "02/25/2024", "12/11/2023", "05/06/2024", None]


def dates(values: list[str | None], pattern: str) -> list[dt.datetime | None]:
    return [dt.datetime.strptime(v, pattern) if v else None for v in values]


def table(values: list[str | None]) -> pa.Table:
    return pa.table({"id": list(range(len(values))), "d": pa.array(values, pa.string())})


#: Each step that reads dates from text: (step, the expected output column from the parsed dates).
READERS = {
    "YEAR": (step("YEAR", sourceColumn="d", targetColumn="out"), lambda d: d.year),
    "MONTH": (step("MONTH", sourceColumn="d", targetColumn="out"), lambda d: d.month),
    "DAY": (step("DAY", sourceColumn="d", targetColumn="out"), lambda d: d.day),
    "DATE_FORMAT": (step("DATE_FORMAT", sourceColumn="d", dateTimeFormat="yyyy-mm-dd", targetColumn="out"),
                    lambda d: d.date().isoformat()),
    "DATE_ADD": (step("DATE_ADD", sourceColumn="d", units="DAYS", dateAddValue="1", dateTimeFormat="yyyy-mm-dd",
                      targetColumn="out"), lambda d: (d.date() + dt.timedelta(days=1)).isoformat()),
    "CHANGE_DATA_TYPE": (step("CHANGE_DATA_TYPE", sourceColumn="d", columnDataType="date"), lambda d: d.date()),
}


def output(out: pa.Table) -> list:
    return out.column("out" if "out" in out.column_names else "d").to_pylist()


@pytest.mark.parametrize("operation", sorted(READERS))
def test_dates_that_fit_both_orders_fail_naming_the_step_column_and_a_value(operation):
    recipe_step, _ = READERS[operation]
    with pytest.raises(RecipeError) as info:
        apply_recipe(table(AMBIGUOUS), [step("RENAME", sourceColumn="id", targetColumn="row"), recipe_step])
    message = str(info.value)
    assert message.startswith(f"Recipe step 2 ({operation}): 'd' holds slashed dates that read as a date both "
                              "month first and day first (e.g. '03/01/2024')")
    assert "DataBrew does not document which order it reads, so this is not emulated by the sandbox" in message
    if operation in ("YEAR", "MONTH", "DAY"):
        assert 'dateTimeFormat, "dd/mm/yyyy" (day first) or "mm/dd/yyyy" (month first)' in message
    else:
        assert f"{operation} takes no parameter for the order it reads" in message


@pytest.mark.parametrize("operation", sorted(READERS))
@pytest.mark.parametrize(("values", "pattern"), [(DAY_FIRST, "%d/%m/%Y"), (MONTH_FIRST, "%m/%d/%Y")],
                         ids=["day-first", "month-first"])
def test_a_date_that_fits_one_order_sets_the_order_of_the_column(operation, values, pattern):
    recipe_step, expected_of = READERS[operation]
    out = apply_recipe(table(values), [recipe_step])
    assert output(out) == [expected_of(d) if d else None for d in dates(values, pattern)]


@pytest.mark.parametrize("operation", ["YEAR", "MONTH", "DAY"])
@pytest.mark.parametrize(("date_format", "pattern"), [("dd/mm/yyyy", "%d/%m/%Y"), ("mm/dd/yyyy", "%m/%d/%Y")])
def test_date_parts_read_ambiguous_dates_in_the_given_format(operation, date_format, pattern):
    recipe_step, expected_of = READERS[operation]
    parameters = {**recipe_step["Action"]["Parameters"], "dateTimeFormat": date_format}
    out = apply_recipe(table(AMBIGUOUS), [step(operation, **parameters)])
    assert output(out) == [expected_of(d) if d else None for d in dates(AMBIGUOUS, pattern)]


def test_a_given_format_that_a_value_does_not_fit_fails_naming_it():
    with pytest.raises(RecipeError, match=r"Recipe step 1 \(MONTH\): 'd' holds values that are not a date this step "
                                          r"can read: \['25/02/2024'\]"):
        apply_recipe(table(DAY_FIRST), [step("MONTH", sourceColumn="d", targetColumn="m",
                                             dateTimeFormat="mm/dd/yyyy")])


def test_a_value_parameter_is_checked_as_a_column_is():
    with pytest.raises(RecipeError, match=r"Recipe step 1 \(DATE_FORMAT\): 'value' holds slashed dates .* "
                                          r"\(e\.g\. '03/01/2024'\)"):
        apply_recipe(table(AMBIGUOUS), [step("DATE_FORMAT", value="03/01/2024", targetColumn="x")])
    out = apply_recipe(table(AMBIGUOUS), [step("DATE_FORMAT", value="13/01/2024", dateTimeFormat="yyyy-mm-dd",
                                               targetColumn="x")])
    assert set(out.column("x").to_pylist()) == {dt.datetime.strptime("13/01/2024", "%d/%m/%Y").date().isoformat()}


def test_iso_dates_need_no_order():
    values = ["2024-03-01", "2023-12-11 08:30:00", None]
    out = apply_recipe(table(values), [step("MONTH", sourceColumn="d", targetColumn="m"),
                                       step("DAY", sourceColumn="d", targetColumn="dd")])
    parsed = [dt.datetime.fromisoformat(v) if v else None for v in values]
    assert out.column("m").to_pylist() == [d.month if d else None for d in parsed]
    assert out.column("dd").to_pylist() == [d.day if d else None for d in parsed]


# ---- partitioning by date parts, through a job run -----------------------------------------------

def _partitioned_job(brew, s3, values: list[str | None], date_format: str | None) -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:8]
    bucket = f"dates-{suffix}"
    s3.create_bucket(Bucket=bucket)
    body = "id,date\n" + "".join(f"{i},{v or ''}\n" for i, v in enumerate(values))
    s3.put_object(Bucket=bucket, Key="in/dates.csv", Body=body.encode())
    brew.create_dataset(Name=f"ds-{suffix}", Format="CSV",
                        Input={"S3InputDefinition": {"Bucket": bucket, "Key": "in/dates.csv"}})
    extra = {"dateTimeFormat": date_format} if date_format else {}
    brew.create_recipe(Name=f"recipe-{suffix}", Steps=[
        step(op, sourceColumn="date", targetColumn=op.lower(), **extra) for op in ("YEAR", "MONTH", "DAY")])
    brew.publish_recipe(Name=f"recipe-{suffix}")
    brew.create_recipe_job(Name=f"job-{suffix}", DatasetName=f"ds-{suffix}", RoleArn=ROLE,
                           RecipeReference={"Name": f"recipe-{suffix}", "RecipeVersion": "1.0"},
                           Outputs=[{"Location": {"Bucket": bucket, "Key": "out/"}, "Format": "CSV",
                                     "PartitionColumns": ["year", "month", "day"]}])
    return f"job-{suffix}", bucket


def test_a_partitioned_run_over_ambiguous_dates_fails_naming_the_step(sandbox_env):
    brew, s3 = sandbox_env.client("databrew"), sandbox_env.client("s3")
    job, bucket = _partitioned_job(brew, s3, AMBIGUOUS, None)
    run = wait_run(brew, job, brew.start_job_run(Name=job)["RunId"])
    assert run["State"] == "FAILED"
    assert run["ErrorMessage"].startswith("Recipe step 1 (YEAR): 'date' holds slashed dates that read as a date both "
                                          "month first and day first (e.g. '03/01/2024')")
    assert "dateTimeFormat" in run["ErrorMessage"]
    assert list_keys(s3, bucket, "out/") == []


def test_a_partitioned_run_with_a_format_writes_the_folders_of_that_order(sandbox_env):
    brew, s3 = sandbox_env.client("databrew"), sandbox_env.client("s3")
    job, bucket = _partitioned_job(brew, s3, AMBIGUOUS, "dd/mm/yyyy")
    run = wait_run(brew, job, brew.start_job_run(Name=job)["RunId"])
    assert run["State"] == "SUCCEEDED", run.get("ErrorMessage")
    folders = {key.rsplit("/", 1)[0] + "/" for key in list_keys(s3, bucket, "out/")}
    default = "__HIVE_DEFAULT_PARTITION__"
    expected = {f"out/year={d.year}/month={d.month}/day={d.day}/" if d else
                f"out/year={default}/month={default}/day={default}/" for d in dates(AMBIGUOUS, "%d/%m/%Y")}
    assert folders == expected
