"""Athena query executions that really run: SQL on DuckDB over the Glue catalog and S3.

The sandbox owns query executions (Start/Get/BatchGet/List/Stop, GetQueryResults); moto keeps
workgroups, whose ``ResultConfiguration.OutputLocation`` is the default output location (and
wins when the workgroup enforces its configuration, as on AWS). A query goes QUEUED -> RUNNING
-> SUCCEEDED / FAILED / CANCELLED on a background thread; results are written to
``<OutputLocation><QueryExecutionId>.csv`` (``.txt`` for DDL and SHOW) and served from there.
Run faults (``target="athena_query"``) match the query text.
"""

from __future__ import annotations

import base64
import copy
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import faults, runtime
from .aws import AwsError, Call
from .routes import route
from .state import s3_backend, split_s3_uri

if TYPE_CHECKING:  # the SQL engine (DuckDB, sqlglot, pyarrow) loads on first use: fast sandbox start
    from .sql import Context, Result

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"
DONE = {SUCCEEDED, FAILED, CANCELLED}
NO_OUTPUT = (
    "No output location provided. An output location is required either through the Workgroup "
    "result configuration setting or as an API input."
)
ENGINE_VERSION = {"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"}
#: AthenaError.ErrorType numbers by error name (the name also leads the message).
ERROR_TYPES = {
    "SYNTAX_ERROR": 1002,
    "TABLE_NOT_FOUND": 1006,
    "SCHEMA_NOT_FOUND": 1006,
    "COLUMN_NOT_FOUND": 1006,
    "SANDBOX_FAULT": 1000,
    "GENERIC_INTERNAL_ERROR": 401,
}


@dataclass
class Execution:
    """One query execution and what it produced."""

    id: str
    query: str
    workgroup: str
    region: str
    output_dir: str
    context: dict[str, str]
    statement_type: str
    substatement_type: str
    result_configuration: dict[str, Any]
    execution_parameters: list[str] = field(default_factory=list)
    state: str = QUEUED
    reason: str | None = None
    error_type: str | None = None
    error_category: int = 2
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    completed: float | None = None
    scanned: int = 0
    #: rows of the tables read (decoded in memory), Parquet files read from disk, bytes of the result file
    input_rows: int = 0
    input_files: list[str] = field(default_factory=list)
    output_bytes: int = 0
    result: Result | None = None
    ctx: Context | None = None

    def __getstate__(self) -> dict[str, Any]:
        """What a snapshot keeps: the execution without its running context."""
        return {**self.__dict__, "ctx": None}

    @property
    def output_file(self) -> str:
        suffix = (
            ".csv"
            if self.statement_type == "DML" or self.substatement_type in ("CREATE_TABLE_AS_SELECT", "EXPLAIN")
            else ".txt"
        )
        return f"{self.output_dir}{self.id}{suffix}"

    def describe(self) -> dict[str, Any]:
        now = time.time()
        status: dict[str, Any] = {"State": self.state, "SubmissionDateTime": self.submitted}
        if self.completed is not None:
            status["CompletionDateTime"] = self.completed
        if self.reason:
            status["StateChangeReason"] = self.reason
        if self.state == FAILED:
            status["AthenaError"] = {
                "ErrorCategory": self.error_category,
                "ErrorType": ERROR_TYPES.get(self.error_type or "", 1000),
                "Retryable": False,
                "ErrorMessage": self.reason or "",
            }
        start = self.started or (self.completed if self.completed is not None else now)
        end = self.completed if self.completed is not None else now
        engine_ms = int(max(0.0, end - start) * 1000) if self.started else 0
        stats: dict[str, Any] = {
            "EngineExecutionTimeInMillis": engine_ms,
            "DataScannedInBytes": self.scanned,
            "TotalExecutionTimeInMillis": int((end - self.submitted) * 1000),
            "QueryQueueTimeInMillis": int(((self.started or end) - self.submitted) * 1000),
            "ServicePreProcessingTimeInMillis": 0,
            "QueryPlanningTimeInMillis": 0,
            "ServiceProcessingTimeInMillis": 0,
            "ResultReuseInformation": {"ReusedPreviousResult": False},
        }
        if self.substatement_type in ("CREATE_TABLE_AS_SELECT", "UNLOAD") and self.state == SUCCEEDED:
            stats["DataManifestLocation"] = f"{self.output_dir}{self.id}-manifest.csv"
        out: dict[str, Any] = {
            "QueryExecutionId": self.id,
            "Query": self.query,
            "StatementType": self.statement_type,
            "ResultConfiguration": {**self.result_configuration, "OutputLocation": self.output_file},
            "ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": False}},
            "QueryExecutionContext": self.context,
            "Status": status,
            "Statistics": stats,
            "WorkGroup": self.workgroup,
            "EngineVersion": ENGINE_VERSION,
            "SubstatementType": self.substatement_type,
        }
        if self.execution_parameters:
            out["ExecutionParameters"] = self.execution_parameters
        return out


