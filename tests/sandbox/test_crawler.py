"""Glue crawler runs on the sandbox, through plain boto3: schema inference, partitions, failures."""

from __future__ import annotations

import csv
import io
import json
import time
import urllib.request
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError

SEED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "seed"
CSVLOG_COLUMNS = [("deviceid", "string"), ("uuid", "bigint"), ("appid", "bigint"), ("country", "string"),
                  ("year", "bigint"), ("month", "bigint"), ("day", "bigint"), ("hour", "bigint")]


def _name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def add_fault(sandbox, rule: dict) -> None:
    req = urllib.request.Request(f"{sandbox.endpoint_url}/_sandbox/faults", data=json.dumps(rule).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()


@pytest.fixture
def glue(sandbox_env):
    return sandbox_env.client("glue")


@pytest.fixture
def s3(sandbox_env):
    return sandbox_env.client("s3")


@pytest.fixture
def bucket(s3):
    name = _name("crawl-")
    s3.create_bucket(Bucket=name)
    return name


def make_crawler(glue, bucket_path: str, *, database: str | None = None, prefix: str = "",
                 **extra) -> tuple[str, str]:
    name, database = _name("crawler_"), database or _name("db_")
    try:
        glue.create_database(DatabaseInput={"Name": database})
    except glue.exceptions.AlreadyExistsException:
        pass
    glue.create_crawler(Name=name, Role="arn:aws:iam::123456789012:role/crawler", DatabaseName=database,
                        TablePrefix=prefix, Targets={"S3Targets": [{"Path": bucket_path}]}, **extra)
    return name, database


def wait_ready(glue, name: str, timeout: float = 20.0) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        crawler = glue.get_crawler(Name=name)["Crawler"]
        if crawler["State"] == "READY" and "LastCrawl" in crawler:
            return crawler
        time.sleep(0.05)
    raise AssertionError(f"crawler {name} did not finish in {timeout}s")


def wait_state(glue, name: str, wanted: str, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if glue.get_crawler(Name=name)["Crawler"]["State"] == wanted:
            return
        time.sleep(0.02)
    raise AssertionError(f"crawler {name} never reached {wanted}")


def crawl(glue, name: str) -> dict:
    glue.start_crawler(Name=name)
    return wait_ready(glue, name)


def test_crawl_of_csvlog_gives_the_eight_typed_columns(glue, s3, bucket):
    s3.put_object(Bucket=bucket, Key="se2/in0/csvlog.csv", Body=(SEED / "csvlog.csv").read_bytes())
    name, database = make_crawler(glue, f"s3://{bucket}/se2/in0/", prefix="se2_")

    crawler = crawl(glue, name)

    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED"
    assert crawler["LastCrawl"]["LogGroup"] == "/aws-glue/crawlers"
    table = glue.get_table(DatabaseName=database, Name="se2_in0")["Table"]
    sd = table["StorageDescriptor"]
    assert [(c["Name"], c["Type"]) for c in sd["Columns"]] == CSVLOG_COLUMNS
    assert table["PartitionKeys"] == []
    assert table["Parameters"]["classification"] == "csv"
    assert table["Parameters"]["skip.header.line.count"] == "1"
    assert table["Parameters"]["recordCount"] == "19"
    assert sd["Location"] == f"s3://{bucket}/se2/in0/"
    assert sd["SerdeInfo"]["SerializationLibrary"] == "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
    assert sd["SerdeInfo"]["Parameters"]["field.delim"] == ","
    assert sd["InputFormat"] == "org.apache.hadoop.mapred.TextInputFormat"


def test_csv_without_distinct_header_gets_generic_column_names(glue, s3, bucket):
    s3.put_object(Bucket=bucket, Key="names/n.csv", Body=b"alice,paris\nbob,tokyo\ncarol,lima\n")
    name, database = make_crawler(glue, f"s3://{bucket}/names/")
    crawl(glue, name)
    table = glue.get_table(DatabaseName=database, Name="names")["Table"]
    assert [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]] == [
        ("col0", "string"), ("col1", "string")]
    assert "skip.header.line.count" not in table["Parameters"]


def test_key_value_folders_become_partitions(glue, s3, bucket):
    body = b"id,amount,paid\n1,2.5,true\n2,3.0,false\n"
    for y, m in (("2017", "12"), ("2018", "01"), ("2018", "02")):
        s3.put_object(Bucket=bucket, Key=f"logs/year={y}/month={m}/part-0.csv", Body=body)
    name, database = make_crawler(glue, f"s3://{bucket}/logs/", prefix="raw_")

    assert crawl(glue, name)["LastCrawl"]["Status"] == "SUCCEEDED"

    table = glue.get_table(DatabaseName=database, Name="raw_logs")["Table"]
    assert table["PartitionKeys"] == [{"Name": "year", "Type": "string"}, {"Name": "month", "Type": "string"}]
    assert [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]] == [
        ("id", "bigint"), ("amount", "double"), ("paid", "boolean")]
    parts = glue.get_partitions(DatabaseName=database, TableName="raw_logs")["Partitions"]
    assert sorted(p["Values"] for p in parts) == [["2017", "12"], ["2018", "01"], ["2018", "02"]]
    locations = {tuple(p["Values"]): p["StorageDescriptor"]["Location"] for p in parts}
    assert locations[("2018", "01")] == f"s3://{bucket}/logs/year=2018/month=01/"


