"""Unusual text input in sandbox S3, crawled and read through Athena, pinned to AWS's behaviour.

Each case puts files under one S3 folder and reads them three ways: as a ``LazySimpleSerDe`` table
and as an ``OpenCSVSerde`` table created by DDL, and as the table a crawler makes of the folder.
The expected rows come from the small readers below, written from what AWS documents (Athena's
SerDe pages: LazySimpleSerDe splits on the delimiter and knows no quotes, ``\\N`` is its NULL unless
``serialization.null.format`` says otherwise; OpenCSVSerDe does not support embedded line breaks and
fails on a value of a numeric column that does not parse) and from the Hive line reader the SerDes
read through (lines end at ``\\n``, ``\\r\\n`` or ``\\r``; a blank line is a row; a UTF-8 byte
order mark opening a file is skipped), never from the sandbox.
"""

from __future__ import annotations

import csv
import re
import uuid

import pytest

from tests.sandbox.test_fidelity import FidelityEnv, _crawl

LAZY = "ROW FORMAT DELIMITED FIELDS TERMINATED BY ','"
OPEN_CSV = "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'"


@pytest.fixture
def env(sandbox_env) -> FidelityEnv:
    return FidelityEnv(sandbox_env)


# --------------------------------------------------------------------------- the readers AWS documents


def _lines(raw: bytes) -> list[str]:
    """Hive's text line reader: a leading UTF-8 BOM skipped; lines end at \\r\\n, \\n or \\r; a final
    terminator opens no further line."""
    text = raw.decode("utf-8").removeprefix("\ufeff")
    lines = re.split(r"\r\n|\n|\r", text)
    return lines[:-1] if lines and lines[-1] == "" else lines


def lazy_rows(files: list[bytes], width: int, skip: int = 0, null: str = "\\N") -> list[list[str | None]]:
    """LazySimpleSerDe: fields split on ``,`` (quotes are ordinary characters), missing ones NULL."""
    out = []
    for raw in files:
        for line in _lines(raw)[skip:]:
            fields = line.split(",")
            out.append([None if i >= len(fields) or fields[i] == null else fields[i] for i in range(width)])
    return out


def open_csv_rows(files: list[bytes], width: int, skip: int = 0) -> list[list[str | None]]:
    """OpenCSVSerDe, one line at a time: quoted fields, ``\\`` escapes; a blank line is all NULL."""
    out = []
    for raw in files:
        for line in _lines(raw)[skip:]:
            fields = next(csv.reader([line], escapechar="\\")) if line else []
            out.append([fields[i] if i < len(fields) else None for i in range(width)])
    return out


def lazy_int(value: str | None) -> str | None:
    """Hive's LazyInteger on a text field: sign and digits, a digits-only fraction dropped, else NULL."""
    if value is None:
        return None
    m = re.fullmatch(r"([+-]?)(\d*)(\.\d*)?", value)
    if not m or not (m.group(2) or m.group(3)):
        return None
    number = int(m.group(1) + (m.group(2) or "0"))
    return str(number) if -(2**31) <= number < 2**31 else None


def _sorted(rows: list[list[str | None]]) -> list[list[str | None]]:
    return sorted(rows, key=lambda r: [(v is None, v or "") for v in r])


# --------------------------------------------------------------------------- the cases

WIDE = 500
_wide_header = ",".join(f"c{i}" for i in range(WIDE))
_wide_row = ",".join(str(i) for i in range(WIDE))
LONG = "x" * 100_000

