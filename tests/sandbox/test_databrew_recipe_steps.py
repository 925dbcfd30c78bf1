"""DataBrew recipe steps for missing values, duplicates, splitting, merging, sorting and date formats,
on a CSV with blanks, a duplicated row and day-first dates.

Expected values come from DuckDB or plain Python on the raw CSV text (and from DataBrew's
documented tie rules for FILL_WITH_MODE), never from the sandbox's recipe code.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import statistics
import uuid
from collections import Counter

import duckdb
import pyarrow as pa
import pytest

from airflow_sfn_etl_sandbox.recipes import RecipeError, apply_recipe
from airflow_sfn_etl_sandbox.schema import infer_table, read_csv_as_strings

RAW = """id,name,score,city,signup,full_name
1,Ann,10,Paris,13/01/2024,Ann Lee
2,Bob,,Lyon,02/03/2024,Bob Stone
3,,30,Paris,31/12/2023,Cy Twig
1,Ann,10,Paris,13/01/2024,Ann Lee
4,Dan,30,,25/06/2024,Dan Ng
5,Eve,20,Lyon,,Eve
6,Fay,,Paris,01/02/2024,Fay A B
7,Gus,10,Lyon,28/02/2024,Gus Ray
"""
ROLE = "arn:aws:iam::123456789012:role/databrew"


def step(operation: str, **parameters: str) -> dict:
    return {"Action": {"Operation": operation, "Parameters": parameters}}


def dataset() -> pa.Table:
    """The CSV as the sandbox's DataBrew reader gives it to a recipe (blank cells null, typed)."""
    return infer_table(read_csv_as_strings(RAW.encode()))


def raw_rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(RAW)))


def duckdb_on_raw(folder) -> duckdb.DuckDBPyConnection:
    """DuckDB on the raw CSV text (written into ``folder``): every column text, blank cells NULL."""
    path = folder / "people.csv"
    path.write_text(RAW)
    con = duckdb.connect()
    con.execute("CREATE TABLE raw AS SELECT * FROM read_csv(?, header=true, all_varchar=true)", [str(path)])
    return con


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    """DuckDB on the raw CSV text: every column text, blank cells NULL."""
    return duckdb_on_raw(tmp_path_factory.mktemp("raw"))


def blank(value: str) -> bool:
    return value == ""


# ---- missing values -------------------------------------------------------------------------------

def test_fill_with_average_fills_blanks_with_the_mean_of_the_others(raw):
    (mean,) = raw.execute("SELECT avg(CAST(score AS DOUBLE)) FROM raw WHERE score IS NOT NULL").fetchall()[0]
    out = apply_recipe(dataset(), [step("FILL_WITH_AVERAGE", sourceColumn="score")])
    expected = [mean if blank(r["score"]) else float(r["score"]) for r in raw_rows()]
    assert out.column("score").to_pylist() == pytest.approx(expected)
    assert out.column("name").to_pylist() == dataset().column("name").to_pylist()


def test_fill_with_median_uses_the_mean_of_the_two_middle_values(raw):
    present = [int(r["score"]) for r in raw_rows() if not blank(r["score"])]
    assert len(present) % 2 == 0  # the data makes the median the mean of two middle values
    median = statistics.median(present)
    (duck_median,) = raw.execute("SELECT median(CAST(score AS DOUBLE)) FROM raw WHERE score IS NOT NULL").fetchall()[0]
    assert median == duck_median
    out = apply_recipe(dataset(), [step("FILL_WITH_MEDIAN", sourceColumn="score")])
    assert out.column("score").to_pylist() == [median if blank(r["score"]) else float(r["score"])
                                              for r in raw_rows()]


@pytest.mark.parametrize(("mode_type", "pick"), [("MINIMUM", min), ("MAXIMUM", max),
                                                  ("AVERAGE", statistics.mean)])
def test_fill_with_mode_resolves_ties_as_documented(mode_type, pick):
    # DataBrew's example: 1 2 2 3 3 4 -> MINIMUM 2, MAXIMUM 3, AVERAGE 2.5.
    table = pa.table({"v": pa.array([1, 2, 2, 3, 3, 4, None], pa.int32())})
    out = apply_recipe(table, [step("FILL_WITH_MODE", sourceColumn="v", modeType=mode_type)])
    documented = {"MINIMUM": 2, "MAXIMUM": 3, "AVERAGE": 2.5}[mode_type]
    assert pick([2, 3]) == documented
    assert out.column("v").to_pylist()[-1] == documented
    assert out.column("v").to_pylist()[:-1] == [1, 2, 2, 3, 3, 4]