def test_parquet_target_schema_comes_from_the_files(glue, s3, bucket):
    table = pa.table({
        "id": pa.array([1, 2], pa.int64()), "small": pa.array([1, 2], pa.int32()),
        "price": pa.array([1.5, 2.5], pa.float64()), "name": ["a", "b"], "ok": [True, False],
        "ts": pa.array([0, 1], pa.timestamp("ms")),
    })
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="snappy")
    s3.put_object(Bucket=bucket, Key="pq/orders/part-0.parquet", Body=buf.getvalue())
    name, database = make_crawler(glue, f"s3://{bucket}/pq/orders/")

    assert crawl(glue, name)["LastCrawl"]["Status"] == "SUCCEEDED"

    got = glue.get_table(DatabaseName=database, Name="orders")["Table"]
    assert [(c["Name"], c["Type"]) for c in got["StorageDescriptor"]["Columns"]] == [
        ("id", "bigint"), ("small", "int"), ("price", "double"), ("name", "string"), ("ok", "boolean"),
        ("ts", "timestamp")]
    assert got["Parameters"]["classification"] == "parquet"
    assert got["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == (
        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe")


def test_sub_folders_with_different_schemas_become_separate_tables(glue, s3, bucket):
    s3.put_object(Bucket=bucket, Key="se2/in0/csvlog.csv", Body=(SEED / "csvlog.csv").read_bytes())
    s3.put_object(Bucket=bucket, Key="se2/other/x.csv", Body=b"a,b\n1,x\n2,y\n")
    name, database = make_crawler(glue, f"s3://{bucket}/se2/", prefix="se2_")
    assert crawl(glue, name)["LastCrawl"]["Status"] == "SUCCEEDED"
    names = sorted(t["Name"] for t in glue.get_tables(DatabaseName=database)["TableList"])
    assert names == ["se2_in0", "se2_other"]


def test_recrawl_updates_the_table_when_the_schema_changes(glue, s3, bucket):
    s3.put_object(Bucket=bucket, Key="t/a.csv", Body=b"id,v\n1,2\n")
    name, database = make_crawler(glue, f"s3://{bucket}/t/")
    crawl(glue, name)
    s3.put_object(Bucket=bucket, Key="t/a.csv", Body=b"id,v,w\n1,2,x\n")
    crawl(glue, name)
    columns = glue.get_table(DatabaseName=database, Name="t")["Table"]["StorageDescriptor"]["Columns"]
    assert [c["Name"] for c in columns] == ["id", "v", "w"]
    metrics = glue.get_crawler_metrics(CrawlerNameList=[name])["CrawlerMetricsList"][0]
    assert (metrics["TablesCreated"], metrics["TablesUpdated"]) == (0, 1)


def test_missing_bucket_fails_the_crawl_with_a_message(glue):
    name, _ = make_crawler(glue, "s3://no-such-bucket-sandbox/in0/")
    crawler = crawl(glue, name)
    assert crawler["State"] == "READY"
    assert crawler["LastCrawl"]["Status"] == "FAILED"
    assert "no-such-bucket-sandbox" in crawler["LastCrawl"]["ErrorMessage"]
    assert "does not exist" in crawler["LastCrawl"]["ErrorMessage"]


def test_empty_target_fails_the_crawl(glue, bucket):
    name, _ = make_crawler(glue, f"s3://{bucket}/nothing/here/")
    crawler = crawl(glue, name)
    assert crawler["LastCrawl"]["Status"] == "FAILED"
    assert "No data found" in crawler["LastCrawl"]["ErrorMessage"]


def test_unreadable_data_is_skipped_and_logged(sandbox_env, glue, s3, bucket):
    """Glue skips an object no classifier recognises: the crawl succeeds, without a table for it."""
    s3.put_object(Bucket=bucket, Key="bad/x.parquet", Body=b"this is not parquet at all")
    name, database = make_crawler(glue, f"s3://{bucket}/bad/")
    crawler = crawl(glue, name)
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED"
    assert "ErrorMessage" not in crawler["LastCrawl"]
    assert glue.get_tables(DatabaseName=database)["TableList"] == []
    events = sandbox_env.client("logs").get_log_events(logGroupName="/aws-glue/crawlers", logStreamName=name)
    skipped = [e["message"] for e in events["events"] if f"s3://{bucket}/bad/x.parquet" in e["message"]]
    assert len(skipped) == 1 and "Parquet" in skipped[0]


def test_stop_crawler_cancels_the_crawl(sandbox_env, glue, s3, bucket):
    s3.put_object(Bucket=bucket, Key="slow/a.csv", Body=b"id,v\n1,2\n")
    name, database = make_crawler(glue, f"s3://{bucket}/slow/")
    add_fault(sandbox_env, {"kind": "delay", "target": "crawler", "name": name, "seconds": 30})
    glue.start_crawler(Name=name)
    wait_state(glue, name, "RUNNING")

    glue.stop_crawler(Name=name)

    assert glue.get_crawler(Name=name)["Crawler"]["State"] in ("STOPPING", "READY")
    crawler = wait_ready(glue, name)
    assert crawler["LastCrawl"]["Status"] == "CANCELLED"
    assert glue.get_tables(DatabaseName=database)["TableList"] == []
    with pytest.raises(ClientError) as err:
        glue.stop_crawler(Name=name)
    assert err.value.response["Error"]["Code"] == "CrawlerNotRunningException"


def test_start_while_running_raises_crawler_running(sandbox_env, glue, s3, bucket):
    s3.put_object(Bucket=bucket, Key="busy/a.csv", Body=b"id,v\n1,2\n")
    name, _ = make_crawler(glue, f"s3://{bucket}/busy/")
    add_fault(sandbox_env, {"kind": "delay", "target": "crawler", "name": name, "seconds": 30})
    glue.start_crawler(Name=name)
    with pytest.raises(ClientError) as err:
        glue.start_crawler(Name=name)
    assert err.value.response["Error"]["Code"] == "CrawlerRunningException"
    with pytest.raises(ClientError) as err:
        glue.delete_crawler(Name=name)
    assert err.value.response["Error"]["Code"] == "CrawlerRunningException"
    glue.stop_crawler(Name=name)
    wait_ready(glue, name)


def test_get_crawler_metrics(sandbox_env, glue, s3, bucket):
    s3.put_object(Bucket=bucket, Key="m/a.csv", Body=b"id,v\n1,2\n")
    name, _ = make_crawler(glue, f"s3://{bucket}/m/")
    add_fault(sandbox_env, {"kind": "delay", "target": "crawler", "name": name, "seconds": 0.5})
    glue.start_crawler(Name=name)
    running = glue.get_crawler_metrics(CrawlerNameList=[name])["CrawlerMetricsList"][0]
    assert running["CrawlerName"] == name
    assert running["StillEstimating"] is True
    wait_ready(glue, name)

    done = glue.get_crawler_metrics(CrawlerNameList=[name])["CrawlerMetricsList"][0]
    assert done["StillEstimating"] is False
    assert done["TimeLeftSeconds"] == 0
    assert done["LastRuntimeSeconds"] >= 0.5
    assert done["MedianRuntimeSeconds"] == done["LastRuntimeSeconds"]
    assert (done["TablesCreated"], done["TablesUpdated"], done["TablesDeleted"]) == (1, 0, 0)


def test_fault_fail_fails_the_crawl_with_its_message(sandbox_env, glue, s3, bucket):
    s3.put_object(Bucket=bucket, Key="f/a.csv", Body=b"id,v\n1,2\n")
    name, database = make_crawler(glue, f"s3://{bucket}/f/")
    add_fault(sandbox_env, {"kind": "fail", "target": "crawler", "name": name,
                            "message": "Internal Service Exception"})
    crawler = crawl(glue, name)
    assert crawler["LastCrawl"]["Status"] == "FAILED"
    assert crawler["LastCrawl"]["ErrorMessage"] == "Internal Service Exception"
    assert glue.get_tables(DatabaseName=database)["TableList"] == []


def test_fault_delay_makes_the_crawl_run_long(sandbox_env, glue, s3, bucket):
    s3.put_object(Bucket=bucket, Key="d/a.csv", Body=b"id,v\n1,2\n")
    name, _ = make_crawler(glue, f"s3://{bucket}/d/")
    add_fault(sandbox_env, {"kind": "delay", "target": "crawler", "name": name, "seconds": 1})
    started = time.monotonic()
    glue.start_crawler(Name=name)
    assert glue.get_crawler(Name=name)["Crawler"]["State"] == "RUNNING"
    crawler = wait_ready(glue, name)
    assert time.monotonic() - started >= 1
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED"


def test_list_crawls_shows_the_history(glue, s3, bucket):
    s3.put_object(Bucket=bucket, Key="h/a.csv", Body=b"id,v\n1,2\n")
    name, _ = make_crawler(glue, f"s3://{bucket}/h/")
    crawl(glue, name)
    crawl(glue, name)
    crawls = glue.list_crawls(CrawlerName=name)["Crawls"]
    assert [c["State"] for c in crawls] == ["COMPLETED", "COMPLETED"]
    assert crawls[0]["StartTime"] >= crawls[1]["StartTime"]


def test_airflow_glue_crawler_hook(sandbox_env, s3, bucket):
    from airflow.providers.amazon.aws.hooks.glue_crawler import GlueCrawlerHook

    glue = sandbox_env.client("glue")
    s3.put_object(Bucket=bucket, Key="se2/in0/csvlog.csv", Body=(SEED / "csvlog.csv").read_bytes())
    name, database = make_crawler(glue, f"s3://{bucket}/se2/in0/", prefix="se2_")
    hook = GlueCrawlerHook(aws_conn_id="aws_default")
    assert hook.has_crawler(name)
    hook.start_crawler(name)
    assert hook.wait_for_crawler_completion(name, poll_interval=1) == "SUCCEEDED"
    assert glue.get_table(DatabaseName=database, Name="se2_in0")["Table"]["Name"] == "se2_in0"


# --------------------------------------------------------------------------- crawler settings


def _config(**sections) -> str:
    return json.dumps({"Version": 1.0, **sections})


def _columns(glue, database: str, table: str) -> list[tuple[str, str]]:
    sd = glue.get_table(DatabaseName=database, Name=table)["Table"]["StorageDescriptor"]
    return [(c["Name"], c["Type"]) for c in sd["Columns"]]


def _log_messages(sandbox_env, name: str) -> list[str]:
    events = sandbox_env.client("logs").get_log_events(logGroupName="/aws-glue/crawlers", logStreamName=name)
    return [e["message"] for e in events["events"]]


FOLDERS_WITH_OWN_COLUMNS = {"a/x.csv": b"id,alpha\n1,2\n3,4\n", "b/y.csv": b"id,beta\n1,2\n3,4\n",
                            "c/z.csv": b"id,gamma\n1,2\n3,4\n"}


def test_table_threshold_fails_the_crawl_without_writing(sandbox_env, glue, s3, bucket):
    for key, body in FOLDERS_WITH_OWN_COLUMNS.items():
        s3.put_object(Bucket=bucket, Key=f"thr/{key}", Body=body)
    headers = {body.split(b"\n", 1)[0] for body in FOLDERS_WITH_OWN_COLUMNS.values()}
    assert len(headers) == 3  # three different column sets: three tables
    name, database = make_crawler(glue, f"s3://{bucket}/thr/",
                                  Configuration=_config(CrawlerOutput={"Tables": {"TableThreshold": 2}}))
    crawler = crawl(glue, name)
    assert crawler["LastCrawl"]["Status"] == "FAILED"
    assert crawler["LastCrawl"]["ErrorMessage"].startswith(
        "The number of tables detected by crawler: 3 is greater than the table threshold value provided: 2")
    assert glue.get_tables(DatabaseName=database)["TableList"] == []
    messages = _log_messages(sandbox_env, name)
    assert messages[-1].endswith("BENCHMARK : Crawler has finished running and is in state READY")
    assert any("ERROR : The number of tables detected" in m for m in messages)


def test_combine_compatible_schemas_makes_one_table_of_the_folders(glue, s3, bucket):
    for key, body in FOLDERS_WITH_OWN_COLUMNS.items():
        s3.put_object(Bucket=bucket, Key=f"comb/{key}", Body=body)
    plain, _ = make_crawler(glue, f"s3://{bucket}/comb/")
    grouping = {"TableGroupingPolicy": "CombineCompatibleSchemas"}
    combined, database = make_crawler(glue, f"s3://{bucket}/comb/", Configuration=_config(Grouping=grouping))
    crawl(glue, plain)
    plain_db = glue.get_crawler(Name=plain)["Crawler"]["DatabaseName"]
    assert sorted(t["Name"] for t in glue.get_tables(DatabaseName=plain_db)["TableList"]) == ["a", "b", "c"]
    assert crawl(glue, combined)["LastCrawl"]["Status"] == "SUCCEEDED"
    tables = glue.get_tables(DatabaseName=database)["TableList"]
    assert [t["Name"] for t in tables] == ["comb"]
    expected: dict[str, None] = {}
    for body in FOLDERS_WITH_OWN_COLUMNS.values():
        expected.update(dict.fromkeys(body.decode().split("\n", 1)[0].split(",")))
    assert [n for n, _ in _columns(glue, database, "comb")] == list(expected)
    assert [k["Name"] for k in tables[0]["PartitionKeys"]] == ["partition_0"]
    parts = glue.get_partitions(DatabaseName=database, TableName="comb")["Partitions"]
    assert sorted(p["Values"][0] for p in parts) == sorted(k.split("/")[0] for k in FOLDERS_WITH_OWN_COLUMNS)


def test_table_level_configuration_places_tables_at_that_level(glue, s3, bucket):
    keys = ["lvl/sales/year=2024/month=01/a.csv", "lvl/sales/year=2024/month=02/b.csv",
            "lvl/sales/year=2025/month=01/c.csv"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"id,amount\n1,2.5\n2,3.5\n")
    for level in (2, 3):
        name, database = make_crawler(glue, f"s3://{bucket}/lvl/",
                                      Configuration=_config(Grouping={"TableLevelConfiguration": level}))
        assert crawl(glue, name)["LastCrawl"]["Status"] == "SUCCEEDED"
        # the table is the folder at that level from the bucket (level 1 is the top-level folder)
        roots = sorted({"/".join(k.split("/")[:level]) + "/" for k in keys})
        tables = sorted(glue.get_tables(DatabaseName=database)["TableList"], key=lambda t: t["Name"])
        assert [t["StorageDescriptor"]["Location"] for t in tables] == [f"s3://{bucket}/{r}" for r in roots]
        depth = len(keys[0].split("/")) - 1 - level
        assert all(len(t["PartitionKeys"]) == depth for t in tables)
    assert [k["Name"] for k in tables[0]["PartitionKeys"]] == ["month"]


def test_table_level_above_an_object_fails_the_crawl(glue, s3, bucket):
    s3.put_object(Bucket=bucket, Key="shallow/a.csv", Body=b"id,v\n1,2\n")
    name, _ = make_crawler(glue, f"s3://{bucket}/shallow/",
                           Configuration=_config(Grouping={"TableLevelConfiguration": 3}))
    crawler = crawl(glue, name)
    assert crawler["LastCrawl"]["Status"] == "FAILED"
    assert "not emulated by the sandbox" in crawler["LastCrawl"]["ErrorMessage"]


def test_merge_new_columns_adds_columns_and_keeps_the_existing_ones(glue, s3, bucket):
    s3.put_object(Bucket=bucket, Key="merge/a.csv", Body=b"id,v\n1,2\n3,4\n")
    output = {"Tables": {"AddOrUpdateBehavior": "MergeNewColumns"}}
    name, database = make_crawler(glue, f"s3://{bucket}/merge/", Configuration=_config(CrawlerOutput=output))
    crawl(glue, name)
    table = glue.get_table(DatabaseName=database, Name="merge")["Table"]
    # a type set by hand in the catalog stays, as MergeNewColumns documents
    edited = [{"Name": "id", "Type": "string"}, {"Name": "v", "Type": "bigint"}]
    glue.update_table(DatabaseName=database, TableInput={
        "Name": "merge", "PartitionKeys": table["PartitionKeys"], "Parameters": table["Parameters"],
        "StorageDescriptor": dict(table["StorageDescriptor"], Columns=edited)})
    s3.put_object(Bucket=bucket, Key="merge/a.csv", Body=b"id,w\n1,x\n3,y\n")
    assert crawl(glue, name)["LastCrawl"]["Status"] == "SUCCEEDED"
    new_columns = [("w", "string")]  # the new file's column that the table lacks ("x", "y": strings)
    assert _columns(glue, database, "merge") == [(c["Name"], c["Type"]) for c in edited] + new_columns


def test_partitions_have_their_own_schema_or_inherit_the_tables(glue, s3, bucket):
    s3.put_object(Bucket=bucket, Key="inh/dt=1/a.csv", Body=b"id,v\n1,2\n3,4\n")
    s3.put_object(Bucket=bucket, Key="inh/dt=2/b.csv", Body=b"id,v,w\n1,2,3\n4,5,6\n")
    own, own_db = make_crawler(glue, f"s3://{bucket}/inh/")
    output = {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}}
    inherit, inherit_db = make_crawler(glue, f"s3://{bucket}/inh/", Configuration=_config(CrawlerOutput=output))
    crawl(glue, own)
    crawl(glue, inherit)
    for database in (own_db, inherit_db):
        assert [n for n, _ in _columns(glue, database, "inh")] == ["id", "v", "w"]

    def partition_columns(database: str) -> list[str]:
        part = glue.get_partition(DatabaseName=database, TableName="inh", PartitionValues=["1"])["Partition"]
        return [c["Name"] for c in part["StorageDescriptor"]["Columns"]]

    assert partition_columns(own_db) == ["id", "v"]  # the header of dt=1/a.csv
    assert partition_columns(inherit_db) == ["id", "v", "w"]  # the table's