_lock = threading.RLock()
_executions: dict[str, Execution] = {}
_tokens: dict[str, str] = {}
_parsed: dict[str, tuple[str, list[list[str | None]]]] = {}
#: Prepared statements by (region, workgroup, name): what CreatePreparedStatement and ``PREPARE`` store.
_prepared: dict[tuple[str, str, str], dict[str, Any]] = {}


def reset() -> None:
    """Forget every execution (running ones are cancelled), the table-file cache and spilled files."""
    with _lock:
        for ex in _executions.values():
            if ex.ctx is not None and ex.state not in DONE:
                ex.ctx.cancel()
        _executions.clear()
        _tokens.clear()
        _parsed.clear()
        _prepared.clear()
    storage = sys.modules.get(f"{__package__}.sql.storage")
    if storage is not None:
        storage.clear_cache(spill=True)


#: The reason of a query that was still running when the sandbox saved its state and stopped.
STOPPED_REASON = "GENERIC_INTERNAL_ERROR: The sandbox stopped while the query was running"


def export_state() -> dict[str, Any]:
    """Every execution and client request token, for a snapshot (:mod:`.persist`).

    A query still queued or running is recorded as FAILED with :data:`STOPPED_REASON`: a restored
    sandbox cannot carry on with it.
    """
    with _lock:
        executions = {}
        for ex in _executions.values():
            saved = copy.copy(ex)
            if saved.state not in DONE:
                saved.state, saved.reason = FAILED, STOPPED_REASON
                saved.error_type, saved.error_category = "GENERIC_INTERNAL_ERROR", 1
                saved.completed = time.time()
            executions[saved.id] = saved
        return {"executions": executions, "tokens": dict(_tokens), "prepared": copy.deepcopy(_prepared)}


def import_state(saved: dict[str, Any]) -> None:
    """Take back what :func:`export_state` saved (a sandbox restarted with its data dir)."""
    with _lock:
        _executions.update(saved.get("executions") or {})
        _tokens.update(saved.get("tokens") or {})
        _prepared.update(saved.get("prepared") or {})


def _athena_backend(call: Call) -> Any:
    from moto.athena.models import athena_backends

    return athena_backends[call.account_id][call.region]


def _get(call: Call, exec_id: str | None = None) -> Execution:
    exec_id = exec_id or call.params.get("QueryExecutionId", "")
    with _lock:
        ex = _executions.get(exec_id)
    if ex is None:
        raise AwsError("InvalidRequestException", f"QueryExecution {exec_id} was not found")
    return ex


#: String literals, quoted names and comments: a ``?`` in them is no placeholder.
_QUOTED = re.compile(r"('(?:[^']|'')*'|\"[^\"]*\"|--[^\n]*|/\*.*?\*/)", re.S)


