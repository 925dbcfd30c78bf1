"""Table data in S3, read straight from moto's in-process S3 backend.

Files are decoded once into Arrow tables and cached by (bucket, key, ETag), so a query over
thousands of small partition files does not parse them again; MSCK REPAIR / ADD PARTITION warm
the cache for the partitions they register.
"""

from __future__ import annotations

import bisect
import csv
import gzip
import hashlib
import io
import os
import re
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from .. import runtime
from ..state import s3_backend, split_s3_uri
from .catalog import TableInfo
from .errors import QueryError, coded

HIVE_DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"


class S3File(NamedTuple):
    """One object: a tuple, as thousands are listed for every query over a partitioned table."""

    bucket: str
    key: str
    etag: str
    size: int

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def _bucket(bucket: str) -> Any:
    b = s3_backend().buckets.get(bucket)
    if b is None:
        raise coded(
            "HIVE_FILESYSTEM_ERROR", f"The specified bucket does not exist: s3://{bucket}/", category=2
        )
    return b


def _is_data_file(rel_key: str) -> bool:
    """Hive skips folder markers and files whose name starts with ``_`` or ``.``."""
    name = rel_key.rsplit("/", 1)[-1]
    return bool(name) and not name.startswith(("_", ".")) and not name.endswith("$folder$")


class _Listing:
    """Sorted keys of the buckets touched by one operation, for fast prefix lookups."""

    def __init__(self) -> None:
        self._keys: dict[str, tuple[Any, list[str]]] = {}

    def objects(self, uri: str, data_only: bool = False) -> list[S3File]:
        bucket, _, prefix = uri[5:].partition("/")
        hit = self._keys.get(bucket)
        if hit is None:
            b = _bucket(bucket)
            hit = self._keys[bucket] = (b, sorted(list(b.keys.keys())))
        b, keys = hit
        get, start, out = b.keys.get, len(prefix), []
        for i in range(bisect.bisect_left(keys, prefix), len(keys)):
            key = keys[i]
            if not key.startswith(prefix):
                break
            if data_only and not _is_data_file(key[start:]):
                continue
            fake = get(key)
            if fake is None or not hasattr(fake, "_value_buffer"):  # deleted or a delete marker
                continue
            out.append(S3File(bucket, key, fake.etag, int(fake.size)))
        return out

    def data_files(self, uri: str) -> list[S3File]:
        return self.objects(uri if uri.endswith("/") else uri + "/", data_only=True)


def list_objects(uri: str) -> list[S3File]:
    """Every object under an ``s3://bucket/prefix`` (recursive, sorted by key)."""
    return _Listing().objects(uri)


def list_data_files(uri: str) -> list[S3File]:
    """Data files under a table or partition location, as Hive would read them."""
    return _Listing().data_files(uri)


def read_object(bucket: str, key: str) -> bytes:
    fake = _bucket(bucket).keys.get(key)
    if fake is None:
        raise coded("HIVE_CANNOT_OPEN_SPLIT", f"Error opening Hive split s3://{bucket}/{key}: object is gone")
    return fake.value


def write_object(uri: str, data: bytes) -> None:
    bucket, key = split_s3_uri(uri)
    _bucket(bucket)
    s3_backend().put_object(bucket, key, data)


