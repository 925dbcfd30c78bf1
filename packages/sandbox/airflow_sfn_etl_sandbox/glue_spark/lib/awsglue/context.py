"""``awsglue.context.GlueContext`` on local PySpark: catalog and S3 sources and sinks, purge, logger.

S3 paths are served by :mod:`awsglue._s3` (the sandbox's S3 through its API); catalog tables by
:mod:`awsglue._catalog` (the sandbox's Glue Data Catalog). Connection types other than ``s3`` and
formats other than CSV, JSON, Parquet and ORC raise NotImplementedError.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

from awsglue import _catalog, _s3
from awsglue.dynamicframe import DynamicFrame, DynamicFrameReader, DynamicFrameWriter, _unsupported
from pyspark.sql import SparkSession, SQLContext

#: Absent from the CSV: every field stays a string (an empty field is "") until it is cast.
_NO_NULL_TOKEN = "\u0000<null>\u0000"
_READ_FORMATS = ("csv", "json", "parquet", "orc")
_WRITE_FORMATS = {"csv": "csv", "json": "json", "parquet": "parquet", "glueparquet": "parquet", "orc": "orc"}


class GlueLogger:
    """``glue_context.get_logger()``: lines on the driver's error stream (``/aws-glue/jobs/error``)."""

    def _emit(self, level: str, message: Any) -> None:
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%y/%m/%d %H:%M:%S")
        print(f"{stamp} {level} GlueLogger: {message}", file=sys.stderr, flush=True)

    def info(self, message: Any) -> None:
        self._emit("INFO", message)

    def warn(self, message: Any) -> None:
        self._emit("WARN", message)

    warning = warn

    def error(self, message: Any) -> None:
        self._emit("ERROR", message)

    def debug(self, message: Any) -> None:
        self._emit("DEBUG", message)


class DataFrameReader:
    """``glue_context.create_data_frame``: catalog and S3 sources as Spark DataFrames."""

    def __init__(self, glue_context: GlueContext) -> None:
        self._glue_context = glue_context

    def from_catalog(self, database: str | None = None, table_name: str | None = None, **kwargs: Any) -> Any:
        return self._glue_context.create_dynamic_frame_from_catalog(database, table_name, **kwargs).toDF()

    def from_options(self, connection_type: str, connection_options: dict[str, Any] | None = None,
                     format: str | None = None, format_options: dict[str, Any] | None = None,  # noqa: A002
                     **kwargs: Any) -> Any:
        return self._glue_context.create_dynamic_frame_from_options(
            connection_type, connection_options, format, format_options, **kwargs).toDF()


