"""Where the sandbox could answer differently from AWS: it matches AWS's documented behaviour or fails saying so."""

from __future__ import annotations

import base64
import csv
import email.utils
import io
import json
import time
import uuid

import pytest

from tests.sandbox.test_athena import Env


class FidelityEnv(Env):
    def query_in(self, database: str, sql: str) -> list[list[str | None]]:
        return self.rows(self.run(sql, QueryExecutionContext={"Database": database})["QueryExecutionId"])

    def query_with(self, sql: str, values: list[str]) -> list[list[str | None]]:
        return self.rows(self.run(sql, ExecutionParameters=values)["QueryExecutionId"])


@pytest.fixture
def env(sandbox_env) -> FidelityEnv:
    return FidelityEnv(sandbox_env)


RAGGED = b"id,name,city\n1,ann,oslo\n2,bob\n3,cid,rome,extra,more\n4\n5,eve,\"lima, pe\"\n"


def _serde_rows(raw: bytes, width: int, skip: int, **fmt) -> list[list[str | None]]:
    """Rows as Hive's text SerDes read them: fields past the columns ignored, missing trailing fields NULL."""
    rows = list(csv.reader(io.StringIO(raw.decode(), newline=""), **fmt))[skip:]
    return [[r[i] if i < len(r) else None for i in range(width)] for r in rows if r]


def test_csv_rows_with_fewer_or_more_fields_are_kept(env):
    env.s3.put_object(Bucket=env.data, Key="ragged/people.csv", Body=RAGGED)
    env.run(f"""CREATE EXTERNAL TABLE people (id string, name string, city string)
                ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'
                LOCATION 's3://{env.data}/ragged/' TBLPROPERTIES ('skip.header.line.count'='1')""")
    expected = _serde_rows(RAGGED, 3, 1)
    assert len(expected) == 5
    assert env.query("SELECT id, name, city FROM people ORDER BY id")[1:] == expected


def test_lazy_simple_text_rows_with_fewer_or_more_fields_are_kept(env):
    raw = b"1|ann|oslo\n2|bob\n3|cid|rome|extra\n4\n"
    env.s3.put_object(Bucket=env.data, Key="pipes/people.txt", Body=raw)
    env.run(f"""CREATE EXTERNAL TABLE pipes (id int, name string, city string)
                ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' LOCATION 's3://{env.data}/pipes/'""")
    expected = _serde_rows(raw, 3, 0, delimiter="|", quoting=csv.QUOTE_NONE)
    assert env.query("SELECT id, name, city FROM pipes ORDER BY id")[1:] == expected
    assert env.query("SELECT count(*) FROM pipes")[1:] == [[str(len(expected))]]


# --------------------------------------------------------------------------- S3 headers: the layer vs moto alone

#: Headers that differ between any two responses (time of answer, request id).
VOLATILE = {"date", "x-amzn-requestid", "x-amz-request-id", "x-amz-id-2"}


@pytest.fixture
def moto_alone(sandbox_env):
    """moto's own server (no sandbox layer) on the same in-process state: the reference answers."""
    import threading

    import boto3
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    from airflow_sfn_etl_sandbox.server import QuietRequestHandler, free_port

    port = free_port()
    server = make_server("127.0.0.1", port, DomainDispatcherApplication(create_backend_app), threaded=True,
                         request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1")
    finally:
        server.shutdown()
        thread.join()


def _headers(response: dict) -> dict[str, str]:
    return {k: v for k, v in response["ResponseMetadata"]["HTTPHeaders"].items() if k not in VOLATILE}


def _dated(headers: dict[str, str]) -> dict[str, str]:
    """Headers of an answer about an object written at its own moment: its Last-Modified must be an
    HTTP date, and is then compared by presence (two writes may fall on either side of a second)."""
    if "last-modified" in headers:
        email.utils.parsedate_to_datetime(headers["last-modified"])
        return headers | {"last-modified": "<http-date>"}
    return headers


def test_s3_headers_match_moto_alone(sandbox_env, moto_alone):
    s3 = sandbox_env.client("s3")
    bucket = f"fid-hdr-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    body = b"0123456789" * 100
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"k/{i}.bin", Body=body[: 100 * (i + 1)], ContentType="application/x-test",
                      Metadata={"origin": "fidelity"})
    calls = [
        ("head_object", {"Bucket": bucket, "Key": "k/4.bin"}),
        ("get_object", {"Bucket": bucket, "Key": "k/4.bin"}),
        ("get_object", {"Bucket": bucket, "Key": "k/4.bin", "Range": "bytes=10-99"}),
        ("list_objects_v2", {"Bucket": bucket, "Prefix": "k/", "MaxKeys": 2}),
    ]
    for op, kwargs in calls:
        ours, theirs = getattr(s3, op)(**kwargs), getattr(moto_alone, op)(**kwargs)
        assert _headers(ours) == _headers(theirs), op
    assert s3.head_object(Bucket=bucket, Key="k/4.bin")["ContentLength"] == len(body[:500])
    pages = []
    for client in (s3, moto_alone):
        keys, token = [], None
        while True:
            extra = {"ContinuationToken": token} if token else {}
            page = client.list_objects_v2(Bucket=bucket, Prefix="k/", MaxKeys=2, **extra)
            assert _headers(page)  # every page's headers are compared below with the other server's
            keys.append(([(o["Key"], o["Size"], o["ETag"]) for o in page["Contents"]], _headers(page)))
            token = page.get("NextContinuationToken")
            if not token:
                break
        pages.append(keys)
    assert pages[0] == pages[1]
    assert [k for page, _ in pages[0] for k, _, _ in page] == [f"k/{i}.bin" for i in range(5)]


