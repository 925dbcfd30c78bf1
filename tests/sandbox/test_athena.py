"""Athena on the sandbox through plain boto3: DDL into Glue, SQL on DuckDB, results, failures."""

from __future__ import annotations

import io
import time
import uuid

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError

from airflow_sfn_etl_sandbox.client import SandboxClient

DONE = {"SUCCEEDED", "FAILED", "CANCELLED"}


def _name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


class Env:
    """Unique buckets and database for one test, with helpers to run queries."""

    def __init__(self, sb) -> None:
        self.sb = sb
        self.s3 = sb.client("s3")
        self.athena = sb.client("athena")
        self.glue = sb.client("glue")
        self.results = _name("athena-res-")
        self.data = _name("athena-data-")
        self.db = _name("db_")
        self.s3.create_bucket(Bucket=self.results)
        self.s3.create_bucket(Bucket=self.data)
        self.output = f"s3://{self.results}/out/"
        self.run(f"CREATE DATABASE {self.db}")

    def start(self, sql: str, **kwargs) -> str:
        kwargs.setdefault("QueryExecutionContext", {"Database": getattr(self, "db", "default")})
        kwargs.setdefault("ResultConfiguration", {"OutputLocation": self.output})
        return self.athena.start_query_execution(QueryString=sql, **kwargs)["QueryExecutionId"]

    def wait(self, qid: str, timeout: float = 30) -> dict:
        deadline = time.time() + timeout
        while time.time() < deadline:
            ex = self.athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
            if ex["Status"]["State"] in DONE:
                return ex
            time.sleep(0.05)
        raise AssertionError(f"query {qid} did not finish")

    def run(self, sql: str, expect: str = "SUCCEEDED", **kwargs) -> dict:
        ex = self.wait(self.start(sql, **kwargs))
        assert ex["Status"]["State"] == expect, ex["Status"]
        return ex

    def rows(self, qid: str, **kwargs) -> list[list[str | None]]:
        out = []
        for page in self.athena.get_paginator("get_query_results").paginate(QueryExecutionId=qid, **kwargs):
            out.extend([d.get("VarCharValue") for d in row["Data"]] for row in page["ResultSet"]["Rows"])
        return out

    def query(self, sql: str) -> list[list[str | None]]:
        return self.rows(self.run(sql)["QueryExecutionId"])

    def put_parquet(self, key: str, table: pa.Table) -> int:
        buf = io.BytesIO()
        pq.write_table(table, buf)
        self.s3.put_object(Bucket=self.data, Key=key, Body=buf.getvalue())
        return len(buf.getvalue())


@pytest.fixture
def env(sandbox_env) -> Env:
    return Env(sandbox_env)


SALES_DDL = """CREATE EXTERNAL TABLE {db}.sales (
  date string, amount int, name string, closed boolean)
PARTITIONED BY (year string, month string)
ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'
STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'
LOCATION 's3://{bucket}/sales/'
TBLPROPERTIES ('classification'='parquet', 'compressionType'='none', 'typeOfData'='file')"""


def _sales(env: Env) -> int:
    """Three monthly partitions (9, 10, 12 of 2016), amounts 1..3 per month times the month; bytes written."""
    size = 0
    for month in (9, 10, 12):
        t = pa.table(
            {
                "date": [f"{month}/1/2016"] * 3,
                "amount": pa.array([month, 2 * month, 3 * month], pa.int64()),
                "name": ["a", "b", None],
                "closed": [True, False, True],
            }
        )
        size += env.put_parquet(f"sales/year=2016/month={month}/part-00000.snappy.parquet", t)
    env.s3.put_object(Bucket=env.data, Key="sales/_SUCCESS", Body=b"")
    return size