#: name -> (files, columns, skip.header.line.count)
CASES: dict[str, tuple[dict[str, bytes], list[str], int]] = {
    "ragged_rows": ({"p.csv": b"id,name,city\n1,ann,oslo\n2,bob\n3,cid,rome,extra\n4\n"}, ["id", "name", "city"], 1),
    "utf8_bom": ({"p.csv": "\ufeffid,name\n1,ann\n2,bob\n".encode()}, ["id", "name"], 1),
    "utf8_bom_no_header": ({"p.csv": "\ufeff1,ann\n2,bob\n".encode()}, ["id", "name"], 0),
    "quoted_delimiter": ({"p.csv": b'id,note\n1,"a, b"\n2,"c"\n'}, ["id", "note"], 1),
    "quoted_newline": ({"p.csv": b'id,note\n1,"first\nsecond"\n2,plain\n'}, ["id", "note"], 1),
    "empty_file_next_to_data": ({"a.csv": b"id,name\n1,ann\n2,bob\n", "b.csv": b""}, ["id", "name"], 1),
    "header_only_next_to_data": ({"a.csv": b"id,name\n1,ann\n2,bob\n", "h.csv": b"id,name\n"}, ["id", "name"], 1),
    "null_spellings": ({"p.csv": b"id,v\n1,\\N\n2,\n3,NULL\n4,x\n"}, ["id", "v"], 1),
    "columns_in_other_order": ({"a.csv": b"id,name\n1,ann\n", "b.csv": b"name,id\nbob,2\n"}, ["id", "name"], 1),
    "very_wide_and_long": ({"p.csv": f"{_wide_header}\n{_wide_row}\n{_wide_row[:-3]}{LONG}\n".encode()},
                           [f"c{i}" for i in range(WIDE)], 1),
    "crlf_line_ends": ({"p.csv": b"id,name\r\n1,ann\r\n2,bob\r\n"}, ["id", "name"], 1),
    "no_trailing_newline": ({"p.csv": b"id,name\n1,ann\n2,bob"}, ["id", "name"], 1),
    "blank_lines": ({"p.csv": b"id,name\n1,ann\n\n2,bob\n\n"}, ["id", "name"], 1),
    "skip_two_header_lines": ({"a.csv": b"# export\nid,name\n1,ann\n", "b.csv": b"# export\nid,name\n2,bob\n"},
                              ["id", "name"], 2),
}


def _put(env: FidelityEnv, case: str) -> tuple[str, list[bytes]]:
    files, _, _ = CASES[case]
    folder = f"{case}_{uuid.uuid4().hex[:6]}"
    for name, body in files.items():
        env.s3.put_object(Bucket=env.data, Key=f"{folder}/{name}", Body=body)
    return folder, [files[n] for n in sorted(files)]


def _ddl(env: FidelityEnv, name: str, folder: str, columns: list[str], row_format: str, skip: int,
         types: dict[str, str] | None = None, props: str = "") -> None:
    cols = ", ".join(f"`{c}` {(types or {}).get(c, 'string')}" for c in columns)
    tbl = f"'skip.header.line.count'='{skip}'" + (f", {props}" if props else "")
    env.run(f"CREATE EXTERNAL TABLE {name} ({cols}) {row_format} LOCATION 's3://{env.data}/{folder}/' "
            f"TBLPROPERTIES ({tbl})")


def _select_all(env: FidelityEnv, table: str, columns: list[str], database: str | None = None) -> list:
    sql = f"SELECT {', '.join(f'`{c}`' for c in columns)} FROM {table}".replace("`", '"')
    return _sorted((env.query_in(database, sql) if database else env.query(sql))[1:])


@pytest.mark.parametrize("case", sorted(CASES))
def test_lazy_simple_serde_table(env, case):
    folder, raws = _put(env, case)
    _, columns, skip = CASES[case]
    _ddl(env, "t", folder, columns, LAZY, skip)
    expected = lazy_rows(raws, len(columns), skip)
    assert expected  # every case has rows
    assert _select_all(env, "t", columns) == _sorted(expected)


@pytest.mark.parametrize("case", sorted(c for c in CASES if c != "quoted_newline"))
def test_open_csv_serde_table(env, case):
    folder, raws = _put(env, case)
    _, columns, skip = CASES[case]
    _ddl(env, "t", folder, columns, OPEN_CSV, skip)
    expected = open_csv_rows(raws, len(columns), skip)
    assert _select_all(env, "t", columns) == _sorted(expected)


def test_open_csv_serde_quoted_line_break_fails_naming_it(env):
    """Athena documents that the OpenCSVSerDe does not support embedded line breaks; the rows it then
    returns are not documented, so the sandbox fails."""
    folder, _ = _put(env, "quoted_newline")
    _, columns, skip = CASES["quoted_newline"]
    _ddl(env, "t", folder, columns, OPEN_CSV, skip)
    reason = env.run("SELECT * FROM t", expect="FAILED")["Status"]["StateChangeReason"]
    assert reason.startswith("NOT_SUPPORTED: ")
    assert "line break" in reason and "not emulated by the sandbox" in reason