def _status_line_and_headers(client, op: str, **kwargs) -> tuple[int, str, dict[str, str]]:
    """(HTTP status, error code or "", headers) of one call, error or not."""
    from botocore.exceptions import ClientError

    try:
        response = getattr(client, op)(**kwargs)
        return response["ResponseMetadata"]["HTTPStatusCode"], "", _headers(response)
    except ClientError as err:
        return err.response["ResponseMetadata"]["HTTPStatusCode"], err.response["Error"]["Code"], _headers(err.response)


def test_s3_multipart_ranges_and_conditional_writes_match_moto_alone(sandbox_env, moto_alone, tmp_path):
    import hashlib

    from boto3.s3.transfer import TransferConfig

    s3 = sandbox_env.client("s3")
    bucket = f"fid-mp-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    part = bytes(range(256)) * (5 * 1024 * 1024 // 256)  # 5 MiB: the smallest part S3 accepts but the last
    tail = b"tail" * 100
    answers = []
    for client, key in ((s3, "mp/ours"), (moto_alone, "mp/moto")):  # same lengths: same body sizes
        created = client.create_multipart_upload(Bucket=bucket, Key=key, ContentType="application/x-test")
        upload = created["UploadId"]
        etags = []
        # the answer's body holds the upload id, whose length varies: its Content-Length is left out
        calls = [_dated({k: v for k, v in _headers(created).items() if k != "content-length"})]
        for number, body in ((1, part), (2, tail)):
            done = client.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=number, Body=body)
            etags.append(done["ETag"])
            calls.append(_dated(_headers(done)))
        listed = client.list_parts(Bucket=bucket, Key=key, UploadId=upload)
        assert [p["Size"] for p in listed["Parts"]] == [len(part), len(tail)]
        completed = client.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]})
        calls.append(_dated(_headers(completed)))
        # S3's multipart ETag: the MD5 of the parts' MD5s, then "-" and the number of parts
        digest = hashlib.md5(hashlib.md5(part).digest() + hashlib.md5(tail).digest()).hexdigest()
        assert completed["ETag"] == f'"{digest}-2"'
        assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == part + tail
        answers.append(calls)
    assert answers[0] == answers[1]

    for rng in ("bytes=0-0", "bytes=100-", "bytes=-10", f"bytes={len(part) - 5}-{len(part) + 5}"):
        ours = s3.get_object(Bucket=bucket, Key="mp/ours", Range=rng)
        theirs = moto_alone.get_object(Bucket=bucket, Key="mp/ours", Range=rng)
        assert _headers(ours) == _headers(theirs), rng
        start, _, end = rng[6:].partition("-")
        whole = part + tail
        expected = whole[-int(end):] if not start else whole[int(start): int(end) + 1 if end else None]
        assert ours["Body"].read() == expected, rng

    # If-None-Match: * refuses to overwrite an existing key with 412 PreconditionFailed (S3 since 2024)
    new_key = {"Bucket": bucket, "IfNoneMatch": "*", "Body": b"new"}
    assert _status_line_and_headers(s3, "put_object", Key="mp/ours", **new_key)[:2] == (412, "PreconditionFailed")
    assert (_status_line_and_headers(s3, "put_object", Key="mp/ours", **new_key)
            == _status_line_and_headers(moto_alone, "put_object", Key="mp/ours", **new_key))
    assert _status_line_and_headers(s3, "put_object", Key="mp/fresh", **new_key)[:2] == (200, "")
    assert s3.get_object(Bucket=bucket, Key="mp/ours")["Body"].read() == part + tail

    # boto3's managed upload with a small multipart threshold: several parts, the object reads back the same
    source = tmp_path / "big.bin"
    source.write_bytes(hashlib.sha256(b"seed").digest() * (13 * 1024 * 1024 // 32))
    config = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    s3.upload_file(str(source), bucket, "mp/managed", Config=config)
    head = s3.head_object(Bucket=bucket, Key="mp/managed")
    assert head["ContentLength"] == source.stat().st_size
    assert head["ETag"].endswith('-3"')  # 13 MiB in 5 MiB parts
    target = tmp_path / "back.bin"
    s3.download_file(bucket, "mp/managed", str(target), Config=config)
    assert target.read_bytes() == source.read_bytes()


def test_stock_s3_key_sensor_check_fn_sees_the_object_size(sandbox_env):
    from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor

    s3 = sandbox_env.client("s3")
    bucket = f"fid-sensor-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    body = b"id,amount\n1,10\n"
    s3.put_object(Bucket=bucket, Key="in/data.csv", Body=body)
    seen: list[list[dict]] = []

    def check(files: list[dict]) -> bool:
        seen.append(files)
        return files[0]["Size"] > 0

    sensor = S3KeySensor(task_id="wait", bucket_name=bucket, bucket_key="in/data.csv", check_fn=check,
                         aws_conn_id="aws_default")
    assert sensor.poke({}) is True
    assert [f["Size"] for f in seen[0]] == [len(body)]


# --------------------------------------------------------------------------- ExecutionParameters


@pytest.mark.parametrize(
    ("sql", "values", "expected"),
    [
        ("SELECT 1 WHERE 1 = ?", [], 1),
        ("SELECT 1 WHERE 1 = ?", ["1", "2"], 1),
        ("SELECT 1 WHERE 1 = 1", ["1"], 0),
        ("SELECT 1 WHERE 1 = ? AND 2 = ? -- why?\n", ["1"], 2),
    ],
)
def test_execution_parameters_must_match_the_placeholders(env, sql, values, expected):
    kwargs = {"ExecutionParameters": values} if values else {}
    ex = env.run(sql, expect="FAILED", **kwargs)
    # Trino's check of EXECUTE ... USING (QueryPreparer.validateParameters)
    assert ex["Status"]["StateChangeReason"] == (
        f"INVALID_PARAMETER_USAGE: line 1:1: Incorrect number of parameters: expected {expected} "
        f"but found {len(values)}"
    )


def test_execution_parameters_bind_in_order_outside_strings_and_comments(env):
    rows = env.query_with("SELECT 'a?' AS s, x FROM (VALUES 1, 2, 3) t(x) /* ? */ WHERE x BETWEEN ? AND ? ORDER BY x",
                          ["2", "3"])
    assert rows == [["s", "x"], ["a?", "2"], ["a?", "3"]]


# --------------------------------------------------------------------------- Trino typing


def _orders(env) -> None:
    env.s3.put_object(Bucket=env.data, Key="orders/o.csv", Body=b"1|7|a\n2|12|b\n")
    env.run(f"CREATE EXTERNAL TABLE orders (id int, amount bigint, code string) ROW FORMAT DELIMITED "
            f"FIELDS TERMINATED BY '|' LOCATION 's3://{env.data}/orders/'")


def test_double_colon_cast_is_a_syntax_error(env):
    _orders(env)
    ex = env.run("SELECT amount::int FROM orders", expect="FAILED")
    # Trino's parser: the token it stops at, 1-based column of its first character
    assert ex["Status"]["StateChangeReason"].startswith("line 1:14: mismatched input '::'.")
    assert ex["Status"]["AthenaError"]["ErrorType"] == 1002  # SYNTAX_ERROR


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT '1' = 1", "line 1:12: Cannot apply operator: varchar(1) = integer"),
        ("SELECT id FROM orders WHERE amount = '12'", "line 1:36: Cannot apply operator: bigint = varchar(2)"),
        ("SELECT id FROM orders WHERE code <> 1", "line 1:34: Cannot apply operator: varchar = integer"),
        ("SELECT id FROM orders o WHERE o.id > '1'", "line 1:36: Cannot apply operator: integer < varchar(1)"),
        ("SELECT id FROM orders WHERE id IN (SELECT id FROM orders WHERE 2.5 >= code)",
         "line 1:68: Cannot apply operator: decimal(2,1) <= varchar"),
        ("WITH c AS (SELECT code AS k FROM orders) SELECT k FROM c WHERE CAST(k AS integer) = 'x'",
         "line 1:83: Cannot apply operator: integer = varchar(1)"),
        ("SELECT id FROM orders WHERE id IN (1, '2')",
         "line 1:39: IN value and list items must be the same type or coercible to a common type. Cannot find "
         "common type between integer and varchar(1), all types (without duplicates): [integer, varchar(1)]"),
        ("SELECT id FROM orders WHERE amount BETWEEN '1' AND '9'",
         "line 1:29: Cannot check if bigint is BETWEEN varchar(1) and varchar(1)"),
        ("SELECT id FROM orders WHERE CAST(code AS date) = '2024-01-02'",
         "line 1:48: Cannot apply operator: date = varchar(10)"),
        ("SELECT id FROM orders WHERE code = true", "line 1:34: Cannot apply operator: varchar = boolean"),
        ("SELECT 1 AS a UNION SELECT '1'", "line 1:15: column 1 in UNION query has incompatible types: integer, "
         "varchar(1)"),
        ("SELECT id, code FROM orders EXCEPT SELECT id, amount FROM orders",
         "line 1:29: column 2 in EXCEPT query has incompatible types: varchar, bigint"),
    ],
)
def test_string_number_comparison_fails_as_trino(env, sql, reason):
    _orders(env)
    ex = env.run(sql, expect="FAILED")
    assert ex["Status"]["StateChangeReason"] == f"TYPE_MISMATCH: {reason}"


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT id FROM orders WHERE amount = 12", [["2"]]),
        ("SELECT id FROM orders WHERE code = 'a'", [["1"]]),
        ("SELECT id FROM orders WHERE code IN ('a', 'b') AND amount BETWEEN 1 AND 10", [["1"]]),
        ("SELECT id FROM orders WHERE DATE '2024-01-02' < TIMESTAMP '2024-01-03 00:00:00' AND id = 1", [["1"]]),
        ("SELECT id FROM orders WHERE id = 1 UNION ALL SELECT amount FROM orders WHERE id = 2 ORDER BY 1",
         [["1"], ["12"]]),
        ("SELECT id FROM orders WHERE CAST(code AS varchar) = 'b' AND CAST(amount AS varchar) = '12'", [["2"]]),
        # a derived column of another type is that type, not the table column's
        ("SELECT code FROM (SELECT CAST(amount AS varchar) AS code FROM orders) s WHERE code = '7'", [["7"]]),
    ],
)
def test_comparisons_of_one_kind_still_run(env, sql, expected):
    _orders(env)
    assert env.query(sql)[1:] == expected