def _bind_parameters(query: str, values: list[str]) -> str:
    """Substitute ``?`` placeholders (outside quotes and comments) with ExecutionParameters, in order.

    As Trino checks an ``EXECUTE ... USING``, the number of values must be the number of placeholders.
    """
    parts = _QUOTED.split(query)
    expected = sum(part.count("?") for part in parts[::2])
    if expected != len(values):
        from .sql import QueryError

        raise QueryError(
            f"INVALID_PARAMETER_USAGE: line 1:1: Incorrect number of parameters: expected {expected} "
            f"but found {len(values)}",
            "INVALID_PARAMETER_USAGE",
        )
    if not values:
        return query
    it = iter(values)
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            part = re.sub(r"\?", lambda m: next(it, "?"), part)
        out.append(part)
    return "".join(out)


# --------------------------------------------------------------------------- prepared statements

_PREPARE = re.compile(r"\s*PREPARE\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s+FROM\s+(?P<body>.+?)[\s;]*\Z", re.I | re.S)
_EXECUTE = re.compile(
    r"\s*EXECUTE\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:\s+USING\s+(?P<args>.+?))?[\s;]*\Z", re.I | re.S
)
_DEALLOCATE = re.compile(r"\s*DEALLOCATE\s+PREPARE\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)[\s;]*\Z", re.I | re.S)


def _using_values(args: str) -> list[str]:
    """The SQL text of each value of ``EXECUTE ... USING v1, v2`` (literals or expressions)."""
    import sqlglot
    from sqlglot.errors import SqlglotError

    from .sql import QueryError

    try:
        select = sqlglot.parse_one(f"SELECT {args}", read="athena")
    except SqlglotError as err:
        raise QueryError(f"line 1:1: mismatched input in USING: {err}", "SYNTAX_ERROR") from err
    return [e.sql("athena") for e in select.expressions]


def _prepared_statement(ex: Execution) -> Result | None:
    """``PREPARE``, ``EXECUTE ... USING`` and ``DEALLOCATE PREPARE``, with statements kept per workgroup;
    None for any other statement."""
    from .sql import QueryError, Result, execute

    assert ex.ctx is not None
    m = _PREPARE.match(ex.query)
    if m:
        key = (ex.region, ex.workgroup, m.group("name").lower())
        with _lock:
            _prepared[key] = {
                "StatementName": m.group("name").lower(),
                "QueryStatement": m.group("body"),
                "WorkGroupName": ex.workgroup,
                "LastModifiedTime": time.time(),
            }
        return Result("UTILITY", "PREPARE", header=False)
    m = _DEALLOCATE.match(ex.query)
    if m:
        with _lock:
            found = _prepared.pop((ex.region, ex.workgroup, m.group("name").lower()), None)
        if found is None:
            raise QueryError(f"NOT_FOUND: Prepared statement not found: {m.group('name').lower()}", "NOT_FOUND")
        return Result("UTILITY", "DEALLOCATE", header=False)
    m = _EXECUTE.match(ex.query)
    if not m:
        return None
    with _lock:
        found = _prepared.get((ex.region, ex.workgroup, m.group("name").lower()))
    if found is None:
        raise QueryError(f"NOT_FOUND: Prepared statement not found: {m.group('name').lower()}", "NOT_FOUND")
    values = _using_values(m.group("args")) if m.group("args") else list(ex.execution_parameters)
    return execute(_bind_parameters(found["QueryStatement"], values), ex.ctx)


def _workgroup_name(call: Call) -> str:
    name = call.params.get("WorkGroup") or ""
    if _athena_backend(call).work_groups.get(name) is None:
        raise AwsError("InvalidRequestException", f"WorkGroup {name} is not found.")
    return name


def _statement_key(call: Call) -> tuple[str, str, str]:
    return (call.region, _workgroup_name(call), str(call.params.get("StatementName") or "").lower())


def _prepared_or_missing(key: tuple[str, str, str]) -> dict[str, Any]:
    with _lock:
        found = _prepared.get(key)
    if found is None:
        raise AwsError("ResourceNotFoundException", f"Prepared statement {key[2]} was not found in workgroup {key[1]}")
    return found


