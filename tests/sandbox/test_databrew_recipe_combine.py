"""DataBrew JOIN, UNION and GROUP_BY's statistics functions, on CSVs with blanks, duplicated rows and keys,
and day-first dates; the operations DataBrew does not document well enough fail naming what is missing.

Expected values come from DuckDB on the raw CSV text or plain Python (``statistics``), never from the
sandbox's recipe code.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
import uuid

import duckdb
import pyarrow as pa
import pytest

from airflow_sfn_etl_sandbox.recipes import RecipeError, apply_recipe
from airflow_sfn_etl_sandbox.schema import infer_table, read_csv_as_strings
from tests.sandbox.test_databrew import list_keys, wait_run
from tests.sandbox.test_databrew_recipe_steps import RAW, ROLE, dataset, raw_rows, step

#: The second dataset of the joins: a duplicated key (Lyon), a blank key, a key with no match (Nice),
#: day-first dates with a blank.
CITIES = """town,country,since
Paris,France,13/01/1900
Lyon,France,
Nice,France,31/12/1950
,Nowhere,01/01/2000
Lyon,Gaul,25/06/1800
"""
#: The second dataset of the unions: a row that repeats one of RAW's, blanks.
MORE = """ident,town,points
1,Paris,10
8,,40
9,Nice,
"""
JOIN_TYPES = ("INNER_JOIN", "LEFT_JOIN", "RIGHT_JOIN", "OUTER_JOIN", "LEFT_EXCLUDING_JOIN", "RIGHT_EXCLUDING_JOIN",
              "OUTER_EXCLUDING_JOIN")


def table_of(text: str) -> pa.Table:
    """A CSV as the sandbox's DataBrew reader gives it to a recipe."""
    return infer_table(read_csv_as_strings(text.encode()))