def test_crawl_new_folders_only_needs_the_log_schema_change_policy(glue, bucket):
    with pytest.raises(ClientError) as err:
        make_crawler(glue, f"s3://{bucket}/inc/", RecrawlPolicy={"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"})
    assert err.value.response["Error"]["Code"] == "InvalidInputException"
    assert "can have only LOG DeleteBehavior value and LOG UpdateBehavior value" in str(err.value)


def test_crawl_new_folders_only_adds_new_partitions_and_leaves_the_schema(sandbox_env, glue, s3, bucket):
    s3.put_object(Bucket=bucket, Key="inc/day=1/a.csv", Body=b"id,v\n1,2\n3,4\n")
    name, database = make_crawler(glue, f"s3://{bucket}/inc/",
                                  RecrawlPolicy={"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"},
                                  SchemaChangePolicy={"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"})
    crawl(glue, name)
    first = _columns(glue, database, "inc")
    s3.put_object(Bucket=bucket, Key="inc/day=1/b.csv", Body=b"id,v,extra\n1,2,3\n3,4,5\n")  # old folder
    s3.put_object(Bucket=bucket, Key="inc/day=2/c.csv", Body=b"id,v\n5,6\n7,8\n")  # new folder
    for folder in ("day=1", "day=2"):  # objects no classifier recognises: a crawl that reads them logs them
        s3.put_object(Bucket=bucket, Key=f"inc/{folder}/blob.bin", Body=bytes(range(256)))
    second = crawl(glue, name)
    assert second["LastCrawl"]["Status"] == "SUCCEEDED"
    logged = [m for m in _log_messages(sandbox_env, name) if m.startswith(f"[{second['LastCrawl']['MessagePrefix']}]")]
    skipped = [m for m in logged if "Skipping" in m]
    assert len(skipped) == 1 and f"s3://{bucket}/inc/day=2/blob.bin" in skipped[0]  # day=1 was not read again
    assert _columns(glue, database, "inc") == first
    parts = glue.get_partitions(DatabaseName=database, TableName="inc")["Partitions"]
    assert sorted(p["Values"][0] for p in parts) == ["1", "2"]
    crawls = glue.list_crawls(CrawlerName=name)["Crawls"]
    assert json.loads(crawls[0]["Summary"])["PARTITION"]["ADD"]["Count"] == 1


