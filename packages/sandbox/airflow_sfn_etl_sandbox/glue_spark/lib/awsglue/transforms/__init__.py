"""``awsglue.transforms``: the Glue transforms the sandbox emulates, over sandbox DynamicFrames.

Emulated: ApplyMapping, ResolveChoice, DropNullFields, SelectFields, DropFields, RenameField,
Filter, Map, Join, Repartition, Coalesce. The other Glue transforms are importable (so
``from awsglue.transforms import *`` works) and raise NotImplementedError when applied.
"""

from __future__ import annotations

from typing import Any

from awsglue.dynamicframe import DynamicFrame, _unsupported

__all__ = ["GlueTransform", "ApplyMapping", "ResolveChoice", "DropNullFields", "SelectFields", "DropFields",
           "RenameField", "Filter", "Map", "Join", "Relationalize", "Unbox", "UnnestFrame", "SplitFields",
           "SplitRows", "Spigot", "ErrorsAsDynamicFrame", "Repartition", "Coalesce", "Union", "FlatMap",
           "FillMissingValues", "FindMatches", "FindIncrementalMatches", "EvaluateDataQuality"]


class GlueTransform:
    """Base of the transforms: ``Transform.apply(...)`` is ``Transform()(...)``."""

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        return cls()(*args, **kwargs)

    @classmethod
    def name(cls) -> str:
        return cls.__name__

    @classmethod
    def describeArgs(cls) -> list[dict[str, Any]]:  # noqa: N802 (Glue's names)
        return []

    @classmethod
    def describeReturn(cls) -> dict[str, Any]:  # noqa: N802
        return {"type": "DynamicFrame"}

    @classmethod
    def describeTransform(cls) -> str:  # noqa: N802
        return (cls.__doc__ or "").strip()

    @classmethod
    def describeErrors(cls) -> list[Any]:  # noqa: N802
        return []

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {"transform": {"name": cls.name(), "args": cls.describeArgs(), "returns": cls.describeReturn(),
                              "raises": cls.describeErrors(), "description": cls.describeTransform()}}

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise _unsupported(f"awsglue.transforms.{type(self).__name__}")


class ApplyMapping(GlueTransform):
    """Select, rename and cast fields by (source, source type, target, target type) mappings."""

    def __call__(self, frame: DynamicFrame, mappings: Any, case_sensitive: bool = False, transformation_ctx: str = "",
                 info: str = "", stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        return frame.apply_mapping(mappings, case_sensitive, transformation_ctx, info, stageThreshold, totalThreshold)


class ResolveChoice(GlueTransform):
    """Resolve choice types (the sandbox's frames have none: only casts and match_catalog change fields)."""

    def __call__(self, frame: DynamicFrame, specs: Any = None, choice: str = "", database: str | None = None,
                 table_name: str | None = None, transformation_ctx: str = "", info: str = "",
                 stageThreshold: int = 0, totalThreshold: int = 0,  # noqa: N803
                 catalog_id: str | None = None) -> DynamicFrame:
        return frame.resolveChoice(specs, choice, database, table_name, transformation_ctx, info, stageThreshold,
                                   totalThreshold, catalog_id)


class DropNullFields(GlueTransform):
    """Drop the fields that are null in every record."""

    def __call__(self, frame: DynamicFrame, transformation_ctx: str = "", info: str = "", stageThreshold: int = 0,  # noqa: N803
                 totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        return frame.drop_null_fields(transformation_ctx, info, stageThreshold, totalThreshold)


class SelectFields(GlueTransform):
    """Keep only the given field paths."""

    def __call__(self, frame: DynamicFrame, paths: Any, transformation_ctx: str = "", info: str = "",
                 stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        return frame.select_fields(paths, transformation_ctx, info, stageThreshold, totalThreshold)


class DropFields(GlueTransform):
    """Drop the given field paths."""

    def __call__(self, frame: DynamicFrame, paths: Any, transformation_ctx: str = "", info: str = "",
                 stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        return frame.drop_fields(paths, transformation_ctx, info, stageThreshold, totalThreshold)


class RenameField(GlueTransform):
    """Rename one field."""

    def __call__(self, frame: DynamicFrame, old_name: str, new_name: str, transformation_ctx: str = "",
                 info: str = "", stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        return frame.rename_field(old_name, new_name, transformation_ctx, info, stageThreshold, totalThreshold)


class Filter(GlueTransform):
    """Keep the records for which ``f(record)`` is true."""

    def __call__(self, frame: DynamicFrame, f: Any, transformation_ctx: str = "", info: str = "",
                 stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        return frame.filter(f, transformation_ctx, info, stageThreshold, totalThreshold)


class Map(GlueTransform):
    """Apply ``f`` to every record."""

    def __call__(self, frame: DynamicFrame, f: Any, preservesPartitioning: bool = False,  # noqa: N803
                 transformation_ctx: str = "", info: str = "", stageThreshold: int = 0,  # noqa: N803
                 totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        return frame.map(f, preservesPartitioning, transformation_ctx, info, stageThreshold, totalThreshold)


class Join(GlueTransform):
    """Equality join of two frames on key fields."""

    def __call__(self, frame1: DynamicFrame, frame2: DynamicFrame, keys1: Any, keys2: Any,
                 transformation_ctx: str = "") -> DynamicFrame:
        return frame1.join(keys1, keys2, frame2, transformation_ctx)


class Relationalize(GlueTransform):
    pass


class Unbox(GlueTransform):
    pass


class UnnestFrame(GlueTransform):
    pass


class SplitFields(GlueTransform):
    pass


class SplitRows(GlueTransform):
    pass


class Spigot(GlueTransform):
    pass


class ErrorsAsDynamicFrame(GlueTransform):
    pass


class Repartition(GlueTransform):
    """Spread the records over ``num_partitions`` partitions."""

    def __call__(self, frame: DynamicFrame, num_partitions: int, transformation_ctx: str = "", info: str = "",
                 stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        return frame.repartition(num_partitions, transformation_ctx)


class Coalesce(GlueTransform):
    """Merge the records into at most ``num_partitions`` partitions."""

    def __call__(self, frame: DynamicFrame, num_partitions: int, shuffle: bool = False, transformation_ctx: str = "",
                 info: str = "", stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        return frame.coalesce(num_partitions, shuffle, transformation_ctx)


class Union(GlueTransform):
    pass


class FlatMap(GlueTransform):
    pass


class FillMissingValues(GlueTransform):
    pass


class FindMatches(GlueTransform):
    pass


class FindIncrementalMatches(GlueTransform):
    pass


class EvaluateDataQuality(GlueTransform):
    pass
