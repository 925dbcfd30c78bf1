"""Athena partition projection: partitions computed from table properties, read from sandbox S3.

Expected rows come from the raw files read back from S3 with pyarrow, their partition values
taken from where each file was written, and the projection rules AWS documents applied in Python.
"""

from __future__ import annotations

import datetime as dt
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.sandbox.test_athena import Env

PARQUET = """ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'
STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'"""


@pytest.fixture
def env(sandbox_env) -> Env:
    return Env(sandbox_env)


def _write(env: Env, key: str, n: int, seed: int) -> None:
    """A Parquet file of ``n`` rows (id, amount) distinct per ``seed``."""
    env.put_parquet(key, pa.table({"id": pa.array([seed * 100 + i for i in range(n)], pa.int32()),
                                   "amount": pa.array([float(seed + i) / 4 for i in range(n)], pa.float64())}))


def _raw(env: Env, key: str) -> list[dict[str, object]]:
    """A file's rows as written, read back from S3 with pyarrow."""
    body = env.s3.get_object(Bucket=env.data, Key=key)["Body"].read()
    return pq.read_table(io.BytesIO(body)).to_pylist()


def _expected(env: Env, files: dict[str, dict[str, object]], columns: list[str]) -> list[list[str | None]]:
    """Rows of the given files (key -> the partition values the file's location stands for), as
    GetQueryResults prints them, sorted."""
    rows = []
    for key, values in files.items():
        for row in _raw(env, key):
            full = {**row, **values}
            rows.append([None if full[c] is None else str(full[c]) for c in columns])
    return sorted(rows)


def _rows(env: Env, sql: str) -> list[list[str | None]]:
    return sorted(env.query(sql)[1:])


def _reason(env: Env, sql: str) -> str:
    return env.run(sql, expect="FAILED")["Status"]["StateChangeReason"]


# --------------------------------------------------------------------------- integer and enum, Hive-style


def _events(env: Env) -> dict[tuple[str, int], str]:
    """Files under Hive-style folders region=<r>/hour=<hh>/ (digits 2); some outside the projection."""
    files = {}
    for i, (region, hour) in enumerate([("eu", 0), ("eu", 2), ("us", 1), ("us", 3), ("us", 7), ("ap", 1)]):
        key = f"events/region={region}/hour={hour:02d}/part-{i}.parquet"
        _write(env, key, 2 + i % 2, i + 1)
        files[(region, hour)] = key
    return files


def test_integer_and_enum_projection_reads_hive_style_locations(env):
    files = _events(env)
    # a misplaced file (hour not zero-padded) and a catalog partition: neither is a projected location
    _write(env, "events/region=eu/hour=2/stray.parquet", 2, 90)
    env.run(f"""CREATE EXTERNAL TABLE events (id int, amount double)
PARTITIONED BY (region string, hour int) {PARQUET}
LOCATION 's3://{env.data}/events/'
TBLPROPERTIES ('projection.enabled'='true',
  'projection.region.type'='enum', 'projection.region.values'='eu,us',
  'projection.hour.type'='integer', 'projection.hour.range'='0,5', 'projection.hour.digits'='2')""")
    env.run(f"ALTER TABLE events ADD PARTITION (region='eu', hour=2) "
            f"LOCATION 's3://{env.data}/events/region=eu/hour=2/'")

    # projected: regions eu, us; hours 0..5 at folders hour=00..hour=05; others are not read
    inside = {k: {"region": r, "hour": h} for (r, h), k in files.items() if r in ("eu", "us") and h <= 5}
    cols = ["id", "amount", "region", "hour"]
    assert _rows(env, "SELECT id, amount, region, hour FROM events") == _expected(env, inside, cols)

    qid = env.run("SELECT hour, region FROM events LIMIT 1")["QueryExecutionId"]
    meta = env.athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert [(c["Name"], c["Type"]) for c in meta] == [("hour", "integer"), ("region", "varchar")]

    pruned = {k: v for k, v in inside.items() if 1 <= v["hour"] <= 3 and v["region"] == "us"}
    sql = "SELECT id, amount, region, hour FROM events WHERE hour BETWEEN 1 AND 3 AND region IN ('us')"
    assert _rows(env, sql) == _expected(env, pruned, cols)
    assert pruned  # the filter keeps some of the data
    two = {k: v for k, v in inside.items() if v["hour"] == 2}
    assert _rows(env, "SELECT id, amount, region, hour FROM events e WHERE e.hour = 2") == _expected(env, two, cols)
    # the table read twice: each read's own WHERE
    sql = ("SELECT id, amount, region, hour FROM events WHERE hour = 0 UNION ALL "
           "SELECT id, amount, region, hour FROM events WHERE region = 'us' AND hour = 3")
    twice = {k: v for k, v in inside.items() if v["hour"] == 0 or (v["region"] == "us" and v["hour"] == 3)}
    assert _rows(env, sql) == _expected(env, twice, cols)
    # a value outside the range is an empty result, not an error
    assert _rows(env, "SELECT id FROM events WHERE hour = 7") == []
    # an OR across columns prunes nothing and still filters
    either = {k: v for k, v in inside.items() if v["hour"] == 0 or v["region"] == "us"}
    sql = "SELECT id, amount, region, hour FROM events WHERE hour = 0 OR region = 'us'"
    assert _rows(env, sql) == _expected(env, either, cols)


