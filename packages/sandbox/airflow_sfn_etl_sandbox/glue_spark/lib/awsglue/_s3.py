"""``s3://`` and ``s3a://`` paths for Spark in a sandbox job run, without hadoop-aws.

Spark here has no S3 file system (hadoop-aws and the AWS SDK jars are not shipped with pyspark,
and nothing is downloaded at run time). The readers and writers that take paths are wrapped
instead, in the job's driver process only:

- a read of ``s3://bucket/prefix`` copies the objects under the prefix from the sandbox's S3
  (through its API, with boto3) into a local folder that keeps the key layout (so partition
  folders like ``year=2017/`` still become columns), and Spark reads that folder;
- a write goes to a new local folder; when Spark has finished it, the files are put under the
  S3 prefix, with the save mode applied to what S3 holds (``errorifexists``, ``ignore``,
  ``overwrite`` - also per partition with ``partitionOverwriteMode=dynamic`` - and ``append``).

Covered: ``spark.read`` ``load``/``csv``/``json``/``parquet``/``orc``/``text``, ``df.write``
``save``/``csv``/``json``/``parquet``/``orc``/``text``, ``SparkContext.textFile``/``wholeTextFiles``
and ``RDD.saveAsTextFile``. An S3 path that reaches Spark another way (SQL ``LOCATION``,
``saveAsTable``, an ``option("path", ...)``) fails with Spark's own "No FileSystem for scheme" error.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_SCHEMES = ("s3://", "s3a://", "s3n://")
_GLOB = re.compile(r"[*?\[{]")
_counter = itertools.count()
_local = threading.local()
_installed = False


def is_s3(path: Any) -> bool:
    return isinstance(path, str) and path.startswith(_SCHEMES)


def split(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key); ``s3a://`` and ``s3n://`` name the same objects."""
    rest = uri.split("://", 1)[1]
    bucket, _, key = rest.partition("/")
    return bucket, key


def client() -> Any:
    """An S3 client for the sandbox (``AWS_ENDPOINT_URL`` is set for the job's process)."""
    cached = getattr(_local, "client", None)
    if cached is None:
        import boto3

        cached = _local.client = boto3.client("s3")
    return cached


def _workdir() -> Path:
    base = Path(os.environ.get("GLUE_SANDBOX_WORKDIR") or os.getcwd()) / "s3"
    base.mkdir(parents=True, exist_ok=True)
    return base


def list_objects(bucket: str, prefix: str) -> list[dict[str, Any]]:
    """Objects under ``prefix`` (``Key``, ``Size``, ``LastModified``); ``[]`` for a missing bucket."""
    from botocore.exceptions import ClientError

    out: list[dict[str, Any]] = []
    try:
        for page in client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            out.extend(page.get("Contents") or [])
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return []
        raise
    return out


def _path_not_found(uri: str) -> Exception:
    from pyspark.errors import AnalysisException

    return AnalysisException(message=f"[PATH_NOT_FOUND] Path does not exist: {uri}.")


def _is_folder_marker(key: str) -> bool:
    return key.endswith("/") or key.endswith("_$folder$")


def mirror(uri: str) -> str:
    """Copy what ``uri`` names (one object, a prefix, or a glob) to a local folder; its local path."""
    bucket, key = split(uri)
    glob = _GLOB.search(key)
    # The literal part before the first globbed path component is what gets copied.
    literal = key[: key.rfind("/", 0, glob.start()) + 1] if glob else key
    objects = [o for o in list_objects(bucket, literal) if not _is_folder_marker(o["Key"])]
    if not glob:
        exact = [o for o in objects if o["Key"] == key]
        under = key if key.endswith("/") or not key else key + "/"
        objects = exact or [o for o in objects if o["Key"].startswith(under)]
    if not objects:
        raise _path_not_found(uri)
    root = _workdir() / f"in-{next(_counter)}" / bucket
    s3 = client()
    for obj in objects:
        target = root / obj["Key"]
        target.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(bucket, obj["Key"], str(target))
    return str(root / key) if key else str(root)


def _local_paths(paths: Any) -> Any:
    if is_s3(paths):
        return mirror(paths)
    if isinstance(paths, (list, tuple)):
        return [mirror(p) if is_s3(p) else p for p in paths]
    return paths


@contextlib.contextmanager
def glue_sink() -> Iterator[None]:
    """Writes inside this block leave no ``_SUCCESS`` marker, as Glue's S3 sinks do."""
    previous = getattr(_local, "success_marker", True)
    _local.success_marker = False
    try:
        yield
    finally:
        _local.success_marker = previous


def _staged_files(stage: Path) -> list[Path]:
    files = []
    for path in sorted(stage.rglob("*")):
        if not path.is_file():
            continue
        name = path.name
        if name.startswith(".") and name.endswith(".crc"):  # Hadoop's local checksum files
            continue
        if name == "_SUCCESS" and not getattr(_local, "success_marker", True):
            continue
        files.append(path)
    return files


