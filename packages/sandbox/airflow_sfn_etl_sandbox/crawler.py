"""Glue crawler runs: StartCrawler really crawls the S3 targets and writes the Glue catalog.

Crawler definitions (CreateCrawler, GetCrawler's static fields, UpdateCrawler, DeleteCrawler)
stay moto's. This module owns the runs: ``State`` (READY -> RUNNING -> STOPPING -> READY),
``LastCrawl`` (SUCCEEDED | FAILED | CANCELLED with ``ErrorMessage``), ``ListCrawls`` and
``GetCrawlerMetrics``. A crawl lists the S3 targets, classifies the objects as Glue's built-in
classifiers do (:mod:`.schema`), groups them into tables (a folder of files is a table named
after the folder; ``key=value`` folders and folders of compatible schema are partitions),
then creates or updates the tables and partitions in the crawler's database.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import re
import statistics
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from . import faults, runtime, state
from .app import FORWARD, AwsError, Call, route
from .glue_jobs import put_log_lines
from .schema import FileSchema, UnreadableData, classify, merge_schemas, storage_format

#: How long a finished crawl shows State STOPPING before READY.
STOPPING_SECONDS = 0.2
LOG_GROUP = "/aws-glue/crawlers"
_UNSUPPORTED_TARGETS = ("JdbcTargets", "MongoDBTargets", "DynamoDBTargets", "CatalogTargets",
                        "DeltaTargets", "IcebergTargets", "HudiTargets")

_lock = threading.RLock()
_crawls: dict[tuple[str, str], list[Crawl]] = {}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class CrawlError(Exception):
    """A crawl failure; the message becomes ``LastCrawl.ErrorMessage``."""


@dataclass
class Crawl:
    """One run of a crawler."""

    crawler: str
    region: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    phase: str = "RUNNING"  #: RUNNING | STOPPING | DONE
    status: str | None = None  #: SUCCEEDED | FAILED | CANCELLED once DONE
    error_message: str | None = None
    start_time: dt.datetime = field(default_factory=_now)
    started: float = field(default_factory=time.monotonic)
    end_time: dt.datetime | None = None
    seconds: float = 0.0
    tables_created: int = 0
    tables_updated: int = 0
    tables_deleted: int = 0
    partitions_added: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def active(self) -> bool:
        return self.phase != "DONE"

    def last_crawl(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Status": self.status, "LogGroup": LOG_GROUP, "LogStream": self.crawler,
                               "MessagePrefix": self.id, "StartTime": self.start_time}
        if self.error_message:
            out["ErrorMessage"] = self.error_message
        return out

    def history(self) -> dict[str, Any]:
        states = {"SUCCEEDED": "COMPLETED", "FAILED": "FAILED", "CANCELLED": "STOPPED"}
        out: dict[str, Any] = {
            "CrawlId": self.id,
            "State": "RUNNING" if self.active else states[self.status or "FAILED"],
            "StartTime": self.start_time, "LogGroup": LOG_GROUP, "LogStream": self.crawler,
            "MessagePrefix": self.id, "DPUHour": round(max(self.seconds, 1.0) / 3600, 6),
        }
        if self.end_time:
            out["EndTime"] = self.end_time
            out["Summary"] = (f'{{"TABLE":{{"ADD":{{"Count":{self.tables_created}}},'
                              f'"UPDATE":{{"Count":{self.tables_updated}}},'
                              f'"DELETE":{{"Count":{self.tables_deleted}}}}},'
                              f'"PARTITION":{{"ADD":{{"Count":{self.partitions_added}}}}}}}')
        if self.error_message:
            out["ErrorMessage"] = self.error_message
        return out

    def log(self, *lines: str) -> None:
        try:
            put_log_lines(self.region, LOG_GROUP, self.crawler, [f"[{self.id}] {ln}" for ln in lines])
        except Exception:  # logging must never break a crawl
            pass


# --------------------------------------------------------------------------- helpers


def _moto_crawler(region: str, name: str) -> Any:
    try:
        return state.glue_backend(region).get_crawler(name)
    except Exception as exc:
        raise AwsError("EntityNotFoundException", f"Crawler with name {name} not found") from exc


def _latest(region: str, name: str) -> Crawl | None:
    crawls = _crawls.get((region, name))
    return crawls[-1] if crawls else None


def _last_finished(region: str, name: str) -> Crawl | None:
    for crawl in reversed(_crawls.get((region, name), [])):
        if not crawl.active:
            return crawl
    return None


def _state_of(region: str, name: str) -> str:
    crawl = _latest(region, name)
    if crawl is None or not crawl.active:
        return "READY"
    return crawl.phase


def _patch(region: str, crawler: dict[str, Any]) -> dict[str, Any]:
    """Overlay our run state on moto's crawler description."""
    name = crawler.get("Name", "")
    with _lock:
        crawler["State"] = _state_of(region, name)
        latest = _latest(region, name)
        crawler["CrawlElapsedTime"] = (int((time.monotonic() - latest.started) * 1000)
                                       if latest and latest.active else 0)
        finished = _last_finished(region, name)
        if finished is not None:
            crawler["LastCrawl"] = finished.last_crawl()
        else:
            crawler.pop("LastCrawl", None)
    return crawler


