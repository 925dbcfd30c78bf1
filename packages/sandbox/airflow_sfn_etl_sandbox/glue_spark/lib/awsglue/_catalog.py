"""Glue Data Catalog tables read into Spark: the sandbox's catalog through the Glue API.

The table's columns give the types (values that do not parse as the column's type read as null,
as in Athena); partitions are the registered ones, each read from its own location with its
values as typed columns. Formats: CSV/text (LazySimpleSerDe, OpenCSVSerde), JSON, Parquet, ORC.
"""

from __future__ import annotations

import threading
from typing import Any

from awsglue import _s3
from awsglue._types import spark_type

_local = threading.local()
#: Read as a null value by nothing: CSV fields stay strings ("" included) until cast to their type.
_NO_NULL_TOKEN = "\u0000<null>\u0000"


class EntityNotFoundException(Exception):
    """The database or table is not in the Glue Data Catalog (the Glue API's error of that name)."""


def client() -> Any:
    cached = getattr(_local, "client", None)
    if cached is None:
        import boto3

        cached = _local.client = boto3.client("glue")
    return cached


def _call(method: str, **kwargs: Any) -> Any:
    from botocore.exceptions import ClientError

    try:
        return getattr(client(), method)(**kwargs)
    except ClientError as err:
        error = err.response.get("Error", {})
        if error.get("Code") == "EntityNotFoundException":
            raise EntityNotFoundException(error.get("Message") or str(err)) from None
        raise


def get_table(database: str, table_name: str, catalog_id: str | None = None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"DatabaseName": database, "Name": table_name}
    if catalog_id:
        kwargs["CatalogId"] = catalog_id
    return _call("get_table", **kwargs)["Table"]


def get_partitions(database: str, table_name: str, catalog_id: str | None = None) -> list[dict[str, Any]]:
    kwargs: dict[str, Any] = {"DatabaseName": database, "TableName": table_name}
    if catalog_id:
        kwargs["CatalogId"] = catalog_id
    out: list[dict[str, Any]] = []
    token = None
    while True:
        page = _call("get_partitions", **kwargs, **({"NextToken": token} if token else {}))
        out.extend(page.get("Partitions") or [])
        token = page.get("NextToken")
        if not token:
            return out


def columns(table: dict[str, Any]) -> list[tuple[str, str]]:
    sd = table.get("StorageDescriptor") or {}
    return [(c["Name"], c.get("Type") or "string") for c in sd.get("Columns") or []]


def partition_keys(table: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["Name"], c.get("Type") or "string") for c in table.get("PartitionKeys") or []]


def data_format(table: dict[str, Any]) -> str:
    """``parquet``, ``orc``, ``avro``, ``json``, ``csv`` (classification csv / OpenCSVSerde) or ``text``."""
    sd = table.get("StorageDescriptor") or {}
    serde = (sd.get("SerdeInfo") or {}).get("SerializationLibrary") or ""
    classification = ((table.get("Parameters") or {}).get("classification") or "").lower()
    text = f"{sd.get('InputFormat') or ''} {serde} {classification}".lower()
    for name in ("parquet", "orc", "avro"):
        if name in text:
            return name
    if "json" in text:
        return "json"
    if "opencsv" in text or classification == "csv":
        return "csv"
    return "text"


def _schema(cols: list[tuple[str, str]]) -> Any:
    from pyspark.sql import types as T

    return T.StructType([T.StructField(name, spark_type(kind)) for name, kind in cols])