def test_crawl_everything_adds_new_partition_folders_on_recrawl(glue, s3, bucket):
    s3.put_object(Bucket=bucket, Key="re/day=1/a.csv", Body=b"id,v\n1,2\n3,4\n")
    name, database = make_crawler(glue, f"s3://{bucket}/re/")
    crawl(glue, name)
    for day in (2, 3):
        s3.put_object(Bucket=bucket, Key=f"re/day={day}/a.csv", Body=b"id,v\n1,2\n3,4\n")
    crawl(glue, name)
    parts = glue.get_partitions(DatabaseName=database, TableName="re")["Partitions"]
    assert sorted(p["Values"][0] for p in parts) == ["1", "2", "3"]
    assert {p["StorageDescriptor"]["Location"] for p in parts} == {f"s3://{bucket}/re/day={d}/" for d in (1, 2, 3)}


def test_event_mode_and_unknown_configuration_fail_the_crawl(glue, s3, bucket):
    s3.put_object(Bucket=bucket, Key="ev/a.csv", Body=b"id,v\n1,2\n")
    event, _ = make_crawler(glue, f"s3://{bucket}/ev/", RecrawlPolicy={"RecrawlBehavior": "CRAWL_EVENT_MODE"})
    unknown, _ = make_crawler(glue, f"s3://{bucket}/ev/",
                              Configuration=_config(CrawlerOutput={"Tables": {"Bogus": 1}}))
    for name, needle in ((event, "CRAWL_EVENT_MODE"), (unknown, "CrawlerOutput.Tables.Bogus")):
        last = crawl(glue, name)["LastCrawl"]
        assert last["Status"] == "FAILED"
        assert needle in last["ErrorMessage"] and "is not emulated by the sandbox" in last["ErrorMessage"]


