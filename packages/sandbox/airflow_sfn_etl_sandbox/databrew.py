"""DataBrew job runs: StartJobRun applies the job's recipe to its dataset and writes the outputs.

Datasets, recipes (create, publish, versions) and jobs stay moto's. This module owns the runs
(StartJobRun, DescribeJobRun, ListJobRuns, StopJobRun) and keeps the job ``Timeout`` moto
drops. A run reads the dataset from S3 (one object or every object under a prefix; CSV with or
without a header, Parquet, JSON lines), types CSV columns as DataBrew does, applies the recipe
steps (:mod:`.recipes`) of the job's ``RecipeReference`` and writes each of the job's
``Outputs`` (CSV, JSON or Parquet, compressed, Hive-style partition folders, Overwrite) into
moto's S3 in-process. One run per job at a time (ConflictException otherwise).
"""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import io
import json
import secrets
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc

from . import faults, runtime, state
from .app import FORWARD, AwsError, Call, paged, route
from .recipes import RecipeError, apply_recipe
from .schema import UnreadableData, infer_table, read_csv_as_strings

#: Seconds per unit of a job's ``Timeout`` (minutes on AWS); tests may shrink it.
TIMEOUT_UNIT_SECONDS = 60.0
STARTING_SECONDS = 0.1
DEFAULT_TIMEOUT_MINUTES = 2880
ACTIVE_STATES = ("STARTING", "RUNNING", "STOPPING")
FINAL_STATES = ("STOPPED", "SUCCEEDED", "FAILED", "TIMEOUT")
_PARQUET_CODECS = {"SNAPPY": "snappy", "GZIP": "gzip", "LZ4": "lz4", "BROTLI": "brotli", "ZSTD": "zstd"}
_TEXT_CODECS = {"GZIP": (".gz", gzip.compress), "BZIP2": (".bz2", bz2.compress),
                "DEFLATE": (".deflate", zlib.compress), "ZLIB": (".deflate", zlib.compress)}

_lock = threading.RLock()
_runs: dict[tuple[str, str], list[JobRun]] = {}
_timeouts: dict[tuple[str, str], int] = {}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class RunError(Exception):
    """A job run failure; the message becomes the run's ``ErrorMessage``."""


@dataclass
class JobRun:
    """One run of a DataBrew job, as DescribeJobRun reports it."""

    id: str
    job_name: str
    region: str
    job: dict[str, Any]  #: moto's job description when the run started
    timeout: int
    state: str = "STARTING"
    error_message: str | None = None
    started_on: dt.datetime = field(default_factory=_now)
    completed_on: dt.datetime | None = None
    running_since: float | None = None
    execution_seconds: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    metrics: dict[str, Any] = field(default_factory=dict)

    def set_state(self, new_state: str, message: str | None = None) -> None:
        with _lock:
            if self.state in FINAL_STATES:
                return
            if new_state == "RUNNING" and self.running_since is None:
                self.running_since = time.monotonic()
            self.state = new_state
            if message is not None:
                self.error_message = message
            if new_state in FINAL_STATES:
                self.completed_on = _now()
                if self.running_since is not None:
                    self.execution_seconds = int(round(time.monotonic() - self.running_since))

    def as_dict(self) -> dict[str, Any]:
        job = self.job
        out: dict[str, Any] = {
            "Attempt": 0,
            "JobName": self.job_name,
            "RunId": self.id,
            "State": self.state,
            "StartedOn": self.started_on,
            "StartedBy": f"arn:aws:iam::{job.get('AccountId', '123456789012')}:user/sandbox",
            "ExecutionTime": self.execution_seconds if self.state in FINAL_STATES else (
                int(time.monotonic() - self.running_since) if self.running_since else 0),
            "LogSubscription": job.get("LogSubscription") or "ENABLE",
            "LogGroupName": "/aws-glue-databrew/jobs",
        }
        for key in ("DatasetName", "Outputs", "DataCatalogOutputs", "DatabaseOutputs", "RecipeReference"):
            if job.get(key):
                out[key] = job[key]
        if self.completed_on is not None:
            out["CompletedOn"] = self.completed_on
        if self.error_message:
            out["ErrorMessage"] = self.error_message
        return out


