"""The cold Parquet path: a table's objects spilled to local files and read by DuckDB in one call.

Warm queries read the decoded Arrow cache (filled by MSCK REPAIR / ADD PARTITION); cold ones (cache
cleared) read the spilled copies. Both must return the same rows, with partition columns typed as
declared and only registered partitions read.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from airflow_sfn_etl_sandbox.sql import storage

from .test_athena import Env

DDL = """CREATE EXTERNAL TABLE {db}.events (
  id bigint, name string, amount int, flag boolean)
PARTITIONED BY (year string, month int)
ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'
STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'
LOCATION 's3://{bucket}/events/'
TBLPROPERTIES ('classification'='parquet')"""

QUERIES = [
    "SELECT year, month, id, name, amount, flag FROM events ORDER BY id",
    "SELECT year, month, count(*) AS n, sum(amount) AS total FROM events GROUP BY year, month "
    "ORDER BY year, month",
    "SELECT id, month FROM events WHERE month > 1 AND year = '2020' ORDER BY id",
    "SELECT count(*) FROM events WHERE year = '2019'",
    "SELECT month + 1 AS next, typeof(month) AS t FROM events ORDER BY id LIMIT 1",
]


@pytest.fixture
def env(sandbox_env) -> Env:
    return Env(sandbox_env)


@pytest.fixture
def spills(monkeypatch) -> list[int]:
    """How many spilled (cold, bulk) table reads happened: the Arrow path must not be the one tested."""
    calls: list[int] = []
    real = storage._spill

    def counting(table, files):  # type: ignore[no-untyped-def]
        calls.append(len(files))
        return real(table, files)

    monkeypatch.setattr(storage, "_spill", counting)
    return calls


def _events(env: Env) -> None:
    """Registered: 2020/1, 2020/2 (two files, one with drifted schema), 2021/1; 2019/12 is not registered."""
    env.put_parquet(
        "events/year=2020/month=1/a.parquet",
        pa.table({"id": [1, 2], "name": ["a", None], "amount": [10, 20], "flag": [True, False]}),
    )
    env.put_parquet(
        "events/year=2020/month=2/a.parquet",
        pa.table({"id": [3], "name": ["c"], "amount": [30], "flag": [None]}),
    )
    # Columns in another order and case, one missing, one extra, a narrower integer type.
    env.put_parquet(
        "events/year=2020/month=2/b.parquet",
        pa.table({"extra": ["x"], "AMOUNT": pa.array([40], pa.int32()), "ID": [4], "Name": ["d"]}),
    )
    env.put_parquet(
        "events/year=2021/month=1/a.parquet",
        pa.table({"id": [5], "name": ["e"], "amount": [50], "flag": [True]}),
    )
    env.put_parquet(
        "events/year=2019/month=12/a.parquet",
        pa.table({"id": [99], "name": ["unregistered"], "amount": [999], "flag": [True]}),
    )
    env.s3.put_object(Bucket=env.data, Key="events/year=2020/month=1/_SUCCESS", Body=b"")
    env.run(DDL.format(db=env.db, bucket=env.data))
    env.run(
        "ALTER TABLE events ADD PARTITION (year='2020', month='1') PARTITION (year='2020', month='2') "
        "PARTITION (year='2021', month='1')"
    )


def test_bulk_path_returns_the_same_rows_as_the_decoded_path(env, spills):
    _events(env)
    warm = [env.query(q) for q in QUERIES]  # ADD PARTITION warmed the Arrow cache
    assert spills == []
    storage.clear_cache()
    cold = [env.query(q) for q in QUERIES]
    assert spills, "the cold queries did not take the bulk path"
    assert cold == warm
    assert cold[0] == [
        ["year", "month", "id", "name", "amount", "flag"],
        ["2020", "1", "1", "a", "10", "true"],
        ["2020", "1", "2", None, "20", "false"],
        ["2020", "2", "3", "c", "30", None],
        ["2020", "2", "4", "d", "40", None],
        ["2021", "1", "5", "e", "50", "true"],
    ]
    assert cold[3] == [["_col0"], ["0"]]  # the unregistered partition is not read
    assert cold[4] == [["next", "t"], ["2", "INTEGER"]]  # month is typed as declared


def test_bulk_path_rereads_a_changed_object_and_reports_a_bad_file(env, spills):
    _events(env)
    storage.clear_cache()
    assert env.query("SELECT sum(amount) FROM events") == [["_col0"], ["150"]]
    env.put_parquet(
        "events/year=2021/month=1/a.parquet",
        pa.table({"id": [5], "name": ["e"], "amount": [500], "flag": [True]}),
    )
    assert env.query("SELECT sum(amount) FROM events") == [["_col0"], ["600"]]  # new ETag, new copy
    assert len(spills) == 2
    env.s3.put_object(Bucket=env.data, Key="events/year=2021/month=1/a.parquet", Body=b"not parquet")
    ex = env.run("SELECT sum(amount) FROM events", expect="FAILED")
    reason = ex["Status"]["StateChangeReason"]
    assert reason.startswith("HIVE_BAD_DATA: "), reason
    assert f"s3://{env.data}/events/year=2021/month=1/a.parquet" in reason


def test_bulk_path_next_to_a_decoded_table_in_one_query(env, spills):
    """Drifted files make the first read fail and the query run again by name: both views rebuilt."""
    _events(env)
    env.s3.put_object(Bucket=env.data, Key="names/n.csv", Body=b"1,one\n4,four\n5,five\n")
    env.run(
        f"CREATE EXTERNAL TABLE {env.db}.names (id bigint, label string) ROW FORMAT DELIMITED "
        f"FIELDS TERMINATED BY ',' LOCATION 's3://{env.data}/names/'"
    )
    storage.clear_cache()
    rows = env.query(
        "SELECT e.id, n.label, e.month, e.flag FROM events e JOIN names n ON e.id = n.id ORDER BY e.id"
    )
    assert spills
    assert rows == [
        ["id", "label", "month", "flag"],
        ["1", "one", "1", "true"],
        ["4", "four", "2", None],
        ["5", "five", "1", "true"],
    ]


def test_bulk_path_partition_values_that_are_not_plain_words(env, spills):
    """Values a folder name cannot carry as is (spaces, the default partition) join on the file."""
    _events(env)
    env.run(
        f"ALTER TABLE events ADD PARTITION (year='20 20', month='3') "
        f"LOCATION 's3://{env.data}/events/year=2021/month=1/' "
        f"PARTITION (year='__HIVE_DEFAULT_PARTITION__', month='4') "
        f"LOCATION 's3://{env.data}/events/year=2020/month=1/'"
    )
    sql = "SELECT year, month, sum(amount) AS total FROM events GROUP BY year, month ORDER BY 1, 2"
    warm = env.query(sql)
    storage.clear_cache()
    cold = env.query(sql)
    assert spills
    assert cold == warm
    assert cold == [
        ["year", "month", "total"],
        ["20 20", "3", "50"],
        ["2020", "1", "30"],
        ["2020", "2", "70"],
        ["2021", "1", "50"],
        [None, "4", "30"],
    ]



def _others(env: Env) -> None:
    """A table whose files agree on their schema: 2022/7 (two files), 2022/8, all registered."""
    for key, rows in (
        ("year=2022/month=7/a", {"id": [7, 8], "name": ["g", "h"], "amount": [70, 90], "flag": [False, True]}),
        ("year=2022/month=7/b", {"id": [9], "name": ["i"], "amount": [100], "flag": [None]}),
        ("year=2022/month=8/a", {"id": [10], "name": ["j"], "amount": [5], "flag": [True]}),
    ):
        env.put_parquet(f"others/{key}.parquet", pa.table(rows))
    env.run(DDL.format(db=env.db, bucket=env.data).replace(".events (", ".others (").replace("/events/", "/others/"))
    env.run("ALTER TABLE others ADD PARTITION (year='2022', month='7') PARTITION (year='2022', month='8')")


def test_bulk_path_reads_every_file_in_one_pass_when_their_schemas_agree(env, spills):
    """The schema (and the view's types) come from the first file; the statement still reads every file."""
    _others(env)
    storage.clear_cache()
    rows = env.query(
        "SELECT year, month, count(*) AS n, sum(amount) AS total, count(flag) AS flags FROM others "
        "GROUP BY year, month ORDER BY year, month"
    )
    assert rows == [
        ["year", "month", "n", "total", "flags"],
        ["2022", "7", "3", "260", "2"],
        ["2022", "8", "1", "5", "1"],
    ]
    assert spills == [3]  # one read of the three files: not retried by name


def test_bulk_statements_at_once_each_see_their_own_views_and_settings(env, spills):
    """Statements share one DuckDB database, each on a connection of its own: running at once, under
    the same view and file-list names, each reads its own table's files with its own settings."""
    _events(env)
    _others(env)
    storage.clear_cache()
    sqls = [
        "SELECT count(*) AS n, sum(amount) AS total, min(year) AS y FROM events",
        "SELECT count(*) AS n, sum(amount) AS total, min(year) AS y FROM others",
        "SELECT 7 / 2 AS n, NULL AS total, NULL AS y",
    ] * 3
    ids = [env.start(sql) for sql in sqls]
    got = [env.rows(env.wait(qid)["QueryExecutionId"])[1] for qid in ids]
    assert len(spills) >= 6  # every statement over a table read its spilled files
    assert got == [["5", "150", "2020"], ["4", "265", "2022"], ["3", None, None]] * 3


def test_a_database_invalidated_by_a_fatal_error_is_replaced(env, monkeypatch):
    """DuckDB refuses every statement on a database a fatal error invalidated: the next one opens a new one."""
    import duckdb

    from airflow_sfn_etl_sandbox.sql import query

    class Invalidated:
        def cursor(self):  # type: ignore[no-untyped-def]
            raise duckdb.FatalException("FATAL Error: Failed: database has been invalidated")

    dead = Invalidated()
    monkeypatch.setattr(query, "_database", dead)
    assert env.query("SELECT 7 / 2 AS n") == [["n"], ["3"]]
    assert query._database is not dead