# --------------------------------------------------------------------------- API handlers


@route("glue", "GetCrawler")
def get_crawler(call: Call) -> dict[str, Any]:
    data = call.forward_json()
    _patch(call.region, data["Crawler"])
    return data


@route("glue", "GetCrawlers", "BatchGetCrawlers")
def get_crawlers(call: Call) -> dict[str, Any]:
    data = call.forward_json()
    for crawler in data.get("Crawlers", []):
        _patch(call.region, crawler)
    return data


@route("glue", "StartCrawler")
def start_crawler(call: Call) -> dict[str, Any]:
    """Start a crawl in the background (CrawlerRunningException while one runs)."""
    name = call.params.get("Name", "")
    _moto_crawler(call.region, name)
    with _lock:
        latest = _latest(call.region, name)
        if latest is not None and latest.active:
            raise AwsError("CrawlerRunningException", f"Crawler with name {name} has already started")
        crawl = Crawl(crawler=name, region=call.region)
        _crawls.setdefault((call.region, name), []).append(crawl)
    runtime.submit(_run_crawl, crawl)
    return {}


@route("glue", "StopCrawler")
def stop_crawler(call: Call) -> dict[str, Any]:
    """Cancel the running crawl: it ends with LastCrawl.Status CANCELLED."""
    name = call.params.get("Name", "")
    _moto_crawler(call.region, name)
    with _lock:
        latest = _latest(call.region, name)
        if latest is None or not latest.active:
            raise AwsError("CrawlerNotRunningException", f"Crawler with name {name} isn't running")
        if latest.phase == "STOPPING":
            raise AwsError("CrawlerStoppingException", f"Crawler with name {name} is stopping")
        latest.phase = "STOPPING"
        latest.stop.set()
    return {}


@route("glue", "DeleteCrawler", "UpdateCrawler")
def change_crawler(call: Call) -> Any:
    """Delete/update a crawler (moto's), refused while it runs."""
    name = call.params.get("Name", "")
    with _lock:
        latest = _latest(call.region, name)
        if latest is not None and latest.active:
            raise AwsError("CrawlerRunningException", f"Crawler with name {name} is running")
        if call.operation == "DeleteCrawler":
            _crawls.pop((call.region, name), None)
    return FORWARD


@route("glue", "ListCrawls")
def list_crawls(call: Call) -> dict[str, Any]:
    """The crawler's crawl history, newest first (``Filters`` are not applied)."""
    name = call.params.get("CrawlerName", "")
    _moto_crawler(call.region, name)
    start = int(call.params.get("NextToken") or 0)
    limit = int(call.params.get("MaxResults") or 20)
    with _lock:
        crawls = list(reversed(_crawls.get((call.region, name), [])))
        page = [c.history() for c in crawls[start:start + limit]]
    out: dict[str, Any] = {"Crawls": page}
    if start + limit < len(crawls):
        out["NextToken"] = str(start + limit)
    return out


