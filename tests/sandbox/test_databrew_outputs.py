"""DataBrew recipe job outputs: every emulated format and compression, partitioned by a column with a
blank value, read back with independent readers (gzip, bz2, zlib, pyarrow.parquet) and compared with
the raw CSV; the formats and codecs the sandbox does not write fail the run naming them.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import uuid
import zlib
from urllib.parse import unquote

import pyarrow.parquet as pq
import pytest

from tests.sandbox.test_databrew import list_keys, wait_run
from tests.sandbox.test_databrew_recipe_steps import RAW, ROLE, raw_rows

_DECOMPRESS = {".gz": gzip.decompress, ".bz2": bz2.decompress, ".deflate": zlib.decompress}


def run_job(sandbox_env, output: dict) -> tuple[dict, str]:
    """A recipe job (one RENAME step) over the raw CSV writing ``output`` under ``out/``; returns (run, bucket)."""
    brew, s3 = sandbox_env.client("databrew"), sandbox_env.client("s3")
    suffix = uuid.uuid4().hex[:8]
    bucket = f"outputs-{suffix}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="in/people.csv", Body=RAW.encode())
    brew.create_dataset(Name=f"ds-{suffix}", Format="CSV", FormatOptions={"Csv": {"HeaderRow": True}},
                        Input={"S3InputDefinition": {"Bucket": bucket, "Key": "in/people.csv"}})
    brew.create_recipe(Name=f"recipe-{suffix}", Steps=[
        {"Action": {"Operation": "RENAME", "Parameters": {"sourceColumn": "full_name", "targetColumn": "who"}}}])
    brew.publish_recipe(Name=f"recipe-{suffix}")
    brew.create_recipe_job(Name=f"job-{suffix}", DatasetName=f"ds-{suffix}", RoleArn=ROLE,
                           RecipeReference={"Name": f"recipe-{suffix}"},
                           Outputs=[{"Location": {"Bucket": bucket, "Key": "out/"}, **output}])
    return wait_run(brew, f"job-{suffix}", brew.start_job_run(Name=f"job-{suffix}")["RunId"]), bucket


def expected_rows(partitioned: bool) -> list[tuple]:
    """The raw rows as text (blank cells None), ``city`` last when it is the partition column."""
    out = []
    for r in raw_rows():
        row = {k: (v or None) for k, v in r.items()}
        row["who"] = row.pop("full_name")
        if partitioned:
            row["city"] = row.pop("city")
        out.append(tuple(row.values()))
    return sorted(out, key=repr)


def as_text(value) -> str | None:
    return None if value is None or value == "" else str(value)


@pytest.mark.parametrize(("fmt", "codec", "extension"), [
    ("CSV", None, ".csv"), ("CSV", "GZIP", ".csv.gz"), ("CSV", "BZIP2", ".csv.bz2"),
    ("CSV", "DEFLATE", ".csv.deflate"), ("CSV", "ZLIB", ".csv.deflate"),
    ("JSON", None, ".json"), ("JSON", "GZIP", ".json.gz"), ("JSON", "BZIP2", ".json.bz2"),
    ("PARQUET", None, ".parquet"), ("PARQUET", "SNAPPY", ".snappy.parquet"), ("PARQUET", "GZIP", ".gzip.parquet"),
    ("PARQUET", "ZSTD", ".zstd.parquet"), ("PARQUET", "LZ4", ".lz4.parquet"), ("PARQUET", "BROTLI", ".brotli.parquet"),
    ("GLUEPARQUET", "SNAPPY", ".snappy.parquet"),
])
def test_partitioned_output_in_each_format_and_compression(sandbox_env, fmt, codec, extension):
    output = {"Format": fmt, "PartitionColumns": ["city"], **({"CompressionFormat": codec} if codec else {})}
    run, bucket = run_job(sandbox_env, output)
    assert run["State"] == "SUCCEEDED", run.get("ErrorMessage")
    s3 = sandbox_env.client("s3")
    keys = list_keys(s3, bucket, "out/")
    cities = {r["city"] for r in raw_rows()}
    # One Hive-style folder per city; the blank city in Hive's default partition, as Spark writes it.
    folders = {key.split("/")[1] for key in keys}
    assert folders == {f"city={c or '__HIVE_DEFAULT_PARTITION__'}" for c in cities}
    got = []
    for key in keys:
        assert key.endswith(extension), key
        city = unquote(key.split("/")[1].split("=", 1)[1])
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        if fmt in ("PARQUET", "GLUEPARQUET"):
            meta = pq.ParquetFile(io.BytesIO(body)).metadata
            assert meta.row_group(0).column(0).compression == (codec or "UNCOMPRESSED")
            rows = pq.read_table(io.BytesIO(body)).to_pylist()
        else:
            suffix = "." + key.rsplit(".", 1)[1]
            text = (_DECOMPRESS[suffix](body) if suffix in _DECOMPRESS else body).decode()
            if fmt == "CSV":
                rows = list(csv.DictReader(io.StringIO(text)))
            else:
                rows = [json.loads(line) for line in text.splitlines()]
        for row in rows:
            assert "city" not in row  # the partition column is in the folder name only
            values = [as_text(row[c]) for c in ("id", "name", "score", "signup", "who")]
            got.append((*values, None if city == "__HIVE_DEFAULT_PARTITION__" else city))
    expected = [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in expected_rows(partitioned=True)]
    assert sorted(got, key=repr) == expected


@pytest.mark.parametrize(("output", "message"), [
    ({"Format": "ORC"}, "Output 1: format ORC is not emulated by the sandbox"),
    ({"Format": "AVRO"}, "Output 1: format AVRO is not emulated by the sandbox"),
    ({"Format": "XML"}, "Output 1: format XML is not emulated by the sandbox"),
    ({"Format": "TABLEAUHYPER"}, "Output 1: format TABLEAUHYPER is not emulated by the sandbox"),
    ({"Format": "CSV", "CompressionFormat": "LZO"}, "Output 1: CompressionFormat LZO for CSV is not emulated by the "
                                                    "sandbox"),
    ({"Format": "JSON", "CompressionFormat": "SNAPPY"}, "Output 1: CompressionFormat SNAPPY for JSON is not emulated "
                                                        "by the sandbox"),
    ({"Format": "PARQUET", "CompressionFormat": "BZIP2"}, "Output 1: CompressionFormat BZIP2 for Parquet is not "
                                                          "emulated by the sandbox"),
])
def test_formats_and_codecs_not_emulated_fail_the_run_naming_them(sandbox_env, output, message):
    run, bucket = run_job(sandbox_env, output)
    assert run["State"] == "FAILED"
    assert run["ErrorMessage"].startswith(message)
    assert list_keys(sandbox_env.client("s3"), bucket, "out/") == []
