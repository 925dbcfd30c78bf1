"""Read the flows' results back from AWS (sandbox or real): Athena rows, Parquet objects, notices."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import boto3


def athena_rows(session: boto3.Session, sql: str, *, workgroup: str, database: str,
                endpoint_url: str | None = None, timeout: float = 120) -> tuple[list[str], list[list[str]]]:
    """Run ``sql`` on Athena and return (column names, rows as strings)."""
    kw = {"endpoint_url": endpoint_url} if endpoint_url else {}
    athena = session.client("athena", **kw)
    qid = athena.start_query_execution(QueryString=sql, WorkGroup=workgroup,
                                       QueryExecutionContext={"Database": database})["QueryExecutionId"]
    deadline = time.monotonic() + timeout
    while True:
        status = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if status["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"Athena query {qid} still {status['State']} after {timeout:.0f} s: {sql}")
        time.sleep(0.2)
    if status["State"] != "SUCCEEDED":
        raise RuntimeError(f"Athena query {qid} {status['State']}: {status.get('StateChangeReason', '')}")
    columns: list[str] = []
    rows: list[list[str]] = []
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=qid):
        if not columns:
            columns = [c["Name"] for c in page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]]
        for row in page["ResultSet"]["Rows"]:
            values = [d.get("VarCharValue", "") for d in row["Data"]]
            if values == columns and not rows:
                continue  # the header row AWS puts first
            rows.append(values)
    return columns, rows


def parquet_rows(session: boto3.Session, bucket: str, prefix: str,
                 endpoint_url: str | None = None) -> tuple[list[str], list[list[Any]]]:
    """All rows of the Parquet objects under ``s3://bucket/prefix`` (columns, rows)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    kw = {"endpoint_url": endpoint_url} if endpoint_url else {}
    s3 = session.client("s3", **kw)
    tables = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith(".parquet"):
                body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
                tables.append(pq.read_table(io.BytesIO(body)))
    if not tables:
        raise FileNotFoundError(f"no Parquet objects under s3://{bucket}/{prefix}")
    table = pa.concat_tables(tables)
    return table.column_names, [list(r.values()) for r in table.to_pylist()]


def drain_notices(session: boto3.Session, queue_url: str, endpoint_url: str | None = None) -> list[dict[str, Any]]:
    """Receive (and delete) every message waiting on the notices queue."""
    kw = {"endpoint_url": endpoint_url} if endpoint_url else {}
    sqs = session.client("sqs", **kw)
    out: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                  MessageAttributeNames=["All"]).get("Messages", [])
        if not got:
            return out
        for msg in got:
            body = msg["Body"]
            try:
                parsed: Any = json.loads(body)
            except ValueError:
                parsed = body
            out.append({"body": parsed, "raw": body})
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=msg["ReceiptHandle"])