def test_fill_with_mode_on_the_csv_and_the_undocumented_tie():
    counts = Counter(int(r["score"]) for r in raw_rows() if not blank(r["score"]))
    top = max(counts.values())
    tied = sorted(v for v, n in counts.items() if n == top)
    assert tied == [10]  # 10 occurs three times in the raw data
    out = apply_recipe(dataset(), [step("FILL_WITH_MODE", sourceColumn="score", modeType="NONE")])
    assert out.column("score").to_pylist() == [tied[0] if blank(r["score"]) else int(r["score"])
                                              for r in raw_rows()]
    tie = pa.table({"v": pa.array([1, 1, 2, 2, None], pa.int32())})
    with pytest.raises(RecipeError, match=r"Recipe step 1 \(FILL_WITH_MODE\): .*tied \(1, 2\).*NONE .*"
                                          "not emulated by the sandbox"):
        apply_recipe(tie, [step("FILL_WITH_MODE", sourceColumn="v", modeType="NONE")])


def test_fill_with_most_frequent_fills_text_blanks(raw):
    city_counts = raw.execute("SELECT city, count(*) AS n FROM raw WHERE city IS NOT NULL "
                              "GROUP BY city ORDER BY n DESC").fetchall()
    assert city_counts[0][1] > city_counts[1][1]
    out = apply_recipe(dataset(), [step("FILL_WITH_MOST_FREQUENT", sourceColumn="city")])
    assert out.column("city").to_pylist() == [city_counts[0][0] if blank(r["city"]) else r["city"]
                                             for r in raw_rows()]


def test_fill_with_average_of_a_text_column_fails_naming_the_step():
    with pytest.raises(RecipeError, match=r"Recipe step 1 \(FILL_WITH_AVERAGE\): column 'city' is string, "
                                          "not a number column"):
        apply_recipe(dataset(), [step("FILL_WITH_AVERAGE", sourceColumn="city")])


def test_fill_with_mode_rejects_an_unknown_parameter_and_mode_type():
    with pytest.raises(RecipeError, match=r"Recipe step 1 \(FILL_WITH_MODE\): unknown parameter 'mode'"):
        apply_recipe(dataset(), [step("FILL_WITH_MODE", sourceColumn="score", mode="MAXIMUM")])
    with pytest.raises(RecipeError, match="modeType must be MINIMUM, NONE, AVERAGE or MAXIMUM"):
        apply_recipe(dataset(), [step("FILL_WITH_MODE", sourceColumn="score", modeType="MEDIAN")])


def test_remove_missing_keeps_rows_with_a_value():
    expected = [r["id"] for r in raw_rows() if not blank(r["name"])]
    out = apply_recipe(dataset(), [step("REMOVE_MISSING", sourceColumn="name")])
    assert [str(v) for v in out.column("id").to_pylist()] == expected
    empty_text = pa.table({"t": ["a", "", None, "b"]})
    assert apply_recipe(empty_text, [step("REMOVE_MISSING", sourceColumn="t")]).column("t").to_pylist() == ["a", "b"]


# ---- duplicates -----------------------------------------------------------------------------------

def test_delete_duplicate_rows_keeps_the_first_of_identical_rows():
    seen, expected = set(), []
    for row in raw_rows():
        key = tuple(row.values())
        if key not in seen:
            seen.add(key)
            expected.append(row["id"])
    assert len(expected) == len(raw_rows()) - 1
    out = apply_recipe(dataset(), [step("DELETE_DUPLICATE_ROWS")])
    assert [str(v) for v in out.column("id").to_pylist()] == expected
    assert out.column_names == dataset().column_names


def test_remove_duplicates_keeps_the_first_row_of_each_value():
    seen, expected = set(), []
    for row in raw_rows():
        if row["city"] not in seen:  # a blank city is one value too
            seen.add(row["city"])
            expected.append(row["id"])
    out = apply_recipe(dataset(), [step("REMOVE_DUPLICATES", sourceColumn="city")])
    assert [str(v) for v in out.column("id").to_pylist()] == expected


# ---- split, merge, sort ---------------------------------------------------------------------------

def test_split_column_single_delimiter_fails_as_not_emulated():
    # DataBrew's reference does not name the new columns nor say where they go.
    with pytest.raises(RecipeError, match=r"Recipe step 1 \(SPLIT_COLUMN_SINGLE_DELIMITER\): "
                                          r"SPLIT_COLUMN_SINGLE_DELIMITER is not emulated by the sandbox: DataBrew "
                                          r"does not document the names of the new columns"):
        apply_recipe(dataset(), [step("SPLIT_COLUMN_SINGLE_DELIMITER", sourceColumn="full_name", pattern=" ",
                                      limit="1", includeInSplit="false")])