def test_configuration_that_is_not_a_json_object_is_rejected(glue, bucket):
    for text in ("{not json", "[1, 2]"):
        with pytest.raises(ClientError) as err:
            make_crawler(glue, f"s3://{bucket}/x/", Configuration=text)
        assert err.value.response["Error"]["Code"] == "InvalidInputException"


def test_update_crawler_changes_the_definition(glue, s3, bucket):
    s3.put_object(Bucket=bucket, Key="upd/a.csv", Body=b"id,v\n1,2\n")
    name, database = make_crawler(glue, f"s3://{bucket}/upd/")
    before = glue.get_crawler(Name=name)["Crawler"]
    glue.update_crawler(Name=name, TablePrefix="p_", Configuration=_config(Grouping={"TableLevelConfiguration": 1}))
    after = glue.get_crawler(Name=name)["Crawler"]
    assert (after["TablePrefix"], after["Version"]) == ("p_", before["Version"] + 1)
    assert after["Targets"] == before["Targets"]  # what the request leaves out stays
    crawl(glue, name)
    assert [t["Name"] for t in glue.get_tables(DatabaseName=database)["TableList"]] == ["p_upd"]
    with pytest.raises(ClientError) as err:
        glue.update_crawler(Name=name, RecrawlPolicy={"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"})
    assert err.value.response["Error"]["Code"] == "InvalidInputException"