# --------------------------------------------------------------------------- views

ORDERS = b"1|7|a\n2|12|b\n3|30|c\n"


def _orders_rows() -> list[tuple[int, int, str]]:
    return [(int(i), int(a), c) for i, a, c in (line.split("|") for line in ORDERS.decode().splitlines())]


def _orders_table(env) -> None:
    env.s3.put_object(Bucket=env.data, Key="vorders/o.csv", Body=ORDERS)
    env.run(f"CREATE EXTERNAL TABLE orders (id int, amount bigint, code string) ROW FORMAT DELIMITED "
            f"FIELDS TERMINATED BY '|' LOCATION 's3://{env.data}/vorders/'")


def test_create_select_replace_and_drop_view(env):
    _orders_table(env)
    body = "SELECT id, amount * 2 AS doubled FROM orders WHERE amount > 10"
    ex = env.run(f"CREATE VIEW big AS {body}")
    assert ex["StatementType"] == "DDL"
    table = env.glue.get_table(DatabaseName=env.db, Name="big")["Table"]
    assert table["TableType"] == "VIRTUAL_VIEW"
    text = table["ViewOriginalText"]
    assert text.startswith("/* Presto View: ") and text.endswith(" */")
    stored = json.loads(base64.b64decode(text[len("/* Presto View: "):-len(" */")]))
    assert stored["originalSql"] == body
    assert stored["schema"] == env.db
    assert stored["columns"] == [{"name": "id", "type": "integer"}, {"name": "doubled", "type": "bigint"}]
    assert [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]] == [("id", "int"),
                                                                                      ("doubled", "bigint")]

    expected = [[str(i), str(2 * a)] for i, a, _ in _orders_rows() if a > 10]
    assert env.query("SELECT id, doubled FROM big ORDER BY id")[1:] == expected
    # a view over the view, read from another database by its qualified name
    env.run("CREATE VIEW biggest AS SELECT max(doubled) AS top FROM big")
    other = f"{env.db}_other"
    env.run(f"CREATE DATABASE {other}")
    rows = env.query_in(other, f"SELECT top FROM {env.db}.biggest")
    assert rows[1:] == [[str(max(2 * a for _, a, _ in _orders_rows() if a > 10))]]

    ex = env.run(f"CREATE VIEW big AS {body}", expect="FAILED")
    assert "View already exists: 'awsdatacatalog." in ex["Status"]["StateChangeReason"]
    env.run("CREATE OR REPLACE VIEW big AS SELECT code FROM orders WHERE id = 1")
    assert env.query("SELECT * FROM big")[1:] == [[c for i, _, c in _orders_rows() if i == 1]]

    env.run("DROP VIEW biggest")
    env.run("DROP VIEW big")
    assert [t["Name"] for t in env.glue.get_tables(DatabaseName=env.db)["TableList"]] == ["orders"]


