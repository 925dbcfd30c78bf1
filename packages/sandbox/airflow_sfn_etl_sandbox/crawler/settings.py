"""A crawler's settings as a crawl applies them: ``Configuration``, ``SchemaChangePolicy``, ``RecrawlPolicy``.

:func:`check_definition` is what CreateCrawler and UpdateCrawler check (Glue's
``InvalidInputException``): the ``Configuration`` is a JSON object, and a crawler that crawls new
folders only has the LOG/LOG schema change policy and S3 targets only. :func:`settings` is what a
crawl reads; a setting that Glue accepts but the sandbox does not emulate fails the crawl
(:class:`..runs.RunFailed`) with a reason naming it, rather than being ignored.

The ``Configuration`` keys Glue documents, and what they do here:

- ``CrawlerOutput.Tables.AddOrUpdateBehavior: MergeNewColumns``: an existing table gains the new
  columns; its columns are not removed and their types not changed;
- ``CrawlerOutput.Tables.TableThreshold: n``: a crawl that finds more than ``n`` tables fails
  without writing to the catalog;
- ``CrawlerOutput.Partitions.AddOrUpdateBehavior: InheritFromTable``: partitions take the table's
  columns, formats and SerDe (else each partition has the schema of its own files);
- ``Grouping.TableGroupingPolicy: CombineCompatibleSchemas``: sub-folders of the same format and
  compression make one table whatever their columns;
- ``Grouping.TableLevelConfiguration: n``: tables are made at the absolute folder level ``n``
  from the bucket (the top-level folder is level 1);
- ``CreatePartitionIndex``: accepted; the sandbox creates no partition index either way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..aws import AwsError
from ..runs import RunFailed

NEW_FOLDERS_ONLY = "CRAWL_NEW_FOLDERS_ONLY"
_RECRAWL_BEHAVIORS = ("CRAWL_EVERYTHING", NEW_FOLDERS_ONLY, "CRAWL_EVENT_MODE")
_NOT_S3_TARGETS = ("JdbcTargets", "MongoDBTargets", "DynamoDBTargets", "CatalogTargets",
                   "DeltaTargets", "IcebergTargets", "HudiTargets")
#: Configuration keys (dotted paths) and the values Glue documents for them (None: any of the type).
_KNOWN: dict[str, tuple[type | tuple[type, ...], tuple[Any, ...] | None]] = {
    "Version": ((int, float), None),
    "CreatePartitionIndex": (bool, None),
    "CrawlerOutput.Tables.AddOrUpdateBehavior": (str, ("MergeNewColumns",)),
    "CrawlerOutput.Tables.TableThreshold": (int, None),
    "CrawlerOutput.Partitions.AddOrUpdateBehavior": (str, ("InheritFromTable",)),
    "Grouping.TableGroupingPolicy": (str, ("CombineCompatibleSchemas",)),
    "Grouping.TableLevelConfiguration": (int, None),
}
_SECTIONS = {"CrawlerOutput", "CrawlerOutput.Tables", "CrawlerOutput.Partitions", "Grouping"}


@dataclass(frozen=True)
class CrawlerSettings:
    """What a crawl does differently from the defaults."""

    update_behavior: str = "UPDATE_IN_DATABASE"
    delete_behavior: str = "DEPRECATE_IN_DATABASE"
    new_folders_only: bool = False
    merge_new_columns: bool = False
    table_threshold: int | None = None
    inherit_from_table: bool = False
    combine_compatible: bool = False
    table_level: int | None = None


def _invalid(message: str) -> AwsError:
    return AwsError("InvalidInputException", message)


def _configuration(text: str | None) -> dict[str, Any]:
    """The Configuration JSON as an object (InvalidInputException when it is not one)."""
    if not text:
        return {}
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise _invalid(f"Crawler configuration not valid: it is not JSON ({exc})") from exc
    if not isinstance(parsed, dict):
        raise _invalid("Crawler configuration not valid: it must be a JSON object")
    return parsed


def _flatten(obj: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in obj.items():
        path = f"{prefix}{key}"
        if path in _SECTIONS and isinstance(value, dict):
            out.update(_flatten(value, path + "."))
        else:
            out[path] = value
    return out


def check_definition(params: dict[str, Any], current: dict[str, Any] | None = None) -> None:
    """Reject a CreateCrawler / UpdateCrawler request as Glue does (InvalidInputException).

    :param params: the request's parameters.
    :param current: for UpdateCrawler, the crawler as it is (what the request leaves out stays).
    """
    merged = dict(current or {})
    merged.update({k: v for k, v in params.items() if v is not None})
    _configuration(merged.get("Configuration"))
    recrawl = (merged.get("RecrawlPolicy") or {}).get("RecrawlBehavior", "CRAWL_EVERYTHING")
    if recrawl not in _RECRAWL_BEHAVIORS:
        raise _invalid(f"RecrawlBehavior {recrawl} is not valid (one of {', '.join(_RECRAWL_BEHAVIORS)})")
    if recrawl == NEW_FOLDERS_ONLY:
        policy = merged.get("SchemaChangePolicy") or {}
        if policy.get("UpdateBehavior") != "LOG" or policy.get("DeleteBehavior") != "LOG":
            raise _invalid('The SchemaChangePolicy for "Crawl new folders only" Amazon S3 target can have '
                           "only LOG DeleteBehavior value and LOG UpdateBehavior value.")
        if any((merged.get("Targets") or {}).get(kind) for kind in _NOT_S3_TARGETS):
            raise _invalid('RecrawlBehavior "Crawl new folders only" can only apply to Amazon S3 target.')
        old_recrawl = ((current or {}).get("RecrawlPolicy") or {}).get("RecrawlBehavior")
        if (current is not None and old_recrawl == NEW_FOLDERS_ONLY and params.get("Targets") is not None
                and params["Targets"] != current.get("Targets")):
            raise _invalid('Amazon S3 target is immutable when "Crawl new folders only" recrawl behavior '
                           "is selected")


def settings(crawler: Any) -> CrawlerSettings:
    """The settings a crawl of moto's ``crawler`` applies; fails the crawl for what is not emulated."""
    try:
        config = _configuration(crawler.configuration)
    except AwsError as err:
        raise RunFailed(err.message) from err
    values = _flatten(config)
    for path, value in values.items():
        if path not in _KNOWN:
            raise RunFailed(f"Crawler Configuration key {path} is not emulated by the sandbox (emulated: "
                            f"{', '.join(sorted(_KNOWN))})")
        types, allowed = _KNOWN[path]
        if not isinstance(value, types) or (isinstance(value, bool) and types is int) or (
                allowed is not None and value not in allowed):
            wanted = " or ".join(map(repr, allowed)) if allowed else getattr(types, "__name__", "a number")
            raise RunFailed(f"Crawler Configuration {path} = {value!r} is not emulated by the sandbox "
                            f"(expected {wanted})")
    for path in ("CrawlerOutput.Tables.TableThreshold", "Grouping.TableLevelConfiguration"):
        if path in values and values[path] < 1:
            raise RunFailed(f"Crawler Configuration {path} must be an integer greater than 0, not {values[path]}")
    policy = crawler.schema_change_policy or {}
    recrawl = (crawler.recrawl_policy or {}).get("RecrawlBehavior", "CRAWL_EVERYTHING")
    if recrawl == "CRAWL_EVENT_MODE":
        raise RunFailed("RecrawlBehavior CRAWL_EVENT_MODE (crawling the changes Amazon S3 events name) is not "
                        "emulated by the sandbox; use CRAWL_EVERYTHING or CRAWL_NEW_FOLDERS_ONLY")
    out = CrawlerSettings(
        update_behavior=policy.get("UpdateBehavior") or "UPDATE_IN_DATABASE",
        delete_behavior=policy.get("DeleteBehavior") or "DEPRECATE_IN_DATABASE",
        new_folders_only=recrawl == NEW_FOLDERS_ONLY,
        merge_new_columns=values.get("CrawlerOutput.Tables.AddOrUpdateBehavior") == "MergeNewColumns",
        table_threshold=values.get("CrawlerOutput.Tables.TableThreshold"),
        inherit_from_table=values.get("CrawlerOutput.Partitions.AddOrUpdateBehavior") == "InheritFromTable",
        combine_compatible=values.get("Grouping.TableGroupingPolicy") == "CombineCompatibleSchemas",
        table_level=values.get("Grouping.TableLevelConfiguration"),
    )
    if out.merge_new_columns and out.update_behavior == "LOG":
        raise RunFailed("Configuration MergeNewColumns together with SchemaChangePolicy UpdateBehavior LOG is not "
                        "emulated by the sandbox (Glue documents each on its own); drop one of them")
    return out