def test_crawl_log_lines_are_shaped_like_glues(sandbox_env, glue, s3, bucket):
    s3.put_object(Bucket=bucket, Key="lg/a.csv", Body=b"id,v\n1,2\n")
    name, _ = make_crawler(glue, f"s3://{bucket}/lg/")
    crawler = crawl(glue, name)
    prefix = crawler["LastCrawl"]["MessagePrefix"]
    messages = _log_messages(sandbox_env, name)
    assert messages[0] == f"[{prefix}] BENCHMARK : Running Start Crawl for Crawler {name}"
    assert messages[-1] == f"[{prefix}] BENCHMARK : Crawler has finished running and is in state READY"
    assert all(m.startswith(f"[{prefix}] ") for m in messages)
    assert all(m.split("] ", 1)[1].split(" : ", 1)[0] in ("BENCHMARK", "INFO", "WARN", "ERROR") for m in messages)


# Glue's documented example of exclude patterns: the objects under the include path s3://mybucket/myfolder/
# and, per pattern, the objects it excludes (the crawler documentation's "Example of Amazon S3 Exclude Patterns").
EXCLUDE_TREE = ["departments/finance.json", "departments/market-us.json", "departments/market-emea.json",
                "departments/market-ap.json", "employees/hr.json", "employees/john.csv", "employees/jane.csv",
                "employees/juan.txt"]
DOCUMENTED_EXCLUSIONS = {
    "departments/**": [k for k in EXCLUDE_TREE if k.startswith("departments/")],
    "departments/market*": ["departments/market-us.json", "departments/market-emea.json", "departments/market-ap.json"],
    "**.csv": ["employees/john.csv", "employees/jane.csv"],
    "employees/*.csv": ["employees/john.csv", "employees/jane.csv"],
    "*.csv": [],  # an object name in the include folder itself; * does not cross folders
    "employees/*.{csv,txt}": ["employees/john.csv", "employees/jane.csv", "employees/juan.txt"],
    "employees/j[!o]*": ["employees/jane.csv", "employees/juan.txt"],
    "employees/????.csv": ["employees/john.csv", "employees/jane.csv"],
}


@pytest.mark.parametrize("pattern", sorted(DOCUMENTED_EXCLUSIONS))
def test_exclude_patterns_follow_glues_glob_rules(pattern):
    from airflow_sfn_etl_sandbox.crawler.tables import glob_regex

    assert [k for k in EXCLUDE_TREE if glob_regex(pattern).match(k)] == DOCUMENTED_EXCLUSIONS[pattern]


