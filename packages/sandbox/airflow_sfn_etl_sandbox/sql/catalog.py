"""The Glue Data Catalog as Athena sees it: databases, tables and partitions in moto's Glue backend."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..state import glue_backend
from .errors import QueryError, coded

#: Catalog writes from concurrent queries (moto's backend is not thread-safe on its own).
LOCK = threading.RLock()

PARQUET_FORMATS = {
    "input": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "output": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "serde": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
}
TEXT_FORMATS = {
    "input": "org.apache.hadoop.mapred.TextInputFormat",
    "output": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
    "serde": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
}


@dataclass
class Partition:
    values: list[str]
    location: str


@dataclass
class TableInfo:
    """What a query needs from a Glue table."""

    database: str
    name: str
    columns: list[tuple[str, str]]
    partition_keys: list[tuple[str, str]]
    location: str
    input_format: str = ""
    serde: str = ""
    serde_params: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    table_type: str = "EXTERNAL_TABLE"
    partitions: list[Partition] = field(default_factory=list)

    @property
    def qualified(self) -> str:
        return f"{self.database}.{self.name}"

    @property
    def data_format(self) -> str:
        """``parquet``, ``text``, ``csv`` (OpenCSVSerde), ``json`` or ``orc``/``avro`` (unsupported)."""
        text = f"{self.input_format} {self.serde} {self.parameters.get('classification', '')}".lower()
        for name in ("parquet", "orc", "avro"):
            if name in text:
                return name
        if "opencsv" in text:
            return "csv"
        if "json" in text:
            return "json"
        return "text"


def backend(region: str) -> Any:
    return glue_backend(region)


def database_exists(region: str, database: str) -> bool:
    return database in backend(region).databases


def ensure_default_database(region: str) -> None:
    """Glue always has a ``default`` database for Athena; moto starts without one."""
    with LOCK:
        be = backend(region)
        if "default" not in be.databases:
            be.create_database("default", {"Name": "default", "Description": "Default Hive database"})


def create_database(
    region: str,
    database: str,
    if_not_exists: bool,
    comment: str = "",
    location: str = "",
    meta: dict[str, int] | None = None,
) -> None:
    with LOCK:
        be = backend(region)
        if database in be.databases:
            if if_not_exists:
                return
            raise coded("SCHEMA_ALREADY_EXISTS", f"Schema '{database}' already exists", meta)
        db_input: dict[str, Any] = {"Name": database}
        if comment:
            db_input["Description"] = comment
        if location:
            db_input["LocationUri"] = location
        be.create_database(database, db_input)


def drop_database(
    region: str, database: str, if_exists: bool, cascade: bool, meta: dict[str, int] | None = None
) -> None:
    with LOCK:
        be = backend(region)
        db = be.databases.get(database)
        if db is None:
            if if_exists:
                return
            raise coded("SCHEMA_NOT_FOUND", f"Schema '{database}' does not exist", meta)
        if db.tables and not cascade:
            raise coded("SCHEMA_NOT_EMPTY", f"Cannot drop non-empty schema '{database}'", meta)
        be.delete_database(database)


def require_database(region: str, database: str, meta: dict[str, int] | None = None) -> None:
    if database == "default":
        ensure_default_database(region)
    if not database_exists(region, database):
        raise coded("SCHEMA_NOT_FOUND", f"Schema '{database}' does not exist", meta)


def table_missing(database: str, table: str, meta: dict[str, int] | None = None) -> QueryError:
    return coded("TABLE_NOT_FOUND", f"Table 'awsdatacatalog.{database}.{table}' does not exist", meta)


def get_table(region: str, database: str, table: str, meta: dict[str, int] | None = None) -> TableInfo:
    """The table with its registered partitions; raises TABLE_NOT_FOUND / SCHEMA_NOT_FOUND."""
    require_database(region, database, meta)
    with LOCK:
        db = backend(region).databases[database]
        fake = db.tables.get(table)
        if fake is None:
            raise table_missing(database, table, meta)
        data = fake.as_dict()
        parts = [p.partition_input for p in fake.partitions.values()]
    sd = data.get("StorageDescriptor") or {}
    serde = sd.get("SerdeInfo") or {}
    info = TableInfo(
        database=database,
        name=table,
        columns=[(c["Name"].lower(), c.get("Type", "string")) for c in sd.get("Columns") or []],
        partition_keys=[
            (c["Name"].lower(), c.get("Type", "string")) for c in data.get("PartitionKeys") or []
        ],
        location=sd.get("Location") or "",
        input_format=sd.get("InputFormat") or "",
        serde=serde.get("SerializationLibrary") or "",
        serde_params=dict(serde.get("Parameters") or {}),
        parameters=dict(data.get("Parameters") or {}),
        table_type=data.get("TableType") or "EXTERNAL_TABLE",
    )
    for part in parts:
        loc = (part.get("StorageDescriptor") or {}).get("Location") or default_partition_location(
            info, [str(v) for v in part.get("Values", [])]
        )
        info.partitions.append(Partition([str(v) for v in part.get("Values", [])], loc))
    return info


def table_dict(region: str, database: str, table: str) -> dict[str, Any] | None:
    """The Glue table as GetTable answers it; None when the database or table is missing."""
    with LOCK:
        db = backend(region).databases.get(database)
        fake = db.tables.get(table) if db is not None else None
        return None if fake is None else fake.as_dict()


def column_types(region: str, database: str, table: str) -> dict[str, str] | None:
    """A table's columns and partition keys with their Hive types (no partitions read); None when missing."""
    with LOCK:
        db = backend(region).databases.get(database)
        fake = db.tables.get(table) if db is not None else None
        if fake is None:
            return None
        data = fake.as_dict()
    cols = ((data.get("StorageDescriptor") or {}).get("Columns") or []) + (data.get("PartitionKeys") or [])
    return {c["Name"].lower(): c.get("Type", "string") for c in cols}