@pytest.mark.parametrize("case", sorted(CASES))
def test_crawled_table(env, sandbox_env, case):
    folder, raws = _put(env, case)
    _, columns, _ = CASES[case]
    crawler, _, database = _crawl(sandbox_env, f"s3://{env.data}/{folder}/")
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED"
    tables = {t["Name"]: t for t in env.glue.get_tables(DatabaseName=database)["TableList"]}
    if case in ("ragged_rows", "skip_two_header_lines"):
        # Glue's CSV classifier needs every row to split into the same number of columns: none does here
        assert tables == {}
        return
    table = tables[folder.lower()]
    sd = table["StorageDescriptor"]
    assert table["Parameters"]["classification"] == "csv"
    header = table["Parameters"].get("skip.header.line.count") == "1"
    names = [c["Name"] for c in sd["Columns"]]
    serde = sd["SerdeInfo"]["SerializationLibrary"]
    if case == "utf8_bom_no_header":
        assert names == ["col0", "col1"] and not header
    else:
        assert names == columns and header
    if case == "quoted_newline":
        # quotes make it an OpenCSVSerDe table, which Athena documents cannot read embedded line breaks
        assert serde.endswith("OpenCSVSerde")
        reason = env.run(f"SELECT * FROM {database}.{folder.lower()}", expect="FAILED")["Status"]["StateChangeReason"]
        assert reason.startswith("NOT_SUPPORTED: ") and "line break" in reason
        return
    skip = 1 if header else 0
    if serde.endswith("OpenCSVSerde"):
        expected = open_csv_rows(raws, len(names), skip)
    else:
        assert serde.endswith("LazySimpleSerDe")
        expected = lazy_rows(raws, len(names), skip)
    # the table reads every file of its folder (the header-only and empty files add no rows)
    types = {c["Name"]: c["Type"] for c in sd["Columns"]}
    expected = [[lazy_int(v) if types[n] == "bigint" and v is not None else v for n, v in zip(names, row, strict=True)]
                for row in expected] if not serde.endswith("OpenCSVSerde") else expected
    assert _select_all(env, folder.lower(), names, database) == _sorted(expected)


# --------------------------------------------------------------------------- NULL spellings and mixed types


def test_serialization_null_format_changes_the_null_spelling(env):
    folder, raws = _put(env, "null_spellings")
    _ddl(env, "t", folder, ["id", "v"], LAZY, 1, props="'serialization.null.format'=''")
    expected = lazy_rows(raws, 2, 1, null="")
    assert [r[1] for r in expected] == ["\\N", None, "NULL", "x"]
    assert env.query("SELECT id, v FROM t ORDER BY id")[1:] == expected


MIXED = b"id,v\n1,10\n2,abc\n3,\n4,1.5\n5, 7\n6,-12.\n7,99999999999\n"


def test_lazy_simple_int_column_reads_values_that_do_not_parse_as_null(env):
    env.s3.put_object(Bucket=env.data, Key="mixed/p.csv", Body=MIXED)
    _ddl(env, "t", "mixed", ["id", "v"], LAZY, 1, types={"id": "int", "v": "int"})
    expected = [[i, lazy_int(v)] for i, v in lazy_rows([MIXED], 2, 1)]
    assert [v for _, v in expected] == ["10", None, None, "1", None, "-12", None]
    assert env.query("SELECT id, v FROM t ORDER BY id")[1:] == expected


def test_open_csv_int_column_fails_on_a_value_that_does_not_parse(env):
    body = b"id,v\n1,10\n2,\n"
    env.s3.put_object(Bucket=env.data, Key="mixedcsv/p.csv", Body=body)
    _ddl(env, "t", "mixedcsv", ["id", "v"], OPEN_CSV, 1, types={"id": "int", "v": "int"})
    reason = env.run("SELECT id, v FROM t", expect="FAILED")["Status"]["StateChangeReason"]
    assert reason.startswith("HIVE_BAD_DATA: Error parsing field value '' for field 1")
    assert env.query("SELECT id FROM t ORDER BY id")[1:] == [["1"], ["2"]]  # the column is not read
    env.run("DROP TABLE t")
    _ddl(env, "t", "mixedcsv", ["id", "v"], OPEN_CSV, 1, types={"id": "int", "v": "int"},
         props="'use.null.for.invalid.data'='true'")
    assert env.query("SELECT id, v FROM t ORDER BY id")[1:] == [["1", "10"], ["2", None]]