@pytest.fixture(scope="module")
def con(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    """DuckDB on the raw CSV texts (every column text, blank cells NULL), each row numbered in file order."""
    folder = tmp_path_factory.mktemp("raw")
    con = duckdb.connect()
    for name, text in (("raw", RAW), ("cities", CITIES), ("more", MORE)):
        path = folder / f"{name}.csv"
        path.write_text(text)
        con.execute(f"CREATE TABLE {name}_text AS SELECT * FROM read_csv(?, header=true, all_varchar=true)",
                    [str(path)])
        lines = text.splitlines()[1:]
        con.execute(f"CREATE TABLE {name} AS SELECT t.*, n.rn FROM {name}_text t POSITIONAL JOIN "
                    f"(SELECT unnest(range({len(lines)})) AS rn) n")
    return con


def texts(rows: list[tuple]) -> list[tuple]:
    """Values as text (None stays None), for comparing typed output with DuckDB's text rows."""
    return [tuple(None if v is None else str(v) for v in row) for row in rows]


def join_step(join_type: str, **extra: str) -> dict:
    return step("JOIN", joinType=join_type, joinKeys=json.dumps([{"key": "city", "value": "town"}]),
                leftColumns=json.dumps(["id", "name", "city"]), rightColumns=json.dumps(["country", "since"]),
                secondaryDatasetName="cities", **extra)


_SQL_JOINS = {"INNER_JOIN": ("JOIN", ""), "LEFT_JOIN": ("LEFT JOIN", ""), "RIGHT_JOIN": ("RIGHT JOIN", ""),
              "OUTER_JOIN": ("FULL JOIN", ""), "LEFT_EXCLUDING_JOIN": ("LEFT JOIN", "WHERE c.rn IS NULL"),
              "RIGHT_EXCLUDING_JOIN": ("RIGHT JOIN", "WHERE p.rn IS NULL"),
              "OUTER_EXCLUDING_JOIN": ("FULL JOIN", "WHERE p.rn IS NULL OR c.rn IS NULL")}


# ---- JOIN -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("join_type", JOIN_TYPES)
def test_join_types_match_sql_joins_on_the_raw_csvs(con, join_type):
    sql_join, where = _SQL_JOINS[join_type]
    # Rows in the documented order: the current rows in order with their matches in the second dataset's
    # order, then the second dataset's unmatched rows in order.
    expected = con.execute(f"SELECT p.id, p.name, p.city, c.country, c.since FROM raw p {sql_join} cities c "
                           f"ON p.city = c.town {where} ORDER BY p.rn NULLS LAST, c.rn NULLS LAST").fetchall()
    seen = []
    out = apply_recipe(dataset(), [join_step(join_type)], read_input=lambda spec: seen.append(spec) or table_of(CITIES))
    assert seen == [{"DatasetName": "cities"}]
    assert out.column_names == ["id", "name", "city", "country", "since"]
    assert texts([tuple(r.values()) for r in out.to_pylist()]) == expected


def test_join_blank_keys_match_nothing_and_duplicate_keys_repeat_rows():
    out = apply_recipe(dataset(), [join_step("LEFT_JOIN")], read_input=lambda spec: table_of(CITIES))
    cities = list(csv.DictReader(io.StringIO(CITIES)))
    lyon = [c["country"] for c in cities if c["town"] == "Lyon"]
    assert len(lyon) == 2
    rows = out.to_pylist()
    for person in raw_rows():
        mine = [r for r in rows if str(r["id"]) == person["id"] and r["name"] == (person["name"] or None)]
        if person["city"] == "":
            assert [r["country"] for r in mine] == [None]  # the blank city matches not even the blank town
        elif person["city"] == "Lyon":
            assert [r["country"] for r in mine] == lyon
    assert "Nowhere" not in [r["country"] for r in rows]


def test_join_keys_of_two_number_types_and_several_keys():
    left = pa.table({"k": pa.array([1, 2, None], pa.int32()), "j": ["a", "b", "c"], "v": [10, 20, 30]})
    right = pa.table({"k2": pa.array([2.0, 1.0, None]), "j2": ["b", "x", "c"], "w": ["two", "one", "none"]})
    out = apply_recipe(left, [step("JOIN", joinType="INNER_JOIN", joinKeys=json.dumps(
        [{"key": "k", "value": "k2"}, {"key": "j", "value": "j2"}]), leftColumns='["v"]', rightColumns='["w"]',
        secondInputLocation="s3://b/right.csv")], read_input=lambda spec: right)
    assert out.to_pylist() == [{"v": 20, "w": "two"}]


@pytest.mark.parametrize(("parameters", "message"), [
    ({"joinType": "CROSS_JOIN"}, "joinType must be one of INNER_JOIN, "),
    ({"joinKeys": '[{"key": "city"}]'}, "join key 1 must be"),
    ({"leftColumns": '["id", "city"]', "rightColumns": '["country", "city"]'},
     "column(s) ['city'] are selected from both datasets; what DataBrew names the two columns is not documented"),
    ({"rightColumns": '["population"]'}, "column 'population' not found in the second dataset"),
    ({"joinKeys": json.dumps([{"key": "id", "value": "town"}])}, "join key 'id' (int32) and 'town' (string) are of "
                                                                "different types"),
    ({"secondaryDatasetName": ""}, "parameter 'secondaryDatasetName' or 'secondInputLocation' is required"),
])
def test_join_bad_parameters_fail_naming_them(parameters, message):
    params = {"joinType": "INNER_JOIN", "joinKeys": json.dumps([{"key": "city", "value": "town"}]),
              "leftColumns": '["id"]', "rightColumns": '["country"]', "secondaryDatasetName": "cities", **parameters}
    cities = table_of(CITIES)
    cities = cities.append_column("city", cities.column("town"))
    with pytest.raises(RecipeError, match=r"^Recipe step 1 \(JOIN\): ") as err:
        apply_recipe(dataset(), [step("JOIN", **params)], read_input=lambda spec: cities)
    assert message in str(err.value)


def test_join_without_a_reader_and_with_an_unknown_parameter():
    with pytest.raises(RecipeError, match="no dataset reader was given"):
        apply_recipe(dataset(), [join_step("INNER_JOIN")])
    with pytest.raises(RecipeError, match=r"Recipe step 1 \(JOIN\): unknown parameter 'secondDataset'"):
        apply_recipe(dataset(), [join_step("INNER_JOIN", secondDataset="x")], read_input=lambda s: table_of(CITIES))


# ---- UNION ----------------------------------------------------------------------------------------

def union_step(inputs: int = 1) -> dict:
    return step("UNION", targetColumnNames=json.dumps(["id", "city", "score"]),
                datasetsColumns=json.dumps([["id", "city", "score"]] + [["ident", "town", None]] * inputs),
                secondaryInputs=json.dumps([{"S3InputDefinition": {"Bucket": "b", "Key": f"more{i}.csv"}}
                                            for i in range(inputs)]))


def test_union_appends_the_rows_of_the_secondary_inputs(con):
    expected = con.execute("SELECT id, city, score FROM (SELECT id, city, score, 0 AS part, rn FROM raw UNION ALL "
                           "SELECT ident, town, NULL, 1, rn FROM more UNION ALL SELECT ident, town, NULL, 2, rn "
                           "FROM more) ORDER BY part, rn").fetchall()
    asked = []
    out = apply_recipe(dataset(), [union_step(inputs=2)],
                       read_input=lambda spec: asked.append(spec) or table_of(MORE))
    assert asked == [{"S3InputDefinition": {"Bucket": "b", "Key": f"more{i}.csv"}} for i in range(2)]
    assert out.column_names == ["id", "city", "score"]
    assert texts([tuple(r.values()) for r in out.to_pylist()]) == expected
    assert out.num_rows == len(raw_rows()) + 2 * len(list(csv.DictReader(io.StringIO(MORE))))


def test_union_with_dataset_names_and_bad_column_lists():
    named = step("UNION", targetColumnNames='["c"]', datasetsColumns='[["city"], ["town"]]',
                 secondaryInputs='[{"S3InputDefinition": {"Bucket": "b", "Key": "k"}}]',
                 secondaryDatasetNames='["cities"]')
    asked = []
    out = apply_recipe(dataset(), [named], read_input=lambda spec: asked.append(spec) or table_of(CITIES))
    assert asked == [{"S3InputDefinition": {"Bucket": "b", "Key": "k"}, "DatasetName": "cities"}]
    towns = [c["town"] or None for c in csv.DictReader(io.StringIO(CITIES))]
    assert out.column("c").to_pylist() == [r["city"] or None for r in raw_rows()] + towns
    short = step("UNION", targetColumnNames='["a", "b"]', datasetsColumns='[["id", "city"], ["town"]]',
                 secondaryInputs='[{"S3InputDefinition": {"Bucket": "b", "Key": "k"}}]')
    with pytest.raises(RecipeError, match=r"Recipe step 1 \(UNION\): datasetsColumns list 2 \(secondary input 1\) "
                                          "must name a column or null for each of the 2 targetColumnNames"):
        apply_recipe(dataset(), [short], read_input=lambda spec: table_of(CITIES))
    clash = step("UNION", targetColumnNames='["a"]', datasetsColumns='[["id"], ["town"]]',
                 secondaryInputs='[{"S3InputDefinition": {"Bucket": "b", "Key": "k"}}]')
    with pytest.raises(RecipeError, match=r"target column 'a' gets values of different types \['int32', 'string'\]"):
        apply_recipe(dataset(), [clash], read_input=lambda spec: table_of(CITIES))


# ---- GROUP_BY's statistics ------------------------------------------------------------------------

def group_by(source: str, *functions: str, keys: tuple[str, ...] = ("city",)) -> dict:
    options = [{"sourceColumnName": source, "targetColumnName": f"{source}_{f.lower()}", "functionName": f}
               for f in functions]
    return step("GROUP_BY", sourceColumns=json.dumps(list(keys)), groupByAggFunctionOptions=json.dumps(options),
                useNewDataFrame="true")


def test_group_by_average_median_variance_match_duckdb(con):
    expected = con.execute("SELECT city, avg(CAST(score AS DOUBLE)), median(CAST(score AS DOUBLE)), "
                           "var_pop(CAST(score AS DOUBLE)) FROM raw GROUP BY city ORDER BY min(rn)").fetchall()
    out = apply_recipe(dataset(), [group_by("score", "AVERAGE", "MEDIAN", "VARIANCE")])
    assert out.column_names == ["city", "score_average", "score_median", "score_variance"]
    got = [tuple(r.values()) for r in out.to_pylist()]
    assert [g[0] for g in got] == [e[0] for e in expected]
    for g, e in zip(got, expected, strict=True):
        assert g[1:] == pytest.approx(e[1:])
    # DataBrew documents the variance as Sum((X - mean(X))^2) / Count(X): the population variance.
    paris = [int(r["score"]) for r in raw_rows() if r["city"] == "Paris" and r["score"]]
    assert dict(zip(out.column("city").to_pylist(), out.column("score_variance").to_pylist(), strict=True))[
        "Paris"] == pytest.approx(statistics.pvariance(paris))


def test_group_by_mode_and_its_undocumented_tie(con):
    expected = con.execute("SELECT name, mode(CAST(score AS INTEGER)) FROM raw GROUP BY name "
                           "ORDER BY min(rn)").fetchall()
    out = apply_recipe(dataset(), [group_by("score", "MODE", keys=("name",))])
    assert [tuple(r.values()) for r in out.to_pylist()] == expected
    lyon = [int(r["score"]) for r in raw_rows() if r["city"] == "Lyon" and r["score"]]
    assert len(statistics.multimode(lyon)) > 1  # Lyon's scores are tied
    with pytest.raises(RecipeError, match=r"MODE of 'score' in the group \{'city': 'Lyon'\}: the most frequent values "
                                          r"are tied \(10, 20\); .* not emulated by the sandbox"):
        apply_recipe(dataset(), [group_by("score", "MODE")])


@pytest.mark.parametrize(("function", "source", "message"), [
    ("STANDARD_DEVIATION", "score", "functionName STANDARD_DEVIATION is not emulated by the sandbox (whether it is "
                                    "the sample or the population deviation is not documented"),
    ("KTH_LARGEST", "score", "functionName 'KTH_LARGEST' is not emulated by the sandbox"),
    ("AVERAGE", "name", "AVERAGE of column 'name' of type string: the column is not a number column"),
])
def test_group_by_functions_not_emulated_fail_naming_them(function, source, message):
    with pytest.raises(RecipeError, match=r"^Recipe step 1 \(GROUP_BY\): ") as err:
        apply_recipe(dataset(), [group_by(source, function)])
    assert message in str(err.value)


# ---- operations DataBrew does not document enough -------------------------------------------------

@pytest.mark.parametrize(("operation", "parameters", "reason"), [
    ("DATE_DIFF", {"sourceColumn1": "signup", "value2": "2024-01-01", "units": "DAYS", "targetColumn": "d"},
     "which date is subtracted from which"),
    ("PIVOT", {"sourceColumn": "city", "valueColumn": "score", "aggregateFunction": "SUM"},
     "the names of the pivoted columns"),
    ("UNPIVOT", {"sourceColumns": '["score"]', "unpivotColumn": "u", "valueColumn": "v"},
     "which of unpivotColumn and valueColumn gets the column names"),
])
def test_undocumented_operations_fail_saying_why(operation, parameters, reason):
    with pytest.raises(RecipeError, match=rf"^Recipe step 2 \({operation}\): {operation} is not emulated by the "
                                          rf"sandbox: .*{reason}"):
        apply_recipe(dataset(), [step("DELETE_DUPLICATE_ROWS"), step(operation, **parameters)])


# ---- through a job run: the second datasets read from the sandbox's S3 ----------------------------

def test_a_job_run_joins_and_unions_datasets_read_from_s3(sandbox_env, con):
    brew, s3 = sandbox_env.client("databrew"), sandbox_env.client("s3")
    suffix = uuid.uuid4().hex[:8]
    bucket = f"combine-{suffix}"
    s3.create_bucket(Bucket=bucket)
    for key, text in (("people/people.csv", RAW), ("cities/cities.csv", CITIES), ("more/more.csv", MORE)):
        s3.put_object(Bucket=bucket, Key=key, Body=text.encode())
    brew.create_dataset(Name=f"people-{suffix}", Format="CSV", FormatOptions={"Csv": {"HeaderRow": True}},
                        Input={"S3InputDefinition": {"Bucket": bucket, "Key": "people/people.csv"}})
    brew.create_dataset(Name=f"cities-{suffix}", Format="CSV", FormatOptions={"Csv": {"HeaderRow": True}},
                        Input={"S3InputDefinition": {"Bucket": bucket, "Key": "cities/"}})
    steps = [step("UNION", targetColumnNames='["id", "city"]', datasetsColumns='[["id", "city"], ["ident", "town"]]',
                  secondaryInputs=json.dumps([{"S3InputDefinition": {"Bucket": bucket, "Key": "more/more.csv"}}])),
             step("JOIN", joinType="LEFT_JOIN", joinKeys=json.dumps([{"key": "city", "value": "town"}]),
                  leftColumns='["id", "city"]', rightColumns='["country", "since"]',
                  secondaryDatasetName=f"cities-{suffix}", secondInputLocation=f"s3://{bucket}/cities/")]
    brew.create_recipe(Name=f"recipe-{suffix}", Steps=steps)
    brew.publish_recipe(Name=f"recipe-{suffix}")
    brew.create_recipe_job(Name=f"job-{suffix}", DatasetName=f"people-{suffix}", RoleArn=ROLE,
                           RecipeReference={"Name": f"recipe-{suffix}", "RecipeVersion": "1.0"},
                           Outputs=[{"Location": {"Bucket": bucket, "Key": "out/"}, "Format": "JSON"}])
    run = wait_run(brew, f"job-{suffix}", brew.start_job_run(Name=f"job-{suffix}")["RunId"])
    assert run["State"] == "SUCCEEDED", run.get("ErrorMessage")
    (key,) = list_keys(s3, bucket, "out/")
    got = [json.loads(line) for line in s3.get_object(Bucket=bucket, Key=key)["Body"].read().splitlines()]
    expected = con.execute("WITH u AS (SELECT id, city, 0 AS part, rn FROM raw UNION ALL "
                           "SELECT ident, town, 1, rn FROM more) "
                           "SELECT u.id, u.city, c.country, c.since FROM u LEFT JOIN cities c ON u.city = c.town "
                           "ORDER BY u.part, u.rn, c.rn").fetchall()
    assert texts([(r["id"], r["city"], r["country"], r["since"]) for r in got]) == expected

    # A secondary dataset whose location is not the one the step gives fails the run, naming the step.
    steps[1]["Action"]["Parameters"]["secondInputLocation"] = f"s3://{bucket}/elsewhere/"
    brew.create_recipe(Name=f"recipe2-{suffix}", Steps=steps)
    brew.publish_recipe(Name=f"recipe2-{suffix}")
    brew.create_recipe_job(Name=f"job2-{suffix}", DatasetName=f"people-{suffix}", RoleArn=ROLE,
                           RecipeReference={"Name": f"recipe2-{suffix}"},
                           Outputs=[{"Location": {"Bucket": bucket, "Key": "out2/"}, "Format": "JSON"}])
    run = wait_run(brew, f"job2-{suffix}", brew.start_job_run(Name=f"job2-{suffix}")["RunId"])
    assert run["State"] == "FAILED"
    assert run["ErrorMessage"].startswith(f"Recipe step 2 (JOIN): secondary dataset cities-{suffix} is at "
                                          f"s3://{bucket}/cities/, not at s3://{bucket}/elsewhere/")
    assert list_keys(s3, bucket, "out2/") == []