# --------------------------------------------------------------------------- handlers


def _backend(region: str) -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.databrew.models import databrew_backends

    return databrew_backends[DEFAULT_ACCOUNT_ID][region]


def _job_name(call: Call) -> str:
    return call.path_params.get("name") or call.params.get("name") or call.params.get("Name", "")


def _moto_job(region: str, name: str) -> Any:
    try:
        return _backend(region).describe_job(name)
    except Exception as exc:
        raise AwsError("ResourceNotFoundException", f"Job {name} wasn't found.", 404) from exc


@route("databrew", "CreateRecipeJob", "CreateProfileJob", "UpdateRecipeJob", "UpdateProfileJob")
def remember_timeout(call: Call) -> Any:
    """Keep the job's Timeout (moto drops it) and let moto create/update the job."""
    status, headers, body = call.forward()
    if status < 400:
        name = call.params.get("Name") or _job_name(call)
        if call.params.get("Timeout") is not None:
            _timeouts[(call.region, name)] = int(call.params["Timeout"])
        elif call.operation.startswith("Create"):
            _timeouts.pop((call.region, name), None)
    return status, headers, body


@route("databrew", "DescribeJob")
def describe_job(call: Call) -> dict[str, Any]:
    data = call.forward_json()
    data["Timeout"] = _timeouts.get((call.region, data.get("Name", "")), DEFAULT_TIMEOUT_MINUTES)
    return data


@route("databrew", "DeleteJob")
def delete_job(call: Call) -> Any:
    name = _job_name(call)
    with _lock:
        if any(r.state in ACTIVE_STATES for r in _runs.get((call.region, name), [])):
            raise AwsError("ConflictException",
                           f"Job {name} has a run in progress and cannot be deleted", 409)
        _runs.pop((call.region, name), None)
        _timeouts.pop((call.region, name), None)
    return FORWARD


@route("databrew", "StartJobRun")
def start_job_run(call: Call) -> dict[str, Any]:
    """Start a run (ConflictException while the job already runs)."""
    name = _job_name(call)
    job = _moto_job(call.region, name)
    with _lock:
        runs = _runs.setdefault((call.region, name), [])
        if any(r.state in ACTIVE_STATES for r in runs):
            raise AwsError("ConflictException", f"Job {name} is already running; a job can have only one "
                                                "run at a time", 409)
        run = JobRun(id="db_" + secrets.token_hex(28), job_name=name, region=call.region, job=job.as_dict(),
                     timeout=_timeouts.get((call.region, name), DEFAULT_TIMEOUT_MINUTES))
        runs.append(run)
    runtime.submit(_execute, run)
    return {"RunId": run.id}


def _find_run(region: str, name: str, run_id: str) -> JobRun:
    with _lock:
        for run in _runs.get((region, name), []):
            if run.id == run_id:
                return run
    raise AwsError("ResourceNotFoundException", f"Job run {run_id} of job {name} wasn't found.", 404)


@route("databrew", "DescribeJobRun")
def describe_job_run(call: Call) -> dict[str, Any]:
    name = _job_name(call)
    _moto_job(call.region, name)
    run = _find_run(call.region, name, call.path_params.get("runId") or call.params.get("runId", ""))
    with _lock:
        return run.as_dict()


@route("databrew", "ListJobRuns")
def list_job_runs(call: Call) -> dict[str, Any]:
    name = _job_name(call)
    _moto_job(call.region, name)
    p = call.params
    with _lock:
        runs = sorted(_runs.get((call.region, name), []), key=lambda r: r.started_on, reverse=True)
        described = [r.as_dict() for r in runs]
    return paged(described, "JobRuns", p.get("nextToken") or p.get("NextToken"),
                 p.get("maxResults") or p.get("MaxResults"))