@route("glue", "GetCrawlerMetrics")
def get_crawler_metrics(call: Call) -> dict[str, Any]:
    """Run-time statistics of crawlers (moto does not implement this call)."""
    backend = state.glue_backend(call.region)
    names = call.params.get("CrawlerNameList") or sorted(backend.crawlers)
    start = int(call.params.get("NextToken") or 0)
    limit = int(call.params.get("MaxResults") or 100)
    metrics = []
    with _lock:
        for name in names:
            if name not in backend.crawlers:
                continue
            metrics.append(_metrics(call.region, name))
    out: dict[str, Any] = {"CrawlerMetricsList": metrics[start:start + limit]}
    if start + limit < len(metrics):
        out["NextToken"] = str(start + limit)
    return out


def _metrics(region: str, name: str) -> dict[str, Any]:
    crawls = _crawls.get((region, name), [])
    finished = [c for c in crawls if not c.active]
    latest = crawls[-1] if crawls else None
    last = finished[-1] if finished else None
    median = statistics.median([c.seconds for c in finished]) if finished else 0.0
    running = latest is not None and latest.active
    elapsed = time.monotonic() - latest.started if running and latest else 0.0
    return {
        "CrawlerName": name,
        "TimeLeftSeconds": round(max(0.0, median - elapsed), 3) if running else 0.0,
        "StillEstimating": bool(running and not finished),
        "LastRuntimeSeconds": round(last.seconds, 3) if last else 0.0,
        "MedianRuntimeSeconds": round(median, 3),
        "TablesCreated": last.tables_created if last else 0,
        "TablesUpdated": last.tables_updated if last else 0,
        "TablesDeleted": last.tables_deleted if last else 0,
    }


# --------------------------------------------------------------------------- the crawl


def _finish(crawl: Crawl, status: str, message: str | None = None) -> None:
    if status == "SUCCEEDED" and not crawl.stop.is_set():
        with _lock:
            crawl.phase = "STOPPING"
        crawl.stop.wait(STOPPING_SECONDS)
    with _lock:
        if crawl.stop.is_set() and status == "SUCCEEDED":
            status, message = "CANCELLED", None
        crawl.status = status
        crawl.error_message = message
        crawl.end_time = _now()
        crawl.seconds = time.monotonic() - crawl.started
        crawl.phase = "DONE"
    crawl.log(f"BENCHMARK : Crawler has finished running and is in state READY ({status})"
              + (f": {message}" if message else ""))


def _run_crawl(crawl: Crawl) -> None:
    crawler = state.glue_backend(crawl.region).crawlers.get(crawl.crawler)
    if crawler is None:
        _finish(crawl, "FAILED", f"Crawler {crawl.crawler} was deleted while it ran")
        return
    crawl.log(f"BENCHMARK : Running Start Crawl for Crawler {crawl.crawler}")
    try:
        fail_message, delay = faults.run_faults("crawler", crawl.crawler)
        if delay and crawl.stop.wait(delay):
            _finish(crawl, "CANCELLED")
            return
        if fail_message:
            raise CrawlError(fail_message)
        plans = plan_tables(crawler)
        if crawl.stop.is_set():
            _finish(crawl, "CANCELLED")
            return
        crawl.log(f"INFO : Classification complete, writing results to database {crawler.database_name}")
        write_catalog(crawl, crawler, plans)
    except CrawlError as exc:
        _finish(crawl, "FAILED", str(exc))
        return
    except Exception as exc:  # a sandbox defect still ends the crawl
        _finish(crawl, "FAILED", f"Internal Service Exception: {type(exc).__name__}: {exc}")
        return
    _finish(crawl, "SUCCEEDED")


@dataclass
class TablePlan:
    """A table the crawl found: where it is, its schema, its partitions."""

    name: str
    bucket: str
    root: str  #: key prefix of the table (ends with "/"), or the object key of a one-file table
    schema: FileSchema
    partition_keys: list[str]
    partitions: dict[tuple[str, ...], str]  #: values -> key prefix of the partition folder
    object_count: int

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.root}"