def test_merge_joins_the_columns_with_the_delimiter():
    with pytest.raises(RecipeError, match=r"Recipe step 1 \(MERGE\): column 'name' has missing values \(1 rows\); "
                                          r"what MERGE makes of a missing value is not documented .* fill them first "
                                          r"with FILL_WITH_EMPTY"):
        apply_recipe(dataset(), [step("MERGE", sourceColumns=json.dumps(["name", "city"]), delimiter=", ",
                                      targetColumn="who")])
    out = apply_recipe(dataset(), [step("FILL_WITH_EMPTY", sourceColumn="name"),
                                   step("FILL_WITH_EMPTY", sourceColumn="city"),
                                   step("MERGE", sourceColumns=json.dumps(["name", "city"]), delimiter=", ",
                                        targetColumn="who")])
    assert out.column("who").to_pylist() == [f"{r['name']}, {r['city']}" for r in raw_rows()]
    assert out.column_names == [*dataset().column_names, "who"]


def test_sort_by_two_keys_with_null_placement():
    expressions = [{"sourceColumn": "city", "ordering": "ASCENDING", "nullsOrdering": "NULLS_BOTTOM"},
                   {"sourceColumn": "score", "ordering": "DESCENDING", "nullsOrdering": "NULLS_TOP"}]
    out = apply_recipe(dataset(), [step("SORT", expressions=json.dumps(expressions))])
    rows = raw_rows()
    # Python's sort is stable: sort by the second key, then by the first.
    rows.sort(key=lambda r: (not blank(r["score"]), -int(r["score"] or 0)))
    rows.sort(key=lambda r: (blank(r["city"]), r["city"]))
    assert [str(v) for v in out.column("id").to_pylist()] == [r["id"] for r in rows]
    with pytest.raises(RecipeError, match="customOrder is not emulated by the sandbox"):
        apply_recipe(dataset(), [step("SORT", expressions=json.dumps(
            [{"sourceColumn": "city", "customOrder": ["Lyon", "Paris"]}]))])


# ---- dates ----------------------------------------------------------------------------------------

def test_date_format_reads_day_first_dates_and_writes_the_format():
    out = apply_recipe(dataset(), [step("DATE_FORMAT", sourceColumn="signup", dateTimeFormat="yyyy-mm-dd",
                                        targetColumn="signup_iso"),
                                   step("DATE_FORMAT", sourceColumn="signup", dateTimeFormat="dd month yyyy",
                                        targetColumn="signup_long"),
                                   step("DATE_FORMAT", sourceColumn="signup", targetColumn="signup_default")])
    dates = [dt.datetime.strptime(r["signup"], "%d/%m/%Y") if r["signup"] else None for r in raw_rows()]
    assert out.column("signup_iso").to_pylist() == [d.date().isoformat() if d else None for d in dates]
    months = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December"]
    assert out.column("signup_long").to_pylist() == [f"{d.day:02d} {months[d.month - 1]} {d.year}" if d else None
                                                    for d in dates]
    assert out.column("signup_default").to_pylist() == [f"{d.date().isoformat()} 00:00:00" if d else None
                                                       for d in dates]


def test_date_format_fails_on_values_it_cannot_read_or_mixed_orders():
    mixed = pa.table({"d": ["31/12/2016", "12/31/2016"]})
    with pytest.raises(RecipeError, match="both day-first .* and month-first"):
        apply_recipe(mixed, [step("DATE_FORMAT", sourceColumn="d", targetColumn="x")])
    bad = pa.table({"d": ["2016-12-31", "not a date"]})
    with pytest.raises(RecipeError, match=r"Recipe step 1 \(DATE_FORMAT\): 'd' holds values that are not a date"):
        apply_recipe(bad, [step("DATE_FORMAT", sourceColumn="d", targetColumn="x")])
    with pytest.raises(RecipeError, match="'Q' at position 1 is not a date format token emulated by the sandbox"):
        apply_recipe(bad, [step("DATE_FORMAT", sourceColumn="d", targetColumn="x", dateTimeFormat="Q yyyy")])


# ---- through a job run ----------------------------------------------------------------------------