@route("databrew", "StopJobRun")
def stop_job_run(call: Call) -> dict[str, Any]:
    """Stop a run: it ends STOPPED and writes nothing more."""
    name = _job_name(call)
    _moto_job(call.region, name)
    run_id = call.path_params.get("runId") or call.params.get("runId", "")
    run = _find_run(call.region, name, run_id)
    with _lock:
        if run.state not in ("STARTING", "RUNNING"):
            raise AwsError("ValidationException", f"Job run {run_id} is {run.state} and cannot be stopped")
        run.set_state("STOPPING")
        run.stop.set()
    return {"RunId": run_id}


# --------------------------------------------------------------------------- the run


def _execute(run: JobRun) -> None:
    try:
        _execute_inner(run)
    except RunError as exc:
        run.set_state("FAILED", str(exc))
    except Exception as exc:  # a sandbox defect must still end the run
        run.set_state("FAILED", f"Sandbox internal error: {type(exc).__name__}: {exc}")


def _checkpoint(run: JobRun, deadline: float) -> bool:
    """End the run if it was stopped or timed out; True when it has ended."""
    if run.stop.is_set():
        run.set_state("STOPPED")
        return True
    if time.monotonic() >= deadline:
        run.set_state("TIMEOUT", f"Job run timed out after {run.timeout} minutes")
        return True
    return False


def _execute_inner(run: JobRun) -> None:
    fail_message, delay = faults.run_faults("databrew_job", run.job_name)
    if run.stop.wait(STARTING_SECONDS):
        run.set_state("STOPPED")
        return
    run.set_state("RUNNING")
    deadline = time.monotonic() + run.timeout * TIMEOUT_UNIT_SECONDS
    if delay:
        run.stop.wait(max(0.0, min(delay, deadline - time.monotonic())))
    if _checkpoint(run, deadline):
        return
    if fail_message:
        raise RunError(fail_message)
    job = run.job
    if job.get("Type") == "PROFILE":
        raise RunError("Profile jobs are not emulated by the sandbox (recipe jobs are)")
    if job.get("DataCatalogOutputs") or job.get("DatabaseOutputs"):
        raise RunError("DataCatalogOutputs and DatabaseOutputs are not emulated by the sandbox; "
                       "use Outputs (S3)")
    if not job.get("Outputs"):
        raise RunError(f"Job {run.job_name} has no Outputs")
    t0 = time.monotonic()
    steps = _recipe_steps(run)
    table = read_dataset(run.region, job.get("DatasetName") or "")
    run.metrics["rows_in"] = table.num_rows
    try:
        table = apply_recipe(table, steps)
    except RecipeError as exc:
        raise RunError(str(exc)) from None
    if _checkpoint(run, deadline):
        return
    files = 0
    for number, output in enumerate(job["Outputs"], start=1):
        files += write_output(run, table, output, number)
    run.metrics.update(rows_out=table.num_rows, files=files, seconds=round(time.monotonic() - t0, 3))
    if _checkpoint(run, deadline):
        return
    run.set_state("SUCCEEDED")


def _recipe_steps(run: JobRun) -> list[dict[str, Any]]:
    ref = run.job.get("RecipeReference") or {}
    name = ref.get("Name")
    if not name:
        raise RunError(f"Job {run.job_name} has no RecipeReference (projects are not emulated)")
    version = ref.get("RecipeVersion") or "LATEST_PUBLISHED"
    try:
        recipe = _backend(run.region).describe_recipe(name, version)
    except Exception as exc:
        detail = getattr(exc, "message", exc)
        raise RunError(f"Recipe {name} version {version} wasn't found: {detail}") from None
    return list(recipe.steps or [])


# --------------------------------------------------------------------------- reading


def _data_keys(bucket: str, key: str) -> list[str]:
    try:
        keys = state.s3_list(bucket, key)
    except AwsError as err:
        raise RunError(f"Dataset input s3://{bucket}/{key}: {err.message}") from None
    if key and not key.endswith("/") and key in keys:
        return [key]
    prefix = key if not key or key.endswith("/") else key + "/"
    found = [k for k in keys if k.startswith(prefix) and not k.endswith("/")
             and not k.rsplit("/", 1)[-1].startswith(("_", "."))]
    if not found:
        raise RunError(f"Dataset input s3://{bucket}/{key} holds no objects")
    return found