def table_exists(region: str, database: str, table: str) -> bool:
    with LOCK:
        db = backend(region).databases.get(database)
        return db is not None and table in db.tables


def list_tables(region: str, database: str) -> list[str]:
    with LOCK:
        db = backend(region).databases.get(database)
        return sorted(db.tables) if db is not None else []


def list_databases(region: str) -> list[str]:
    ensure_default_database(region)
    with LOCK:
        return sorted(backend(region).databases)


def default_partition_location(table: TableInfo, values: list[str]) -> str:
    base = table.location if table.location.endswith("/") else table.location + "/"
    return base + "/".join(f"{k}={v}" for (k, _), v in zip(table.partition_keys, values, strict=False)) + "/"


def create_table(
    region: str,
    database: str,
    table: str,
    table_input: dict[str, Any],
    *,
    if_not_exists: bool = False,
    exists_message: str | None = None,
    meta: dict[str, Any] | None = None,
) -> bool:
    """Register the table; False if it exists and ``if_not_exists``, else TABLE_ALREADY_EXISTS.

    The check and the create are one step under :data:`LOCK`, so of two statements creating the
    same table at once, one creates it and the other meets it (as Athena answers them).
    """
    with LOCK:
        found = backend(region).databases.get(database)
        if found is not None and table in found.tables:
            if if_not_exists:
                return False
            raise coded("TABLE_ALREADY_EXISTS", exists_message or f"Table '{database}.{table}' already exists",
                        meta or {})
        backend(region).create_table(database, table, table_input)
        return True


def update_table(region: str, database: str, table: str, change: Callable[[dict[str, Any]], None]) -> None:
    """A new version of the table: ``change`` edits a copy of its current TableInput in place."""
    with LOCK:
        fake = backend(region).databases[database].tables[table]
        table_input = copy.deepcopy(fake.get_version(str(fake._current_version)))
        change(table_input)
        table_input.setdefault("Parameters", {})["transient_lastDdlTime"] = str(int(time.time()))
        fake.update(table_input)


def drop_table(region: str, database: str, table: str) -> None:
    with LOCK:
        backend(region).delete_table(database, table)


def add_partitions(region: str, table: TableInfo, partitions: list[Partition]) -> list[Partition]:
    """Register partitions that are not registered yet; returns the ones added."""
    existing = {tuple(p.values) for p in table.partitions}
    added = []
    with LOCK:
        fake = backend(region).databases[table.database].tables[table.name]
        sd = fake.as_dict().get("StorageDescriptor") or {}
        for part in partitions:
            if tuple(part.values) in existing:
                continue
            existing.add(tuple(part.values))
            part_sd = {k: v for k, v in sd.items() if k != "Location"}
            part_sd["Location"] = part.location
            fake.create_partition(
                {"Values": list(part.values), "StorageDescriptor": part_sd, "Parameters": {}}
            )
            added.append(part)
    return added


def storage_descriptor(
    columns: list[tuple[str, str]],
    location: str,
    formats: dict[str, str],
    serde_params: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A Glue ``StorageDescriptor`` as Athena writes it."""
    return {
        "Columns": [{"Name": n, "Type": t} for n, t in columns],
        "Location": location,
        "InputFormat": formats["input"],
        "OutputFormat": formats["output"],
        "Compressed": False,
        "NumberOfBuckets": -1,
        "SerdeInfo": {"SerializationLibrary": formats["serde"], "Parameters": dict(serde_params or {})},
        "BucketColumns": [],
        "SortColumns": [],
        "StoredAsSubDirectories": False,
    }