def test_crawler_types_a_mixed_column_as_string(env, sandbox_env):
    env.s3.put_object(Bucket=env.data, Key="mixedcrawl/p.csv", Body=MIXED)
    _, _, database = _crawl(sandbox_env, f"s3://{env.data}/mixedcrawl/")
    columns = env.glue.get_table(DatabaseName=database, Name="mixedcrawl")["Table"]["StorageDescriptor"]["Columns"]
    assert [(c["Name"], c["Type"]) for c in columns] == [("id", "bigint"), ("v", "string")]
    assert env.query_in(database, "SELECT v FROM mixedcrawl ORDER BY id")[1:] == [
        [v] for _, v in lazy_rows([MIXED], 2, 1)]


# --------------------------------------------------------------------------- stock amazon provider sensors


def _wait_crawl(glue, name: str) -> dict:
    import time

    for _ in range(400):
        crawler = glue.get_crawler(Name=name)["Crawler"]
        if crawler["State"] == "READY" and "LastCrawl" in crawler:
            return crawler
        time.sleep(0.05)
    raise AssertionError(f"crawler {name} did not finish")


def test_stock_glue_sensors_poke_before_and_after_the_partition_appears(env, sandbox_env):
    from airflow.exceptions import AirflowException
    from airflow.providers.amazon.aws.sensors.glue_catalog_partition import GlueCatalogPartitionSensor
    from airflow.providers.amazon.aws.sensors.glue_crawler import GlueCrawlerSensor

    glue = sandbox_env.client("glue")
    name, database = f"sensor_{uuid.uuid4().hex[:8]}", f"db_{uuid.uuid4().hex[:8]}"
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_crawler(Name=name, Role="arn:aws:iam::123456789012:role/crawler", DatabaseName=database,
                        Targets={"S3Targets": [{"Path": f"s3://{env.data}/events/"}]})
    crawl_sensor = GlueCrawlerSensor(task_id="crawled", crawler_name=name, aws_conn_id="aws_default",
                                     region_name="us-east-1")
    glue.start_crawler(Name=name)
    assert _wait_crawl(glue, name)["LastCrawl"]["Status"] == "FAILED"  # nothing under the target yet
    with pytest.raises(AirflowException, match="FAILED"):
        crawl_sensor.poke({})

    env.s3.put_object(Bucket=env.data, Key="events/year=2023/e.csv", Body=b"id,n\n1,2\n2,3\n")
    glue.start_crawler(Name=name)
    assert _wait_crawl(glue, name)["LastCrawl"]["Status"] == "SUCCEEDED"
    assert crawl_sensor.poke({}) is True

    part_sensor = GlueCatalogPartitionSensor(task_id="part", database_name=database, table_name="events",
                                             expression="year='2024'", aws_conn_id="aws_default",
                                             region_name="us-east-1")
    assert part_sensor.poke({}) is False  # only year=2023 is registered
    env.s3.put_object(Bucket=env.data, Key="events/year=2024/e.csv", Body=b"id,n\n3,4\n4,5\n")
    glue.start_crawler(Name=name)
    assert _wait_crawl(glue, name)["LastCrawl"]["Status"] == "SUCCEEDED"
    assert part_sensor.poke({}) is True
    dotted = GlueCatalogPartitionSensor(task_id="dotted", table_name=f"{database}.events", expression="year='2025'",
                                        aws_conn_id="aws_default", region_name="us-east-1")
    assert dotted.poke({}) is False


def test_stock_s3_sensors_poke_before_and_after_the_data_appears(env):
    from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor, S3KeysUnchangedSensor

    wildcard = S3KeySensor(task_id="wild", bucket_name=env.data, bucket_key="landing/*.csv", wildcard_match=True,
                           aws_conn_id="aws_default")
    unchanged = S3KeysUnchangedSensor(task_id="quiet", bucket_name=env.data, prefix="landing/", inactivity_period=0,
                                      min_objects=2, aws_conn_id="aws_default")
    assert wildcard.poke({}) is False
    assert unchanged.poke({}) is False
    env.s3.put_object(Bucket=env.data, Key="landing/readme.txt", Body=b"not csv")
    assert wildcard.poke({}) is False  # the wildcard matches .csv keys only
    env.s3.put_object(Bucket=env.data, Key="landing/a.csv", Body=b"id\n1\n")
    assert wildcard.poke({}) is True
    assert unchanged.poke({}) is False  # new objects since the last poke
    assert unchanged.poke({}) is True  # two objects, none added since: inactivity_period 0 has passed
    env.s3.put_object(Bucket=env.data, Key="landing/b.csv", Body=b"id\n2\n")
    assert unchanged.poke({}) is False
    assert unchanged.previous_objects == {"landing/readme.txt", "landing/a.csv", "landing/b.csv"}


