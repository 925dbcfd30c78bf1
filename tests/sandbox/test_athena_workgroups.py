"""Athena workgroup settings, runtime statistics, named queries and prepared statements on the sandbox."""

from __future__ import annotations

import os

import pyarrow as pa
import pytest
from botocore.exceptions import ClientError

from tests.sandbox.test_athena import Env, _name


@pytest.fixture
def env(sandbox_env) -> Env:
    return Env(sandbox_env)


def _workgroup(env: Env, **configuration) -> str:
    name = _name("wg")
    env.athena.create_work_group(Name=name, Configuration=configuration)
    return name


# --------------------------------------------------------------------------- EnforceWorkGroupConfiguration


@pytest.mark.parametrize("enforce", [True, False])
def test_enforced_workgroup_output_location_overrides_the_clients(env, enforce):
    wg = _workgroup(
        env,
        ResultConfiguration={"OutputLocation": f"s3://{env.results}/wg/"},
        EnforceWorkGroupConfiguration=enforce,
    )
    ex = env.run("SELECT 1", WorkGroup=wg, ResultConfiguration={"OutputLocation": f"s3://{env.results}/client/"})
    qid = ex["QueryExecutionId"]
    # AWS: with EnforceWorkGroupConfiguration the workgroup's settings override client-side settings
    folder = "wg" if enforce else "client"
    assert ex["ResultConfiguration"]["OutputLocation"] == f"s3://{env.results}/{folder}/{qid}.csv"
    env.s3.head_object(Bucket=env.results, Key=f"{folder}/{qid}.csv")


# --------------------------------------------------------------------------- BytesScannedCutoffPerQuery