def _read_location(spark: Any, table: dict[str, Any], location: str, cols: list[tuple[str, str]]) -> Any:
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    fmt = data_format(table)
    sd = table.get("StorageDescriptor") or {}
    serde = sd.get("SerdeInfo") or {}
    serde_params = serde.get("Parameters") or {}
    params = table.get("Parameters") or {}
    reader = spark.read.option("recursiveFileLookup", "true")
    if fmt in ("csv", "text"):
        skip = int(params.get("skip.header.line.count") or serde_params.get("skip.header.line.count") or 0)
        if skip > 1:
            raise NotImplementedError(f"skip.header.line.count={skip} is not emulated by the sandbox (0 or 1 only)")
        if "opencsv" in (serde.get("SerializationLibrary") or "").lower():
            sep = serde_params.get("separatorChar", ",")
            quote, escape = serde_params.get("quoteChar", '"'), serde_params.get("escapeChar", "\\")
        else:
            sep = serde_params.get("field.delim") or serde_params.get("serialization.format") or "\x01"
            if sep.isdigit() and len(sep) > 1:
                sep = chr(int(sep))
            quote = '"' if fmt == "csv" else "\u0000"
            escape = serde_params.get("escape.delim") or "\\"
        strings = T.StructType([T.StructField(name, T.StringType()) for name, _ in cols])
        df = reader.csv(location, schema=strings, sep=sep, quote=quote, escape=escape, header=bool(skip),
                        nullValue=_NO_NULL_TOKEN, emptyValue="", mode="PERMISSIVE")
    elif fmt == "json":
        df = reader.json(location, schema=_schema(cols))
    elif fmt in ("parquet", "orc"):
        df = getattr(reader, fmt)(location)
        present = {c.lower(): c for c in df.columns}
        df = df.select(*[(F.col(f"`{present[name.lower()]}`") if name.lower() in present
                          else F.lit(None)).alias(name) for name, _ in cols])
    else:
        raise NotImplementedError(f"Reading {fmt} tables is not emulated by the sandbox "
                                  "(CSV, text, JSON, Parquet and ORC are)")
    return df.select(*[F.col(f"`{name}`").cast(spark_type(kind)).alias(name) for name, kind in cols])


def _has_data(location: str) -> bool:
    bucket, key = _s3.split(location)
    prefix = key if key.endswith("/") or not key else key + "/"
    for obj in _s3.list_objects(bucket, prefix):
        name = obj["Key"][len(prefix):].rsplit("/", 1)[-1]
        if name and not name.startswith(("_", ".")) and not name.endswith("$folder$"):
            return True
    return False


def read_table(spark: Any, database: str, table_name: str, push_down_predicate: str = "",
               catalog_id: str | None = None) -> Any:
    """The table's rows as a DataFrame typed by the catalog (partition columns last)."""
    from functools import reduce

    from pyspark.sql import functions as F

    table = get_table(database, table_name, catalog_id)
    cols, keys = columns(table), partition_keys(table)
    schema = _schema(cols + keys)
    empty = spark.createDataFrame([], schema)
    if not keys:
        location = (table.get("StorageDescriptor") or {}).get("Location") or ""
        if push_down_predicate:
            raise ValueError("push_down_predicate applies to partition columns; "
                             f"{database}.{table_name} has none")
        if not location or not _has_data(location):
            return empty
        return _read_location(spark, table, location, cols)
    parts = get_partitions(database, table_name, catalog_id)
    if push_down_predicate and parts:
        values = spark.createDataFrame([tuple(p["Values"]) + (i,) for i, p in enumerate(parts)],
                                       [k for k, _ in keys] + ["__partition_index"])
        typed = values.select(*[F.col(f"`{k}`").cast(spark_type(t)).alias(k) for k, t in keys],
                              "__partition_index")
        kept = {r["__partition_index"] for r in typed.filter(push_down_predicate).collect()}
        parts = [p for i, p in enumerate(parts) if i in kept]
    frames = []
    for part in parts:
        location = (part.get("StorageDescriptor") or {}).get("Location") or ""
        if not location or not _has_data(location):
            continue
        df = _read_location(spark, table, location, cols)
        df = df.select("*", *[F.lit(value).cast(spark_type(kind)).alias(name)
                              for (name, kind), value in zip(keys, part["Values"], strict=False)])
        frames.append(df)
    if not frames:
        return empty
    return reduce(lambda a, b: a.unionByName(b), frames)