class GlueContext(SQLContext):
    """The entry point of a Glue script, over the run's Spark session."""

    def __init__(self, sparkContext: Any, **options: Any) -> None:  # noqa: N803 (Glue's name)
        session = SparkSession(sparkContext)
        super().__init__(sparkContext, session)
        self.spark_session = session
        self._glue_logger = GlueLogger()
        self.create_dynamic_frame = DynamicFrameReader(self)
        self.write_dynamic_frame = DynamicFrameWriter(self)
        self.create_data_frame = DataFrameReader(self)

    def get_logger(self) -> GlueLogger:
        return self._glue_logger

    # ------------------------------------------------------------------ sources
    def create_dynamic_frame_from_catalog(self, database: str | None = None, table_name: str | None = None,
                                          redshift_tmp_dir: str = "", transformation_ctx: str = "",
                                          push_down_predicate: str = "",
                                          additional_options: dict[str, Any] | None = None,
                                          catalog_id: str | None = None, **kwargs: Any) -> DynamicFrame:
        """A catalog table's rows, typed by its columns; ``push_down_predicate`` selects partitions."""
        if database is None and "name_space" in kwargs:
            database = kwargs.pop("name_space")
        if not database:
            raise Exception("Parameter database is missing.")
        if not table_name:
            raise Exception("Parameter table_name is missing.")
        options = dict(additional_options or {})
        predicate = push_down_predicate or options.pop("catalogPartitionPredicate", "")
        if options.get("enableUpdateCatalog"):
            raise _unsupported("create_dynamic_frame.from_catalog(additional_options={'enableUpdateCatalog': ...})")
        df = _catalog.read_table(self.spark_session, database, table_name, predicate, catalog_id)
        return DynamicFrame(df, self, transformation_ctx or table_name)

    def create_dynamic_frame_from_options(self, connection_type: str,
                                          connection_options: dict[str, Any] | None = None,
                                          format: str | None = None,  # noqa: A002
                                          format_options: dict[str, Any] | None = None,
                                          transformation_ctx: str = "", push_down_predicate: str = "",
                                          **kwargs: Any) -> DynamicFrame:
        """Files under S3 paths (``connection_options={"paths": [...], "recurse": bool}``) in
        ``csv`` (all fields strings; ``withHeader``, ``separator``, ``quoteChar``, ``escaper``, ``skipFirst``,
        ``multiLine``), ``json`` (``multiLine``), ``parquet`` or ``orc``."""
        from pyspark.sql import functions as F

        connection_options = dict(connection_options or {})
        format_options = dict(format_options or {})
        if connection_type != "s3":
            raise _unsupported(f"create_dynamic_frame.from_options(connection_type={connection_type!r})")
        fmt = (format or "").lower()
        if fmt not in _READ_FORMATS:
            raise _unsupported(f"create_dynamic_frame.from_options(format={format!r})")
        if connection_options.get("exclusions"):
            raise _unsupported("create_dynamic_frame.from_options(connection_options={'exclusions': ...})")
        paths = connection_options.get("paths") or connection_options.get("path")
        if isinstance(paths, str):
            paths = [paths]
        if not paths:
            raise Exception("connection_options needs 'paths' (a list of s3:// paths)")
        reader = self.spark_session.read
        if str(connection_options.get("recurse", "false")).lower() == "true":
            reader = reader.option("recursiveFileLookup", "true")
        if fmt == "csv":
            header = _flag(format_options.get("withHeader"), False)
            skip_first = _flag(format_options.get("skipFirst"), False)
            quote = format_options.get("quoteChar", '"')
            quote = "\u0000" if str(quote) == "-1" else quote
            df = reader.csv(list(paths), sep=format_options.get("separator", ","), quote=quote,
                            escape=format_options.get("escaper", "\\"), header=header or skip_first,
                            multiLine=_flag(format_options.get("multiLine"), False), inferSchema=False,
                            nullValue=_NO_NULL_TOKEN, emptyValue="")
            if not header:
                df = df.toDF(*[f"col{i}" for i in range(len(df.columns))])
        elif fmt == "json":
            json_path = format_options.get("jsonPath")
            if json_path not in (None, "", "$[*]"):
                raise _unsupported(f"create_dynamic_frame.from_options(format_options={{'jsonPath': {json_path!r}}})")
            df = reader.json(list(paths), multiLine=_flag(format_options.get("multiLine"), False) or bool(json_path))
        else:
            df = getattr(reader, fmt)(*paths)
        if push_down_predicate:
            df = df.filter(F.expr(push_down_predicate))
        return DynamicFrame(df, self, transformation_ctx)

    def create_dynamic_frame_from_rdd(self, data: Any, name: str, schema: Any = None,
                                      sample_ratio: float | None = None, transformation_ctx: str = "") -> DynamicFrame:
        df = self.spark_session.createDataFrame(data, schema, samplingRatio=sample_ratio)
        return DynamicFrame(df, self, name)

    def create_data_frame_from_catalog(self, database: str, table_name: str, **kwargs: Any) -> Any:
        return self.create_dynamic_frame_from_catalog(database, table_name, **kwargs).toDF()

    def create_data_frame_from_options(self, connection_type: str, connection_options: dict[str, Any] | None = None,
                                       format: str | None = None,  # noqa: A002
                                       format_options: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.create_dynamic_frame_from_options(connection_type, connection_options, format, format_options,
                                                      **kwargs).toDF()

    # ------------------------------------------------------------------ sinks
    def write_dynamic_frame_from_options(self, frame: DynamicFrame, connection_type: str,
                                         connection_options: dict[str, Any] | None = None,
                                         format: str | None = None,  # noqa: A002
                                         format_options: dict[str, Any] | None = None,
                                         transformation_ctx: str = "", **kwargs: Any) -> DynamicFrame:
        """Append the frame's records as new files under ``connection_options["path"]`` (``partitionKeys``
        make ``key=value`` folders), in ``csv``, ``json``, ``parquet``/``glueparquet`` or ``orc``."""
        connection_options = dict(connection_options or {})
        format_options = dict(format_options or {})
        if connection_type != "s3":
            raise _unsupported(f"write_dynamic_frame.from_options(connection_type={connection_type!r})")
        fmt = _WRITE_FORMATS.get((format or "").lower())
        if fmt is None:
            raise _unsupported(f"write_dynamic_frame.from_options(format={format!r})")
        path = connection_options.get("path")
        if not path:
            raise Exception("connection_options needs 'path' (an s3:// path)")
        compression = format_options.get("compression") or connection_options.get("compression")
        _write(frame.toDF(), path, fmt, list(connection_options.get("partitionKeys") or []), compression,
               sep=format_options.get("separator", ","), quote=format_options.get("quoteChar", '"'),
               escape=format_options.get("escaper"), header=_flag(format_options.get("writeHeader"), True))
        return frame

    def write_dynamic_frame_from_catalog(self, frame: DynamicFrame, database: str | None = None,
                                         table_name: str | None = None, redshift_tmp_dir: str = "",
                                         transformation_ctx: str = "",
                                         additional_options: dict[str, Any] | None = None,
                                         catalog_id: str | None = None, **kwargs: Any) -> DynamicFrame:
        """Append the frame's records to a catalog table's location in the table's format; fields are
        matched to the table's columns by name (case-insensitive) and cast to their types."""
        from awsglue._types import spark_type
        from pyspark.sql import functions as F

        if database is None and "name_space" in kwargs:
            database = kwargs.pop("name_space")
        options = dict(additional_options or {})
        if options.get("enableUpdateCatalog") or options.get("updateBehavior"):
            raise _unsupported("write_dynamic_frame.from_catalog(additional_options={'enableUpdateCatalog': ...})")
        table = _catalog.get_table(str(database), str(table_name), catalog_id)
        cols, keys = _catalog.columns(table), _catalog.partition_keys(table)
        fmt = _catalog.data_format(table)
        if fmt not in ("csv", "text", "json", "parquet", "orc"):
            raise _unsupported(f"write_dynamic_frame.from_catalog to a {fmt} table")
        sd = table.get("StorageDescriptor") or {}
        location = sd.get("Location") or ""
        df = frame.toDF()
        present = {c.lower(): c for c in df.columns}
        df = df.select(*[(F.col(f"`{present[n.lower()]}`") if n.lower() in present else F.lit(None))
                         .cast(spark_type(t)).alias(n) for n, t in cols + keys])
        serde = sd.get("SerdeInfo") or {}
        params = serde.get("Parameters") or {}
        table_params = table.get("Parameters") or {}
        if "opencsv" in (serde.get("SerializationLibrary") or "").lower():
            sep, quote = params.get("separatorChar", ","), params.get("quoteChar", '"')
            escape = params.get("escapeChar")
        else:
            sep, quote, escape = params.get("field.delim") or "\x01", '"' if fmt == "csv" else "\u0000", None
        header = (table_params.get("skip.header.line.count") or params.get("skip.header.line.count")) == "1"
        _write(df, location, {"text": "csv"}.get(fmt, fmt), [k for k, _ in keys], None, sep=sep, quote=quote,
               escape=escape, header=header)
        return frame

    def getSink(self, *args: Any, **kwargs: Any) -> Any:  # noqa: N802
        raise _unsupported("GlueContext.getSink")

    def getSource(self, *args: Any, **kwargs: Any) -> Any:  # noqa: N802
        raise _unsupported("GlueContext.getSource")

    def forEachBatch(self, *args: Any, **kwargs: Any) -> Any:  # noqa: N802
        raise _unsupported("GlueContext.forEachBatch (streaming)")

    def extract_jdbc_conf(self, *args: Any, **kwargs: Any) -> Any:
        raise _unsupported("GlueContext.extract_jdbc_conf")

    # ------------------------------------------------------------------ housekeeping
    def purge_s3_path(self, s3_path: str, options: dict[str, Any] | None = None,
                      transformation_ctx: str = "") -> None:
        """Delete the objects under ``s3_path`` older than ``retentionPeriod`` hours (168 by default, as
        on Glue); ``excludeStorageClasses`` keeps objects of those classes."""
        options = dict(options or {})
        if options.get("manifestFilePath"):
            raise _unsupported("purge_s3_path(options={'manifestFilePath': ...})")
        retention = float(options.get("retentionPeriod", 168))
        excluded = set(options.get("excludeStorageClasses") or ())
        bucket, key = _s3.split(s3_path)
        cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=retention)
        doomed = [o["Key"] for o in _s3.list_objects(bucket, key)
                  if o["LastModified"] <= cutoff and o.get("StorageClass", "STANDARD") not in excluded]
        client = _s3.client()
        for start in range(0, len(doomed), 1000):
            client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in doomed[start:start + 1000]],
                                                         "Quiet": True})
        self._glue_logger.info(f"purge_s3_path {s3_path}: deleted {len(doomed)} object(s)")

    def purge_table(self, database: str, table_name: str, options: dict[str, Any] | None = None,
                    transformation_ctx: str = "", catalog_id: str | None = None) -> None:
        """Delete the files of a catalog table (and of its partitions), as purge_s3_path does."""
        table = _catalog.get_table(database, table_name, catalog_id)
        locations = {(table.get("StorageDescriptor") or {}).get("Location") or ""}
        if table.get("PartitionKeys"):
            for part in _catalog.get_partitions(database, table_name, catalog_id):
                locations.add((part.get("StorageDescriptor") or {}).get("Location") or "")
        for location in sorted(x for x in locations if x):
            self.purge_s3_path(location, options, transformation_ctx)

    def __repr__(self) -> str:
        return f"GlueContext({json.dumps(self._sc.appName)})"


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() == "true"


def _write(df: Any, path: str, fmt: str, partition_keys: list[str], compression: str | None, *, sep: str,
           quote: str, escape: str | None, header: bool) -> None:
    writer = df.write.mode("append")
    if partition_keys:
        writer = writer.partitionBy(*partition_keys)
    if compression:
        writer = writer.option("compression", compression)
    if fmt == "csv":
        writer = writer.option("sep", sep).option("quote", quote).option("header", header)
        if escape:
            writer = writer.option("escape", escape)
    with _s3.glue_sink():
        getattr(writer, fmt)(path)