# --------------------------------------------------------------------------- OpenCSVSerDe escapes and quotes

#: line -> fields, by the rules of opencsv 2.3's CSVParser, which Hive's OpenCSVSerDe reads each line with:
#: the escape character is dropped and makes a following quote or escape character literal inside quotes
#: or a field, and escapes nothing else (not the separator); a doubled quote is one quote; a quote inside
#: a field (not next to a separator) is text, unless only white space precedes it there
ESCAPES = {
    r"1,a\,b": ["1", "a", "b"],
    r"2,\N,x": ["2", "N", "x"],
    r'3,"q\"uote",y': ["3", 'q"uote', "y"],
    '4,"dou""ble",z': ["4", 'dou"ble', "z"],
    r'5,"\\t\\n",w': ["5", r"\t\n", "w"],
    '6,ab"c"d,e': ["6", 'ab"c"d', "e"],
    '7,  "sp",f': ["7", "sp", "f"],
    r'8,"a,b\\",g': ["8", "a,b\\", "g"],
}


def test_open_csv_escape_character_follows_opencsv(env):
    body = ("\n".join(ESCAPES) + "\n").encode()
    env.s3.put_object(Bucket=env.data, Key="escapes/p.csv", Body=body)
    _ddl(env, "t", "escapes", ["id", "v", "w"], OPEN_CSV, 0)
    assert env.query("SELECT id, v, w FROM t ORDER BY id")[1:] == list(ESCAPES.values())


def test_open_csv_escaping_tab_and_newline_as_athena_documents(env):
    """Athena's csv-serde page: with ``"escapeChar" = "\\\\"`` the field ``" \\\\t\\\\t\\\\n 123 \\\\t\\\\t\\\\n "``
    reads ``\\t\\t\\n 123 \\t\\t\\n`` (the page shows the values without their surrounding spaces)."""
    body = b'" \\\\t\\\\t\\\\n 123 \\\\t\\\\t\\\\n ",abc\n" 456 ",xyz\n'
    env.s3.put_object(Bucket=env.data, Key="escapetab/p.csv", Body=body)
    env.run(f"CREATE EXTERNAL TABLE t (f1 string, s2 string) {OPEN_CSV} "
            "WITH SERDEPROPERTIES ('separatorChar' = ',', 'escapeChar' = '\\\\') "
            f"LOCATION 's3://{env.data}/escapetab/'")
    rows = env.query("SELECT f1, s2 FROM t")[1:]
    assert [[f1.strip(), s2] for f1, s2 in rows] == [["\\t\\t\\n 123 \\t\\t\\n", "abc"], ["456", "xyz"]]
    assert rows[1][0] == " 456 "  # the SerDe keeps the spaces inside the quotes


# --------------------------------------------------------------------------- typed columns per SerDe


def test_open_csv_date_and_timestamp_in_unix_form_as_athena_documents(env):
    """Athena's csv-serde example: ``18276`` in a date column is 2020-01-15, ``1579059880000`` in a
    timestamp column is 2020-01-15 03:44:40.000; booleans are recognised."""
    env.s3.put_object(Bucket=env.data, Key="unixcsv/p.csv", Body=b'"p1","18276","1579059880000","TRUE"\n'
                                                                   b'"p2","0","-1000","false"\n')
    _ddl(env, "t", "unixcsv", ["profile_id", "d", "ts", "b"], OPEN_CSV, 0,
         types={"d": "date", "ts": "timestamp", "b": "boolean"})
    assert env.query("SELECT profile_id, d, ts, b FROM t ORDER BY profile_id")[1:] == [
        ["p1", "2020-01-15", "2020-01-15 03:44:40.000", "true"],
        ["p2", "1970-01-01", "1969-12-31 23:59:59.000", "false"],
    ]


@pytest.mark.parametrize(("hive", "value"), [("date", "2020-01-15"), ("timestamp", "2020-01-15 03:44:40"),
                                             ("boolean", "yes"), ("date", ""), ("decimal(5,2)", "abc")])