def test_a_job_run_applies_the_new_steps(sandbox_env, raw):
    brew, s3 = sandbox_env.client("databrew"), sandbox_env.client("s3")
    suffix = uuid.uuid4().hex[:8]
    raw_bucket, out_bucket = f"raw-{suffix}", f"out-{suffix}"
    s3.create_bucket(Bucket=raw_bucket)
    s3.create_bucket(Bucket=out_bucket)
    s3.put_object(Bucket=raw_bucket, Key="in/people.csv", Body=RAW.encode())
    brew.create_dataset(Name=f"ds-{suffix}", Format="CSV", FormatOptions={"Csv": {"Delimiter": ",",
                                                                                  "HeaderRow": True}},
                        Input={"S3InputDefinition": {"Bucket": raw_bucket, "Key": "in/people.csv"}})
    steps = [step("DELETE_DUPLICATE_ROWS"),
             step("REMOVE_MISSING", sourceColumn="signup"),
             step("FILL_WITH_MEDIAN", sourceColumn="score"),
             step("DATE_FORMAT", sourceColumn="signup", dateTimeFormat="yyyy-mm-dd", targetColumn="signup_iso"),
             step("SORT", expressions=json.dumps([{"sourceColumn": "signup_iso", "ordering": "ASCENDING"}]))]
    brew.create_recipe(Name=f"recipe-{suffix}", Steps=steps)
    brew.publish_recipe(Name=f"recipe-{suffix}")
    brew.create_recipe_job(Name=f"job-{suffix}", DatasetName=f"ds-{suffix}", RoleArn=ROLE,
                           RecipeReference={"Name": f"recipe-{suffix}", "RecipeVersion": "1.0"},
                           Outputs=[{"Location": {"Bucket": out_bucket, "Key": "out/"}, "Format": "JSON"}])
    from tests.sandbox.test_databrew import list_keys, wait_run

    run = wait_run(brew, f"job-{suffix}", brew.start_job_run(Name=f"job-{suffix}")["RunId"])
    assert run["State"] == "SUCCEEDED", run.get("ErrorMessage")
    (key,) = list_keys(s3, out_bucket, "out/")
    got = [json.loads(line) for line in s3.get_object(Bucket=out_bucket, Key=key)["Body"].read().splitlines()]

    kept = raw.execute("SELECT DISTINCT id, score, signup, name, city, full_name FROM raw "
                       "WHERE signup IS NOT NULL").fetchall()
    (median,) = raw.execute("SELECT median(CAST(score AS DOUBLE)) FROM (SELECT DISTINCT * FROM raw "
                     "WHERE signup IS NOT NULL) WHERE score IS NOT NULL").fetchall()[0]
    expected = sorted(((dt.datetime.strptime(s, "%d/%m/%Y").date().isoformat(), int(i),
                        median if sc is None else float(sc)) for i, sc, s, *_ in kept))
    assert [(r["signup_iso"], r["id"], r["score"]) for r in got] == expected


def test_a_job_run_fails_naming_the_step_of_an_unemulated_parameter(sandbox_env):
    from tests.sandbox.test_databrew import list_keys, wait_run

    brew, s3 = sandbox_env.client("databrew"), sandbox_env.client("s3")
    suffix = uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=f"raw-{suffix}")
    s3.put_object(Bucket=f"raw-{suffix}", Key="p.csv", Body=RAW.encode())
    brew.create_dataset(Name=f"ds-{suffix}", Format="CSV",
                        Input={"S3InputDefinition": {"Bucket": f"raw-{suffix}", "Key": "p.csv"}})
    brew.create_recipe(Name=f"recipe-{suffix}", Steps=[
        step("REMOVE_MISSING", sourceColumn="name"),
        step("SORT", expressions=json.dumps([{"sourceColumn": "city", "customOrder": ["Lyon", "Paris"]}]))])
    brew.publish_recipe(Name=f"recipe-{suffix}")
    brew.create_recipe_job(Name=f"job-{suffix}", DatasetName=f"ds-{suffix}", RoleArn=ROLE,
                           RecipeReference={"Name": f"recipe-{suffix}", "RecipeVersion": "1.0"},
                           Outputs=[{"Location": {"Bucket": f"raw-{suffix}", "Key": "out/"}, "Format": "CSV"}])
    run = wait_run(brew, f"job-{suffix}", brew.start_job_run(Name=f"job-{suffix}")["RunId"])
    assert run["State"] == "FAILED"
    assert run["ErrorMessage"].startswith("Recipe step 2 (SORT): sort expression 1: customOrder is not emulated by "
                                          "the sandbox")
    assert list_keys(s3, f"raw-{suffix}", "out/") == []