def _big_text_table(env: Env) -> int:
    """A text table of incompressible rows, just over Athena's smallest cutoff (10 MB); its size."""
    lines = [os.urandom(32).hex() for _ in range(10_000_000 // 64 + 1000)]
    body = ("\n".join(f"{i}|{v}" for i, v in enumerate(lines)) + "\n").encode()
    env.s3.put_object(Bucket=env.data, Key="big/rows.txt", Body=body)
    env.run(
        "CREATE EXTERNAL TABLE big (id bigint, v string) ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' "
        f"LOCATION 's3://{env.data}/big/'"
    )
    env.s3.put_object(Bucket=env.data, Key="small/rows.txt", Body=b"1|a\n")
    env.run(
        "CREATE EXTERNAL TABLE small (id bigint, v string) ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' "
        f"LOCATION 's3://{env.data}/small/'"
    )
    return len(body)


def test_bytes_scanned_cutoff_fails_a_query_that_scans_more(env):
    size = _big_text_table(env)
    cutoff = 10_000_000  # the smallest cutoff the API takes
    assert size > cutoff
    wg = _workgroup(
        env, ResultConfiguration={"OutputLocation": env.output}, BytesScannedCutoffPerQuery=cutoff
    )
    ex = env.run("SELECT count(*) FROM big", expect="FAILED", WorkGroup=wg)
    assert ex["Status"]["StateChangeReason"] == "Bytes scanned limit was exceeded"
    assert not env.s3.list_objects_v2(Bucket=env.data, Prefix="ctas/").get("Contents")
    ex = env.run(
        f"CREATE TABLE copy WITH (external_location = 's3://{env.data}/ctas/') AS SELECT * FROM big",
        expect="FAILED",
        WorkGroup=wg,
    )
    assert ex["Status"]["StateChangeReason"] == "Bytes scanned limit was exceeded"
    assert not env.s3.list_objects_v2(Bucket=env.data, Prefix="ctas/").get("Contents")
    # under the cutoff: runs; without a cutoff the big table runs and scans its whole size
    assert env.rows(env.run("SELECT count(*) FROM small", WorkGroup=wg)["QueryExecutionId"])[1] == ["1"]
    ex = env.run("SELECT count(*) FROM big")
    assert ex["Statistics"]["DataScannedInBytes"] == size


# --------------------------------------------------------------------------- GetQueryRuntimeStatistics


def test_query_runtime_statistics_count_rows_and_bytes(env):
    tables = [
        pa.table({"k": pa.array([i, i + 10, i + 20], pa.int64()), "v": [f"v{i}", None, "x"]}) for i in range(3)
    ]
    sizes = [env.put_parquet(f"stats/part-{i}.parquet", t) for i, t in enumerate(tables)]
    env.run(f"CREATE EXTERNAL TABLE stats (k bigint, v string) STORED AS PARQUET LOCATION 's3://{env.data}/stats/'")
    ex = env.run("SELECT k, v FROM stats WHERE k >= 10 ORDER BY k")
    qid = ex["QueryExecutionId"]
    stats = env.athena.get_query_runtime_statistics(QueryExecutionId=qid)["QueryRuntimeStatistics"]
    key = ex["ResultConfiguration"]["OutputLocation"].split(f"s3://{env.results}/", 1)[1]
    result_size = env.s3.head_object(Bucket=env.results, Key=key)["ContentLength"]
    matched = [k for t in tables for k in t.column("k").to_pylist() if k >= 10]
    assert stats["Rows"] == {
        "InputRows": sum(t.num_rows for t in tables),
        "InputBytes": sum(sizes),
        "OutputRows": len(matched),
        "OutputBytes": result_size,
    }
    timeline = stats["Timeline"]
    assert set(timeline) == {
        "QueryQueueTimeInMillis",
        "ServicePreProcessingTimeInMillis",
        "QueryPlanningTimeInMillis",
        "EngineExecutionTimeInMillis",
        "ServiceProcessingTimeInMillis",
        "TotalExecutionTimeInMillis",
    }
    assert timeline["TotalExecutionTimeInMillis"] == ex["Statistics"]["TotalExecutionTimeInMillis"]


# --------------------------------------------------------------------------- named queries


def test_named_queries_create_get_list_batch_get_delete(env):
    wg = _workgroup(env, ResultConfiguration={"OutputLocation": env.output})
    ids = [
        env.athena.create_named_query(
            Name=f"q{i}", Database=env.db, QueryString=f"SELECT {i}", Description=f"query {i}", WorkGroup=wg
        )["NamedQueryId"]
        for i in range(3)
    ]
    got = env.athena.get_named_query(NamedQueryId=ids[1])["NamedQuery"]
    assert (got["Name"], got["Database"], got["QueryString"], got["WorkGroup"]) == ("q1", env.db, "SELECT 1", wg)
    assert sorted(env.athena.list_named_queries(WorkGroup=wg)["NamedQueryIds"]) == sorted(ids)
    batch = env.athena.batch_get_named_query(NamedQueryIds=[ids[0], "nope"])
    assert [q["NamedQueryId"] for q in batch["NamedQueries"]] == [ids[0]]
    assert [u["NamedQueryId"] for u in batch["UnprocessedNamedQueryIds"]] == ["nope"]
    env.athena.delete_named_query(NamedQueryId=ids[0])
    assert sorted(env.athena.list_named_queries(WorkGroup=wg)["NamedQueryIds"]) == sorted(ids[1:])
    with pytest.raises(ClientError) as err:
        env.athena.get_named_query(NamedQueryId=ids[0])
    assert err.value.response["Error"]["Code"] == "InvalidRequestException"
    # a named query's text runs as any query
    assert env.query(got["QueryString"])[1] == ["1"]


# --------------------------------------------------------------------------- prepared statements


def test_prepare_execute_using_and_deallocate(env):
    env.s3.put_object(Bucket=env.data, Key="people/p.txt", Body=b"1|ann|31\n2|bob|45\n3|cid|27\n")
    env.run(
        "CREATE EXTERNAL TABLE people (id int, name string, age int) ROW FORMAT DELIMITED "
        f"FIELDS TERMINATED BY '|' LOCATION 's3://{env.data}/people/'"
    )
    wg = _workgroup(env, ResultConfiguration={"OutputLocation": env.output})
    env.run("PREPARE older FROM SELECT name FROM people WHERE age > ? AND name <> ? ORDER BY name", WorkGroup=wg)
    listed = env.athena.list_prepared_statements(WorkGroup=wg)["PreparedStatements"]
    assert [s["StatementName"] for s in listed] == ["older"]
    ex = env.run("EXECUTE older USING 30, 'bob'", WorkGroup=wg)
    assert ex["StatementType"] == "DML"
    people = [(1, "ann", 31), (2, "bob", 45), (3, "cid", 27)]
    assert env.rows(ex["QueryExecutionId"]) == [["name"]] + [[n] for _, n, a in people if a > 30 and n != "bob"]
    # ExecutionParameters stand for USING
    ex = env.run("EXECUTE older", WorkGroup=wg, ExecutionParameters=["26", "'zed'"])
    assert env.rows(ex["QueryExecutionId"])[1:] == [[n] for _, n, a in sorted(people, key=lambda p: p[1]) if a > 26]
    # statements belong to their workgroup
    ex = env.run("EXECUTE older USING 30, 'bob'", expect="FAILED")
    assert ex["Status"]["StateChangeReason"] == "NOT_FOUND: Prepared statement not found: older"
    ex = env.run("EXECUTE older USING 30", expect="FAILED", WorkGroup=wg)
    assert ex["Status"]["StateChangeReason"] == (
        "INVALID_PARAMETER_USAGE: line 1:1: Incorrect number of parameters: expected 2 but found 1"
    )
    env.run("DEALLOCATE PREPARE older", WorkGroup=wg)
    assert env.athena.list_prepared_statements(WorkGroup=wg)["PreparedStatements"] == []
    env.run("EXECUTE older USING 30, 'bob'", expect="FAILED", WorkGroup=wg)


def test_prepared_statement_api(env):
    wg = _workgroup(env, ResultConfiguration={"OutputLocation": env.output})
    env.athena.create_prepared_statement(StatementName="twice", WorkGroup=wg, QueryStatement="SELECT ? * 2 AS d")
    got = env.athena.get_prepared_statement(StatementName="twice", WorkGroup=wg)["PreparedStatement"]
    assert (got["StatementName"], got["QueryStatement"], got["WorkGroupName"]) == ("twice", "SELECT ? * 2 AS d", wg)
    assert env.rows(env.run("EXECUTE twice USING 21", WorkGroup=wg)["QueryExecutionId"]) == [["d"], [str(21 * 2)]]
    with pytest.raises(ClientError) as err:
        env.athena.create_prepared_statement(StatementName="twice", WorkGroup=wg, QueryStatement="SELECT 1")
    assert err.value.response["Error"]["Code"] == "InvalidRequestException"
    env.athena.update_prepared_statement(StatementName="twice", WorkGroup=wg, QueryStatement="SELECT ? * 3 AS d")
    assert env.rows(env.run("EXECUTE twice USING 2", WorkGroup=wg)["QueryExecutionId"]) == [["d"], [str(2 * 3)]]
    batch = env.athena.batch_get_prepared_statement(PreparedStatementNames=["twice", "nope"], WorkGroup=wg)
    assert [s["StatementName"] for s in batch["PreparedStatements"]] == ["twice"]
    assert [u["StatementName"] for u in batch["UnprocessedPreparedStatementNames"]] == ["nope"]
    env.athena.delete_prepared_statement(StatementName="twice", WorkGroup=wg)
    with pytest.raises(ClientError) as err:
        env.athena.get_prepared_statement(StatementName="twice", WorkGroup=wg)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