def test_exclusions_leave_objects_out_of_the_crawl(glue, s3, bucket):
    for key in EXCLUDE_TREE:
        body = b'{"id": 1, "name": "x"}\n' if key.endswith(".json") else b"id,name\n1,x\n2,y\n"
        s3.put_object(Bucket=bucket, Key=f"myfolder/{key}", Body=body)
    name, database = make_crawler(glue, f"s3://{bucket}/myfolder/")
    glue.update_crawler(Name=name, Targets={"S3Targets": [{"Path": f"s3://{bucket}/myfolder/",
                                                           "Exclusions": ["departments/**", "**.{csv,txt}"]}]})
    assert crawl(glue, name)["LastCrawl"]["Status"] == "SUCCEEDED"
    left = [k for k in EXCLUDE_TREE if not k.startswith("departments/") and not k.endswith((".csv", ".txt"))]
    assert left == ["employees/hr.json"]
    tables = glue.get_tables(DatabaseName=database)["TableList"]
    assert [(t["Name"], t["StorageDescriptor"]["Location"]) for t in tables] == [
        ("myfolder", f"s3://{bucket}/myfolder/")]
    assert tables[0]["Parameters"]["objectCount"] == str(len(left))


# --------------------------------------------------------------------------- custom CSV classifiers


def _csv_classifier(glue, **fields) -> str:
    name = _name("csvc_")
    glue.create_classifier(CsvClassifier={"Name": name, **fields})
    return name


def test_classifier_definitions_create_get_update_delete(glue):
    name = _csv_classifier(glue, Delimiter=";", ContainsHeader="PRESENT")
    got = glue.get_classifier(Name=name)["Classifier"]["CsvClassifier"]
    assert (got["Name"], got["Delimiter"], got["ContainsHeader"], got["Version"]) == (name, ";", "PRESENT", 1)
    with pytest.raises(ClientError) as err:
        glue.create_classifier(CsvClassifier={"Name": name, "Delimiter": ","})
    assert err.value.response["Error"]["Code"] == "AlreadyExistsException"
    glue.update_classifier(CsvClassifier={"Name": name, "Delimiter": "|"})
    got = glue.get_classifier(Name=name)["Classifier"]["CsvClassifier"]
    assert (got["Delimiter"], got["ContainsHeader"], got["Version"]) == ("|", "PRESENT", 2)
    assert name in [c["CsvClassifier"]["Name"] for c in glue.get_classifiers(MaxResults=1000)["Classifiers"]
                    if "CsvClassifier" in c]
    glue.delete_classifier(Name=name)
    with pytest.raises(ClientError) as err:
        glue.get_classifier(Name=name)
    assert err.value.response["Error"]["Code"] == "EntityNotFoundException"
    with pytest.raises(ClientError) as err:
        glue.create_classifier(CsvClassifier={"Name": _name("q_"), "Delimiter": ",", "QuoteSymbol": ","})
    assert err.value.response["Error"]["Code"] == "InvalidInputException"


def test_custom_csv_classifier_runs_before_the_built_in_ones(glue, s3, bucket):
    # '#'-separated: no built-in delimiter splits it, so only the custom classifier recognises it; no header
    raw = b"1#ann#2.5\n2#bob#3.0\n3#cid#4.5\n"
    s3.put_object(Bucket=bucket, Key="hash/a.txt", Body=raw)
    header = ["id", "name", "score"]
    classifier = _csv_classifier(glue, Delimiter="#", ContainsHeader="ABSENT", Header=header)
    name, database = make_crawler(glue, f"s3://{bucket}/hash/", Classifiers=[classifier])
    plain, plain_db = make_crawler(glue, f"s3://{bucket}/hash/")
    assert crawl(glue, name)["LastCrawl"]["Status"] == "SUCCEEDED"
    crawl(glue, plain)
    assert glue.get_tables(DatabaseName=plain_db)["TableList"] == []  # the built-in classifiers skip it
    rows = list(csv.reader(io.StringIO(raw.decode()), delimiter="#"))
    expected = [(n, "bigint" if all(r[i].isdigit() for r in rows) else
                 "double" if all(r[i].replace(".", "", 1).isdigit() for r in rows) else "string")
                for i, n in enumerate(header)]
    assert _columns(glue, database, "hash") == expected
    table = glue.get_table(DatabaseName=database, Name="hash")["Table"]
    assert table["Parameters"]["classification"] == "csv" and table["Parameters"]["delimiter"] == "#"
    assert "skip.header.line.count" not in table["Parameters"]
    assert table["Parameters"]["recordCount"] == str(len(rows))