def _dataset_location(region: str, dataset: Any) -> tuple[str, str]:
    inp = dataset.input or {}
    if inp.get("S3InputDefinition"):
        s3 = inp["S3InputDefinition"]
        return s3["Bucket"], s3.get("Key") or ""
    if inp.get("DataCatalogInputDefinition"):
        cat = inp["DataCatalogInputDefinition"]
        try:
            table = state.glue_backend(region).get_table(cat["DatabaseName"], cat["TableName"]).as_dict()
        except Exception as exc:
            raise RunError(f"Dataset {dataset.name}: catalog table {cat.get('DatabaseName')}."
                           f"{cat.get('TableName')} not found ({getattr(exc, 'message', exc)})") from None
        return state.split_s3_uri(table["StorageDescriptor"]["Location"])
    raise RunError(f"Dataset {dataset.name}: only S3 and Data Catalog inputs are emulated by the sandbox")


def read_dataset(region: str, name: str) -> pa.Table:
    """The dataset's rows as an Arrow table (CSV columns typed as DataBrew types them)."""
    try:
        dataset = _backend(region).describe_dataset(name)
    except Exception:
        raise RunError(f"Dataset {name} wasn't found") from None
    bucket, key = _dataset_location(region, dataset)
    keys = _data_keys(bucket, key)
    fmt = (dataset.format or _format_from_key(keys[0])).upper()
    options = dataset.format_options or {}
    tables = []
    for k in keys:
        data = state.s3_get(bucket, k)
        try:
            tables.append(_read_object(fmt, data, options))
        except (UnreadableData, pa.ArrowInvalid, ValueError) as exc:
            raise RunError(f"Cannot read s3://{bucket}/{k} as {fmt}: {exc}") from None
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="permissive")
    return infer_table(table) if fmt == "CSV" else table


def _format_from_key(key: str) -> str:
    lowered = key.lower()
    if lowered.endswith(".parquet"):
        return "PARQUET"
    if lowered.endswith((".json", ".jsonl", ".json.gz")):
        return "JSON"
    return "CSV"


def _read_object(fmt: str, data: bytes, options: dict[str, Any]) -> pa.Table:
    if fmt == "CSV":
        csv_opts = options.get("Csv") or {}
        return read_csv_as_strings(data, delimiter=csv_opts.get("Delimiter") or ",",
                                   header=csv_opts.get("HeaderRow", True))
    if fmt == "PARQUET":
        import pyarrow.parquet as pq

        return pq.read_table(io.BytesIO(data))
    if fmt == "JSON":
        import pyarrow.json as pajson

        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        if data.lstrip()[:1] == b"[":
            data = b"\n".join(json.dumps(r).encode() for r in json.loads(data))
        return pajson.read_json(io.BytesIO(data))
    raise RunError(f"Dataset format {fmt} is not emulated by the sandbox (CSV, PARQUET and JSON are)")


# --------------------------------------------------------------------------- writing


def write_output(run: JobRun, table: pa.Table, output: dict[str, Any], number: int) -> int:
    """Write one of the job's Outputs into S3; returns how many objects it wrote."""
    location = output.get("Location") or {}
    bucket = location.get("Bucket", "")
    prefix = location.get("Key") or ""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    if bucket not in state.s3_backend().buckets:
        raise RunError(f"Output {number}: the output bucket {bucket!r} does not exist")
    fmt = (output.get("Format") or "CSV").upper()
    codec = (output.get("CompressionFormat") or "").upper()
    partition_cols = list(output.get("PartitionColumns") or [])
    missing = [c for c in partition_cols if c not in table.column_names]
    if missing:
        raise RunError(f"Output {number}: partition column(s) {missing} not in the recipe's result; "
                       f"columns are {table.column_names}")
    render = _renderer(fmt, codec, output, number)
    stem = run.job_name if output.get("Overwrite") else f"{run.job_name}_{run.id[3:11]}"
    uploads: list[tuple[str, bytes]] = []
    for folder, chunk in _partitions(table, partition_cols):
        pieces = _split(chunk, output) if not partition_cols else [chunk]
        for i, piece in enumerate(pieces):
            data, ext = render(piece)
            uploads.append((f"{folder}{stem}_part{i:05d}{ext}", data))
        if run.stop.is_set():
            return 0
    if output.get("Overwrite"):
        state.s3_delete_prefix(bucket, prefix)
    for rel, data in uploads:
        state.s3_put(bucket, prefix + rel, data)
    return len(uploads)