def test_create_external_table_registers_glue_table(env):
    env.run(SALES_DDL.format(db=env.db, bucket=env.data))
    table = env.glue.get_table(DatabaseName=env.db, Name="sales")["Table"]
    sd = table["StorageDescriptor"]
    assert [(c["Name"], c["Type"]) for c in sd["Columns"]] == [
        ("date", "string"),
        ("amount", "int"),
        ("name", "string"),
        ("closed", "boolean"),
    ]
    assert [(c["Name"], c["Type"]) for c in table["PartitionKeys"]] == [
        ("year", "string"),
        ("month", "string"),
    ]
    assert sd["Location"] == f"s3://{env.data}/sales/"
    assert sd["InputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    assert sd["OutputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
    assert (
        sd["SerdeInfo"]["SerializationLibrary"]
        == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    )
    assert table["TableType"] == "EXTERNAL_TABLE"
    assert table["Parameters"]["classification"] == "parquet"
    assert table["Parameters"]["typeOfData"] == "file"
    # IF NOT EXISTS is a no-op; without it, a second CREATE fails.
    env.run(SALES_DDL.format(db=env.db, bucket=env.data).replace("TABLE", "TABLE IF NOT EXISTS", 1))
    ex = env.run(SALES_DDL.format(db=env.db, bucket=env.data), expect="FAILED")
    assert "already exists" in ex["Status"]["StateChangeReason"]


def test_msck_repair_registers_partitions_and_select_reads_only_them(env):
    scanned = _sales(env)
    env.run(SALES_DDL.format(db=env.db, bucket=env.data))
    assert env.query("SELECT count(*) FROM sales") == [["_col0"], ["0"]]  # no partitions registered yet
    env.run("MSCK REPAIR TABLE sales")
    parts = env.glue.get_partitions(DatabaseName=env.db, TableName="sales")["Partitions"]
    assert sorted(p["Values"][1] for p in parts) == ["10", "12", "9"]
    assert {p["StorageDescriptor"]["Location"] for p in parts} == {
        f"s3://{env.data}/sales/year=2016/month={m}/" for m in (9, 10, 12)
    }
    ex = env.run(
        "SELECT year, month, sum(amount) AS total, count(name) AS named FROM sales "
        "GROUP BY year, month ORDER BY month DESC"
    )
    # month is a string partition column: it sorts as text, as on Athena.
    assert env.rows(ex["QueryExecutionId"]) == [
        ["year", "month", "total", "named"],
        ["2016", "9", "54", "2"],
        ["2016", "12", "72", "2"],
        ["2016", "10", "60", "2"],
    ]
    assert ex["Statistics"]["DataScannedInBytes"] == scanned
    assert ex["Statistics"]["EngineExecutionTimeInMillis"] >= 0
    assert ex["Statistics"]["TotalExecutionTimeInMillis"] >= ex["Statistics"]["EngineExecutionTimeInMillis"]
    info = env.athena.get_query_results(QueryExecutionId=ex["QueryExecutionId"])
    types = [(c["Name"], c["Type"]) for c in info["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]]
    assert types == [("year", "varchar"), ("month", "varchar"), ("total", "bigint"), ("named", "bigint")]
    # A second repair finds nothing new.
    env.run("MSCK REPAIR TABLE sales")
    assert len(env.glue.get_partitions(DatabaseName=env.db, TableName="sales")["Partitions"]) == 3


def test_partition_columns_are_typed_as_declared(env):
    _sales(env)
    env.run(SALES_DDL.format(db=env.db, bucket=env.data).replace("month string)", "month int)"))
    env.run("MSCK REPAIR TABLE sales")
    ex = env.run("SELECT DISTINCT month FROM sales ORDER BY month DESC")
    assert env.rows(ex["QueryExecutionId"]) == [["month"], ["12"], ["10"], ["9"]]
    info = env.athena.get_query_results(QueryExecutionId=ex["QueryExecutionId"])
    assert info["ResultSet"]["ResultSetMetadata"]["ColumnInfo"][0]["Type"] == "integer"


def test_alter_table_add_partition(env):
    _sales(env)
    env.run(SALES_DDL.format(db=env.db, bucket=env.data))
    env.run("ALTER TABLE sales ADD PARTITION (year='2016', month='12')")
    assert env.query("SELECT sum(amount) FROM sales") == [["_col0"], ["72"]]
    env.run(
        f"ALTER TABLE sales ADD IF NOT EXISTS PARTITION (year='2016', month='12') "
        f"PARTITION (year='2016', month='9') LOCATION 's3://{env.data}/sales/year=2016/month=9/'"
    )
    assert env.query("SELECT sum(amount) FROM sales") == [["_col0"], ["126"]]
    ex = env.run("ALTER TABLE sales ADD PARTITION (year='2016', month='12')", expect="FAILED")
    assert "already exists" in ex["Status"]["StateChangeReason"]


def test_textfile_csv_with_header_and_types(env):
    env.s3.put_object(
        Bucket=env.data,
        Key="csv/people.csv",
        Body=b"id,name,score,active,born,price\n007,ann,1.5,true,2001-02-03,12.30\n"
        b"2,bob,x,false,bad-date,1\n3,,2,true,2000-01-01,\n",
    )
    env.run(f"""CREATE EXTERNAL TABLE people (id bigint, name string, score double, active boolean, born date,
                price decimal(10,2))
                ROW FORMAT DELIMITED FIELDS TERMINATED BY ','
                STORED AS TEXTFILE LOCATION 's3://{env.data}/csv/'
                TBLPROPERTIES ('skip.header.line.count'='1')""")
    table = env.glue.get_table(DatabaseName=env.db, Name="people")["Table"]
    assert table["StorageDescriptor"]["SerdeInfo"]["Parameters"]["field.delim"] == ","
    assert table["Parameters"]["skip.header.line.count"] == "1"
    assert env.query("SELECT id, name, score, active, born, price FROM people ORDER BY id") == [
        ["id", "name", "score", "active", "born", "price"],
        ["2", "bob", None, "false", None, "1.00"],
        ["3", "", "2.0", "true", "2000-01-01", None],
        ["7", "ann", "1.5", "true", "2001-02-03", "12.30"],
    ]


def test_joins_subqueries_cast_and_ctes(env):
    _sales(env)
    env.run(SALES_DDL.format(db=env.db, bucket=env.data))
    env.run("MSCK REPAIR TABLE sales")
    env.s3.put_object(Bucket=env.data, Key="targets/t.csv", Body=b"9|100\n10|50\n12|70\n")
    env.run(
        f"CREATE EXTERNAL TABLE targets (month int, target bigint) ROW FORMAT DELIMITED "
        f"FIELDS TERMINATED BY '|' LOCATION 's3://{env.data}/targets/'"
    )
    rows = env.query(f"""
        WITH monthly AS (SELECT CAST(month AS integer) AS m, sum(amount) AS total
                         FROM {env.db}.sales GROUP BY 1)
        SELECT t.month, monthly.total, t.target, monthly.total > t.target AS hit, 7 / 2 AS half,
               round(avg(monthly.total) OVER (), 1) AS mean
        FROM monthly JOIN targets t ON t.month = monthly.m
        WHERE monthly.total IN (SELECT total FROM monthly WHERE total > 0)
        ORDER BY t.month""")
    assert rows == [
        ["month", "total", "target", "hit", "half", "mean"],
        ["9", "54", "100", "false", "3", "62.0"],
        ["10", "60", "50", "true", "3", "62.0"],
        ["12", "72", "70", "true", "3", "62.0"],
    ]


def test_results_file_nulls_and_pagination(env):
    n = 2500
    env.put_parquet(
        "big/part-0.parquet", pa.table({"i": list(range(n)), "s": [None if i % 2 else "" for i in range(n)]})
    )
    env.run(f"CREATE EXTERNAL TABLE big (i int, s string) STORED AS PARQUET LOCATION 's3://{env.data}/big/'")
    ex = env.run("SELECT i, s FROM big ORDER BY i")
    qid = ex["QueryExecutionId"]
    assert ex["ResultConfiguration"]["OutputLocation"] == f"{env.output}{qid}.csv"
    assert ex["StatementType"] == "DML"
    body = env.s3.get_object(Bucket=env.results, Key=f"out/{qid}.csv")["Body"].read().decode()
    assert body.splitlines()[:3] == ['"i","s"', '"0",""', '"1",']
    first = env.athena.get_query_results(QueryExecutionId=qid, MaxResults=1000)
    assert len(first["ResultSet"]["Rows"]) == 1000 and "NextToken" in first
    assert first["ResultSet"]["Rows"][0]["Data"] == [{"VarCharValue": "i"}, {"VarCharValue": "s"}]
    assert first["ResultSet"]["Rows"][1]["Data"] == [{"VarCharValue": "0"}, {"VarCharValue": ""}]
    assert first["ResultSet"]["Rows"][2]["Data"] == [{"VarCharValue": "1"}, {}]  # NULL has no value
    second = env.athena.get_query_results(QueryExecutionId=qid, MaxResults=1000, NextToken=first["NextToken"])
    assert second["ResultSet"]["Rows"][0]["Data"][0] == {"VarCharValue": "999"}
    rows = env.rows(qid)
    assert len(rows) == n + 1 and rows[-1] == [str(n - 1), None]


def test_syntax_error_fails_with_reason(env):
    ex = env.run("SELECT FROM WHERE", expect="FAILED")
    reason = ex["Status"]["StateChangeReason"]
    assert reason.startswith("line 1:") and "mismatched input" in reason
    assert ex["Status"]["AthenaError"]["ErrorCategory"] == 2
    assert ex["Status"]["AthenaError"]["ErrorMessage"] == reason
    with pytest.raises(ClientError, match="did not finish successfully"):
        env.athena.get_query_results(QueryExecutionId=ex["QueryExecutionId"])


def test_missing_table_and_column(env):
    ex = env.run("SELECT * FROM nope", expect="FAILED")
    assert f"Table 'awsdatacatalog.{env.db}.nope' does not exist" in ex["Status"]["StateChangeReason"]
    assert ex["Status"]["StateChangeReason"].startswith("TABLE_NOT_FOUND: line 1:15:")
    ex = env.run("SELECT * FROM nodb.t", expect="FAILED")
    assert "Schema 'nodb' does not exist" in ex["Status"]["StateChangeReason"]
    env.put_parquet("c/p.parquet", pa.table({"a": [1]}))
    env.run(f"CREATE EXTERNAL TABLE c (a int) STORED AS PARQUET LOCATION 's3://{env.data}/c/'")
    ex = env.run("SELECT zz FROM c", expect="FAILED")
    assert ex["Status"]["StateChangeReason"].startswith("COLUMN_NOT_FOUND: Column 'zz' cannot be resolved")


def test_missing_output_location(env):
    with pytest.raises(ClientError) as err:
        env.athena.start_query_execution(QueryString="SELECT 1")
    assert err.value.response["Error"]["Code"] == "InvalidRequestException"
    assert "No output location provided" in err.value.response["Error"]["Message"]
    with pytest.raises(ClientError, match="WorkGroup nowg is not found"):
        env.athena.start_query_execution(QueryString="SELECT 1", WorkGroup="nowg")


def test_workgroup_output_location_is_the_default(env):
    wg = _name("wg")
    env.athena.create_work_group(
        Name=wg, Configuration={"ResultConfiguration": {"OutputLocation": f"s3://{env.results}/wg/"}}
    )
    conf = env.athena.get_work_group(WorkGroup=wg)["WorkGroup"]["Configuration"]
    assert conf["ResultConfiguration"]["OutputLocation"] == f"s3://{env.results}/wg/"
    qid = env.athena.start_query_execution(QueryString="SELECT 1 AS one, 'x' AS two", WorkGroup=wg)[
        "QueryExecutionId"
    ]
    ex = env.wait(qid)
    assert ex["Status"]["State"] == "SUCCEEDED" and ex["WorkGroup"] == wg
    assert ex["ResultConfiguration"]["OutputLocation"] == f"s3://{env.results}/wg/{qid}.csv"
    env.s3.head_object(Bucket=env.results, Key=f"wg/{qid}.csv")
    assert env.rows(qid) == [["one", "two"], ["1", "x"]]
    listed = env.athena.list_query_executions(WorkGroup=wg)["QueryExecutionIds"]
    assert listed == [qid]


def test_ctas_default_location_partitions_and_existing_table(env):
    _sales(env)
    wg = _name("wg")
    env.athena.create_work_group(
        Name=wg, Configuration={"ResultConfiguration": {"OutputLocation": f"s3://{env.results}/wg/"}}
    )
    env.run(SALES_DDL.format(db=env.db, bucket=env.data), WorkGroup=wg)
    env.run("MSCK REPAIR TABLE sales", WorkGroup=wg)
    qid = env.start(
        "CREATE TABLE summary AS SELECT month, sum(amount) AS total FROM sales GROUP BY month",
        WorkGroup=wg,
        ResultConfiguration={},
    )
    ex = env.wait(qid)
    assert ex["Status"]["State"] == "SUCCEEDED", ex["Status"]
    assert ex["SubstatementType"] == "CREATE_TABLE_AS_SELECT"
    table = env.glue.get_table(DatabaseName=env.db, Name="summary")["Table"]
    assert table["StorageDescriptor"]["Location"] == f"s3://{env.results}/wg/tables/{qid}/"
    assert [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]] == [
        ("month", "string"),
        ("total", "bigint"),
    ]
    keys = [
        o["Key"] for o in env.s3.list_objects_v2(Bucket=env.results, Prefix=f"wg/tables/{qid}/")["Contents"]
    ]
    assert keys and all(k.endswith(".parquet") for k in keys)
    assert env.athena.get_query_results(QueryExecutionId=qid)["UpdateCount"] == 3
    assert env.query("SELECT total FROM summary ORDER BY total") == [["total"], ["54"], ["60"], ["72"]]
    # CTAS onto an existing table fails.
    ex = env.run("CREATE TABLE summary AS SELECT 1 AS x", expect="FAILED", WorkGroup=wg)
    assert f"Table 'awsdatacatalog.{env.db}.summary' already exists" in ex["Status"]["StateChangeReason"]
    # Partitioned CTAS to an external location registers its partitions.
    env.run(
        f"CREATE TABLE bymonth WITH (format='PARQUET', external_location='s3://{env.data}/bymonth/', "
        f"partitioned_by=ARRAY['month']) AS SELECT name, amount, month FROM sales WHERE name IS NOT NULL"
    )
    table = env.glue.get_table(DatabaseName=env.db, Name="bymonth")["Table"]
    assert [c["Name"] for c in table["PartitionKeys"]] == ["month"]
    parts = env.glue.get_partitions(DatabaseName=env.db, TableName="bymonth")["Partitions"]
    assert sorted(p["Values"][0] for p in parts) == ["10", "12", "9"]
    keys = [o["Key"] for o in env.s3.list_objects_v2(Bucket=env.data, Prefix="bymonth/")["Contents"]]
    assert {k.split("/")[1] for k in keys} == {"month=9", "month=10", "month=12"}
    assert env.query("SELECT month, sum(amount) FROM bymonth GROUP BY month ORDER BY CAST(month AS int)") == [
        ["month", "_col1"],
        ["9", "27"],
        ["10", "30"],
        ["12", "36"],
    ]
    # A non-empty target folder fails, as on Athena.
    ex = env.run(
        f"CREATE TABLE again WITH (external_location='s3://{env.data}/bymonth/') AS SELECT 1 AS x",
        expect="FAILED",
    )
    assert ex["Status"]["StateChangeReason"].startswith("HIVE_PATH_ALREADY_EXISTS")


def test_drop_table_keeps_data_and_database_statements(env):
    _sales(env)
    env.run(SALES_DDL.format(db=env.db, bucket=env.data))
    env.run("DROP TABLE sales")
    with pytest.raises(ClientError):
        env.glue.get_table(DatabaseName=env.db, Name="sales")
    assert env.s3.list_objects_v2(Bucket=env.data, Prefix="sales/")["KeyCount"] == 4
    env.run("DROP TABLE IF EXISTS sales")
    ex = env.run("DROP TABLE sales", expect="FAILED")
    assert "does not exist" in ex["Status"]["StateChangeReason"]
    other = _name("other_")
    env.run(f"CREATE DATABASE IF NOT EXISTS {other}")
    env.run(f"CREATE DATABASE IF NOT EXISTS {other}")
    assert env.glue.get_database(Name=other)["Database"]["Name"] == other
    ex = env.run(f"CREATE DATABASE {other}", expect="FAILED")
    assert "already exists" in ex["Status"]["StateChangeReason"]
    env.run(SALES_DDL.format(db=other, bucket=env.data))
    assert env.query(f"SHOW TABLES IN {other}") == [["sales"]]  # SHOW output has no header row


def _slow_look(monkeypatch, name: str) -> None:
    """Make the catalog look-up ``name`` linger, widening the gap between looking and acting."""
    from airflow_sfn_etl_sandbox.sql import catalog

    original = getattr(catalog, name)

    def slow(*args, **kwargs):
        found = original(*args, **kwargs)
        time.sleep(0.5)
        return found

    monkeypatch.setattr(catalog, name, slow)


def test_concurrent_drops_if_exists_all_succeed(env, monkeypatch):
    """Two runs dropping the same table at once: as on Athena, IF EXISTS makes both succeed."""
    _sales(env)
    env.run(SALES_DDL.format(db=env.db, bucket=env.data))
    _slow_look(monkeypatch, "table_dict")
    ids = [env.start("DROP TABLE IF EXISTS sales") for _ in range(3)]
    assert [env.wait(qid)["Status"]["State"] for qid in ids] == ["SUCCEEDED"] * 3


def test_concurrent_creates_one_wins_and_if_not_exists_succeeds(env, monkeypatch):
    _sales(env)
    _slow_look(monkeypatch, "table_exists")
    ids = [env.start(SALES_DDL.format(db=env.db, bucket=env.data)) for _ in range(3)]
    done = [env.wait(qid)["Status"] for qid in ids]
    assert sorted(s["State"] for s in done) == ["FAILED", "FAILED", "SUCCEEDED"], done
    assert all("already exists" in s["StateChangeReason"] for s in done if s["State"] == "FAILED"), done
    env.run("DROP TABLE sales")
    lenient = SALES_DDL.format(db=env.db, bucket=env.data).replace("EXTERNAL TABLE", "EXTERNAL TABLE IF NOT EXISTS")
    ids = [env.start(lenient) for _ in range(3)]
    assert [env.wait(qid)["Status"]["State"] for qid in ids] == ["SUCCEEDED"] * 3


def test_stop_running_query(env):
    client = SandboxClient(env.sb.endpoint_url)
    tag = _name("slow")
    client.delay("athena_query", pattern=tag, seconds=30)
    qid = env.start(f"SELECT 1 AS {tag}")
    deadline = time.time() + 10
    while (
        env.athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]["State"] != "RUNNING"
    ):
        assert time.time() < deadline
        time.sleep(0.05)
    with pytest.raises(ClientError, match="has not yet finished"):
        env.athena.get_query_results(QueryExecutionId=qid)
    env.athena.stop_query_execution(QueryExecutionId=qid)
    ex = env.wait(qid, timeout=5)
    assert ex["Status"]["State"] == "CANCELLED"
    assert "CompletionDateTime" in ex["Status"]


def test_fail_fault_on_query_text(env):
    client = SandboxClient(env.sb.endpoint_url)
    tag = _name("doomed")
    client.fail_query(pattern=tag, message="HIVE_CURSOR_ERROR: injected")
    ex = env.run(f"SELECT 1 AS {tag}", expect="FAILED")
    assert ex["Status"]["StateChangeReason"] == "HIVE_CURSOR_ERROR: injected"
    assert env.query("SELECT 2 AS fine") == [["fine"], ["2"]]


def test_client_request_token_is_idempotent(env):
    wg = _name("wg")
    env.athena.create_work_group(
        Name=wg, Configuration={"ResultConfiguration": {"OutputLocation": f"s3://{env.results}/wg/"}}
    )
    token = uuid.uuid4().hex + uuid.uuid4().hex
    a = env.start("SELECT 1", WorkGroup=wg, ClientRequestToken=token)
    b = env.start("SELECT 1", WorkGroup=wg, ClientRequestToken=token)
    c = env.start("SELECT 1", WorkGroup=wg)
    assert a == b != c
    env.wait(a)
    env.wait(c)
    assert sorted(env.athena.list_query_executions(WorkGroup=wg)["QueryExecutionIds"]) == sorted([a, c])


def test_batch_get_and_list_pagination(env):
    wg = _name("wg")
    env.athena.create_work_group(
        Name=wg, Configuration={"ResultConfiguration": {"OutputLocation": f"s3://{env.results}/wg/"}}
    )
    ids = [env.start(f"SELECT {i}", WorkGroup=wg) for i in range(5)]
    for qid in ids:
        env.wait(qid)
    got = env.athena.batch_get_query_execution(QueryExecutionIds=ids[:2] + ["nope"])
    assert sorted(e["QueryExecutionId"] for e in got["QueryExecutions"]) == sorted(ids[:2])
    assert got["UnprocessedQueryExecutionIds"][0]["QueryExecutionId"] == "nope"
    page = env.athena.list_query_executions(WorkGroup=wg, MaxResults=2)
    assert len(page["QueryExecutionIds"]) == 2 and "NextToken" in page
    listed = []
    for p in env.athena.get_paginator("list_query_executions").paginate(
        WorkGroup=wg, PaginationConfig={"PageSize": 2}
    ):
        listed += p["QueryExecutionIds"]
    assert listed == list(reversed(ids))  # newest first
    with pytest.raises(ClientError, match="was not found"):
        env.athena.get_query_execution(QueryExecutionId="nope")


def test_upstream_amazon_athena_hook(env, sandbox_env):
    from airflow.providers.amazon.aws.hooks.athena import AthenaHook

    hook = AthenaHook(aws_conn_id="aws_default", region_name="us-east-1")
    _sales(env)
    qid = hook.run_query(
        SALES_DDL.format(db=env.db, bucket=env.data),
        query_context={"Database": env.db},
        result_configuration={"OutputLocation": env.output},
    )
    assert hook.poll_query_status(qid, sleep_time=1) == "SUCCEEDED"
    qid = hook.run_query(
        "MSCK REPAIR TABLE sales",
        query_context={"Database": env.db},
        result_configuration={"OutputLocation": env.output},
    )
    assert hook.poll_query_status(qid, sleep_time=1) == "SUCCEEDED"
    qid = hook.run_query(
        "SELECT sum(amount) AS total FROM sales",
        query_context={"Database": env.db},
        result_configuration={"OutputLocation": env.output},
        client_request_token=uuid.uuid4().hex * 2,
    )
    assert hook.poll_query_status(qid, sleep_time=1) == "SUCCEEDED"
    results = hook.get_query_results(qid)
    assert [r["Data"][0]["VarCharValue"] for r in results["ResultSet"]["Rows"]] == ["total", "186"]
    assert hook.get_output_location(qid) == f"{env.output}{qid}.csv"


def test_upstream_amazon_athena_operator(env, sandbox_env):
    from airflow.providers.amazon.aws.operators.athena import AthenaOperator

    op = AthenaOperator(
        task_id="op",
        query="SELECT 40 + 2 AS answer",
        database=env.db,
        output_location=env.output,
        sleep_time=1,
        aws_conn_id="aws_default",
        region_name="us-east-1",
    )
    qid = op.execute({})
    ex = env.athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
    assert ex["Status"]["State"] == "SUCCEEDED"
    assert env.rows(qid) == [["answer"], ["42"]]