def test_open_csv_value_in_an_undocumented_form_fails_or_reads_null(env, hive, value):
    folder = f"csvform_{uuid.uuid4().hex[:6]}"
    env.s3.put_object(Bucket=env.data, Key=f"{folder}/p.csv", Body=f'"1","{value}"\n'.encode())
    _ddl(env, "t", folder, ["id", "v"], OPEN_CSV, 0, types={"v": hive})
    reason = env.run("SELECT id, v FROM t", expect="FAILED")["Status"]["StateChangeReason"]
    assert reason.startswith(f"HIVE_BAD_DATA: Error parsing field value '{value}' for field 1: ")
    assert "not emulated by the sandbox" in reason
    env.run("DROP TABLE t")
    _ddl(env, "t", folder, ["id", "v"], OPEN_CSV, 0, types={"v": hive}, props="'use.null.for.invalid.data'='true'")
    assert env.query("SELECT id, v FROM t")[1:] == [["1", None]]


#: LazySimpleSerDe text -> value, by Hive's readers (Trino's text reader copies them): a date is
#: y-M-d after trimming, what follows a space ignored, fields past their range carried into the next
#: (java.time's LENIENT resolver); a timestamp is at least 8 bytes, y-M-d[ H:m:s[.f]] or ISO
#: yyyy-MM-ddTHH:mm[:ss[.f]]; a decimal is what Java's BigDecimal reads, rounded half up, NULL past the
#: precision; anything else is NULL
LAZY_DATES = {"2020-01-15": "2020-01-15", " 2020-1-5 ": "2020-01-05", "2020-01-15 10:00:00": "2020-01-15",
              "2020-13-01": "2021-01-01", "2020-02-30": "2020-03-01", "15/01/2020": None, "2020-01": None}
LAZY_TIMESTAMPS = {"2020-01-15 03:44:40": "2020-01-15 03:44:40.000", "2020-01-15": "2020-01-15 00:00:00.000",
                   "2020-01-15 03:44:40.5": "2020-01-15 03:44:40.500", "2020-01-15T03:44": "2020-01-15 03:44:00.000",
                   "2020-01-15 24:00:00": "2020-01-16 00:00:00.000", "2020-1-1": "2020-01-01 00:00:00.000",
                   "20-1-1": None, "1579059880000": None, "01/15/2020 03:44": None}
LAZY_DECIMALS = {"1.005": "1.01", "-0.125": "-0.13", "1e2": "100.00", ".5": "0.50", "7": "7.00",
                 " 1.5": None, "abc": None, "1234.5": None, "999.995": None}


@pytest.mark.parametrize(("hive", "cases"), [("date", LAZY_DATES), ("timestamp", LAZY_TIMESTAMPS),
                                             ("decimal(5,2)", LAZY_DECIMALS)])
def test_lazy_simple_typed_columns_parse_as_hive(env, hive, cases):
    folder = f"lazytyped_{uuid.uuid4().hex[:6]}"
    body = "".join(f"{i}|{text}\n" for i, text in enumerate(cases)).encode()
    env.s3.put_object(Bucket=env.data, Key=f"{folder}/p.txt", Body=body)
    env.run(f"CREATE EXTERNAL TABLE t (id int, v {hive}) ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' "
            f"LOCATION 's3://{env.data}/{folder}/'")
    assert env.query("SELECT v FROM t ORDER BY id")[1:] == [[v] for v in cases.values()]


def test_lazy_simple_timestamp_formats_millis(env):
    env.s3.put_object(Bucket=env.data, Key="tsmillis/p.txt", Body=b"1|1579059880000\n2|2020-01-15 03:44:40\n3|x\n")
    env.run("CREATE EXTERNAL TABLE t (id int, ts timestamp) ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' "
            "WITH SERDEPROPERTIES ('timestamp.formats'='millis') "
            f"LOCATION 's3://{env.data}/tsmillis/'")
    assert env.query("SELECT ts FROM t ORDER BY id")[1:] == [
        ["2020-01-15 03:44:40.000"], ["2020-01-15 03:44:40.000"], [None]]
    env.run("DROP TABLE t")
    env.run("CREATE EXTERNAL TABLE t (id int, ts timestamp) ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' "
            "WITH SERDEPROPERTIES ('timestamp.formats'='yyyyMMdd') "
            f"LOCATION 's3://{env.data}/tsmillis/'")
    reason = env.run("SELECT ts FROM t", expect="FAILED")["Status"]["StateChangeReason"]
    assert reason.startswith("NOT_SUPPORTED: The timestamp.formats pattern 'yyyyMMdd'")
