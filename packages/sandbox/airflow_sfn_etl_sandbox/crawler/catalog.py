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
from ..schema import FileSchema, storage_format
from .settings import CrawlerSettings
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
    return {"Name": plan.name, "Owner": "owner", "Retention": 0, "TableType": "EXTERNAL_TABLE",
            "PartitionKeys": [{"Name": k, "Type": "string"} for k in plan.partition_keys],
            "StorageDescriptor": _storage(plan.schema, plan.location, params), "Parameters": params}


def _storage(schema: FileSchema, location: str, params: dict[str, str]) -> dict[str, Any]:
    formats = storage_format(schema)
    serde_params = formats["SerdeInfo"]["Parameters"]
    if "quoteChar" in serde_params and "quoteChar" in schema.extra:  # a custom CSV classifier's QuoteSymbol
        serde_params["quoteChar"] = schema.extra["quoteChar"]
    return {
        "Columns": [{"Name": n, "Type": t} for n, t in schema.columns],
        "Location": location,
        **formats,
        "Compressed": schema.compression != "none",
        "NumberOfBuckets": -1,
        "BucketColumns": [],
        "SortColumns": [],
        "StoredAsSubDirectories": False,
        "Parameters": dict(params),
    }


def _same_shape(old: dict[str, Any], new: dict[str, Any]) -> bool:
    old_sd, new_sd = old.get("StorageDescriptor") or {}, new["StorageDescriptor"]
    return (old_sd.get("Columns") == new_sd["Columns"] and old.get("PartitionKeys") == new["PartitionKeys"]
            and old_sd.get("Location") == new_sd["Location"]
            and (old_sd.get("SerdeInfo") or {}) == new_sd["SerdeInfo"])


def _as_input(current: dict[str, Any]) -> dict[str, Any]:
    """A catalog table (GetTable's shape) as a TableInput."""
    return {k: v for k, v in current.items()
            if k not in ("DatabaseName", "CreateTime", "UpdateTime", "VersionId", "CatalogId", "CreatedBy",
                         "IsRegisteredWithLakeFormation")}


#: Table parameters whose change makes MergeNewColumns deprecate a table instead of merging into it.
_FUNDAMENTAL = ("classification", "compressionType", "delimiter")


def _merge_new_columns(current: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """``MergeNewColumns``: the table with the new columns added (existing ones kept, types unchanged).

    :return: (the TableInput to write or None for no change, what changed for the log).
    """
    old_params = current.get("Parameters") or {}
    changed = [p for p in _FUNDAMENTAL if old_params.get(p) != new["Parameters"].get(p)]
    table_input = _as_input(current)
    if changed:
        if "DEPRECATED_BY_CRAWLER" in old_params:
            return None, ""
        table_input["Parameters"] = dict(old_params, DEPRECATED_BY_CRAWLER="1")
        return table_input, f"deprecated: {', '.join(changed)} changed, which MergeNewColumns does not merge"
    old_sd = current.get("StorageDescriptor") or {}
    known = {c["Name"] for c in old_sd.get("Columns") or []}
    added = [c for c in new["StorageDescriptor"]["Columns"] if c["Name"] not in known]
    if not added:
        return None, ""
    table_input["StorageDescriptor"] = dict(old_sd, Columns=list(old_sd.get("Columns") or []) + added)
    return table_input, f"columns added: {', '.join(c['Name'] for c in added)}"


def write_catalog(region: str, crawler: Any, plans: list[TablePlan], changes: CatalogChanges,
                  log: Callable[[str], None], opts: CrawlerSettings | None = None) -> None:
    """Create or update the planned tables and their partitions in the crawler's database.

    :param changes: counts what is changed, as it is changed.
    :param log: takes a progress line for the crawl's log stream.
    :param opts: the crawler's settings (the defaults when None).
    """
    opts = opts or CrawlerSettings()
    backend = state.glue_backend(region)
    database = crawler.database_name
    if not database:
        raise RunFailed(f"Crawler {crawler.name} has no DatabaseName to write tables to")
    if database not in backend.databases:
        backend.create_database(database, {"Name": database})
    for plan in plans:
        table_input = _table_input(crawler.name, plan)
        db = backend.databases[database]
        table = db.tables.get(plan.name)
        if table is None:
            backend.create_table(database, plan.name, table_input)
            changes.tables_created += 1
            log(f"INFO : Created table {plan.name} in database {database}")
        elif opts.merge_new_columns:
            merged, what = _merge_new_columns(table.as_dict(), table_input)
            if merged is not None:
                backend.update_table(database, plan.name, merged)
                changes.tables_updated += 1
                log(f"INFO : Updated table {plan.name} in database {database} ({what})")
        elif opts.update_behavior == "UPDATE_IN_DATABASE" and not _same_shape(table.as_dict(), table_input):
            backend.update_table(database, plan.name, table_input)
            changes.tables_updated += 1
            log(f"INFO : Updated table {plan.name} in database {database}")
        elif not _same_shape(table.as_dict(), table_input):
            log(f"INFO : The schema of table {plan.name} in database {database} changed; the table is "
                "left as it is (UpdateBehavior LOG)")
        _write_partitions(crawler.name, db.tables[plan.name], plan, changes, opts)
    _apply_delete_behavior(region, crawler, plans, changes, opts)
    log(f"INFO : Finished writing to Catalog: {changes.tables_created} table(s) created, "
        f"{changes.tables_updated} updated, {changes.partitions_added} partition(s) added")


def _write_partitions(crawler: str, table: Any, plan: TablePlan, changes: CatalogChanges,
                      opts: CrawlerSettings) -> None:
    """Add the plan's new partitions; update the existing ones that differ, as the settings say.

    A partition has the schema of its own files, or with ``InheritFromTable`` the catalog table's
    columns, formats and SerDe (the table as it is now, after the crawl's update or not).
    """
    current = table.as_dict()
    for values, prefix in plan.partitions.items():
        location = f"s3://{plan.bucket}/{prefix}"
        if opts.inherit_from_table:
            sd = dict(current["StorageDescriptor"], Location=location)
            params = dict(current.get("Parameters") or {})
        else:
            schema = plan.partition_schemas.get(values, plan.schema)
            own = TablePlan(plan.name, plan.bucket, prefix, schema, plan.partition_keys, {},
                            plan.partition_objects.get(values, 0))
            params = _parameters(crawler, own)
            sd = _storage(schema, location, params)
        partition_input = {"Values": list(values), "StorageDescriptor": sd, "Parameters": params}
        existing = table.partitions.get(str(list(values)))
        if existing is None:
            table.create_partition(partition_input)
            changes.partitions_added += 1
            continue
        update = opts.inherit_from_table or (opts.update_behavior == "UPDATE_IN_DATABASE"
                                             and not opts.merge_new_columns)
        old = existing.as_dict()
        if update and (old.get("StorageDescriptor") != sd):
            table.update_partition(list(values), partition_input)


def _apply_delete_behavior(region: str, crawler: Any, plans: list[TablePlan], changes: CatalogChanges,
                           opts: CrawlerSettings) -> None:
    """Tables this crawler made earlier whose data is gone: delete or mark them deprecated."""
    behavior = opts.delete_behavior
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
            table_input = _as_input(current)
            table_input["Parameters"] = dict(current.get("Parameters") or {}, DEPRECATED_BY_CRAWLER="1")
            backend.update_table(crawler.database_name, name, table_input)
