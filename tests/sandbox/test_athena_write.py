"""Athena statements that change tables or show their DDL: INSERT INTO, ALTER TABLE columns and location,
SHOW CREATE TABLE.

Expected values come from the raw files (read with DuckDB, pyarrow or plain Python) or from the formats
AWS and Hive document.
"""

from __future__ import annotations

import io
from decimal import Decimal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.sandbox.test_athena import Env


@pytest.fixture
def env(sandbox_env) -> Env:
    return Env(sandbox_env)


def _keys(env: Env, prefix: str) -> list[str]:
    pages = env.s3.get_paginator("list_objects_v2").paginate(Bucket=env.data, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def _body(env: Env, key: str) -> bytes:
    return env.s3.get_object(Bucket=env.data, Key=key)["Body"].read()


def _parquet_rows(env: Env, prefix: str, columns: str, tmp_path) -> list[tuple]:
    """Every Parquet file under ``prefix``, read by DuckDB from local copies."""
    paths = []
    for i, key in enumerate(_keys(env, prefix)):
        path = tmp_path / f"f{i}.parquet"
        path.write_bytes(_body(env, key))
        paths.append(str(path))
    con = duckdb.connect()
    return con.sql(f"SELECT {columns} FROM read_parquet({paths!r}, union_by_name = true) ORDER BY 1").fetchall()


PARQUET_DDL = """CREATE EXTERNAL TABLE {db}.events (id int, amount bigint, name string, price decimal(10,2))
STORED AS PARQUET LOCATION 's3://{bucket}/events/'"""


def test_insert_values_and_select_into_a_parquet_table(env, tmp_path):
    first = pa.table({"id": pa.array([1], pa.int32()), "amount": pa.array([10], pa.int64()), "name": ["a"],
                      "price": pa.array([Decimal("1.00")], pa.decimal128(10, 2))})
    env.put_parquet("events/part-0.parquet", first)
    env.run(PARQUET_DDL.format(db=env.db, bucket=env.data))
    ex = env.run("INSERT INTO events VALUES (2, 20, 'b', 2.50), (3, 30, NULL, NULL)")
    assert ex["StatementType"] == "DML" and ex["SubstatementType"] == "INSERT"
    assert env.athena.get_query_results(QueryExecutionId=ex["QueryExecutionId"])["UpdateCount"] == 2
    # A SELECT with a column list; an integer column widens to bigint, as Trino coerces on INSERT.
    env.run("INSERT INTO events (amount, id) SELECT CAST(id AS integer) * 100, id + 10 FROM events WHERE id < 3")

    keys = _keys(env, "events/")
    assert len(keys) == 3 and "events/part-0.parquet" in keys
    new = pq.read_table(io.BytesIO(_body(env, keys[0] if keys[0] != "events/part-0.parquet" else keys[1])))
    assert new.schema.field("id").type == pa.int32() and new.schema.field("price").type == pa.decimal128(10, 2)

    expected = [[None if v is None else str(v) for v in row]
                for row in _parquet_rows(env, "events/", "id, amount, name, price", tmp_path)]
    assert expected == [["1", "10", "a", "1.00"], ["2", "20", "b", "2.50"], ["3", "30", None, None],
                        ["11", "100", None, None], ["12", "200", None, None]]
    got = env.query("SELECT id, amount, name, price FROM events ORDER BY id")
    assert got[0] == ["id", "amount", "name", "price"]
    assert got[1:] == expected


def test_insert_into_a_partitioned_text_table_adds_its_partitions(env):
    env.s3.put_object(Bucket=env.data, Key="src/s.csv", Body=b"1|7|a\n2|12|b\n3|5|c\n")
    env.run(f"CREATE EXTERNAL TABLE src (id int, amount bigint, code string) ROW FORMAT DELIMITED "
            f"FIELDS TERMINATED BY '|' LOCATION 's3://{env.data}/src/'")
    env.run(f"CREATE EXTERNAL TABLE sales (id int, amount bigint, code string) PARTITIONED BY (region string) "
            f"ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://{env.data}/sales/'")
    env.run("ALTER TABLE sales ADD PARTITION (region='north') "
            f"LOCATION 's3://{env.data}/elsewhere/north/'")
    env.run("INSERT INTO sales (id, code, region) "
            "SELECT id, code, CASE WHEN amount > 6 THEN 'north' ELSE 'south' END FROM src")

    parts = env.glue.get_partitions(DatabaseName=env.db, TableName="sales")["Partitions"]
    locations = {tuple(p["Values"]): p["StorageDescriptor"]["Location"] for p in parts}
    # The existing partition keeps its location; the new one is a k=v folder under the table's.
    assert locations == {("north",): f"s3://{env.data}/elsewhere/north/",
                         ("south",): f"s3://{env.data}/sales/region=south/"}
    raw = {}
    for prefix in ("elsewhere/north/", "sales/region=south/"):
        (key,) = _keys(env, prefix)
        raw[prefix] = [line.split(",") for line in _body(env, key).decode().splitlines()]
    # LazySimpleSerDe's text: the delimiter between fields, \N for NULL, no partition column in the file.
    source = [line.split("|") for line in b"1|7|a\n2|12|b\n3|5|c\n".decode().splitlines()]
    assert sorted(raw["elsewhere/north/"]) == sorted([i, "\\N", c] for i, a, c in source if int(a) > 6)
    assert sorted(raw["sales/region=south/"]) == sorted([i, "\\N", c] for i, a, c in source if int(a) <= 6)
    got = env.query("SELECT id, amount, code, region FROM sales ORDER BY id")
    assert got[1:] == [[i, None, c, "north" if int(a) > 6 else "south"] for i, a, c in source]


def test_insert_with_mismatched_types_or_unknown_columns_fails_and_writes_nothing(env):
    env.run(PARQUET_DDL.format(db=env.db, bucket=env.data))
    ex = env.run("INSERT INTO events VALUES ('x', 1, 'a', 1.00)", expect="FAILED")
    reason = ex["Status"]["StateChangeReason"]
    assert reason.startswith("TYPE_MISMATCH: ")
    assert "Insert query has mismatched column types: Table: [integer, bigint, varchar, decimal(10,2)]" in reason
    ex = env.run("INSERT INTO events (id) VALUES (1, 2)", expect="FAILED")
    assert ex["Status"]["StateChangeReason"].startswith("TYPE_MISMATCH: ")
    ex = env.run("INSERT INTO events (id, nope) VALUES (1, 2)", expect="FAILED")
    assert "Insert column name does not exist in target table: nope" in ex["Status"]["StateChangeReason"]
    ex = env.run("INSERT INTO events (amount) VALUES (CAST(1 AS bigint) * 3000000000)", expect="SUCCEEDED")
    assert _keys(env, "events/") != []  # bigint into bigint is fine
    before = _keys(env, "events/")
    env.run("INSERT INTO events (id) VALUES (CAST(1 AS bigint))", expect="FAILED")  # bigint does not narrow
    assert _keys(env, "events/") == before


def test_insert_into_a_format_the_sandbox_does_not_write_fails_saying_so(env):
    env.run(f"CREATE EXTERNAL TABLE j (id int) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' "
            f"LOCATION 's3://{env.data}/j/'")
    ex = env.run("INSERT INTO j VALUES (1)", expect="FAILED")
    reason = ex["Status"]["StateChangeReason"]
    assert reason.startswith("NOT_SUPPORTED: ") and "INSERT INTO a JSON table is not emulated by the sandbox" in reason
    assert _keys(env, "j/") == []


# --------------------------------------------------------------------------- ALTER TABLE


def _columns(env: Env, table: str) -> list[tuple[str, str]]:
    sd = env.glue.get_table(DatabaseName=env.db, Name=table)["Table"]["StorageDescriptor"]
    return [(c["Name"], c["Type"]) for c in sd["Columns"]]


def test_alter_table_add_and_replace_columns(env):
    data = b"1|7|a|x\n2|12|b|y\n"
    env.s3.put_object(Bucket=env.data, Key="wide/w.txt", Body=data)
    env.run(f"CREATE EXTERNAL TABLE wide (id int, amount bigint) ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' "
            f"LOCATION 's3://{env.data}/wide/'")
    fields = [line.split("|") for line in data.decode().splitlines()]

    ex = env.run("ALTER TABLE wide ADD COLUMNS (code string, tag string COMMENT 'the tag')")
    assert ex["StatementType"] == "DDL"
    assert _columns(env, "wide") == [("id", "int"), ("amount", "bigint"), ("code", "string"), ("tag", "string")]
    # Text columns are read by position (Hive's LazySimpleSerDe): the new columns see fields 3 and 4.
    assert env.query("SELECT id, code, tag FROM wide ORDER BY id")[1:] == [[f[0], f[2], f[3]] for f in fields]

    env.run("ALTER TABLE wide REPLACE COLUMNS (id int, second string)")
    assert _columns(env, "wide") == [("id", "int"), ("second", "string")]
    assert env.query("SELECT id, second FROM wide ORDER BY id")[1:] == [[f[0], f[1]] for f in fields]

    ex = env.run("ALTER TABLE wide ADD COLUMNS (second int)", expect="FAILED")
    assert "Duplicate column name: second" in ex["Status"]["StateChangeReason"]
    assert _columns(env, "wide") == [("id", "int"), ("second", "string")]


def test_alter_table_set_location(env):
    env.s3.put_object(Bucket=env.data, Key="old/o.txt", Body=b"1,a\n")
    env.s3.put_object(Bucket=env.data, Key="new/n.txt", Body=b"2,b\n3,c\n")
    env.run(f"CREATE EXTERNAL TABLE moved (id int, code string) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' "
            f"LOCATION 's3://{env.data}/old/'")
    assert env.query("SELECT id, code FROM moved")[1:] == [["1", "a"]]
    env.run(f"ALTER TABLE moved SET LOCATION 's3://{env.data}/new/'")
    table = env.glue.get_table(DatabaseName=env.db, Name="moved")["Table"]
    assert table["StorageDescriptor"]["Location"] == f"s3://{env.data}/new/"
    assert env.query("SELECT id, code FROM moved ORDER BY id")[1:] == [["2", "b"], ["3", "c"]]


# --------------------------------------------------------------------------- SHOW CREATE TABLE


def test_show_create_table_gives_hive_ddl_one_row_per_line(env):
    env.run(f"CREATE EXTERNAL TABLE {env.db}.sales (`date` string, amount int) "
            "PARTITIONED BY (year string) "
            "ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' "
            f"LOCATION 's3://{env.data}/sales/' TBLPROPERTIES ('classification'='csv')")
    ex = env.run("SHOW CREATE TABLE sales")
    assert ex["StatementType"] == "UTILITY"
    lines = [row[0] for row in env.rows(ex["QueryExecutionId"])]
    stamp = env.glue.get_table(DatabaseName=env.db, Name="sales")["Table"]["Parameters"]["transient_lastDdlTime"]
    # Hive's SHOW CREATE TABLE layout (Athena answers with it, one line per result row).
    assert lines == [
        "CREATE EXTERNAL TABLE `sales`(",
        "  `date` string, ",
        "  `amount` int)",
        "PARTITIONED BY ( ",
        "  `year` string)",
        "ROW FORMAT DELIMITED ",
        "  FIELDS TERMINATED BY '|' ",
        "STORED AS INPUTFORMAT ",
        "  'org.apache.hadoop.mapred.TextInputFormat' ",
        "OUTPUTFORMAT ",
        "  'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'",
        "LOCATION",
        f"  's3://{env.data}/sales/'",
        "TBLPROPERTIES (",
        "  'classification'='csv', ",
        f"  'transient_lastDdlTime'='{stamp}')",
    ]


def test_show_create_table_output_creates_the_same_table(env):
    env.run(f"""CREATE EXTERNAL TABLE {env.db}.pq (id int, tags array<string>, price decimal(10,2))
PARTITIONED BY (year string, month string)
ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'
STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'
LOCATION 's3://{env.data}/pq/'
TBLPROPERTIES ('classification'='parquet')""")
    lines = [row[0] for row in env.query("SHOW CREATE TABLE pq")]
    assert lines[0] == "CREATE EXTERNAL TABLE `pq`("
    env.run("\n".join(lines).replace("TABLE `pq`(", "TABLE `pq_copy`(", 1))
    original = env.glue.get_table(DatabaseName=env.db, Name="pq")["Table"]
    copy = env.glue.get_table(DatabaseName=env.db, Name="pq_copy")["Table"]
    for key in ("Columns", "Location", "InputFormat", "OutputFormat", "SerdeInfo"):
        assert copy["StorageDescriptor"][key] == original["StorageDescriptor"][key], key
    assert copy["PartitionKeys"] == original["PartitionKeys"]
    assert copy["Parameters"]["classification"] == "parquet"


def test_show_create_table_of_a_missing_table_fails(env):
    ex = env.run("SHOW CREATE TABLE nope", expect="FAILED")
    assert ex["Status"]["StateChangeReason"].startswith("TABLE_NOT_FOUND: ")