def test_custom_csv_classifier_header_trimming_and_single_column(glue, s3, bucket):
    s3.put_object(Bucket=bucket, Key="trim/a.csv", Body=b"id,v\n 1, 2\n 3, 4\n")
    s3.put_object(Bucket=bucket, Key="one/a.csv", Body=b"name\nann\nbob\n")
    trimmed = _csv_classifier(glue, Delimiter=",", ContainsHeader="PRESENT", DisableValueTrimming=False)
    untrimmed = _csv_classifier(glue, Delimiter=",", ContainsHeader="PRESENT", DisableValueTrimming=True)
    default = _csv_classifier(glue, Delimiter=",", ContainsHeader="PRESENT")
    single = _csv_classifier(glue, Delimiter=",", ContainsHeader="PRESENT", AllowSingleColumn=True)
    results = {}
    for label, classifier in (("trimmed", trimmed), ("untrimmed", untrimmed), ("default", default)):
        name, database = make_crawler(glue, f"s3://{bucket}/trim/", Classifiers=[classifier])
        crawl(glue, name)
        results[label] = _columns(glue, database, "trim")
    # " 1" is a bigint once trimmed, a string when values are not trimmed; the API documents
    # DisableValueTrimming's default as true
    assert results == {"trimmed": [("id", "bigint"), ("v", "bigint")],
                       "untrimmed": [("id", "string"), ("v", "string")],
                       "default": [("id", "string"), ("v", "string")]}
    name, database = make_crawler(glue, f"s3://{bucket}/one/", Classifiers=[single])
    crawl(glue, name)
    assert _columns(glue, database, "one") == [("name", "string")]
    plain, plain_db = make_crawler(glue, f"s3://{bucket}/one/")
    crawl(glue, plain)
    assert glue.get_tables(DatabaseName=plain_db)["TableList"] == []  # one column: not CSV to the built-ins


def test_crawler_with_a_non_csv_or_missing_classifier_fails(glue, s3, bucket):
    s3.put_object(Bucket=bucket, Key="grok/a.csv", Body=b"id,v\n1,2\n")
    grok = _name("grok_")
    glue.create_classifier(GrokClassifier={"Name": grok, "Classification": "logs", "GrokPattern": "%{GREEDYDATA:x}"})
    for classifiers, needle in (([grok], "only CsvClassifier custom classifiers are emulated"),
                                (["no_such_classifier"], "no_such_classifier of the crawler does not exist")):
        name, _ = make_crawler(glue, f"s3://{bucket}/grok/", Classifiers=classifiers)
        last = crawl(glue, name)["LastCrawl"]
        assert last["Status"] == "FAILED" and needle in last["ErrorMessage"]


def test_merge_new_columns_deprecates_a_table_whose_delimiter_changed(glue, s3, bucket):
    s3.put_object(Bucket=bucket, Key="dep/a.csv", Body=b"id,v\n1,2\n3,4\n")
    output = {"Tables": {"AddOrUpdateBehavior": "MergeNewColumns"}}
    name, database = make_crawler(glue, f"s3://{bucket}/dep/", Configuration=_config(CrawlerOutput=output))
    crawl(glue, name)
    before = _columns(glue, database, "dep")
    s3.put_object(Bucket=bucket, Key="dep/a.csv", Body=b"id|v|w\n1|2|3\n3|4|5\n")
    assert crawl(glue, name)["LastCrawl"]["Status"] == "SUCCEEDED"
    table = glue.get_table(DatabaseName=database, Name="dep")["Table"]
    assert table["Parameters"]["DEPRECATED_BY_CRAWLER"] == "1" and table["Parameters"]["delimiter"] == ","
    assert _columns(glue, database, "dep") == before


def test_key_value_folders_sharing_no_column_are_separate_tables(glue, s3, bucket):
    """Glue's grouping page: year=2017 holding {"A": 1, "B": 2} and year=2018 holding {"C": 3, "D": 4}
    are crawled as tables year_2017 and year_2018 by default, as one table with CombineCompatibleSchemas."""
    s3.put_object(Bucket=bucket, Key="grp/table1/year=2017/data1.json", Body=b'{"A": 1, "B": 2}\n')
    s3.put_object(Bucket=bucket, Key="grp/table1/year=2018/data2.json", Body=b'{"C": 3, "D": 4}\n')
    name, database = make_crawler(glue, f"s3://{bucket}/grp/table1/")
    assert crawl(glue, name)["LastCrawl"]["Status"] == "SUCCEEDED"
    tables = {t["Name"]: t for t in glue.get_tables(DatabaseName=database)["TableList"]}
    assert sorted(tables) == ["year_2017", "year_2018"]
    assert [c["Name"] for c in tables["year_2017"]["StorageDescriptor"]["Columns"]] == ["a", "b"]
    assert tables["year_2018"]["StorageDescriptor"]["Location"] == f"s3://{bucket}/grp/table1/year=2018/"
    assert tables["year_2018"]["PartitionKeys"] == []

    grouping = {"TableGroupingPolicy": "CombineCompatibleSchemas"}
    combined, combined_db = make_crawler(glue, f"s3://{bucket}/grp/table1/", Configuration=_config(Grouping=grouping))
    assert crawl(glue, combined)["LastCrawl"]["Status"] == "SUCCEEDED"
    (table,) = glue.get_tables(DatabaseName=combined_db)["TableList"]
    assert table["Name"] == "table1"
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["a", "b", "c", "d"]
    assert [k["Name"] for k in table["PartitionKeys"]] == ["year"]

    # folders that share a column stay partitions of one table
    s3.put_object(Bucket=bucket, Key="grp/t2/year=2017/data1.json", Body=b'{"A": 1, "B": 2}\n')
    s3.put_object(Bucket=bucket, Key="grp/t2/year=2018/data2.json", Body=b'{"A": 3, "D": 4}\n')
    shared, shared_db = make_crawler(glue, f"s3://{bucket}/grp/t2/")
    crawl(glue, shared)
    assert [t["Name"] for t in glue.get_tables(DatabaseName=shared_db)["TableList"]] == ["t2"]