class _LRU:
    """A small thread-safe LRU keyed by anything hashable, bounded by entry count and bytes."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self._data: OrderedDict[Hashable, tuple[pa.Table, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries, self.max_bytes, self.nbytes = max_entries, max_bytes, 0

    def get(self, key: Hashable) -> pa.Table | None:
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return None
            self._data.move_to_end(key)
            return hit[0]

    def put(self, key: Hashable, table: pa.Table) -> None:
        size = table.nbytes
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self.nbytes -= old[1]
            self._data[key] = (table, size)
            self.nbytes += size
            while self._data and (len(self._data) > self.max_entries or self.nbytes > self.max_bytes):
                _, (_, dropped) = self._data.popitem(last=False)
                self.nbytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.nbytes = 0


_files = _LRU(max_entries=200_000, max_bytes=1 << 30)
_assembled = _LRU(max_entries=32, max_bytes=1 << 30)


def clear_cache(spill: bool = False) -> None:
    """Forget decoded files and tables. Spilled Parquet copies stay on disk (named by bucket, key
    and ETag, so a changed object is copied anew) unless ``spill``: then they are deleted too."""
    _files.clear()
    _assembled.clear()
    with _spill_lock:
        roots = set(_spill_roots)
        _spilled.clear()
        _spill_roots.clear()
        if spill:
            for root in roots:
                shutil.rmtree(root, ignore_errors=True)


def _hive_lines(data: bytes, skip: int) -> list[str]:
    """The lines of a text file as Hive's line reader returns them: a UTF-8 byte order mark opening the
    file skipped, lines ended by ``\\n``, ``\\r\\n`` or ``\\r``, a final terminator opening no further line,
    the first ``skip`` lines (``skip.header.line.count``) left out."""
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = _LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines[skip:]


_LINE_END = re.compile(r"\r\n|\n|\r")


def _read_ragged(data: bytes, table: TableInfo) -> pa.Table:
    """A ``LazySimpleSerDe`` text file whose rows have differing field counts, read as Hive reads it.

    Every row is kept: fields past the table's columns are ignored and missing trailing fields are
    NULL. A blank line is a row too: one empty field (the first column ``''``, the others NULL).
    """
    read, parse, _ = _text_options(table)
    params = _serde_properties(table)
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=parse.delimiter,
        quoting=csv.QUOTE_NONE,
        escapechar=parse.escape_char or None,
    )
    null = params.get("serialization.null.format", "\\N")
    width = _data_width(table)
    columns: list[list[str | None]] = [[] for _ in range(width)]
    for n, fields in enumerate(reader):
        if n < read.skip_rows:
            continue
        fields = fields or [""]
        for i in range(width):
            value = fields[i] if i < len(fields) else None
            columns[i].append(None if value is not None and value == null else value)
    return pa.table([pa.array(c, pa.string()) for c in columns], names=[f"f{i}" for i in range(width)])


def _data_width(table: TableInfo) -> int:
    pkeys = {k for k, _ in table.partition_keys}
    return len([c for c, _ in table.columns if c not in pkeys])


@dataclass(frozen=True)
class _CsvChars:
    """The OpenCSVSerDe's separator, quote and escape characters, as Athena's reader takes them from
    the SerDe properties ``separatorChar``, ``quoteChar``, ``escapeChar``: the first character of each,
    by default ``,`` ``"`` ``\\``; an ``escapeChar`` of ``"`` reads as ``\\`` (Hive's deserializer does so)."""

    separator: str
    quote: str
    escape: str

    @classmethod
    def of(cls, table: TableInfo) -> _CsvChars:
        params = _serde_properties(table)
        chars = []
        for key, default in (("separatorChar", ","), ("quoteChar", '"'), ("escapeChar", "\\")):
            value = params.get(key, default)
            if not value:
                raise coded(
                    "NOT_SUPPORTED",
                    f"CSV not supported: the SerDe property '{key}' of table {table.qualified} is empty; "
                    "give it one character",
                )
            chars.append(value[0])
        separator, quote, escape = chars
        if escape == '"':
            escape = "\\"
        for a, b, what in ((separator, quote, "Separator and quote"), (separator, escape, "Separator and escape"),
                           (quote, escape, "Quote and escape")):
            if a == b:
                raise coded(
                    "NOT_SUPPORTED",
                    f"CSV not supported: {what} character cannot be the same (table {table.qualified})",
                )
        return cls(separator, quote, escape)


def _open_csv_line(line: str, chars: _CsvChars, width: int, tokens: re.Pattern[str]) -> tuple[list[str | None], bool]:
    """One line's fields as the OpenCSVSerDe splits it, and whether the line ends inside quotes.

    Hive's OpenCSVSerDe hands each line to opencsv 2.3's ``CSVParser`` (Athena reads through the same
    rules; Trino's ``CsvDeserializer`` is a port of them), which differs from RFC 4180 readers:

    - the escape character is dropped; inside quotes, or after other characters of a field, it makes a
      following quote or escape character literal (``"a\\"b"`` is ``a"b``); before anything else (the
      separator included) it escapes nothing: ``a\\,b`` is two fields ``a`` and ``b``, ``\\N`` is ``N``;
    - a doubled quote inside quotes or a field is one quote;
    - a quote that neither opens nor closes a field (not in the line's first three characters, and
      neither preceded nor followed by the separator) is kept as text, unless only white space precedes
      it in the field (then that white space is dropped); every quote toggles quoting;
    - a blank line is a row of NULLs; fields past ``width`` are not read; a field left open by a
      quote at the end of the line is NULL (the caller refuses such lines).
    """
    values: list[str | None] = [None] * width
    if not line or not width:
        return values, False
    sep, quote, escape = chars.separator, chars.quote, chars.escape
    buffer: list[str] = []
    column, in_quotes, in_field = 0, False, False
    position, end = 0, len(line)
    while position < end and column < width:
        run = tokens.match(line, position)
        if run is not None:  # ordinary characters, appended as they are
            buffer.append(run.group())
            in_field = True
            position = run.end()
            continue
        c = line[position]
        after = line[position + 1] if position + 1 < end else None
        if c == escape:
            if (in_quotes or in_field) and after is not None and after in (quote, escape):
                buffer.append(after)
                position += 1
        elif c == quote:
            if (in_quotes or in_field) and after == quote:
                buffer.append(after)
                position += 1
            else:
                if position > 2 and line[position - 1] != sep and after is not None and after != sep:
                    text = "".join(buffer)
                    if text and not text.strip(_JAVA_WHITESPACE):
                        buffer = []
                    else:
                        buffer.append(c)
                in_quotes = not in_quotes
            in_field = not in_field
        elif c == sep and not in_quotes:
            values[column] = "".join(buffer)
            column += 1
            buffer = []
            in_field = False
        else:
            buffer.append(c)
            in_field = True
        position += 1
    if column < width and not in_quotes:
        values[column] = "".join(buffer)
    return values, in_quotes and column < width


#: what Java's ``Character.isWhitespace`` counts as white space (ASCII and the common Unicode spaces)
_JAVA_WHITESPACE = (
    " \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"
    "\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2008\u2009\u200a\u2028\u2029\u205f\u3000"
)


def _read_open_csv(data: bytes, table: TableInfo, f: S3File) -> pa.Table:
    """A text file of an ``OpenCSVSerde`` table, line by line as Athena reads it (see :func:`_open_csv_line`).

    Athena documents that the OpenCSVSerDe does not support line breaks inside quoted values: a line
    ending inside quotes means such a value (or a quote never closed), whose rows Athena does not
    document, so the query fails naming it.
    """
    chars = _CsvChars.of(table)
    width = _data_width(table)
    tokens = re.compile("[^" + re.escape(chars.separator + chars.quote + chars.escape) + "]+")
    skip = int(table.parameters.get("skip.header.line.count", "0") or 0)
    columns: list[list[str | None]] = [[] for _ in range(width)]
    for line in _hive_lines(data, skip):
        values, open_quote = _open_csv_line(line, chars, width, tokens)
        if open_quote:
            raise coded(
                "NOT_SUPPORTED",
                f"{f.uri} has a line that ends inside a quoted value (a quoted value holding a line break, or a "
                f"quote never closed). The OpenCSVSerDe of table {table.qualified} does not support embedded line "
                "breaks (Athena reads CSV files line by line); the rows Athena makes of such a file are not "
                "emulated by the sandbox",
            )
        for i, value in enumerate(values):
            columns[i].append(value)
    return pa.table([pa.array(c, pa.string()) for c in columns], names=[f"f{i}" for i in range(width)])


def _serde_properties(table: TableInfo) -> dict[str, str]:
    """What the SerDe is configured with: the table's properties, overridden by its SerDe's (as Hive
    builds a SerDe's properties; Athena's ``TBLPROPERTIES ('serialization.null.format'='')`` works so)."""
    return {**table.parameters, **table.serde_params}


def _text_options(
    table: TableInfo, ragged: list[int] | None = None
) -> tuple[pacsv.ReadOptions, pacsv.ParseOptions, pacsv.ConvertOptions]:
    """How pyarrow reads the table's text files; a row whose field count differs from the first row's
    is counted in ``ragged`` (and left out), so the caller reads that file again with :func:`_read_ragged`."""

    def _ragged(row: Any) -> str:
        if ragged is not None:
            ragged.append(1)
        return "skip"

    params = _serde_properties(table)
    skip = int(table.parameters.get("skip.header.line.count", "0") or 0)
    ncols = len(table.columns) + 64
    types = {f"f{i}": pa.string() for i in range(ncols)}
    if table.data_format == "csv":
        # a plain split: files holding the quote or escape character are read by _read_open_csv
        parse = pacsv.ParseOptions(
            delimiter=_CsvChars.of(table).separator,
            quote_char=False,
            escape_char=False,
            ignore_empty_lines=False,
            invalid_row_handler=_ragged,
        )
        convert = pacsv.ConvertOptions(column_types=types, strings_can_be_null=False, null_values=[])
    else:
        sep = params.get("field.delim") or params.get("serialization.format") or "\x01"
        if len(sep) != 1:
            sep = "\x01" if sep.isdigit() else sep[0]
        escape_delim = params.get("escape.delim") or False
        parse = pacsv.ParseOptions(
            delimiter=sep,
            quote_char=False,
            escape_char=escape_delim,
            ignore_empty_lines=False,
            invalid_row_handler=_ragged,
        )
        convert = pacsv.ConvertOptions(
            column_types=types,
            strings_can_be_null=True,
            null_values=[params.get("serialization.null.format", "\\N")],
        )
    read = pacsv.ReadOptions(autogenerate_column_names=True, skip_rows=skip, use_threads=False)
    return read, parse, convert


def _has_blank_line(data: bytes) -> bool:
    """Whether a text file has an empty line (``\\n``, ``\\r\\n`` and ``\\r`` end lines, as in Hive)."""
    lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return lines.startswith(b"\n") or b"\n\n" in lines


def _holds_quote_or_escape(data: bytes, table: TableInfo) -> bool:
    chars = _CsvChars.of(table)
    return chars.quote.encode() in data or chars.escape.encode() in data


def _decode(table: TableInfo, f: S3File) -> pa.Table:
    """One file as an Arrow table with lower-case column names (text formats: ``f0``, ``f1``...)."""
    data = read_object(f.bucket, f.key)
    if f.key.endswith(".gz"):
        data = gzip.decompress(data)
    fmt = table.data_format
    try:
        if fmt == "parquet":
            t = pq.ParquetFile(pa.BufferReader(data), pre_buffer=False).read(use_threads=False)
        elif fmt in ("text", "csv"):
            if not data:
                return pa.table({})
            if fmt == "csv" and _holds_quote_or_escape(data, table):
                t = _read_open_csv(data, table, f)
            else:
                ragged: list[int] = []
                try:
                    t = pacsv.read_csv(io.BytesIO(data), *_text_options(table, ragged))
                except pa.ArrowInvalid as exc:
                    if "Empty CSV file" not in str(exc):  # no line after skip.header.line.count
                        raise
                    ragged.append(1)
                if ragged or _has_blank_line(data):
                    t = _read_open_csv(data, table, f) if fmt == "csv" else _read_ragged(data, table)
        elif fmt == "json":
            if not data.strip():
                return pa.table({})
            t = pajson.read_json(io.BytesIO(data))
        else:
            raise coded(
                "NOT_SUPPORTED", f"Reading {fmt.upper()} data is not emulated by the sandbox (table {table.qualified})"
            )
    except QueryError:
        raise
    except Exception as exc:
        raise coded("HIVE_BAD_DATA", f"Error reading file {f.uri} as {fmt}: {exc}") from exc
    return t.rename_columns([c.lower() for c in t.column_names])


def _cached_decode(table: TableInfo, f: S3File) -> pa.Table:
    key = (
        f.bucket,
        f.key,
        f.etag,
        table.data_format,
        table.data_format != "parquet"
        and repr((_serde_properties(table), table.parameters.get("skip.header.line.count"))),
    )
    hit = _files.get(key)
    if hit is None:
        hit = _decode(table, f)
        _files.put(key, hit)
    return hit


def table_files(table: TableInfo) -> list[tuple[S3File, list[str | None]]]:
    """(file, partition values) for every file the table reads: registered partitions only."""
    listing = _Listing()
    if not table.partition_keys:
        if not table.location:
            return []
        return [(f, []) for f in listing.data_files(table.location)]
    out: list[tuple[S3File, list[str | None]]] = []
    for part in table.partitions:
        values: list[Any] = part.values  # read only: shared by the partition's files, not copied
        if HIVE_DEFAULT_PARTITION in values:
            values = [None if v == HIVE_DEFAULT_PARTITION else v for v in values]
        try:
            files = listing.data_files(part.location)
        except QueryError:
            files = []
        out.extend((f, values) for f in files)
    return out


def decode_all(table: TableInfo, files: list[S3File]) -> list[pa.Table]:
    """Decode files (cached). Small files decode faster serially than across GIL-bound threads."""
    return [_cached_decode(table, f) for f in files]


def warm(table: TableInfo) -> None:
    """Load the table into the caches now, so the next query over it starts from Arrow.

    A file that does not decode is left for the query that reads it to report.
    """
    if table.data_format not in ("parquet", "text", "csv", "json"):
        return
    try:
        load(table)
    except QueryError:
        for f, _ in table_files(table):
            try:
                _cached_decode(table, f)
            except QueryError:
                continue


def _project(t: pa.Table, names: list[str], positional: bool) -> pa.Table:
    n = t.num_rows
    if positional:
        cols = t.columns
        arrays = [cols[i] if i < len(cols) else pa.nulls(n, pa.string()) for i in range(len(names))]
        return pa.table(arrays, names=names)
    if t.column_names == names:
        return t
    have = {c: i for i, c in enumerate(t.column_names)}
    arrays = [t.column(have[c]) if c in have else pa.nulls(n) for c in names]
    return pa.table(arrays, names=names)


def _concat(parts: list[pa.Table], names: list[str]) -> pa.Table:
    if not parts:
        return pa.table([pa.array([], pa.string()) for _ in names], names=names)
    try:
        return pa.concat_tables(parts, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        # Files disagree on a column's type: read it as text and let the declared CAST decide.
        strs = []
        for p in parts:
            arrays = []
            for col in p.columns:
                arrays.append(col if pa.types.is_string(col.type) else col.cast(pa.string(), safe=False))
            strs.append(pa.table(arrays, names=p.column_names))
        return pa.concat_tables(strs, promote_options="permissive")


def _signature(table: TableInfo, files: list[tuple[S3File, list[str | None]]]) -> tuple[Any, ...]:
    return (
        table.qualified,
        tuple(table.columns),
        tuple(table.partition_keys),
        table.data_format,
        repr(table.serde_params),
        tuple((f.bucket, f.key, f.etag, tuple(v)) for f, v in files),
    )


def load(table: TableInfo) -> tuple[pa.Table, int]:
    """The table's rows as Arrow (data columns, then partition columns as text) and bytes scanned."""
    files = table_files(table)
    scanned = sum(f.size for f, _ in files)
    sig = _signature(table, files)
    hit = _assembled.get(sig)
    if hit is not None:
        return hit, scanned
    return _assemble(table, files, sig), scanned


def _assemble(
    table: TableInfo, files: list[tuple[S3File, list[str | None]]], sig: tuple[Any, ...]
) -> pa.Table:
    pkeys = [k for k, _ in table.partition_keys]
    names = [c for c, _ in table.columns if c not in pkeys]
    decoded = decode_all(table, [f for f, _ in files])
    positional = table.data_format in ("text", "csv")
    parts = []
    values_per_key: list[list[str | None]] = [[] for _ in pkeys]
    for t, (_, values) in zip(decoded, files, strict=False):
        if t.num_rows == 0:
            continue
        parts.append(_project(t, names, positional))
        for i, v in enumerate(values):
            values_per_key[i].extend([v] * t.num_rows)
    data = _concat(parts, names)
    for key, vals in zip(pkeys, values_per_key, strict=False):
        data = data.append_column(key, pa.array(vals, pa.string()))
    data = data.combine_chunks()
    _assembled.put(sig, data)
    return data


# --------------------------------------------------------------------------- bulk (spilled) Parquet
#
# A cold Parquet table is not decoded file by file in Python: its objects' bytes are written once
# to a local spill folder (one file per (bucket, key, ETag), so a changed object is spilled anew)
# and DuckDB reads them all in one ``read_parquet`` call, with its own threads and only the
# columns the query needs. Partition values are those of the registered partitions (text, as Glue
# holds them): the copies sit under ``key=value/`` folders DuckDB reads back as text (and prunes on)
# when every value is a plain word, else the values come from a small per-file table joined on
# DuckDB's ``file_index``.

_spill_lock = threading.Lock()
_spilled: dict[str, str] = {}  # local spill path -> s3:// URI it copies
_spill_roots: set[str] = set()


@dataclass
class Spill:
    """A cold Parquet table as local files for DuckDB, and its registered partitions."""

    paths: list[str]
    #: per file, in ``paths`` order: the partition keys as text; None when there are none to join
    parts: pa.Table | None
    #: the files sit under ``key=value/`` folders for these partition keys (values kept as text)
    hive: list[str] = field(default_factory=list)


def _spill_root() -> str:
    try:
        base = str(runtime.data_dir())
    except KeyError:  # the engine used outside a configured sandbox
        base = tempfile.gettempdir()
    return os.path.join(base, "athena-spill")


def cached(table: TableInfo) -> tuple[pa.Table | Spill, int]:
    """The table as decoded Arrow when cached (or not Parquet), else as spilled Parquet files."""
    files = table_files(table)
    scanned = sum(f.size for f, _ in files)
    sig = _signature(table, files)
    hit = _assembled.get(sig)
    if hit is not None:
        return hit, scanned
    if table.data_format != "parquet" or not files or any(f.key.endswith(".gz") for f, _ in files):
        return _assemble(table, files, sig), scanned
    return _spill(table, files), scanned


def _write_copy(path: str, data: bytes) -> None:
    """One spilled copy; its folder is made when missing (a partition's folder is shared by its tables)."""
    try:
        out = open(path, "wb")
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        out = open(path, "wb")
    with out:
        out.write(data)


def _spilled_before(path: str, size: int) -> bool:
    """A complete spill of the same (bucket, key, ETag) left by an earlier cache generation."""
    try:
        return os.stat(path).st_size == size
    except OSError:
        return False


_SAFE_KEY = re.compile(r"[a-z_][a-z0-9_]*\Z")
_SAFE_VALUE = re.compile(r"[A-Za-z0-9_.-]+\Z")


def _hive_folders(
    table: TableInfo, files: list[tuple[S3File, list[str | None]]]
) -> dict[tuple[str | None, ...], str] | None:
    """Per partition, the ``key=value`` folders DuckDB reads its values back from as they are; None
    when a value cannot be a plain folder name."""
    if not table.partition_keys or not all(_SAFE_KEY.match(k) for k, _ in table.partition_keys):
        return None
    keys = [k for k, _ in table.partition_keys]
    folders: dict[tuple[str | None, ...], str] = {}
    for _, values in files:
        part = tuple(values)
        if part in folders:
            continue
        if not all(v is not None and _SAFE_VALUE.match(v) and v.upper() != "NULL" for v in values):
            return None
        folders[part] = os.sep.join(f"{k}={v}" for k, v in zip(keys, values, strict=True))
    return folders


def _spill(table: TableInfo, files: list[tuple[S3File, list[str | None]]]) -> Spill:
    root = _spill_root()
    hive = _hive_folders(table, files)
    paths = []
    with _spill_lock:  # one writer at a time: a file in the index is complete
        if root not in _spill_roots:
            os.makedirs(root, exist_ok=True)
            _spill_roots.add(root)
        for f, values in files:
            name = hashlib.blake2b(f"{f.bucket}\0{f.key}\0{f.etag}".encode(), digest_size=16).hexdigest()
            folder = root if hive is None else f"{root}{os.sep}{hive[tuple(values)]}"
            path = f"{folder}{os.sep}{name}.parquet"
            paths.append(path)
            if path not in _spilled:
                if not _spilled_before(path, f.size):
                    _write_copy(path, read_object(f.bucket, f.key))
                _spilled[path] = f.uri
    keys = [k for k, _ in table.partition_keys]
    parts = None
    if keys and hive is None:
        parts = pa.table(
            {k: pa.array([values[i] for _, values in files], pa.string()) for i, k in enumerate(keys)}
        )
    return Spill(paths, parts, [] if hive is None else keys)


_SPILLED_PATH = re.compile(r"[^\s\"']*[0-9a-f]{32}\.parquet")


def spill_error(message: str) -> QueryError | None:
    """A DuckDB failure on a spilled file as Athena reports an unreadable file, else None."""
    m = _SPILLED_PATH.search(message)
    if m is None:
        return None
    with _spill_lock:
        uri = _spilled.get(m.group(0), "")
    if not uri:
        return None
    text = message.replace(m.group(0), uri).strip().splitlines()[0]
    return coded("HIVE_BAD_DATA", f"Error reading file {uri} as parquet: {text}")


def parquet_bytes(t: pa.Table, compression: str = "snappy") -> bytes:
    buf = io.BytesIO()
    pq.write_table(
        t, buf, compression=None if compression.lower() in ("none", "uncompressed") else compression
    )
    return buf.getvalue()