@route("athena", "CreatePreparedStatement")
def create_prepared_statement(call: Call) -> dict[str, Any]:
    key = _statement_key(call)
    with _lock:
        if key in _prepared:
            raise AwsError(
                "InvalidRequestException", f"Prepared statement {key[2]} already exists in workgroup {key[1]}"
            )
        _prepared[key] = {
            "StatementName": key[2],
            "QueryStatement": call.params.get("QueryStatement") or "",
            "WorkGroupName": key[1],
            "LastModifiedTime": time.time(),
            **({"Description": call.params["Description"]} if call.params.get("Description") else {}),
        }
    return {}


@route("athena", "UpdatePreparedStatement")
def update_prepared_statement(call: Call) -> dict[str, Any]:
    key = _statement_key(call)
    found = _prepared_or_missing(key)
    with _lock:
        found.update(QueryStatement=call.params.get("QueryStatement") or "", LastModifiedTime=time.time())
        if call.params.get("Description"):
            found["Description"] = call.params["Description"]
    return {}


@route("athena", "GetPreparedStatement")
def get_prepared_statement(call: Call) -> dict[str, Any]:
    return {"PreparedStatement": dict(_prepared_or_missing(_statement_key(call)))}


@route("athena", "DeletePreparedStatement")
def delete_prepared_statement(call: Call) -> dict[str, Any]:
    key = _statement_key(call)
    _prepared_or_missing(key)
    with _lock:
        _prepared.pop(key, None)
    return {}


@route("athena", "ListPreparedStatements")
def list_prepared_statements(call: Call) -> dict[str, Any]:
    wg = _workgroup_name(call)
    limit = int(call.params.get("MaxResults") or 50)
    with _lock:
        items = sorted(
            (
                {"StatementName": s["StatementName"], "LastModifiedTime": s["LastModifiedTime"]}
                for (region, group, _), s in _prepared.items()
                if region == call.region and group == wg
            ),
            key=lambda s: s["StatementName"],
        )
    start = _page(call.params.get("NextToken"))
    out: dict[str, Any] = {"PreparedStatements": items[start : start + limit]}
    if start + limit < len(items):
        out["NextToken"] = _token(start + limit)
    return out


@route("athena", "BatchGetPreparedStatement")
def batch_get_prepared_statement(call: Call) -> dict[str, Any]:
    wg = _workgroup_name(call)
    found, missing = [], []
    for name in call.params.get("PreparedStatementNames") or []:
        with _lock:
            item = _prepared.get((call.region, wg, name.lower()))
        if item is None:
            missing.append(
                {
                    "StatementName": name,
                    "ErrorCode": "INVALID_INPUT",
                    "ErrorMessage": f"Prepared statement {name} was not found in workgroup {wg}",
                }
            )
        else:
            found.append(dict(item))
    return {"PreparedStatements": found, "UnprocessedPreparedStatementNames": missing}


# --------------------------------------------------------------------------- named queries (kept by moto)


def _named_query(call: Call, query_id: str) -> Any:
    return _athena_backend(call).named_queries.get(query_id)


def _describe_named(nq: Any) -> dict[str, Any]:
    return {
        "Name": nq.name,
        "Description": nq.description or "",
        "Database": nq.database,
        "QueryString": nq.query_string,
        "NamedQueryId": nq.id,
        "WorkGroup": getattr(nq.workgroup, "name", nq.workgroup),
    }


@route("athena", "GetNamedQuery")
def get_named_query(call: Call) -> dict[str, Any]:
    """moto fails on an unknown id; AWS answers InvalidRequestException."""
    query_id = call.params.get("NamedQueryId") or ""
    nq = _named_query(call, query_id)
    if nq is None:
        raise AwsError("InvalidRequestException", f"NamedQuery {query_id} was not found")
    return {"NamedQuery": _describe_named(nq)}


@route("athena", "BatchGetNamedQuery")
def batch_get_named_query(call: Call) -> dict[str, Any]:
    found, missing = [], []
    for query_id in call.params.get("NamedQueryIds") or []:
        nq = _named_query(call, query_id)
        if nq is None:
            missing.append(
                {
                    "NamedQueryId": query_id,
                    "ErrorCode": "INVALID_INPUT",
                    "ErrorMessage": f"NamedQuery {query_id} was not found",
                }
            )
        else:
            found.append(_describe_named(nq))
    return {"NamedQueries": found, "UnprocessedNamedQueryIds": missing}