def publish(stage: Path, uri: str, mode: str, dynamic_partitions: bool = False) -> None:
    """Put the files Spark wrote under ``stage`` at ``uri``, applying the save ``mode`` to S3."""
    from pyspark.errors import AnalysisException

    bucket, key = split(uri)
    prefix = key.rstrip("/") + "/" if key else ""
    existing = [o["Key"] for o in list_objects(bucket, prefix)]
    mode = (mode or "errorifexists").lower()
    if existing and mode in ("error", "errorifexists", "default"):
        raise AnalysisException(message=f"[PATH_ALREADY_EXISTS] Path {uri} already exists. Set mode as "
                                        "\"overwrite\" to overwrite the existing path.")
    if existing and mode == "ignore":
        return
    s3 = client()
    files = _staged_files(stage)
    if mode == "overwrite":
        if dynamic_partitions:
            folders = {str(f.parent.relative_to(stage)) for f in files if f.parent != stage}
            doomed = [k for k in existing if any(k.startswith(prefix + d + "/") for d in folders)]
        else:
            doomed = existing
        for start in range(0, len(doomed), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in doomed[start:start + 1000]],
                                                     "Quiet": True})
    elif mode != "append" and mode not in ("error", "errorifexists", "default", "ignore"):
        raise ValueError(f"Unknown save mode: {mode}")
    if not files:
        s3.head_bucket(Bucket=bucket)  # a missing bucket fails the write as on S3
    for path in files:
        s3.upload_file(str(path), bucket, prefix + path.relative_to(stage).as_posix())


def _stage() -> Path:
    return _workdir() / f"out-{next(_counter)}"


def install() -> None:
    """Wrap PySpark's path-taking readers and writers (once per process)."""
    global _installed
    if _installed:
        return
    _installed = True
    from pyspark import RDD, SparkContext
    from pyspark.sql.readwriter import DataFrameReader, DataFrameWriter

    for name in ("load", "csv", "json", "parquet", "orc", "text"):
        _wrap_reader(DataFrameReader, name)
    for name in ("save", "csv", "json", "parquet", "orc", "text"):
        _wrap_writer(DataFrameWriter, name)

    original_mode = DataFrameWriter.mode

    def mode(self: Any, saveMode: str | None) -> Any:
        if saveMode is not None:
            self._sandbox_mode = saveMode
        return original_mode(self, saveMode)

    DataFrameWriter.mode = mode  # type: ignore[method-assign]

    for name in ("textFile", "wholeTextFiles", "binaryFiles"):
        original = getattr(SparkContext, name)

        def read_files(self: Any, path: str, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            if is_s3(path):
                path = ",".join(mirror(p) if is_s3(p) else p for p in path.split(","))
            return _original(self, path, *args, **kwargs)

        setattr(SparkContext, name, read_files)

    original_save_text = RDD.saveAsTextFile

    def save_as_text_file(self: Any, path: str, *args: Any, **kwargs: Any) -> None:
        if not is_s3(path):
            return original_save_text(self, path, *args, **kwargs)
        stage = _stage()
        original_save_text(self, str(stage), *args, **kwargs)
        publish(stage, path, "errorifexists")

    RDD.saveAsTextFile = save_as_text_file  # type: ignore[method-assign]


def _wrap_reader(cls: type, name: str) -> None:
    original = getattr(cls, name)

    def read(self: Any, *args: Any, **kwargs: Any) -> Any:
        if name == "parquet":
            args = tuple(_local_paths(p) for p in args)
        elif args:
            args = (_local_paths(args[0]), *args[1:])
        for key in ("path", "paths"):
            if key in kwargs:
                kwargs[key] = _local_paths(kwargs[key])
        return original(self, *args, **kwargs)

    read.__doc__ = original.__doc__
    setattr(cls, name, read)


def _wrap_writer(cls: type, name: str) -> None:
    original = getattr(cls, name)

    def write(self: Any, *args: Any, **kwargs: Any) -> None:
        path = args[0] if args else kwargs.get("path")
        if not is_s3(path):
            return original(self, *args, **kwargs)
        stage = _stage()
        if args:
            args = (str(stage), *args[1:])
        else:
            kwargs["path"] = str(stage)
        original(self, *args, **kwargs)
        conf = self._spark.conf
        dynamic = str(conf.get("spark.sql.sources.partitionOverwriteMode", "static")).lower() == "dynamic"
        publish(stage, str(path), getattr(self, "_sandbox_mode", "errorifexists"), dynamic_partitions=dynamic)

    write.__doc__ = original.__doc__
    setattr(cls, name, write)
