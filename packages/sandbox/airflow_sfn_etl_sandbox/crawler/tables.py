"""Which tables a crawl finds: list the S3 targets, classify the objects, group them into tables.

Objects are classified as Glue's built-in classifiers do (:func:`..schema.classify`) and their
schemas merged (:func:`..schema.merge_schemas`). A folder of files is a table named after the
folder; ``key=value`` folders are partitions (unless they share no column name); sub-folders whose
files all have a compatible schema (same format and column names) are partitions of one table,
otherwise each sub-folder is crawled as its own table. ``_``/``.`` files, ``$folder$`` markers and
``.crc``/``.metadata`` files are skipped, as are objects matching a target's ``Exclusions`` (Glue's
glob patterns, :func:`glob_regex`). An object no built-in classifier recognises is skipped too, with
a log line, as Glue skips it. Only ``S3Targets`` are emulated. The crawler's
:class:`.settings.CrawlerSettings` change the grouping (``CombineCompatibleSchemas``,
``TableLevelConfiguration``) and, when it crawls new folders only, which objects are read. Problems
raise :class:`..runs.RunFailed` (the crawl's ``ErrorMessage``).
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import state
from ..aws import AwsError
from ..runs import RunFailed
from ..schema import FileSchema, UnreadableData, classify, merge_schemas
from .classifiers import classify_with_csv, crawler_classifiers
from .settings import CrawlerSettings

_UNSUPPORTED_TARGETS = ("JdbcTargets", "MongoDBTargets", "DynamoDBTargets", "CatalogTargets",
                        "DeltaTargets", "IcebergTargets", "HudiTargets")


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
    #: values -> the schema of the partition's own files (without the partition keys)
    partition_schemas: dict[tuple[str, ...], FileSchema] = field(default_factory=dict)
    partition_objects: dict[tuple[str, ...], int] = field(default_factory=dict)  #: values -> object count

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.root}"


def _table_name(root: str, bucket: str) -> str:
    base = root.rstrip("/").split("/")[-1] if root.strip("/") else bucket
    return re.sub(r"[^a-z0-9_]", "_", base.lower())


@functools.lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """A crawler exclude pattern as a regular expression over keys relative to the include path.

    Glue's glob rules: ``*`` matches within one name component (not ``/``), ``**`` across folders,
    ``?`` one character of a name component, ``[abc]`` / ``[a-z]`` / ``[!a-c]`` one character of a
    set, ``{a,b}`` either sub-pattern (not nested), ``\\`` escapes the next character, and a
    leading dot is an ordinary character.
    """
    return re.compile(_glob_part(pattern, in_group=False) + r"\Z", re.DOTALL)


def _glob_part(pattern: str, *, in_group: bool) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if ch == "*":
            if pattern.startswith("**", i):
                out.append(".*")
                i += 2
            else:
                out.append("[^/]*")
                i += 1
            continue
        if ch == "?":
            out.append("[^/]")
        elif ch == "[" and "]" in pattern[i + 2:]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1:end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            chars = "".join("\\" + c if c in "\\^[]" else c for c in body)
            out.append(f"[^/{chars}]" if negate else f"(?!/)[{chars}]")
            i = end + 1
            continue
        elif ch == "{" and not in_group and "}" in pattern[i:]:
            end = pattern.index("}", i)
            subs = pattern[i + 1:end].split(",")
            out.append("(?:" + "|".join(_glob_part(p, in_group=True) for p in subs) + ")")
            i = end + 1
            continue
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


def _excluded(rel: str, patterns: list[str]) -> bool:
    return any(glob_regex(p).match(rel) for p in patterns)


def folder_of(bucket: str, key: str) -> str:
    """The S3 folder an object is in (``s3://bucket/dir/``)."""
    return f"s3://{bucket}/{key.rsplit('/', 1)[0] + '/' if '/' in key else ''}"


def _skip(key: str) -> bool:
    base = key.rsplit("/", 1)[-1]
    return (not base or base.startswith(("_", ".")) or key.endswith("$folder$")
            or base.endswith((".crc", ".metadata")))


@dataclass
class _Classifier:
    """Each object's schema, classified once per crawl; None for an object no classifier recognises."""

    log: Callable[..., None]
    custom: list[dict[str, Any]] = field(default_factory=list)  #: the crawler's CSV classifiers, in order
    seen: dict[tuple[str, str], FileSchema | None] = field(default_factory=dict)

    def __call__(self, bucket: str, key: str) -> FileSchema | None:
        if (bucket, key) not in self.seen:
            uri = f"s3://{bucket}/{key}"
            data = state.s3_get(bucket, key)
            found: FileSchema | None = None
            for body in self.custom:  # custom classifiers first, in the crawler's order, as Glue runs them
                found = classify_with_csv(uri, data, body)
                if found is not None:
                    break
            if found is None:
                try:
                    found = classify(uri, data)
                except UnreadableData as exc:
                    self.log(f"WARN : Skipping {uri}: no classifier recognises it ({exc})")
            self.seen[bucket, key] = found
        return self.seen[bucket, key]


def plan_tables(crawler: Any, log: Callable[..., None] | None = None, opts: CrawlerSettings | None = None,
                crawled_before: frozenset[str] = frozenset(), read_folders: set[str] | None = None,
                ) -> list[TablePlan]:
    """Read the crawler's S3 targets and decide which tables they hold.

    :param log: takes the crawl's log lines.
    :param opts: the crawler's settings (the defaults when None).
    :param crawled_before: folders (``s3://bucket/dir/``) earlier crawls read; with
        ``CRAWL_NEW_FOLDERS_ONLY`` their objects are not read again.
    :param read_folders: gets the folders this crawl reads.
    """
    opts = opts or CrawlerSettings()
    classifier = _Classifier(log or (lambda *lines: None),
                             crawler_classifiers(crawler.backend.region_name, crawler.classifiers))
    targets = crawler.targets or {}
    for kind in _UNSUPPORTED_TARGETS:
        if targets.get(kind):
            raise RunFailed(f"{kind} are not emulated by the sandbox crawler (only S3Targets are)")
    s3_targets = targets.get("S3Targets") or []
    if not s3_targets:
        raise RunFailed(f"Crawler {crawler.name} has no S3 targets to crawl")
    plans: list[TablePlan] = []
    for target in s3_targets:
        for unsupported in ("SampleSize", "EventQueueArn", "DlqEventQueueArn", "ConnectionName"):
            if target.get(unsupported) is not None:
                raise RunFailed(f"S3Targets {unsupported} is not emulated by the sandbox crawler "
                                "(it reads every object of the target)")
        path = target.get("Path", "")
        try:
            bucket, prefix = state.split_s3_uri(path if path.startswith("s3://") else f"s3://{path}")
        except ValueError as exc:
            raise RunFailed(str(exc)) from exc
        try:
            keys = state.s3_list(bucket, prefix)
        except AwsError as err:
            raise RunFailed(f"Error crawling S3 target {path}: {err.message} ({err.code})") from err
        exclusions = list(target.get("Exclusions") or [])
        if prefix and not prefix.endswith("/") and prefix in keys:
            if opts.new_folders_only and folder_of(bucket, prefix) in crawled_before:
                continue
            (read_folders if read_folders is not None else set()).add(folder_of(bucket, prefix))
            one = _plan_one_file(classifier, bucket, prefix)
            plans.extend([one] if one is not None else [])
            continue
        root = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        rels = [k[len(root):] for k in keys if k.startswith(root) and not _skip(k)]
        rels = [r for r in rels if not _excluded(r, exclusions)]
        if not rels:
            raise RunFailed(f"No data found under S3 target {path}: the folder is empty or every "
                             "object is excluded, so the crawler created no table")
        if opts.new_folders_only:
            rels = [r for r in rels if folder_of(bucket, root + r) not in crawled_before]
            if not rels:
                continue
        if read_folders is not None:
            read_folders.update(folder_of(bucket, root + r) for r in rels)
        if opts.table_level is not None:
            plans.extend(_at_level(classifier, bucket, root, rels, opts.table_level))
        else:
            plans.extend(_group(classifier, bucket, root, rels, opts.combine_compatible))
    seen: dict[str, int] = {}
    for plan in plans:
        plan.name = f"{(crawler.table_prefix or '').lower()}{plan.name}"
        if plan.name in seen:
            plan.name = f"{plan.name}_{hashlib.md5(plan.location.encode()).hexdigest()[:8]}"
        seen[plan.name] = 1
    return plans


def _plan_one_file(classify_key: _Classifier, bucket: str, key: str) -> TablePlan | None:
    schema = classify_key(bucket, key)
    if schema is None:
        return None
    name = re.sub(r"[^a-z0-9_]", "_", key.rsplit("/", 1)[-1].lower())
    return TablePlan(name, bucket, key, schema, [], {}, 1)


def _schema_signature(schema: FileSchema, combine: bool) -> tuple[str, ...]:
    """What sub-folders must share to be partitions of one table: format and compression, and (unless
    ``CombineCompatibleSchemas``) the column names."""
    if combine:
        return schema.classification, schema.compression
    return schema.classification, schema.compression, *(n for n, _ in schema.columns)


def _merged(classify_key: _Classifier, bucket: str, keys: list[str]) -> FileSchema | None:
    schemas = [s for s in (classify_key(bucket, k) for k in keys) if s is not None]
    return merge_schemas(schemas) if schemas else None


def _group(classify_key: _Classifier, bucket: str, root: str, rels: list[str], combine: bool) -> list[TablePlan]:
    """Tables under ``root`` from the relative keys below it.

    Files directly in ``root`` and ``key=value`` folders make one table at ``root`` (unless ``combine``,
    ``key=value`` folders sharing no column name are separate tables, :func:`_disjoint_partitions`).
    Other sub-folders are partitions of that table when all hold compatible schemas (same format and
    compression and, unless ``combine``, column names), else each sub-folder is crawled as its own table.
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
        split = None if combine else _disjoint_partitions(classify_key, bucket, root, own)
        if split is None:
            return _table(classify_key, bucket, root, own)
        plans = []
        for folder, files in split.items():
            plans.extend(_group(classify_key, bucket, f"{root}{folder}/", files, combine))
        return plans
    schemas = {d: _merged(classify_key, bucket, [f"{root}{d}/{r}" for r in files]) for d, files in plain.items()}
    signatures = {_schema_signature(s, combine) for s in schemas.values() if s is not None}
    own_schema = _merged(classify_key, bucket, [root + r for r in own]) if own else None
    if own_schema is not None:
        signatures.add(_schema_signature(own_schema, combine))
    if len(signatures) <= 1 and own_schema is None:
        return _table(classify_key, bucket, root, rels)
    plans = _table(classify_key, bucket, root, own) if own else []
    for folder, files in plain.items():
        plans.extend(_group(classify_key, bucket, f"{root}{folder}/", files, combine))
    return plans


def _disjoint_partitions(classify_key: _Classifier, bucket: str, root: str,
                         own: list[str]) -> OrderedDict[str, list[str]] | None:
    """``key=value`` folders that share no column name, each with the keys below it; None otherwise.

    Glue makes partitions of sibling folders whose schemas are similar enough (its knowledge center
    names a "partition threshold" above 70%), else separate tables named after the folders: its
    grouping page shows ``year=2017`` holding ``A, B`` and ``year=2018`` holding ``C, D`` crawled as
    tables ``year_2017`` and ``year_2018``. How the similarity is measured is not documented; folders
    with no column in common are below any such threshold, so they are split, and all others stay
    partitions of one table.
    """
    folders: OrderedDict[str, list[str]] = OrderedDict()
    for rel in own:
        first, sep, rest = rel.partition("/")
        if not sep:
            return None  # files beside the folders: one table at root
        folders.setdefault(first, []).append(rest)
    if len(folders) < 2:
        return None
    names: list[set[str]] = []
    for folder, files in folders.items():
        schema = _merged(classify_key, bucket, [f"{root}{folder}/{r}" for r in files])
        if schema is None:
            return None
        names.append({n.lower() for n, _ in schema.columns})
    for i, a in enumerate(names):
        if any(a & b for b in names[i + 1:]):
            return None
    return folders


def _at_level(classify_key: _Classifier, bucket: str, root: str, rels: list[str], level: int) -> list[TablePlan]:
    """``TableLevelConfiguration``: one table per folder at absolute ``level`` from the bucket, the folders
    below it its partitions."""
    if root.count("/") > level:
        raise RunFailed(f"The include path s3://{bucket}/{root} is deeper than TableLevelConfiguration {level}: "
                        "a table above the include path is not emulated by the sandbox")
    tables: OrderedDict[str, list[str]] = OrderedDict()
    for rel in rels:
        segments = (root + rel).split("/")
        if len(segments) - 1 < level:
            raise RunFailed(f"s3://{bucket}/{root}{rel} lies above TableLevelConfiguration {level}: an object "
                            "above the table level is not emulated by the sandbox")
        table_root = "/".join(segments[:level]) + "/"
        tables.setdefault(table_root, []).append(root + rel)
    plans: list[TablePlan] = []
    for table_root, keys in tables.items():
        plans.extend(_table(classify_key, bucket, table_root, [k[len(table_root):] for k in keys]))
    return plans


def _table(classify_key: _Classifier, bucket: str, root: str, rels: list[str]) -> list[TablePlan]:
    """The table at ``root`` (no table when none of its objects could be classified)."""
    rels = [r for r in rels if classify_key(bucket, root + r) is not None]
    if not rels:
        return []
    depth = min(r.count("/") for r in rels)
    first_dirs = min(rels, key=lambda r: r.count("/")).split("/")[:depth]
    keys = [seg.split("=", 1)[0].lower() if "=" in seg else f"partition_{i}"
            for i, seg in enumerate(first_dirs)]
    partitions: dict[tuple[str, ...], str] = {}
    per_partition: dict[tuple[str, ...], list[FileSchema]] = {}
    schemas = []
    for rel in rels:
        segs = rel.split("/")[:depth]
        values = tuple(s.split("=", 1)[1] if "=" in s else s for s in segs)
        found = classify_key(bucket, root + rel)
        assert found is not None  # unclassifiable objects were left out above
        if depth:
            partitions.setdefault(values, root + "/".join(segs) + "/")
            per_partition.setdefault(values, []).append(found)
        schemas.append(found)
    schema = _without(merge_schemas(schemas), keys)
    partition_schemas = {values: _without(merge_schemas(found), keys) for values, found in per_partition.items()}
    return [TablePlan(_table_name(root, bucket), bucket, root, schema, keys, partitions, len(rels),
                      partition_schemas, {values: len(found) for values, found in per_partition.items()})]


def _without(schema: FileSchema, keys: list[str]) -> FileSchema:
    schema.columns = [(n, t) for n, t in schema.columns if n not in keys]
    return schema