def _renderer(fmt: str, codec: str, output: dict[str, Any], number: int):  # type: ignore[no-untyped-def]
    """A function turning a table into (object bytes, file extension) for an output's format."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if fmt in ("PARQUET", "GLUEPARQUET"):
        if codec and codec not in _PARQUET_CODECS:
            raise RunError(f"Output {number}: CompressionFormat {codec} is not available for Parquet "
                           f"(use one of {sorted(_PARQUET_CODECS)})")
        compression = _PARQUET_CODECS.get(codec, "none")
        ext = f".{compression}.parquet" if codec else ".parquet"

        def parquet(piece: pa.Table) -> tuple[bytes, str]:
            buf = io.BytesIO()
            pq.write_table(piece, buf, compression=compression)
            return buf.getvalue(), ext

        return parquet
    if fmt not in ("CSV", "JSON"):
        raise RunError(f"Output {number}: format {fmt} is not emulated by the sandbox "
                       "(CSV, JSON, PARQUET and GLUEPARQUET are)")
    if codec and codec not in _TEXT_CODECS:
        raise RunError(f"Output {number}: CompressionFormat {codec} is not available for {fmt} "
                       f"(use one of {sorted(_TEXT_CODECS)})")
    suffix, compress = _TEXT_CODECS[codec] if codec else ("", None)
    delimiter = ((output.get("FormatOptions") or {}).get("Csv") or {}).get("Delimiter") or ","

    def text(piece: pa.Table) -> tuple[bytes, str]:
        if fmt == "CSV":
            buf = io.BytesIO()
            pacsv.write_csv(piece, buf, pacsv.WriteOptions(delimiter=delimiter, quoting_style="needed"))
            data, ext = buf.getvalue(), ".csv"
        else:
            data = "".join(json.dumps(r, default=str) + "\n" for r in piece.to_pylist()).encode()
            ext = ".json"
        return (compress(data), ext + suffix) if compress else (data, ext)

    return text


def _hive_value(value: Any) -> str:
    if value is None:
        return "__HIVE_DEFAULT_PARTITION__"
    if isinstance(value, bool):
        return "true" if value else "false"
    return quote(str(value), safe=" ")


def _partitions(table: pa.Table, columns: list[str]) -> list[tuple[str, pa.Table]]:
    """(``k=v/`` folder path, rows without the partition columns) for each partition value set."""
    if not columns:
        return [("", table)]
    table = table.sort_by([(c, "ascending") for c in columns])
    body = table.drop_columns(columns)
    parts = [table.column(c) for c in columns]
    keys = pc.binary_join_element_wise(
        *[pc.fill_null(pc.cast(p, pa.string()), "\x00") for p in parts], "\x01")
    n = table.num_rows
    if n == 0:
        return []
    changes = pc.indices_nonzero(pc.not_equal(keys.slice(1), keys.slice(0, n - 1))).to_pylist()
    starts = [0] + [i + 1 for i in changes]
    ends = starts[1:] + [n]
    out = []
    for start, end in zip(starts, ends, strict=True):
        folder = "".join(f"{c}={_hive_value(p[start].as_py())}/" for c, p in zip(columns, parts, strict=True))
        out.append((folder, body.slice(start, end - start)))
    return out


def _split(table: pa.Table, output: dict[str, Any]) -> list[pa.Table]:
    max_files = int(output.get("MaxOutputFiles") or 1)
    if max_files <= 1 or table.num_rows <= 1:
        return [table]
    size = -(-table.num_rows // max_files)
    return [table.slice(i, size) for i in range(0, table.num_rows, size)]


def reset() -> None:
    """Forget all runs and remembered timeouts; running runs are stopped."""
    with _lock:
        for runs in _runs.values():
            for run in runs:
                run.stop.set()
        _runs.clear()
        _timeouts.clear()