def test_drop_view_does_not_drop_a_table_nor_drop_table_a_view(env):
    _orders_table(env)
    env.run("CREATE VIEW v AS SELECT id FROM orders")
    q = f"awsdatacatalog.{env.db}"
    ex = env.run("DROP VIEW orders", expect="FAILED")
    assert ex["Status"]["StateChangeReason"] == (
        f"TABLE_NOT_FOUND: line 1:11: View '{q}.orders' does not exist, but a table with that name exists. "
        f"Did you mean DROP TABLE {q}.orders?")
    ex = env.run("DROP TABLE v", expect="FAILED")
    assert ex["Status"]["StateChangeReason"] == (
        f"TABLE_NOT_FOUND: line 1:12: Table '{q}.v' does not exist, but a view with that name exists. "
        f"Did you mean DROP VIEW {q}.v?")
    env.run("DROP VIEW IF EXISTS orders")
    env.run("DROP TABLE IF EXISTS v")
    names = sorted(t["Name"] for t in env.glue.get_tables(DatabaseName=env.db)["TableList"])
    assert names == ["orders", "v"]
    assert env.query("SELECT count(*) FROM orders")[1:] == [[str(len(_orders_rows()))]]


def test_unreadable_views_fail_naming_the_feature(env):
    env.glue.create_table(DatabaseName=env.db, TableInput={
        "Name": "spark_view", "TableType": "VIRTUAL_VIEW", "ViewOriginalText": "SELECT 1 AS x",
        "ViewExpandedText": "SELECT 1 AS x", "StorageDescriptor": {"Columns": [{"Name": "x", "Type": "int"}]}})
    ex = env.run("SELECT * FROM spark_view", expect="FAILED")
    assert "without Presto view text" in ex["Status"]["StateChangeReason"]
    assert "not emulated by the sandbox" in ex["Status"]["StateChangeReason"]


