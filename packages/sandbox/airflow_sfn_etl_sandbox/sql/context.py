"""What one statement runs with (region, database, output location) and what it produces."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import QueryError

if TYPE_CHECKING:
    import duckdb


@dataclass
class Context:
    """The environment of one query execution.

    :param output_location: the execution's result folder (``s3://bucket/prefix/``), where a CTAS
        without ``external_location`` writes ``tables/<query id>/``.
    """

    region: str
    database: str = "default"
    output_location: str = ""
    query_id: str = ""
    cancelled: threading.Event = field(default_factory=threading.Event)
    connections: list[duckdb.DuckDBPyConnection] = field(default_factory=list)
    #: the statement's tokens (sqlglot's, with positions), for where a failure points in the text
    tokens: list[Any] = field(default_factory=list)
    #: the workgroup's BytesScannedCutoffPerQuery: a statement that would scan more fails before it runs
    scan_cutoff: int | None = None
    #: rows of the tables read that were decoded in memory, and the Parquet files read from disk
    input_rows: int = 0
    input_files: list[str] = field(default_factory=list)
    #: Trino's failure for each function call DuckDB may refuse to bind, by DuckDB's function name
    #: (``semantics`` records them; a DuckDB "No function matches" failure is answered with it)
    function_failures: dict[str, list[Any]] = field(default_factory=dict)

    def check_cancelled(self) -> None:
        if self.cancelled.is_set():
            raise QueryError("Query was cancelled", "USER_CANCELLED")

    def cancel(self) -> None:
        """Stop the statement: flag it and interrupt any DuckDB work in flight."""
        self.cancelled.set()
        for con in list(self.connections):
            try:
                con.interrupt()
            except Exception:  # the connection may already be closed
                pass


@dataclass
class Result:
    """The outcome of one statement.

    ``columns`` are (name, DuckDB type); ``rows`` hold Python values. ``header`` says whether
    GetQueryResults starts with a header row (SELECT and CTAS do; SHOW / DESCRIBE do not).
    """

    statement_type: str
    substatement_type: str
    columns: list[tuple[str, str]] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    header: bool = True
    data_scanned: int = 0
    update_count: int | None = None
    lines: list[str] = field(default_factory=list)
