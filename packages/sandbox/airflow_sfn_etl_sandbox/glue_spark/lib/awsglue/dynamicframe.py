"""``DynamicFrame`` over a Spark DataFrame: the sandbox's emulation of Glue's record frames.

A sandbox DynamicFrame holds a DataFrame, so each field has one type: the "choice" types of
Glue (one field seen with two types) do not arise here, and ResolveChoice only has the effect it
has on fields without a choice (casts, ``match_catalog``). Field paths are dotted names
(``address.city``); a name that contains a dot is written in back-ticks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from awsglue import gluetypes
from awsglue._types import glue_name, spark_type


def _unsupported(api: str) -> NotImplementedError:
    return NotImplementedError(f"{api} is not emulated by the local AWS sandbox (its glueetl runs cover "
                               "from_catalog/from_options over S3, the common DynamicFrame methods and transforms)")


_NOT_EMULATED = ("relationalize", "unbox", "unnest", "unnest_ddb_json", "split_fields", "split_rows", "spigot",
                 "errorsAsDynamicFrame", "errorsCount", "stageErrorsCount", "assertErrorThreshold", "mergeDynamicFrame",
                 "union", "simplify_ddb_json")


def split_path(path: str) -> list[str]:
    """``a.b`` -> [a, b]; ``\\`a.b\\`.c`` -> [a.b, c]."""
    parts: list[str] = []
    for quoted, plain in re.findall(r"`([^`]*)`|([^.]+)", path):
        parts.append(quoted or plain)
    return parts


def _quote(parts: Sequence[str]) -> str:
    return ".".join(f"`{p}`" for p in parts)


class DynamicRecord(dict):
    """One record, as ``Filter``/``Map`` functions receive it: a dict of field name to value."""


def _to_record(value: Any) -> Any:
    from pyspark.sql import Row

    if isinstance(value, Row):
        return DynamicRecord((k, _to_record(v)) for k, v in value.asDict(recursive=False).items())
    if isinstance(value, list):
        return [_to_record(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_record(v) for k, v in value.items()}
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _filter_rows(f: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda row: bool(f(_to_record(row)))


def _map_rows(f: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda row: _plain(f(_to_record(row)))


class DynamicFrame:
    """Glue's DynamicFrame, backed by a Spark DataFrame (``toDF()`` returns it)."""

    def __init__(self, df: Any, glue_ctx: Any, name: str = "") -> None:
        from pyspark.sql import DataFrame

        if not isinstance(df, DataFrame):
            raise TypeError("the sandbox's DynamicFrame wraps a pyspark DataFrame; use DynamicFrame.fromDF")
        self._df = df
        self.glue_ctx = glue_ctx
        self.name = name

    # ------------------------------------------------------------------ conversions and info
    def toDF(self, options: Any = None) -> Any:  # noqa: N802 (Glue's names throughout)
        if options:
            raise _unsupported("DynamicFrame.toDF(options=...)")
        return self._df

    @classmethod
    def fromDF(cls, dataframe: Any, glue_ctx: Any, name: str = "") -> DynamicFrame:  # noqa: N802
        return cls(dataframe, glue_ctx, name)

    def count(self) -> int:
        return int(self._df.count())

    def schema(self) -> gluetypes.StructType:
        converted = gluetypes.from_spark(self._df.schema)
        assert isinstance(converted, gluetypes.StructType)
        return converted

    def printSchema(self) -> None:  # noqa: N802
        print(self._schema_text())

    def _schema_text(self) -> str:
        from pyspark.sql import types as T

        lines = ["root"]

        def walk(dtype: Any, depth: int) -> None:
            fields = dtype.fields if isinstance(dtype, T.StructType) else []
            for f in fields:
                lines.append("|    " * depth + f"|-- {f.name}: {glue_name(f.dataType)}")
                inner = f.dataType
                while isinstance(inner, (T.ArrayType, T.MapType)):
                    inner = inner.elementType if isinstance(inner, T.ArrayType) else inner.valueType
                if isinstance(inner, T.StructType):
                    walk(inner, depth + 1)

        walk(self._df.schema, 0)
        return "\n".join(lines) + "\n"

    def show(self, num_rows: int = 20) -> None:
        for line in self._df.limit(num_rows).toJSON().collect():
            print(line)

    def toJSON(self) -> Any:  # noqa: N802
        return self._df.toJSON()

    def getNumPartitions(self) -> int:  # noqa: N802
        return int(self._df.rdd.getNumPartitions())

    def isEmpty(self) -> bool:  # noqa: N802
        return bool(self._df.isEmpty())

    def repartition(self, num_partitions: int, transformation_ctx: str = "", info: str = "",
                    stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        return self._new(self._df.repartition(num_partitions), transformation_ctx)

    def coalesce(self, num_partitions: int, shuffle: bool = False, transformation_ctx: str = "", info: str = "",
                 stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        df = self._df.repartition(num_partitions) if shuffle else self._df.coalesce(num_partitions)
        return self._new(df, transformation_ctx)

    def __getattr__(self, name: str) -> Any:
        if name in _NOT_EMULATED:
            raise _unsupported(f"DynamicFrame.{name}")
        raise AttributeError(f"'DynamicFrame' object has no attribute '{name}'")

    def _new(self, df: Any, transformation_ctx: str = "") -> DynamicFrame:
        return DynamicFrame(df, self.glue_ctx, transformation_ctx or self.name)

    # ------------------------------------------------------------------ field paths
    def _resolve(self, path: str, case_sensitive: bool = True) -> tuple[list[str], Any] | None:
        """The path's parts as named in the schema, and its Spark type; None when absent."""
        from pyspark.sql import types as T

        dtype: Any = self._df.schema
        found: list[str] = []
        for part in split_path(path):
            if not isinstance(dtype, T.StructType):
                return None
            match = [f for f in dtype.fields
                     if f.name == part or (not case_sensitive and f.name.lower() == part.lower())]
            if not match:
                return None
            found.append(match[0].name)
            dtype = match[0].dataType
        return found, dtype

    # ------------------------------------------------------------------ transforms
    def apply_mapping(self, mappings: Iterable[Sequence[str]], case_sensitive: bool = False,
                      transformation_ctx: str = "", info: str = "", stageThreshold: int = 0,  # noqa: N803
                      totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        """Select, rename and cast fields: each mapping is (source path, source type, target path, target type)
        (or 2 or 3 elements; a missing target takes the source's). Fields without a mapping are dropped, and
        a mapping whose source field is absent is skipped, as in Glue; values that do not convert are null."""
        from pyspark.sql import functions as F

        if isinstance(mappings, tuple) and mappings and isinstance(mappings[0], str):
            mappings = [mappings]
        targets: list[tuple[list[str], Any]] = []
        for mapping in mappings:
            if not isinstance(mapping, tuple) or len(mapping) not in (2, 3, 4):
                raise ValueError(f"Mapping must be a tuple of 2, 3 or 4 strings, got {mapping!r}")
            if len(mapping) == 2:
                source, target = mapping
                target_type = None
            elif len(mapping) == 3:
                source, target, target_type = mapping
            else:
                source, _source_type, target, target_type = mapping
            resolved = self._resolve(source, case_sensitive)
            if resolved is None:
                continue
            parts, dtype = resolved
            column = F.col(_quote(parts))
            if target_type is not None:
                wanted = spark_type(target_type)
                if wanted != dtype:
                    column = column.cast(wanted)
            targets.append((split_path(target), column))
        return self._new(self._df.select(*_nest(targets)), transformation_ctx)

    def select_fields(self, paths: Iterable[str], transformation_ctx: str = "", info: str = "",
                      stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        from pyspark.sql import functions as F

        targets = []
        for path in _paths(paths):
            resolved = self._resolve(path)
            if resolved is not None:
                targets.append((resolved[0], F.col(_quote(resolved[0]))))
        return self._new(self._df.select(*_nest(targets)), transformation_ctx)

    def drop_fields(self, paths: Iterable[str], transformation_ctx: str = "", info: str = "",
                    stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        df = self._df
        for path in _paths(paths):
            resolved = self._resolve(path)
            if resolved is None:
                continue
            parts = resolved[0]
            if len(parts) == 1:
                df = df.drop(parts[0])
            else:
                from pyspark.sql import functions as F

                df = df.withColumn(parts[0], F.col(f"`{parts[0]}`").dropFields(_quote(parts[1:])))
        return self._new(df, transformation_ctx)

    def rename_field(self, oldName: str, newName: str, transformation_ctx: str = "", info: str = "",  # noqa: N803
                     stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        from pyspark.sql import functions as F

        resolved = self._resolve(oldName)
        if resolved is None:
            return self._new(self._df, transformation_ctx)
        old_parts, new_parts = resolved[0], split_path(newName)
        if len(old_parts) == 1 and len(new_parts) == 1:
            return self._new(self._df.withColumnRenamed(old_parts[0], new_parts[0]), transformation_ctx)
        if old_parts[:-1] != new_parts[:-1]:
            raise _unsupported("DynamicFrame.rename_field across struct levels")
        top = old_parts[0]
        moved = F.col(f"`{top}`").withField(_quote(new_parts[1:]), F.col(_quote(old_parts)))
        moved = moved.dropFields(_quote(old_parts[1:]))
        return self._new(self._df.withColumn(top, moved), transformation_ctx)

    def resolveChoice(self, specs: Sequence[tuple[str, str]] | None = None, choice: str = "",  # noqa: N802
                      database: str | None = None, table_name: str | None = None, transformation_ctx: str = "",
                      info: str = "", stageThreshold: int = 0, totalThreshold: int = 0,  # noqa: N803
                      catalog_id: str | None = None) -> DynamicFrame:
        """Resolve choice fields. Sandbox frames have none (one type per field), so ``make_cols``,
        ``make_struct`` and ``project`` leave fields as they are; ``cast:<type>`` in ``specs`` casts the
        field; ``match_catalog`` casts fields to the types of the catalog table's columns."""
        from pyspark.sql import functions as F

        if specs is not None and choice:
            raise ValueError("resolveChoice takes specs or choice, not both")
        if specs is None and not choice:
            raise ValueError("resolveChoice needs specs or choice")
        df = self._df
        if choice == "match_catalog" or any(action == "match_catalog" for _, action in specs or []):
            if not database or not table_name:
                raise ValueError("match_catalog needs database and table_name")
            from awsglue import _catalog

            table = _catalog.get_table(database, table_name, catalog_id)
            types = {n.lower(): t for n, t in _catalog.columns(table) + _catalog.partition_keys(table)}
            only = {p.lower() for p, a in specs or [] if a == "match_catalog"}
            df = df.select(*[F.col(f"`{c}`").cast(spark_type(types[c.lower()])).alias(c)
                             if c.lower() in types and (not only or c.lower() in only) else F.col(f"`{c}`")
                             for c in df.columns])
        for path, action in specs or []:
            kind, _, type_name = action.partition(":")
            if kind not in ("cast", "project", "make_cols", "make_struct", "match_catalog"):
                raise ValueError(f"Unknown resolveChoice action {action!r}")
            if kind != "cast":
                continue
            resolved = DynamicFrame(df, self.glue_ctx)._resolve(path)
            if resolved is None:
                continue
            parts = resolved[0]
            cast = F.col(_quote(parts)).cast(spark_type(type_name))
            if len(parts) == 1:
                df = df.withColumn(parts[0], cast)
            else:
                df = df.withColumn(parts[0], F.col(f"`{parts[0]}`").withField(_quote(parts[1:]), cast))
        return self._new(df, transformation_ctx)

    def drop_null_fields(self, transformation_ctx: str = "", info: str = "", stageThreshold: int = 0,  # noqa: N803
                         totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        """Drop the fields that are null in every record (Glue gives them the null type)."""
        from pyspark.sql import functions as F
        from pyspark.sql import types as T

        paths: list[list[str]] = []

        def leaves(dtype: Any, prefix: list[str]) -> None:
            for f in dtype.fields:
                if isinstance(f.dataType, T.StructType) and f.dataType.fields:
                    leaves(f.dataType, prefix + [f.name])
                else:
                    paths.append(prefix + [f.name])

        leaves(self._df.schema, [])
        if not paths:
            return self._new(self._df, transformation_ctx)
        counts = self._df.select(*[F.count(F.col(_quote(p))).alias(f"c{i}") for i, p in enumerate(paths)]).first()
        if counts is None:  # an aggregate always has its one row
            raise AssertionError("count() of the frame's fields returned no row")
        null_paths = [_quote(p) for i, p in enumerate(paths) if counts[f"c{i}"] == 0]
        return self.drop_fields(null_paths, transformation_ctx)

    def filter(self, f: Callable[[Any], bool], transformation_ctx: str = "", info: str = "",
               stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        """Keep the records for which ``f(record)`` is true (``record`` is a dict-like DynamicRecord)."""
        spark = self._df.sparkSession
        rdd = self._df.rdd.filter(_filter_rows(f))
        return self._new(spark.createDataFrame(rdd, self._df.schema), transformation_ctx)

    def map(self, f: Callable[[Any], Any], preservesPartitioning: bool = False,  # noqa: N803
            transformation_ctx: str = "", info: str = "", stageThreshold: int = 0,  # noqa: N803
            totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        """Apply ``f`` to every record; the result's schema is inferred from all returned records, fields the
        input had keeping their type where the returned values fit it."""
        from pyspark.sql import functions as F

        spark = self._df.sparkSession
        rdd = self._df.rdd.map(_map_rows(f))
        if rdd.isEmpty():
            return self._new(self._df.limit(0), transformation_ctx)
        df = spark.createDataFrame(rdd, samplingRatio=1.0)
        original = {fld.name: fld.dataType for fld in self._df.schema.fields}
        df = df.select(*[F.col(f"`{c}`").cast(original[c]).alias(c) if c in original and _numeric_widening(
            df.schema[c].dataType, original[c]) else F.col(f"`{c}`") for c in df.columns])
        return self._new(df, transformation_ctx)

    def join(self, paths1: Sequence[str], paths2: Sequence[str], frame2: DynamicFrame, transformation_ctx: str = "",
             info: str = "", stageThreshold: int = 0, totalThreshold: int = 0) -> DynamicFrame:  # noqa: N803
        """Equality join on ``paths1`` = ``paths2``; the result has the fields of both frames."""
        from pyspark.sql import functions as F

        keys1, keys2 = _paths(paths1), _paths(paths2)
        if len(keys1) != len(keys2) or not keys1:
            raise ValueError("join needs the same number of key fields on both sides")
        left, right = self._df, frame2.toDF()
        shared_keys = [k2 for k1, k2 in zip(keys1, keys2, strict=True) if k1 == k2]
        clashing = (set(left.columns) & set(right.columns)) - set(shared_keys)
        if clashing:
            raise _unsupported(f"Join of frames that share the non-key field(s) {sorted(clashing)}")
        l_alias, r_alias = left.alias("__left"), right.alias("__right")
        condition = None
        for k1, k2 in zip(keys1, keys2, strict=True):
            term = F.col(f"__left.`{k1}`") == F.col(f"__right.`{k2}`")
            condition = term if condition is None else condition & term
        joined = l_alias.join(r_alias, condition, "inner")
        columns = [F.col(f"__left.`{c}`") for c in left.columns]
        columns += [F.col(f"__right.`{c}`") for c in right.columns if c not in shared_keys]
        return self._new(joined.select(*columns), transformation_ctx)

    def __iter__(self) -> Iterator[Any]:
        raise TypeError("'DynamicFrame' object is not iterable")

    def __repr__(self) -> str:
        return f"DynamicFrame({self.name or 'unnamed'}: {json.dumps(self._df.columns)})"


def _numeric_widening(inferred: Any, original: Any) -> bool:
    from pyspark.sql import types as T

    numeric = (T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.FloatType, T.DoubleType, T.DecimalType)
    return isinstance(inferred, (T.LongType, T.DoubleType)) and isinstance(original, numeric) and inferred != original


def _paths(paths: Iterable[str] | str) -> list[str]:
    return [paths] if isinstance(paths, str) else list(paths)


def _nest(targets: list[tuple[list[str], Any]]) -> list[Any]:
    """Columns for target paths: ``a.b`` and ``a.c`` become one struct column ``a`` with fields b, c."""
    from pyspark.sql import functions as F

    order: list[str] = []
    groups: dict[str, list[tuple[list[str], Any]]] = {}
    for parts, column in targets:
        head = parts[0]
        if head not in groups:
            order.append(head)
            groups[head] = []
        groups[head].append((parts[1:], column))
    out = []
    for head in order:
        members = groups[head]
        leaf = [c for rest, c in members if not rest]
        if leaf:
            out.append(leaf[-1].alias(head))
        else:
            out.append(F.struct(*_nest(members)).alias(head))
    return out


class DynamicFrameCollection:
    """Named DynamicFrames (what SplitFields and Glue Studio custom transforms return)."""

    def __init__(self, dynamic_frames: dict[str, DynamicFrame], glue_ctx: Any) -> None:
        self._frames = dict(dynamic_frames)
        self._glue_ctx = glue_ctx

    def __getitem__(self, key: str) -> DynamicFrame:
        return self._frames[key]

    def __len__(self) -> int:
        return len(self._frames)

    def keys(self) -> Any:
        return self._frames.keys()

    def values(self) -> Any:
        return self._frames.values()

    def select(self, key: str, transformation_ctx: str = "") -> DynamicFrame:
        return self._frames[key]

    def map(self, callable: Callable[[DynamicFrame, str], DynamicFrame], transformation_ctx: str = "") -> Any:
        return DynamicFrameCollection({k: callable(v, f"{transformation_ctx}:{k}") for k, v in self._frames.items()},
                                      self._glue_ctx)

    def flatmap(self, f: Callable[[DynamicFrame, str], Any], transformation_ctx: str = "") -> Any:
        out: dict[str, DynamicFrame] = {}
        for key, frame in self._frames.items():
            result = f(frame, f"{transformation_ctx}:{key}")
            if isinstance(result, DynamicFrameCollection):
                out.update({f"{key}_{k}": v for k, v in result._frames.items()})
            else:
                out[key] = result
        return DynamicFrameCollection(out, self._glue_ctx)


class DynamicFrameReader:
    """``glue_context.create_dynamic_frame``: ``from_catalog`` and ``from_options``."""

    def __init__(self, glue_context: Any) -> None:
        self._glue_context = glue_context

    def from_catalog(self, database: str | None = None, table_name: str | None = None, redshift_tmp_dir: str = "",
                     transformation_ctx: str = "", push_down_predicate: str = "",
                     additional_options: dict[str, Any] | None = None, catalog_id: str | None = None,
                     **kwargs: Any) -> DynamicFrame:
        return self._glue_context.create_dynamic_frame_from_catalog(
            database, table_name, redshift_tmp_dir, transformation_ctx, push_down_predicate, additional_options,
            catalog_id, **kwargs)

    def from_options(self, connection_type: str, connection_options: dict[str, Any] | None = None,
                     format: str | None = None, format_options: dict[str, Any] | None = None,  # noqa: A002
                     transformation_ctx: str = "", **kwargs: Any) -> DynamicFrame:
        return self._glue_context.create_dynamic_frame_from_options(
            connection_type, connection_options, format, format_options, transformation_ctx, **kwargs)

    def from_rdd(self, data: Any, name: str, schema: Any = None, sample_ratio: float | None = None,
                 transformation_ctx: str = "") -> DynamicFrame:
        return self._glue_context.create_dynamic_frame_from_rdd(data, name, schema, sample_ratio, transformation_ctx)


class DynamicFrameWriter:
    """``glue_context.write_dynamic_frame``: ``from_options`` and ``from_catalog``."""

    def __init__(self, glue_context: Any) -> None:
        self._glue_context = glue_context

    def from_options(self, frame: DynamicFrame, connection_type: str, connection_options: dict[str, Any] | None = None,
                     format: str | None = None, format_options: dict[str, Any] | None = None,  # noqa: A002
                     transformation_ctx: str = "", **kwargs: Any) -> DynamicFrame:
        return self._glue_context.write_dynamic_frame_from_options(
            frame, connection_type, connection_options, format, format_options, transformation_ctx, **kwargs)

    def from_catalog(self, frame: DynamicFrame, database: str | None = None, table_name: str | None = None,
                     redshift_tmp_dir: str = "", transformation_ctx: str = "",
                     additional_options: dict[str, Any] | None = None, catalog_id: str | None = None,
                     **kwargs: Any) -> DynamicFrame:
        return self._glue_context.write_dynamic_frame_from_catalog(
            frame, database, table_name, redshift_tmp_dir, transformation_ctx, additional_options, catalog_id,
            **kwargs)

    def from_jdbc_conf(self, *args: Any, **kwargs: Any) -> Any:
        raise _unsupported("write_dynamic_frame.from_jdbc_conf")