@route("athena", "DeleteNamedQuery")
def delete_named_query(call: Call) -> dict[str, Any]:
    query_id = call.params.get("NamedQueryId") or ""
    if _athena_backend(call).named_queries.pop(query_id, None) is None:
        raise AwsError("InvalidRequestException", f"NamedQuery {query_id} was not found")
    return {}


@route("athena", "GetWorkGroup")
def get_work_group(call: Call) -> dict[str, Any]:
    """moto answers an unknown workgroup with an empty document; AWS answers InvalidRequestException."""
    answer = call.forward_json()
    if not answer.get("WorkGroup"):
        name = call.params.get("WorkGroup", "")
        raise AwsError("InvalidRequestException", f"WorkGroup {name} is not found.")
    return answer


@route("athena", "StartQueryExecution")
def start_query_execution(call: Call) -> dict[str, Any]:
    p = call.params
    query = p.get("QueryString") or ""
    token = p.get("ClientRequestToken")
    with _lock:
        if token and token in _tokens:
            return {"QueryExecutionId": _tokens[token]}
    wg_name = p.get("WorkGroup") or "primary"
    wg = _athena_backend(call).work_groups.get(wg_name)
    if wg is None:
        raise AwsError("InvalidRequestException", f"WorkGroup {wg_name} is not found.")
    if getattr(wg, "state", "ENABLED") == "DISABLED":
        raise AwsError("InvalidRequestException", f"WorkGroup {wg_name} is disabled.")
    conf = wg.configuration or {}
    wg_result = conf.get("ResultConfiguration") or {}
    request_result = p.get("ResultConfiguration") or {}
    enforce = conf.get("EnforceWorkGroupConfiguration", True)
    location = (
        wg_result.get("OutputLocation")
        if enforce and wg_result.get("OutputLocation")
        else (request_result.get("OutputLocation") or wg_result.get("OutputLocation"))
    )
    if not location:
        raise AwsError("InvalidRequestException", NO_OUTPUT)
    if not location.startswith("s3://"):
        raise AwsError("InvalidRequestException", f"The output location {location} is not a valid S3 URI")
    if not location.endswith("/"):
        location += "/"
    from .sql import Context, statement_kind

    context = dict(p.get("QueryExecutionContext") or {})
    database = (context.get("Database") or "default").lower()
    params = list(p.get("ExecutionParameters") or [])
    st, sub = statement_kind(query)
    result_conf = {k: v for k, v in {**wg_result, **request_result}.items() if k != "OutputLocation"}
    ex = Execution(
        id=str(uuid.uuid4()),
        query=query,
        workgroup=wg_name,
        region=call.region,
        output_dir=location,
        context=context,
        statement_type=st,
        substatement_type=sub,
        result_configuration=result_conf,
        execution_parameters=params,
    )
    cutoff = conf.get("BytesScannedCutoffPerQuery")
    ex.ctx = Context(
        region=call.region,
        database=database,
        output_location=location,
        query_id=ex.id,
        scan_cutoff=int(cutoff) if cutoff else None,
    )
    with _lock:
        if token:
            if token in _tokens:
                return {"QueryExecutionId": _tokens[token]}
            _tokens[token] = ex.id
        _executions[ex.id] = ex
    runtime.submit(_run, ex)
    return {"QueryExecutionId": ex.id}


def _finish(
    ex: Execution, state: str, reason: str | None = None, error_type: str | None = None, category: int = 2
) -> None:
    with _lock:
        if ex.state in DONE:
            return
        ex.state, ex.reason, ex.error_type, ex.error_category = state, reason, error_type, category
        ex.completed = time.time()