def _table_name(root: str, bucket: str) -> str:
    base = root.rstrip("/").split("/")[-1] if root.strip("/") else bucket
    return re.sub(r"[^a-z0-9_]", "_", base.lower())


def _excluded(rel: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(rel, p) for p in patterns)


def _skip(key: str) -> bool:
    base = key.rsplit("/", 1)[-1]
    return (not base or base.startswith(("_", ".")) or key.endswith("$folder$")
            or base.endswith((".crc", ".metadata")))


def plan_tables(crawler: Any) -> list[TablePlan]:
    """Read the crawler's S3 targets and decide which tables they hold."""
    targets = crawler.targets or {}
    for kind in _UNSUPPORTED_TARGETS:
        if targets.get(kind):
            raise CrawlError(f"{kind} are not emulated by the sandbox crawler (only S3Targets are)")
    s3_targets = targets.get("S3Targets") or []
    if not s3_targets:
        raise CrawlError(f"Crawler {crawler.name} has no S3 targets to crawl")
    plans: list[TablePlan] = []
    for target in s3_targets:
        path = target.get("Path", "")
        try:
            bucket, prefix = state.split_s3_uri(path if path.startswith("s3://") else f"s3://{path}")
        except ValueError as exc:
            raise CrawlError(str(exc)) from exc
        try:
            keys = state.s3_list(bucket, prefix)
        except AwsError as err:
            raise CrawlError(f"Error crawling S3 target {path}: {err.message} ({err.code})") from err
        exclusions = list(target.get("Exclusions") or [])
        if prefix and not prefix.endswith("/") and prefix in keys:
            plans.append(_plan_one_file(bucket, prefix))
            continue
        root = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        rels = [k[len(root):] for k in keys if k.startswith(root) and not _skip(k)]
        rels = [r for r in rels if not _excluded(r, exclusions)]
        if not rels:
            raise CrawlError(f"No data found under S3 target {path}: the folder is empty or every "
                             "object is excluded, so the crawler created no table")
        plans.extend(_group(bucket, root, rels))
    seen: dict[str, int] = {}
    for plan in plans:
        plan.name = f"{(crawler.table_prefix or '').lower()}{plan.name}"
        if plan.name in seen:
            plan.name = f"{plan.name}_{hashlib.md5(plan.location.encode()).hexdigest()[:8]}"
        seen[plan.name] = 1
    return plans


def _classify_key(bucket: str, key: str) -> FileSchema:
    try:
        return classify(f"s3://{bucket}/{key}", state.s3_get(bucket, key))
    except UnreadableData as exc:
        raise CrawlError(f"Unable to classify data: {exc}") from exc


def _plan_one_file(bucket: str, key: str) -> TablePlan:
    schema = _classify_key(bucket, key)
    name = re.sub(r"[^a-z0-9_]", "_", key.rsplit("/", 1)[-1].lower())
    return TablePlan(name, bucket, key, schema, [], {}, 1)


def _schema_signature(schema: FileSchema) -> tuple[str, tuple[str, ...]]:
    return schema.classification, tuple(n for n, _ in schema.columns)


def _group(bucket: str, root: str, rels: list[str]) -> list[TablePlan]:
    """Tables under ``root`` from the relative keys below it.

    Files directly in ``root`` and ``key=value`` folders make one table at ``root``. Other
    sub-folders are partitions of that table when all hold compatible schemas (same format and
    column names), else each sub-folder is crawled as its own table.
    """
    plain: OrderedDict[str, list[str]] = OrderedDict()
    own: list[str] = []
    for rel in rels:
        first, sep, rest = rel.partition("/")
        if sep and "=" not in first:
            plain.setdefault(first, []).append(rest)
        else:
            own.append(rel)
    if not plain:
        return [_table(bucket, root, own)]
    schemas = {d: merge_schemas([_classify_key(bucket, f"{root}{d}/{r}") for r in files])
               for d, files in plain.items()}
    signatures = {_schema_signature(s) for s in schemas.values()}
    if own:
        own_schema = merge_schemas([_classify_key(bucket, root + r) for r in own])
        signatures.add(_schema_signature(own_schema))
    if len(signatures) == 1 and not own:
        return [_table(bucket, root, rels)]
    plans = [_table(bucket, root, own)] if own else []
    for folder, files in plain.items():
        plans.extend(_group(bucket, f"{root}{folder}/", files))
    return plans


