"""Glue Python shell job ``se2_job0``: catalog table -> typed, null-free Parquet.

The same mapping as the PySpark script beside it (``se2_job0_pyspark.py``), without Spark:
read the catalog table's CSV objects, cast ``deviceid``/``country`` to string and the
numeric columns to bigint, drop columns that are null in every row (DropNullFields), and
write one Parquet object under ``--output_path``.

Arguments (Glue passes them as ``--name value``): ``--database``, ``--table``,
``--output_path`` (``s3://bucket/prefix/``).
"""

from __future__ import annotations

import argparse
import io
import sys
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

MAPPING = [
    ("deviceid", pa.string()),
    ("uuid", pa.int64()),
    ("appid", pa.int64()),
    ("country", pa.string()),
    ("year", pa.int64()),
    ("month", pa.int64()),
    ("day", pa.int64()),
    ("hour", pa.int64()),
]


def split_s3(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ValueError(f"not an S3 location: {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def read_table(glue: Any, s3: Any, database: str, table: str) -> pa.Table:
    """The catalog table's CSV objects as one all-string table (``glue``, ``s3``: boto3 clients)."""
    desc = glue.get_table(DatabaseName=database, Name=table)["Table"]
    bucket, prefix = split_s3(desc["StorageDescriptor"]["Location"])
    skip = int(desc.get("Parameters", {}).get("skip.header.line.count", "0"))
    names = [c["Name"] for c in desc["StorageDescriptor"]["Columns"]]
    parts = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            parts.append(pacsv.read_csv(
                io.BytesIO(body),
                read_options=pacsv.ReadOptions(column_names=names, skip_rows=skip),
                convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names}),
            ))
    if not parts:
        raise RuntimeError(f"table {database}.{table} has no data under s3://{bucket}/{prefix}")
    return pa.concat_tables(parts)


def apply_mapping(table: pa.Table) -> pa.Table:
    columns = {}
    for name, typ in MAPPING:
        col = table.column(name)
        if pa.types.is_integer(typ):
            stripped = pc.utf8_trim_whitespace(col)
            col = pc.cast(pc.if_else(pc.equal(stripped, ""), None, stripped), typ)
        columns[name] = col
    mapped = pa.table(columns)
    keep = [n for n in mapped.column_names if mapped.column(n).null_count < mapped.num_rows]
    return mapped.select(keep)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--table", required=True)
    parser.add_argument("--output_path", required=True)
    args, _ = parser.parse_known_args(argv)
    glue, s3 = boto3.client("glue"), boto3.client("s3")
    out = apply_mapping(read_table(glue, s3, args.database, args.table))
    bucket, prefix = split_s3(args.output_path)
    buf = io.BytesIO()
    pq.write_table(out, buf)
    key = f"{prefix.rstrip('/')}/part-00000.parquet".lstrip("/")
    s3.put_object(Bucket=bucket, Key=key, Body=buf.getvalue())
    print(f"wrote {out.num_rows} rows, columns {out.column_names}, to s3://{bucket}/{key}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