def _run(ex: Execution) -> None:
    from .sql import QueryError, execute

    ctx = ex.ctx
    assert ctx is not None
    with _lock:
        if ex.state in DONE:
            return
        ex.state, ex.started = RUNNING, time.time()
    try:
        message, delay = faults.run_faults("athena_query", ex.query)
        if delay and ctx.cancelled.wait(delay):
            return
        if message:
            _finish(ex, FAILED, message, "SANDBOX_FAULT")
            return
        bucket, _ = split_s3_uri(ex.output_dir)
        if bucket not in s3_backend().buckets:
            _finish(ex, FAILED, f"Unable to verify/create output bucket {bucket}", "GENERIC_USER_ERROR")
            return
        result = _prepared_statement(ex) or execute(_bind_parameters(ex.query, ex.execution_parameters), ctx)
        ctx.check_cancelled()
        ex.statement_type, ex.substatement_type = result.statement_type, result.substatement_type
        output_bytes = _write_results(ex, result)
        with _lock:
            ex.result, ex.scanned, ex.output_bytes = result, result.data_scanned, output_bytes
            ex.input_rows, ex.input_files = ctx.input_rows, list(ctx.input_files)
        _finish(ex, SUCCEEDED)
    except QueryError as err:
        if ctx.cancelled.is_set():
            return
        _finish(ex, FAILED, err.message, err.error_type, err.category)
    except Exception as err:  # a bug or an unexpected engine failure: still a real FAILED answer
        _finish(ex, FAILED, f"GENERIC_INTERNAL_ERROR: {type(err).__name__}: {err}", "GENERIC_INTERNAL_ERROR", 1)


def _write_results(ex: Execution, result: Result) -> int:
    """Write the result file (and a CTAS's manifest); returns the result file's size in bytes."""
    from .sql import results as result_files
    from .sql import storage

    if result.substatement_type == "UNLOAD":
        data = b""  # UNLOAD answers no rows; its files are in the manifest
    elif ex.output_file.endswith(".csv"):
        data = result_files.to_csv([n for n, _ in result.columns], result.rows)
    else:
        data = result_files.to_txt(result.rows if result.columns else [[line] for line in result.lines])
    storage.write_object(ex.output_file, data)
    if result.substatement_type in ("CREATE_TABLE_AS_SELECT", "UNLOAD"):
        manifest = "".join(f"{uri}\n" for uri in result.lines).encode()
        storage.write_object(f"{ex.output_dir}{ex.id}-manifest.csv", manifest)
    return len(data)


@route("athena", "GetQueryExecution")
def get_query_execution(call: Call) -> dict[str, Any]:
    return {"QueryExecution": _get(call).describe()}


