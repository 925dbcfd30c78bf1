"""DataBrew REMOVE_VALUES with ConditionExpressions, DATE_ADD and GROUP_BY on the CSV with blanks, a
duplicated row and day-first dates.

Expected values come from DuckDB or plain Python on the raw CSV text, never from the sandbox's
recipe code.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import uuid

import duckdb
import pytest

from airflow_sfn_etl_sandbox.recipes import RecipeError, apply_recipe
from tests.sandbox.test_databrew_recipe_steps import RAW, ROLE, dataset, duckdb_on_raw, raw_rows, step


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    return duckdb_on_raw(tmp_path_factory.mktemp("raw"))


def remove_values(source: str, *conditions: tuple[str, str | None, str]) -> dict:
    expressions = [{"Condition": c, "TargetColumn": t, **({"Value": v} if v is not None else {})}
                   for c, v, t in conditions]
    return {**step("REMOVE_VALUES", sourceColumn=source), "ConditionExpressions": expressions}


def ids(table) -> list[str]:
    return [str(v) for v in table.column("id").to_pylist()]


# ---- REMOVE_VALUES and the conditions -----------------------------------------------------------

@pytest.mark.parametrize(("condition", "value", "column", "where"), [
    ("LESS_THAN", "20", "score", "CAST(score AS INT) < 20"),
    ("LESS_THAN_EQUAL", "20", "score", "CAST(score AS INT) <= 20"),
    ("GREATER_THAN", "10", "score", "CAST(score AS INT) > 10"),
    ("GREATER_THAN_EQUAL", "30", "score", "CAST(score AS INT) >= 30"),
    ("IS", '["Paris"]', "city", "city IN ('Paris')"),
    ("IS", '["Paris", "Lyon"]', "city", "city IN ('Paris', 'Lyon')"),
    ("IS", "[30]", "score", "CAST(score AS INT) IN (30)"),
    ("IS_NOT", '["Paris"]', "city", "city NOT IN ('Paris')"),
    ("CONTAINS", "a", "full_name", "contains(full_name, 'a')"),
    ("NOT_CONTAINS", "a", "full_name", "NOT contains(full_name, 'a')"),
    ("STARTS_WITH", "A", "name", "starts_with(name, 'A')"),
    ("NOT_STARTS_WITH", "A", "name", "NOT starts_with(name, 'A')"),
    ("ENDS_WITH", "e", "full_name", "ends_with(full_name, 'e')"),
    ("NOT_ENDS_WITH", "e", "full_name", "NOT ends_with(full_name, 'e')"),
    ("IS_MISSING", None, "score", "score IS NULL"),
])
def test_remove_values_removes_the_rows_that_meet_the_condition(raw, condition, value, column, where):
    # SQL's three-valued logic leaves rows with a missing value, as DataBrew's conditions do (a
    # missing value meets no condition but IS_MISSING).
    expected = raw.execute(f"SELECT id FROM (SELECT row_number() OVER () AS n, * FROM raw) "
                           f"WHERE NOT coalesce({where}, false) ORDER BY n").fetchall()
    out = apply_recipe(dataset(), [remove_values(column, (condition, value, column))])
    assert ids(out) == [str(i) for (i,) in expected]
    assert len(expected) < len(raw_rows())  # the condition removes something
    assert out.column_names == dataset().column_names


def test_conditions_are_combined_with_and():
    rows = raw_rows()
    expected = [r["id"] for r in rows
                if not (r["score"] and 10 < int(r["score"]) and r["city"] == "Paris")]
    out = apply_recipe(dataset(), [remove_values("score", ("GREATER_THAN", "10", "score"),
                                                 ("IS", '["Paris"]', "city"))])
    assert ids(out) == expected


@pytest.mark.parametrize(("expression", "message"), [
    ({"Condition": "IS_BETWEEN", "Value": "[1, 2]", "TargetColumn": "score"},
     "condition IS_BETWEEN is not emulated by the sandbox"),
    ({"Condition": "IS_INVALID", "TargetColumn": "score"}, "condition IS_INVALID is not emulated by the sandbox"),
    ({"Condition": "LESS_THAN", "Value": "M", "TargetColumn": "city"},
     "condition LESS_THAN on column 'city' of type string is not emulated by the sandbox"),
    ({"Condition": "LESS_THAN", "Value": "ten", "TargetColumn": "score"}, "Value 'ten' is not a number"),
    ({"Condition": "MATCHES", "Value": "x", "TargetColumn": "city"}, "condition 'MATCHES' is not emulated"),
    ({"Condition": "IS", "Value": "x", "TargetColumn": "nope"}, "column 'nope' not found"),
    ({"Condition": "IS", "Value": "x", "Column": "city"}, "unknown key 'Column'"),
])
def test_unemulated_or_bad_conditions_fail_naming_the_step(expression, message):
    step_ = {**step("REMOVE_VALUES", sourceColumn="score"), "ConditionExpressions": [expression]}
    with pytest.raises(RecipeError, match=r"Recipe step 1 \(REMOVE_VALUES\): .*" + message):
        apply_recipe(dataset(), [step_])


def test_conditions_on_a_step_that_does_not_filter_fail_naming_the_operation():
    step_ = {**step("UPPER_CASE", sourceColumn="city"),
             "ConditionExpressions": [{"Condition": "IS", "Value": '["Paris"]', "TargetColumn": "city"}]}
    with pytest.raises(RecipeError, match=r"Recipe step 1 \(UPPER_CASE\): ConditionExpressions on UPPER_CASE are "
                                          "not emulated by the sandbox"):
        apply_recipe(dataset(), [step_])


# ---- DATE_ADD ------------------------------------------------------------------------------------

def _months_later(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return day.replace(year=year, month=month + 1, day=min(day.day, calendar.monthrange(year, month + 1)[1]))


@pytest.mark.parametrize(("units", "amount"), [("DAYS", "14"), ("WEEKS", "-2"), ("MONTHS", "1"), ("QUARTERS", "2"),
                                               ("YEARS", "1")])
def test_date_add_moves_day_first_dates(units, amount):
    out = apply_recipe(dataset(), [step("DATE_ADD", sourceColumn="signup", units=units, dateAddValue=amount,
                                        dateTimeFormat="yyyy-mm-dd", targetColumn="later")])
    n = int(amount)
    expected = []
    for r in raw_rows():
        if not r["signup"]:
            expected.append(None)
            continue
        day = dt.datetime.strptime(r["signup"], "%d/%m/%Y").date()
        if units in ("DAYS", "WEEKS"):
            moved = day + dt.timedelta(days=n * (7 if units == "WEEKS" else 1))
        else:
            moved = _months_later(day, n * {"MONTHS": 1, "QUARTERS": 3, "YEARS": 12}[units])
        expected.append(moved.isoformat())
    assert out.column("later").to_pylist() == expected


def test_date_add_hours_in_the_default_format_and_month_end():
    out = apply_recipe(dataset(), [step("DATE_ADD", sourceColumn="signup", units="HOURS", dateAddValue="-30",
                                        targetColumn="earlier")])
    expected = [(dt.datetime.strptime(r["signup"], "%d/%m/%Y") - dt.timedelta(hours=30)).strftime("%Y-%m-%d %H:%M:%S")
                if r["signup"] else None for r in raw_rows()]
    assert out.column("earlier").to_pylist() == expected
    month_end = apply_recipe(dataset(), [step("DATE_ADD", value="2024-01-31", units="MONTHS", dateAddValue="1",
                                              dateTimeFormat="yyyy-mm-dd", targetColumn="x")])
    assert set(month_end.column("x").to_pylist()) == {"2024-02-29"}  # 2024 is a leap year
    with pytest.raises(RecipeError, match="units must be one of"):
        apply_recipe(dataset(), [step("DATE_ADD", sourceColumn="signup", units="FORTNIGHTS", dateAddValue="1",
                                      targetColumn="x")])


# ---- GROUP_BY ------------------------------------------------------------------------------------

def test_group_by_counts_and_sums_per_group(raw):
    options = [
        {"sourceColumnName": "score", "targetColumnName": "scores", "targetColumnDataType": "int",
         "functionName": "COUNT"},
        {"sourceColumnName": "score", "targetColumnName": "total", "functionName": "SUM"},
        {"sourceColumnName": "score", "targetColumnName": "low", "functionName": "MIN"},
        {"sourceColumnName": "score", "targetColumnName": "high", "functionName": "MAX"},
        {"sourceColumnName": "name", "targetColumnName": "names", "targetColumnDataType": "int",
         "functionName": "COUNT_DISTINCT"},
    ]
    out = apply_recipe(dataset(), [step("GROUP_BY", sourceColumns=json.dumps(["city"]),
                                        groupByAggFunctionOptions=json.dumps(options), useNewDataFrame="true")])
    expected = raw.execute(
        "SELECT city, count(score)::INT, sum(score::INT), min(score::INT), max(score::INT), count(DISTINCT name)::INT "
        "FROM (SELECT row_number() OVER () AS n, * FROM raw) GROUP BY city ORDER BY min(n)").fetchall()
    assert out.column_names == ["city", "scores", "total", "low", "high", "names"]
    assert [tuple(r.values()) for r in out.to_pylist()] == [tuple(r) for r in expected]


def test_group_by_fails_on_what_it_does_not_emulate():
    options = json.dumps([{"sourceColumnName": "score", "targetColumnName": "m", "functionName": "KTH_LARGEST"}])
    with pytest.raises(RecipeError, match="functionName 'KTH_LARGEST' is not emulated by the sandbox"):
        apply_recipe(dataset(), [step("GROUP_BY", sourceColumns='["city"]', groupByAggFunctionOptions=options,
                                      useNewDataFrame="true")])
    options = json.dumps([{"sourceColumnName": "score", "targetColumnName": "n", "functionName": "COUNT"}])
    with pytest.raises(RecipeError, match="useNewDataFrame other than true is not emulated by the sandbox"):
        apply_recipe(dataset(), [step("GROUP_BY", sourceColumns='["city"]', groupByAggFunctionOptions=options,
                                      useNewDataFrame="false")])


# ---- through a job run ----------------------------------------------------------------------------

def test_a_job_run_removes_values_and_groups(sandbox_env, raw):
    from tests.sandbox.test_databrew import list_keys, wait_run

    brew, s3 = sandbox_env.client("databrew"), sandbox_env.client("s3")
    suffix = uuid.uuid4().hex[:8]
    bucket = f"filters-{suffix}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="in/people.csv", Body=RAW.encode())
    brew.create_dataset(Name=f"ds-{suffix}", Format="CSV",
                        Input={"S3InputDefinition": {"Bucket": bucket, "Key": "in/people.csv"}})
    options = [{"sourceColumnName": "id", "targetColumnName": "people", "targetColumnDataType": "int",
                "functionName": "COUNT"}]
    brew.create_recipe(Name=f"recipe-{suffix}", Steps=[
        step("DELETE_DUPLICATE_ROWS"),
        remove_values("city", ("IS_MISSING", None, "city")),
        remove_values("score", ("LESS_THAN", "20", "score")),
        step("GROUP_BY", sourceColumns='["city"]', groupByAggFunctionOptions=json.dumps(options),
             useNewDataFrame="true")])
    brew.publish_recipe(Name=f"recipe-{suffix}")
    brew.create_recipe_job(Name=f"job-{suffix}", DatasetName=f"ds-{suffix}", RoleArn=ROLE,
                           RecipeReference={"Name": f"recipe-{suffix}", "RecipeVersion": "1.0"},
                           Outputs=[{"Location": {"Bucket": bucket, "Key": "out/"}, "Format": "JSON"}])
    run = wait_run(brew, f"job-{suffix}", brew.start_job_run(Name=f"job-{suffix}")["RunId"])
    assert run["State"] == "SUCCEEDED", run.get("ErrorMessage")
    (key,) = list_keys(s3, bucket, "out/")
    got = [json.loads(line) for line in s3.get_object(Bucket=bucket, Key=key)["Body"].read().splitlines()]
    expected = raw.execute(
        "SELECT city, count(id)::INT FROM (SELECT min(n) AS n, id, name, score, city, signup, full_name FROM "
        "(SELECT row_number() OVER () AS n, * FROM raw) GROUP BY ALL) "
        "WHERE city IS NOT NULL AND NOT coalesce(score::INT < 20, false) GROUP BY city ORDER BY min(n)").fetchall()
    assert [(r["city"], r["people"]) for r in got] == expected