def test_integer_interval_and_string_column_keep_the_digits(env):
    for hour in range(0, 12):
        _write(env, f"ticks/{hour:03d}/f.parquet", 1, hour + 1)
    env.glue.create_table(DatabaseName=env.db, TableInput={
        "Name": "ticks", "TableType": "EXTERNAL_TABLE",
        "Parameters": {"projection.enabled": "true", "projection.slot.type": "integer",
                       "projection.slot.range": "0,10", "projection.slot.interval": "5",
                       "projection.slot.digits": "3",
                       "storage.location.template": f"s3://{env.data}/ticks/${{slot}}/",
                       "classification": "parquet"},
        "PartitionKeys": [{"Name": "slot", "Type": "string"}],
        "StorageDescriptor": {
            "Columns": [{"Name": "id", "Type": "int"}, {"Name": "amount", "Type": "double"}],
            "Location": f"s3://{env.data}/ticks/",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"}}})
    files = {f"ticks/{s:03d}/f.parquet": {"slot": f"{s:03d}"} for s in range(0, 11, 5)}
    assert _rows(env, "SELECT id, slot FROM ticks") == _expected(env, files, ["id", "slot"])
    assert _rows(env, "SELECT id, slot FROM ticks WHERE slot = '005'") == _expected(
        env, {k: v for k, v in files.items() if v["slot"] == "005"}, ["id", "slot"])


# --------------------------------------------------------------------------- date


def test_date_projection_with_a_location_template(env):
    days = [dt.date(2024, 1, 29) + dt.timedelta(days=i) for i in range(6)]  # 01/29 .. 02/03
    files = {}
    for i, day in enumerate(days):
        for hour in (3, 4):
            key = f"logs/{day:%Y/%m/%d}/{hour:02d}/data.parquet"
            _write(env, key, 2, 10 * i + hour)
            files[key] = {"day": f"{day:%Y/%m/%d}", "hour": hour}
    env.run(f"""CREATE EXTERNAL TABLE logs (id int, amount double)
PARTITIONED BY (day string, hour int) {PARQUET}
LOCATION 's3://{env.data}/logs/'
TBLPROPERTIES ('projection.enabled'='true',
  'projection.day.type'='date', 'projection.day.format'='yyyy/MM/dd',
  'projection.day.range'='2024/01/30,2024/02/02', 'projection.day.interval'='1',
  'projection.day.interval.unit'='DAYS',
  'projection.hour.type'='integer', 'projection.hour.range'='0,23', 'projection.hour.digits'='2',
  'storage.location.template'='s3://{env.data}/logs/${{day}}/${{hour}}/')""")
    inside = {k: v for k, v in files.items() if "2024/01/30" <= str(v["day"]) <= "2024/02/02"}
    cols = ["id", "day", "hour"]
    assert _rows(env, "SELECT id, day, hour FROM logs") == _expected(env, inside, cols)
    one = {k: v for k, v in inside.items() if v["day"] == "2024/01/31" and int(str(v["hour"])) > 3}
    assert _rows(env, "SELECT id, day, hour FROM logs WHERE day = '2024/01/31' AND hour > 3") == _expected(
        env, one, cols)
    assert one


def test_date_projection_into_a_date_column_is_typed(env):
    start = dt.date(2023, 12, 30)
    files = {}
    for i in range(5):
        day = start + dt.timedelta(days=i)
        key = f"daily/dt={day:%Y%m%d}/f.parquet"
        _write(env, key, 1 + i % 2, i + 1)
        files[key] = {"dt": day.isoformat()}
    env.run(f"""CREATE EXTERNAL TABLE daily (id int, amount double)
PARTITIONED BY (dt date) {PARQUET}
LOCATION 's3://{env.data}/daily/'
TBLPROPERTIES ('projection.enabled'='true', 'projection.dt.type'='date',
  'projection.dt.format'='yyyyMMdd', 'projection.dt.range'='20231231,20240102')""")
    inside = {k: v for k, v in files.items() if "2023-12-31" <= str(v["dt"]) <= "2024-01-02"}
    assert _rows(env, "SELECT id, dt FROM daily") == _expected(env, inside, ["id", "dt"])
    qid = env.run("SELECT dt FROM daily LIMIT 1")["QueryExecutionId"]
    meta = env.athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert meta[0]["Type"] == "date"
    new_year = {k: v for k, v in inside.items() if v["dt"] == "2024-01-01"}
    assert _rows(env, "SELECT id, dt FROM daily WHERE dt = DATE '2024-01-01'") == _expected(
        env, new_year, ["id", "dt"])


def test_date_projection_by_month_defaults_to_one_month_steps(env):
    months = ["2023-10", "2023-11", "2023-12", "2024-01", "2024-02", "2024-03"]
    files = {}
    for i, month in enumerate(months):
        key = f"monthly/month={month}/f.parquet"
        _write(env, key, 2, i + 1)
        files[key] = {"month": month}
    env.run(f"""CREATE EXTERNAL TABLE monthly (id int, amount double)
PARTITIONED BY (month string) {PARQUET}
LOCATION 's3://{env.data}/monthly/'
TBLPROPERTIES ('projection.enabled'='true', 'projection.month.type'='date',
  'projection.month.format'='yyyy-MM', 'projection.month.range'='2023-11,2024-02')""")
    inside = {k: v for k, v in files.items() if "2023-11" <= str(v["month"]) <= "2024-02"}
    assert _rows(env, "SELECT id, month FROM monthly") == _expected(env, inside, ["id", "month"])
    later = {k: v for k, v in inside.items() if str(v["month"]) >= "2024-01"}
    assert _rows(env, "SELECT id, month FROM monthly WHERE month >= '2024-01'") == _expected(
        env, later, ["id", "month"])


def test_date_projection_relative_to_now(env):
    today = dt.datetime.now(dt.timezone.utc).date()
    files = {}
    for back in range(-1, 6):  # tomorrow .. five days ago
        day = today - dt.timedelta(days=back)
        key = f"recent/{day:%Y-%m-%d}/f.parquet"
        _write(env, key, 1, back + 2)
        files[key] = {"d": day.isoformat(), "back": back}
    env.run(f"""CREATE EXTERNAL TABLE recent (id int, amount double)
PARTITIONED BY (d string) {PARQUET}
LOCATION 's3://{env.data}/recent/'
TBLPROPERTIES ('projection.enabled'='true', 'projection.d.type'='date',
  'projection.d.format'='yyyy-MM-dd', 'projection.d.range'='NOW-3DAYS,NOW',
  'storage.location.template'='s3://{env.data}/recent/${{d}}/')""")
    # NOW-3DAYS .. NOW at day precision: today and the three days before it
    inside = {k: {"d": v["d"]} for k, v in files.items() if 0 <= int(str(v["back"])) <= 3}
    assert _rows(env, "SELECT id, d FROM recent") == _expected(env, inside, ["id", "d"])
    assert len(inside) == 4


# --------------------------------------------------------------------------- injected


def _devices(env: Env) -> dict[str, str]:
    files = {}
    for i, device in enumerate(["b6319dc2", "a1969f7b", "48c14cd5"]):
        key = f"iot/{device}/f.parquet"
        _write(env, key, 2, i + 1)
        files[device] = key
    env.glue.create_table(DatabaseName=env.db, TableInput={
        "Name": "iot", "TableType": "EXTERNAL_TABLE",
        "Parameters": {"projection.enabled": "true", "projection.device_id.type": "injected",
                       "storage.location.template": f"s3://{env.data}/iot/${{device_id}}",
                       "classification": "parquet"},
        "PartitionKeys": [{"Name": "device_id", "Type": "string"}],
        "StorageDescriptor": {
            "Columns": [{"Name": "id", "Type": "int"}, {"Name": "amount", "Type": "double"}],
            "Location": f"s3://{env.data}/iot/",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"}}})
    return files


def test_injected_projection_reads_the_values_of_the_where_clause(env):
    files = _devices(env)
    cols = ["id", "amount", "device_id"]
    one = {files["a1969f7b"]: {"device_id": "a1969f7b"}}
    sql = "SELECT id, amount, device_id FROM iot WHERE device_id = 'a1969f7b' AND (id > 0 OR amount < 10)"
    assert _rows(env, sql) == _expected(env, one, cols)
    two = {files[d]: {"device_id": d} for d in ("b6319dc2", "48c14cd5")}
    sql = "SELECT id, amount, device_id FROM iot WHERE device_id IN ('b6319dc2', '48c14cd5')"
    assert _rows(env, sql) == _expected(env, two, cols)
    assert _rows(env, "SELECT id FROM iot WHERE device_id = 'no-such-device'") == []


@pytest.mark.parametrize("where", ["", "WHERE id > 0", "WHERE device_id LIKE 'a%'",
                                   "WHERE device_id = 'a1969f7b' OR id = 1"])
def test_injected_projection_without_an_equality_fails_as_athena(env, where):
    _devices(env)
    assert _reason(env, f"SELECT count(*) FROM iot {where}") == (
        "CONSTRAINT_VIOLATION: For the injected projected partition column device_id, the WHERE clause must "
        "contain only static equality conditions, and at least one such condition must be present.")


# --------------------------------------------------------------------------- misconfiguration, limits


def _projected(env: Env, name: str, props: dict[str, str], keys: str = "k string") -> None:
    tbl = ", ".join(f"'{k}'='{v}'" for k, v in {"projection.enabled": "true", **props}.items())
    env.run(f"CREATE EXTERNAL TABLE {name} (id int) PARTITIONED BY ({keys}) {PARQUET} "
            f"LOCATION 's3://{env.data}/{name}/' TBLPROPERTIES ({tbl})")


@pytest.mark.parametrize(("props", "code", "names"), [
    ({"projection.k.type": "integer"}, "INVALID_TABLE_PROPERTY", "'projection.k.range' is missing"),
    ({"projection.k.type": "date", "projection.k.format": "yyyy-MM-dd"}, "INVALID_TABLE_PROPERTY",
     "'projection.k.range' is missing"),
    ({"projection.k.type": "date", "projection.k.range": "2024-01-01,NOW"}, "INVALID_TABLE_PROPERTY",
     "'projection.k.format' is missing"),
    ({"projection.k.type": "date", "projection.k.format": "yyyy-MM-dd", "projection.k.range": "2024-01-01-2024-02-01"},
     "INVALID_TABLE_PROPERTY", "'projection.k.range' value '2024-01-01-2024-02-01' is not two comma-separated"),
    ({"projection.k.type": "date", "projection.k.format": "yyyy-MM-dd", "projection.k.range": "20240101,NOW"},
     "INVALID_TABLE_PROPERTY", "'projection.k.range' value has '20240101', which is neither a date formatted as "
     "'yyyy-MM-dd'"),
    ({"projection.k.type": "date", "projection.k.format": "yyyy-MM-dd-HH", "projection.k.range": "2024-01-01-00,NOW"},
     "INVALID_TABLE_PROPERTY", "'projection.k.interval.unit' is missing"),
    ({"projection.k.type": "date", "projection.k.format": "yyyy-MM-dd", "projection.k.range": "2024-01-01,NOW",
      "projection.k.interval.unit": "FORTNIGHTS"}, "INVALID_TABLE_PROPERTY", "'projection.k.interval.unit' value"),
    ({"projection.k.type": "date", "projection.k.format": "yyyy-ww", "projection.k.range": "2024-01,NOW"},
     "NOT_SUPPORTED", "Date pattern letter 'w' in table property 'projection.k.format'"),
    ({"projection.k.type": "integer", "projection.k.range": "0,9", "projection.k.interval": "0"},
     "INVALID_TABLE_PROPERTY", "'projection.k.interval' value '0' is not a positive integer"),
    ({"projection.k.type": "ranged"}, "INVALID_TABLE_PROPERTY",
     "'projection.k.type' value 'ranged' is not a projection type: use one of enum, integer, date, injected"),
    ({"projection.k.type": "enum"}, "INVALID_TABLE_PROPERTY", "'projection.k.values' is missing"),
    ({"projection.k.type": "enum", "projection.k.values": "a,b", "storage.location.template": "s3://b/x/"},
     "INVALID_TABLE_PROPERTY", "'storage.location.template' value 's3://b/x/' has no placeholder for the "
     "partition column(s) k"),
])
def test_misconfigured_projection_fails_naming_the_property(env, props, code, names):
    _projected(env, "bad", props)
    reason = _reason(env, "SELECT * FROM bad")
    assert reason.startswith(f"{code}: "), reason
    assert names in reason, reason


def test_a_partition_column_without_projection_fails_as_documented(env):
    _projected(env, "half", {"projection.k.type": "enum", "projection.k.values": "a"}, keys="k string, j string")
    assert _reason(env, "SELECT * FROM half") == (
        f"HIVE_METASTORE_ERROR: Table {env.db}.half is configured for partition projection, but the following "
        f"partition columns are missing projection configuration: [j] (table {env.db}.half)")


def test_too_many_projected_partitions_fail_unless_the_where_prunes_them(env):
    _projected(env, "wide", {"projection.k.type": "enum", "projection.k.values": "a,b",
                             "projection.n.type": "integer", "projection.n.range": "1,600000"},
               keys="k string, n int")
    _write(env, "wide/k=b/n=7/f.parquet", 3, 1)
    assert _reason(env, "SELECT count(*) FROM wide") == (
        f"HIVE_EXCEEDED_PARTITION_LIMIT: Query over table '{env.db}.wide' can potentially read more than "
        "1000000 partitions")
    files = {"wide/k=b/n=7/f.parquet": {"k": "b", "n": 7}}
    assert _rows(env, "SELECT id, k, n FROM wide WHERE n = 7") == _expected(env, files, ["id", "k", "n"])


def test_projection_disabled_reads_the_catalog_partitions(env):
    _write(env, "flip/k=a/f.parquet", 2, 1)
    _write(env, "flip/k=b/f.parquet", 2, 2)
    _projected(env, "flip", {"projection.k.type": "enum", "projection.k.values": "a,b"})
    both = {"flip/k=a/f.parquet": {"k": "a"}, "flip/k=b/f.parquet": {"k": "b"}}
    assert _rows(env, "SELECT id, k FROM flip") == _expected(env, both, ["id", "k"])
    table = env.glue.get_table(DatabaseName=env.db, Name="flip")["Table"]
    keep = ("Name", "TableType", "PartitionKeys", "StorageDescriptor")
    env.glue.update_table(DatabaseName=env.db, TableInput={
        **{k: table[k] for k in keep}, "Parameters": {**table["Parameters"], "projection.enabled": "false"}})
    env.run(f"ALTER TABLE flip ADD PARTITION (k='a') LOCATION 's3://{env.data}/flip/k=a/'")
    assert _rows(env, "SELECT id, k FROM flip") == _expected(env, {"flip/k=a/f.parquet": {"k": "a"}}, ["id", "k"])


# --------------------------------------------------------------------------- the stock provider


def test_projected_table_through_the_amazon_athena_operator(env, sandbox_env):
    from airflow.providers.amazon.aws.operators.athena import AthenaOperator

    files = _events(env)
    env.run(f"""CREATE EXTERNAL TABLE events (id int, amount double)
PARTITIONED BY (region string, hour int) {PARQUET}
LOCATION 's3://{env.data}/events/'
TBLPROPERTIES ('projection.enabled'='true',
  'projection.region.type'='enum', 'projection.region.values'='eu,us',
  'projection.hour.type'='integer', 'projection.hour.range'='0,5', 'projection.hour.digits'='2')""")
    op = AthenaOperator(task_id="op", query="SELECT sum(id) AS total FROM events WHERE region = 'us'",
                        database=env.db, output_location=env.output, sleep_time=1,
                        aws_conn_id="aws_default", region_name="us-east-1")
    qid = op.execute({})
    us = {k: {} for (r, h), k in files.items() if r == "us" and h <= 5}
    total = sum(int(str(row["id"])) for k in us for row in _raw(env, k))
    assert env.rows(qid) == [["total"], [str(total)]]