@route("athena", "BatchGetQueryExecution")
def batch_get_query_execution(call: Call) -> dict[str, Any]:
    found, missing = [], []
    for exec_id in call.params.get("QueryExecutionIds") or []:
        with _lock:
            ex = _executions.get(exec_id)
        if ex is None:
            missing.append(
                {
                    "QueryExecutionId": exec_id,
                    "ErrorCode": "INVALID_INPUT",
                    "ErrorMessage": f"QueryExecution {exec_id} was not found",
                }
            )
        else:
            found.append(ex.describe())
    return {"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing}


def _page(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(base64.urlsafe_b64decode(token.encode()).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise AwsError("InvalidRequestException", "The NextToken is not valid") from exc


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode()


@route("athena", "ListQueryExecutions")
def list_query_executions(call: Call) -> dict[str, Any]:
    wg = call.params.get("WorkGroup") or "primary"
    limit = int(call.params.get("MaxResults") or 50)
    with _lock:
        ids = [
            ex.id for ex in sorted(_executions.values(), key=lambda e: e.submitted, reverse=True) if ex.workgroup == wg
        ]
    start = _page(call.params.get("NextToken"))
    out: dict[str, Any] = {"QueryExecutionIds": ids[start : start + limit]}
    if start + limit < len(ids):
        out["NextToken"] = _token(start + limit)
    return out


@route("athena", "StopQueryExecution")
def stop_query_execution(call: Call) -> dict[str, Any]:
    ex = _get(call)
    with _lock:
        if ex.state not in DONE:
            ex.state, ex.completed = CANCELLED, time.time()
            ex.reason = "Query was cancelled by user"
    if ex.ctx is not None:
        ex.ctx.cancel()
    return {}


def _result_rows(ex: Execution) -> list[list[str | None]]:
    """All rows of the result file (header first for SELECT/CTAS), parsed once per file version."""
    from .sql import results as result_files

    bucket, key = split_s3_uri(ex.output_file)
    fake = s3_backend().buckets.get(bucket)
    obj = fake.keys.get(key) if fake is not None else None
    if obj is None or not hasattr(obj, "_value_buffer"):
        raise AwsError(
            "InvalidRequestException",
            f"Unable to read the query results at {ex.output_file}: the object does not exist",
        )
    with _lock:
        hit = _parsed.get(ex.id)
        if hit and hit[0] == obj.etag:
            return hit[1]
    data = obj.value
    rows = result_files.parse_csv(data) if key.endswith(".csv") else result_files.parse_txt(data)
    with _lock:
        _parsed[ex.id] = (obj.etag, rows)
    return rows


@route("athena", "GetQueryResults")
def get_query_results(call: Call) -> dict[str, Any]:
    ex = _get(call)
    if ex.state in (QUEUED, RUNNING):
        raise AwsError("InvalidRequestException", f"Query has not yet finished. Current state: {ex.state}")
    if ex.state != SUCCEEDED or ex.result is None:
        raise AwsError(
            "InvalidRequestException",
            f"Query did not finish successfully. Final query state: {ex.state}"
            + (f"\n{ex.reason}" if ex.reason else ""),
        )
    limit = int(call.params.get("MaxResults") or 1000)
    if not 1 <= limit <= 1000:
        raise AwsError("InvalidRequestException", "MaxResults must be between 1 and 1000")
    from .sql import results as result_files

    rows = _result_rows(ex)
    start = _page(call.params.get("NextToken"))
    page = rows[start : start + limit]
    out: dict[str, Any] = {
        "UpdateCount": ex.result.update_count or 0,
        "ResultSet": {
            "Rows": [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in page],
            "ResultSetMetadata": {"ColumnInfo": result_files.column_info(ex.result.columns)},
        },
    }
    if start + limit < len(rows):
        out["NextToken"] = _token(start + limit)
    return out


def _input_rows(ex: Execution) -> int | None:
    """Rows of the tables the query read: in-memory tables counted as read, Parquet files by their footers."""
    import pyarrow.parquet as pq

    rows = getattr(ex, "input_rows", 0)
    for path in getattr(ex, "input_files", []):
        try:
            rows += pq.read_metadata(path).num_rows
        except OSError:  # the sandbox's spilled copy is gone (its cache was cleared): the count is unknown
            return None
    return rows


@route("athena", "GetQueryRuntimeStatistics")
def get_query_runtime_statistics(call: Call) -> dict[str, Any]:
    """``Timeline`` from the execution's times, ``Rows`` from what it read and wrote (no ``OutputStage``)."""
    ex = _get(call)
    d = ex.describe()["Statistics"]
    rows: dict[str, int] = {"InputBytes": ex.scanned}
    if ex.state == SUCCEEDED and ex.result is not None:
        read = _input_rows(ex)
        if read is not None:
            rows["InputRows"] = read
        rows["OutputRows"] = len(ex.result.rows) if ex.result.header else len(ex.result.rows or ex.result.lines)
        rows["OutputBytes"] = getattr(ex, "output_bytes", 0)
    return {
        "QueryRuntimeStatistics": {
            "Timeline": {
                k: d[k]
                for k in (
                    "QueryQueueTimeInMillis",
                    "ServicePreProcessingTimeInMillis",
                    "QueryPlanningTimeInMillis",
                    "EngineExecutionTimeInMillis",
                    "ServiceProcessingTimeInMillis",
                    "TotalExecutionTimeInMillis",
                )
            },
            "Rows": rows,
        }
    }
