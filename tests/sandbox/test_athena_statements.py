"""EXPLAIN and UNLOAD on the sandbox; what UNLOAD writes is read back apart from the sandbox (pyarrow, gzip, json)."""

from __future__ import annotations

import gzip
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.sandbox.test_athena import Env

ROWS = [(1, "ann", 12.5, "north"), (2, "bob", None, "south"), (3, None, 7.25, "north"), (4, "dan", 1.0, "east")]


@pytest.fixture
def env(sandbox_env) -> Env:
    e = Env(sandbox_env)
    t = pa.table(
        {
            "id": pa.array([r[0] for r in ROWS], pa.int64()),
            "name": [r[1] for r in ROWS],
            "score": pa.array([r[2] for r in ROWS], pa.float64()),
            "region": [r[3] for r in ROWS],
        }
    )
    e.put_parquet("src/part-0.parquet", t)
    e.run(
        "CREATE EXTERNAL TABLE src (id bigint, name string, score double, region string) STORED AS PARQUET "
        f"LOCATION 's3://{e.data}/src/'"
    )
    return e


def _objects(env: Env, prefix: str) -> dict[str, bytes]:
    listed = env.s3.list_objects_v2(Bucket=env.data, Prefix=prefix).get("Contents") or []
    return {o["Key"]: env.s3.get_object(Bucket=env.data, Key=o["Key"])["Body"].read() for o in listed}


def _manifest(env: Env, ex: dict) -> list[str]:
    location = ex["Statistics"]["DataManifestLocation"]
    assert location == f"{env.output}{ex['QueryExecutionId']}-manifest.csv"
    key = location.split(f"s3://{env.results}/", 1)[1]
    return env.s3.get_object(Bucket=env.results, Key=key)["Body"].read().decode().split()


# --------------------------------------------------------------------------- EXPLAIN


def test_explain_validate_answers_valid_or_fails_as_the_query_would(env):
    qid = env.run("EXPLAIN (TYPE VALIDATE) SELECT name FROM src WHERE score > 1")["QueryExecutionId"]
    assert env.rows(qid) == [["Valid"], ["true"]]
    meta = env.athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert [(c["Name"], c["Type"]) for c in meta] == [("Valid", "boolean")]
    sql = "EXPLAIN (TYPE VALIDATE) SELECT name FROM src WHERE id = 'x'"
    ex = env.run(sql, expect="FAILED")
    # positions count from the start of the whole statement (1-based, at the operator), as Trino reports them
    assert ex["Status"]["StateChangeReason"] == (
        f"TYPE_MISMATCH: line 1:{sql.index('=') + 1}: Cannot apply operator: bigint = varchar(1)"
    )
    ex = env.run("EXPLAIN (TYPE VALIDATE) SELECT nope FROM src", expect="FAILED")
    assert ex["Status"]["StateChangeReason"].startswith("COLUMN_NOT_FOUND: ")


def test_explain_answers_a_plan_in_one_query_plan_column(env):
    qid = env.run("EXPLAIN SELECT region, count(*) FROM src GROUP BY region")["QueryExecutionId"]
    rows = env.rows(qid)
    assert rows[0] == ["Query Plan"] and len(rows) > 1 and all(len(r) == 1 for r in rows)
    ex = env.run("EXPLAIN (TYPE IO) SELECT 1", expect="FAILED")
    assert ex["Status"]["StateChangeReason"] == "NOT_SUPPORTED: EXPLAIN (TYPE IO) is not emulated by the sandbox"


# --------------------------------------------------------------------------- UNLOAD


def test_unload_parquet_writes_the_rows_and_a_manifest(env):
    ex = env.run(f"UNLOAD (SELECT id, name FROM src WHERE id > 1) TO 's3://{env.data}/out/' WITH (format = 'PARQUET')")
    assert ex["StatementType"] == "DML" and ex["SubstatementType"] == "UNLOAD"
    assert env.rows(ex["QueryExecutionId"]) == []
    files = _objects(env, "out/")
    assert sorted(_manifest(env, ex)) == sorted(f"s3://{env.data}/{k}" for k in files)
    tables = [pq.read_table(io.BytesIO(body)) for body in files.values()]
    got = sorted(r for t in tables for r in zip(*(c.to_pylist() for c in t.columns), strict=True))
    assert got == sorted((i, n) for i, n, _, _ in ROWS if i > 1)
    # Athena's default compression for Parquet is GZIP
    assert {pq.ParquetFile(io.BytesIO(b)).metadata.row_group(0).column(0).compression for b in files.values()} == {
        "GZIP"
    }


def test_unload_textfile_partitioned_and_json(env):
    env.run(
        f"UNLOAD (SELECT id, name, score, region FROM src) TO 's3://{env.data}/text/' "
        "WITH (format = 'TEXTFILE', field_delimiter = ',', partitioned_by = ARRAY['region'])"
    )
    files = _objects(env, "text/")
    got = {}
    for key, body in files.items():
        region = key.split("region=", 1)[1].split("/", 1)[0]
        got[region] = sorted(gzip.decompress(body).decode().splitlines())

    def text(v):
        return "\\N" if v is None else str(v)

    expected: dict[str, list[str]] = {}
    for i, n, s, r in ROWS:
        expected.setdefault(r, []).append(",".join(text(v) for v in (i, n, s)))
    assert got == {r: sorted(lines) for r, lines in expected.items()}

    env.run(f"UNLOAD (SELECT id, name, score FROM src) TO 's3://{env.data}/json/' WITH (format = 'JSON')")
    bodies = _objects(env, "json/").values()
    lines = [json.loads(line) for body in bodies for line in gzip.decompress(body).splitlines()]
    assert sorted(lines, key=lambda d: d["id"]) == [{"id": i, "name": n, "score": s} for i, n, s, _ in ROWS]


def test_unload_fails_on_a_destination_with_data_and_a_missing_format(env):
    env.s3.put_object(Bucket=env.data, Key="full/x.txt", Body=b"x")
    ex = env.run(f"UNLOAD (SELECT 1) TO 's3://{env.data}/full/' WITH (format = 'PARQUET')", expect="FAILED")
    assert ex["Status"]["StateChangeReason"].startswith("HIVE_PATH_ALREADY_EXISTS: ")
    assert list(_objects(env, "full/")) == ["full/x.txt"]
    ex = env.run(f"UNLOAD (SELECT 1) TO 's3://{env.data}/nofmt/'", expect="FAILED")
    assert "format" in ex["Status"]["StateChangeReason"]
    ex = env.run(
        f"UNLOAD (SELECT id, region, name FROM src) TO 's3://{env.data}/p/' "
        "WITH (format = 'PARQUET', partitioned_by = ARRAY['region'])",
        expect="FAILED",
    )
    assert ex["Status"]["StateChangeReason"].startswith("HIVE_COLUMN_ORDER_MISMATCH: ")