def _table(bucket: str, root: str, rels: list[str]) -> TablePlan:
    depth = min(r.count("/") for r in rels)
    first_dirs = min(rels, key=lambda r: r.count("/")).split("/")[:depth]
    keys = [seg.split("=", 1)[0].lower() if "=" in seg else f"partition_{i}"
            for i, seg in enumerate(first_dirs)]
    partitions: dict[tuple[str, ...], str] = {}
    schemas = []
    for rel in rels:
        segs = rel.split("/")[:depth]
        values = tuple(s.split("=", 1)[1] if "=" in s else s for s in segs)
        if depth:
            partitions.setdefault(values, root + "/".join(segs) + "/")
        schemas.append(_classify_key(bucket, root + rel))
    schema = merge_schemas(schemas)
    schema.columns = [(n, t) for n, t in schema.columns if n not in keys]
    return TablePlan(_table_name(root, bucket), bucket, root, schema, keys, partitions, len(rels))


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


def write_catalog(crawl: Crawl, crawler: Any, plans: list[TablePlan]) -> None:
    """Create or update the planned tables and their partitions in the crawler's database."""
    backend = state.glue_backend(crawl.region)
    database = crawler.database_name
    if not database:
        raise CrawlError(f"Crawler {crawler.name} has no DatabaseName to write tables to")
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
            crawl.tables_created += 1
            crawl.log(f"INFO : Created table {plan.name} in database {database}")
        elif update == "UPDATE_IN_DATABASE" and not _same_shape(table.as_dict(), table_input):
            backend.update_table(database, plan.name, table_input)
            crawl.tables_updated += 1
            crawl.log(f"INFO : Updated table {plan.name} in database {database}")
        table = db.tables[plan.name]
        for values, prefix in plan.partitions.items():
            if str(list(values)) in table.partitions:
                continue
            sd = dict(table_input["StorageDescriptor"], Location=f"s3://{plan.bucket}/{prefix}")
            table.create_partition({"Values": list(values), "StorageDescriptor": sd,
                                    "Parameters": dict(table_input["Parameters"])})
            crawl.partitions_added += 1
    _apply_delete_behavior(crawl, crawler, plans)
    crawl.log(f"INFO : Finished writing to Catalog: {crawl.tables_created} table(s) created, "
              f"{crawl.tables_updated} updated, {crawl.partitions_added} partition(s) added")


def _apply_delete_behavior(crawl: Crawl, crawler: Any, plans: list[TablePlan]) -> None:
    """Tables this crawler made earlier whose data is gone: delete or mark them deprecated."""
    behavior = (crawler.schema_change_policy or {}).get("DeleteBehavior", "DEPRECATE_IN_DATABASE")
    if behavior == "LOG":
        return
    backend = state.glue_backend(crawl.region)
    db = backend.databases[crawler.database_name]
    planned = {p.name for p in plans}
    for name, table in list(db.tables.items()):
        current = table.as_dict()
        if name in planned or (current.get("Parameters") or {}).get("UPDATED_BY_CRAWLER") != crawler.name:
            continue
        if behavior == "DELETE_FROM_DATABASE":
            backend.delete_table(crawler.database_name, name)
            crawl.tables_deleted += 1
        elif "DEPRECATED_BY_CRAWLER" not in (current.get("Parameters") or {}):
            table_input = {k: v for k, v in current.items()
                           if k not in ("DatabaseName", "CreateTime", "UpdateTime", "VersionId", "CatalogId")}
            table_input["Parameters"] = dict(current.get("Parameters") or {}, DEPRECATED_BY_CRAWLER="1")
            backend.update_table(crawler.database_name, name, table_input)


def reset() -> None:
    """Forget all crawls (running ones are cancelled)."""
    with _lock:
        for crawls in _crawls.values():
            for crawl in crawls:
                crawl.stop.set()
        _crawls.clear()
