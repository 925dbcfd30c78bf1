"""Writing a crawl's tables into the Glue catalog, as the crawler's SchemaChangePolicy says.

New tables are created; a table whose columns, partition keys, location or SerDe changed is
updated (``UpdateBehavior`` ``UPDATE_IN_DATABASE``, the default) or left as it is (``LOG``);
new partitions are added. Tables this crawler made earlier whose data is gone are deleted
(``DeleteBehavior`` ``DELETE_FROM_DATABASE``), marked ``DEPRECATED_BY_CRAWLER`` (the default) or
left (``LOG``). The parameters are the ones Glue's crawler writes (classification, counts,
CSV delimiter and header, ``UPDATED_BY_CRAWLER``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import state
from ..runs import RunFailed
from ..schema import storage_format
from .tables import TablePlan


@dataclass
class CatalogChanges:
    """What a crawl changed in the catalog (GetCrawlerMetrics and ListCrawls' Summary report it)."""

    tables_created: int = 0
    tables_updated: int = 0
    tables_deleted: int = 0
    partitions_added: int = 0


def _parameters(crawler: str, plan: TablePlan) -> dict[str, str]:
    schema = plan.schema
    params = {
        "classification": schema.classification,
        "compressionType": schema.compression,
        "typeOfData": "file",
        "CrawlerSchemaDeserializerVersion": "1.0",
        "CrawlerSchemaSerializerVersion": "1.0",
        "UPDATED_BY_CRAWLER": crawler,
        "objectCount": str(plan.object_count),
        "recordCount": str(schema.record_count),
        "sizeKey": str(schema.size),
        "averageRecordSize": str(schema.size // schema.record_count if schema.record_count else 0),
    }
    if schema.classification == "csv":
        params.update({"delimiter": schema.delimiter, "columnsOrdered": "true",
                       "areColumnsQuoted": "true" if schema.quoted else "false"})
        if schema.header:
            params["skip.header.line.count"] = "1"
    return params


def _table_input(crawler: str, plan: TablePlan) -> dict[str, Any]:
    params = _parameters(crawler, plan)
    sd = {
        "Columns": [{"Name": n, "Type": t} for n, t in plan.schema.columns],
        "Location": plan.location,
        **storage_format(plan.schema),
        "Compressed": plan.schema.compression != "none",
        "NumberOfBuckets": -1,
        "BucketColumns": [],
        "SortColumns": [],
        "StoredAsSubDirectories": False,
        "Parameters": dict(params),
    }
    return {"Name": plan.name, "Owner": "owner", "Retention": 0, "TableType": "EXTERNAL_TABLE",
            "PartitionKeys": [{"Name": k, "Type": "string"} for k in plan.partition_keys],
            "StorageDescriptor": sd, "Parameters": params}


def _same_shape(old: dict[str, Any], new: dict[str, Any]) -> bool:
    old_sd, new_sd = old.get("StorageDescriptor") or {}, new["StorageDescriptor"]
    return (old_sd.get("Columns") == new_sd["Columns"] and old.get("PartitionKeys") == new["PartitionKeys"]
            and old_sd.get("Location") == new_sd["Location"]
            and (old_sd.get("SerdeInfo") or {}) == new_sd["SerdeInfo"])


def write_catalog(region: str, crawler: Any, plans: list[TablePlan], changes: CatalogChanges,
                  log: Callable[[str], None]) -> None:
    """Create or update the planned tables and their partitions in the crawler's database.

    :param changes: counts what is changed, as it is changed.
    :param log: takes a progress line for the crawl's log stream.
    """
    backend = state.glue_backend(region)
    database = crawler.database_name
    if not database:
        raise RunFailed(f"Crawler {crawler.name} has no DatabaseName to write tables to")
    if database not in backend.databases:
        backend.create_database(database, {"Name": database})
    policy = crawler.schema_change_policy or {}
    update = policy.get("UpdateBehavior", "UPDATE_IN_DATABASE")
    for plan in plans:
        table_input = _table_input(crawler.name, plan)
        db = backend.databases[database]
        table = db.tables.get(plan.name)
        if table is None:
            backend.create_table(database, plan.name, table_input)
            changes.tables_created += 1
            log(f"INFO : Created table {plan.name} in database {database}")
        elif update == "UPDATE_IN_DATABASE" and not _same_shape(table.as_dict(), table_input):
            backend.update_table(database, plan.name, table_input)
            changes.tables_updated += 1
            log(f"INFO : Updated table {plan.name} in database {database}")
        table = db.tables[plan.name]
        for values, prefix in plan.partitions.items():
            if str(list(values)) in table.partitions:
                continue
            sd = dict(table_input["StorageDescriptor"], Location=f"s3://{plan.bucket}/{prefix}")
            table.create_partition({"Values": list(values), "StorageDescriptor": sd,
                                    "Parameters": dict(table_input["Parameters"])})
            changes.partitions_added += 1
    _apply_delete_behavior(region, crawler, plans, changes)
    log(f"INFO : Finished writing to Catalog: {changes.tables_created} table(s) created, "
        f"{changes.tables_updated} updated, {changes.partitions_added} partition(s) added")


def _apply_delete_behavior(region: str, crawler: Any, plans: list[TablePlan], changes: CatalogChanges) -> None:
    """Tables this crawler made earlier whose data is gone: delete or mark them deprecated."""
    behavior = (crawler.schema_change_policy or {}).get("DeleteBehavior", "DEPRECATE_IN_DATABASE")
    if behavior == "LOG":
        return
    backend = state.glue_backend(region)
    db = backend.databases[crawler.database_name]
    planned = {p.name for p in plans}
    for name, table in list(db.tables.items()):
        current = table.as_dict()
        if name in planned or (current.get("Parameters") or {}).get("UPDATED_BY_CRAWLER") != crawler.name:
            continue
        if behavior == "DELETE_FROM_DATABASE":
            backend.delete_table(crawler.database_name, name)
            changes.tables_deleted += 1
        elif "DEPRECATED_BY_CRAWLER" not in (current.get("Parameters") or {}):
            table_input = {k: v for k, v in current.items()
                           if k not in ("DatabaseName", "CreateTime", "UpdateTime", "VersionId", "CatalogId")}
            table_input["Parameters"] = dict(current.get("Parameters") or {}, DEPRECATED_BY_CRAWLER="1")
            backend.update_table(crawler.database_name, name, table_input)