# --------------------------------------------------------------------------- crawler


def _crawl(sandbox_env, path: str) -> tuple[dict, str, str]:
    glue = sandbox_env.client("glue")
    name, database = f"crawler_{uuid.uuid4().hex[:8]}", f"db_{uuid.uuid4().hex[:8]}"
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_crawler(Name=name, Role="arn:aws:iam::123456789012:role/crawler", DatabaseName=database,
                        Targets={"S3Targets": [{"Path": path}]})
    glue.start_crawler(Name=name)
    for _ in range(400):
        crawler = glue.get_crawler(Name=name)["Crawler"]
        if crawler["State"] == "READY" and "LastCrawl" in crawler:
            return crawler, name, database
        time.sleep(0.05)
    raise AssertionError(f"crawler {name} did not finish")


def test_crawler_strips_a_utf8_bom_from_the_first_column(env, sandbox_env):
    raw = "\ufeffid,name,score\n1,ann,2.5\n2,bob,3.0\n".encode()
    env.s3.put_object(Bucket=env.data, Key="bom/people.csv", Body=raw)
    crawler, _, database = _crawl(sandbox_env, f"s3://{env.data}/bom/")
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED"
    columns = env.glue.get_table(DatabaseName=database, Name="bom")["Table"]["StorageDescriptor"]["Columns"]
    header = next(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [c["Name"] for c in columns] == header
    rows = env.query_in(database, "SELECT id, name FROM bom ORDER BY id")
    assert rows == [["id", "name"], ["1", "ann"], ["2", "bob"]]


def test_crawler_merges_columns_by_name_across_files(env, sandbox_env, tmp_path):
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    first = pa.table({"id": pa.array([1, 2], pa.int64()), "name": ["ann", "bob"], "score": [1.5, 2.5]})
    second = pa.table({"score": [9.0], "name": ["cid"], "id": pa.array([3], pa.int64())})
    env.put_parquet("byname/a.parquet", first)
    env.put_parquet("byname/b.parquet", second)
    crawler, _, database = _crawl(sandbox_env, f"s3://{env.data}/byname/")
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED"
    columns = env.glue.get_table(DatabaseName=database, Name="byname")["Table"]["StorageDescriptor"]["Columns"]
    assert [(c["Name"], c["Type"]) for c in columns] == [("id", "bigint"), ("name", "string"), ("score", "double")]
    for name, table in (("a", first), ("b", second)):
        pq.write_table(table, tmp_path / f"{name}.parquet")
    files = [str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")]
    raw = duckdb.sql(f"SELECT id, name, score FROM read_parquet({files}, union_by_name = true) ORDER BY id")
    expected = [[str(i), n, str(s)] for i, n, s in raw.fetchall()]
    assert env.query_in(database, "SELECT id, name, score FROM byname ORDER BY id")[1:] == expected


def test_crawler_skips_an_unclassifiable_file_next_to_good_ones(env, sandbox_env):
    env.s3.put_object(Bucket=env.data, Key="mixed/good.csv", Body=b"id,v\n1,10\n2,20\n")
    env.s3.put_object(Bucket=env.data, Key="mixed/blob.bin", Body=bytes(range(256)))
    crawler, name, database = _crawl(sandbox_env, f"s3://{env.data}/mixed/")
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED"
    table = env.glue.get_table(DatabaseName=database, Name="mixed")["Table"]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["id", "v"]
    events = sandbox_env.client("logs").get_log_events(logGroupName="/aws-glue/crawlers", logStreamName=name)
    assert any(f"s3://{env.data}/mixed/blob.bin" in e["message"] and "Skipping" in e["message"]
               for e in events["events"])


# --------------------------------------------------------------------------- statements the sandbox does not run


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("UNLOAD (SELECT 1) TO 's3://b/u/' WITH (format = 'ORC')", "NOT_SUPPORTED: UNLOAD format ORC is not emulated"),
        ("VACUUM orders", "NOT_SUPPORTED: VACUUM is not emulated"),
        ("EXPLAIN ANALYZE SELECT 1", "NOT_SUPPORTED: EXPLAIN ANALYZE is not emulated"),
        ("SHOW CREATE VIEW orders", "NOT_SUPPORTED: SHOW CREATE VIEW is not emulated"),
        ("ALTER TABLE orders CHANGE code code2 string", "NOT_SUPPORTED: ALTER TABLE CHANGE is not emulated"),
        ("ALTER TABLE orders SET TBLPROPERTIES ('a'='b')", "NOT_SUPPORTED: ALTER TABLE SET TBLPROPERTIES is not"),
        ("UPDATE orders SET amount = 1", "NOT_SUPPORTED: UPDATE is not emulated"),
        ("DELETE FROM orders WHERE id = 1", "NOT_SUPPORTED: DELETE is not emulated"),
        ("SELECT table_name FROM information_schema.tables", "NOT_SUPPORTED: line 1:24: information_schema is not"),
        ('SELECT "$path" FROM orders', 'NOT_SUPPORTED: line 1:8: Hidden column "$path" is not emulated'),
    ],
)
def test_statements_the_sandbox_does_not_run_fail_saying_so(env, sql, reason):
    _orders(env)
    ex = env.run(sql, expect="FAILED")
    assert ex["Status"]["StateChangeReason"].startswith(reason)
    assert "not emulated by the sandbox" in ex["Status"]["StateChangeReason"]
