"""Schema inference shared by the crawler and DataBrew: CSV (Glue's CSV classifier), JSON, Parquet.

The Glue side answers Hive type names (``bigint``, ``double``, ``boolean``, ``string``,
``struct<...>``); the DataBrew side turns all-string Arrow columns into typed columns.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

#: How much of each object the crawler reads to classify it (Glue samples the head of a file).
SAMPLE_BYTES = 1024 * 1024
CSV_DELIMITERS = (",", "|", "\t", ";", "\x01")

_INT_RE = re.compile(r"^[+-]?\d+$")
_FLOAT_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_BOOL_VALUES = {"true", "false"}
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

#: Hive type precedence when the same column has different types in different files.
_WIDEN = {("bigint", "double"): "double", ("double", "bigint"): "double"}

PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
LAZY_SIMPLE_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
OPEN_CSV_SERDE = "org.apache.hadoop.hive.serde2.OpenCSVSerde"
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"


class UnreadableData(ValueError):
    """An object the classifiers cannot read (corrupt Parquet, binary data, a one-column text)."""


@dataclass
class FileSchema:
    """What a classifier learnt from one object."""

    classification: str  #: csv | json | parquet
    columns: list[tuple[str, str]]  #: (name, Hive type)
    header: bool = False
    delimiter: str = ","
    quoted: bool = False
    compression: str = "none"
    record_count: int = 0
    size: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- Glue classifiers


def glue_value_type(value: str) -> str | None:
    """The Hive type Glue's CSV classifier gives one non-empty cell (None for an empty cell)."""
    text = value.strip()
    if not text:
        return None
    if text.lower() in _BOOL_VALUES:
        return "boolean"
    if _INT_RE.match(text):
        return "bigint" if _INT64_MIN <= int(text) <= _INT64_MAX else "double"
    if _FLOAT_RE.match(text):
        return "double"
    return "string"


def merge_type(a: str | None, b: str | None) -> str | None:
    """The narrowest Hive type holding values of types ``a`` and ``b``."""
    if a is None:
        return b
    if b is None or a == b:
        return a
    return _WIDEN.get((a, b), "string")


def _column_types(rows: list[list[str]], width: int) -> list[str | None]:
    types: list[str | None] = [None] * width
    for row in rows:
        for i in range(width):
            cell = row[i] if i < len(row) else ""
            types[i] = merge_type(types[i], glue_value_type(cell))
    return types


def _decompress(key: str, data: bytes) -> tuple[bytes, str]:
    if key.endswith(".gz") or data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data), "gzip"
        except (OSError, EOFError) as exc:
            raise UnreadableData(f"{key}: not a readable gzip stream ({exc})") from exc
    return data, "none"


def _sample_text(key: str, data: bytes) -> tuple[str, bool]:
    """The head of an object as text, and whether it was truncated."""
    head = data[:SAMPLE_BYTES]
    truncated = len(data) > SAMPLE_BYTES
    if b"\x00" in head:
        raise UnreadableData(f"{key}: binary data that no built-in classifier recognises")
    try:
        text = head.decode("utf-8-sig")  # a byte order mark is no part of the first column's name
    except UnicodeDecodeError:
        text = head.decode("latin-1")
    if truncated and "\n" in text:
        text = text[: text.rindex("\n")]
    return text, truncated


def _sniff_delimiter(lines: list[str]) -> str | None:
    """The delimiter that splits every sample line into the same number (>= 2) of fields."""
    best: tuple[int, str] | None = None
    for delim in CSV_DELIMITERS:
        widths = {len(r) for r in csv.reader(lines, delimiter=delim)}
        if len(widths) == 1:
            width = widths.pop()
            if width >= 2 and (best is None or width > best[0]):
                best = (width, delim)
    return best[1] if best else None


def classify_csv(key: str, text: str) -> FileSchema:
    """Glue's built-in CSV classifier on the text of one object.

    The first row is a header when every cell is a non-empty, unique, non-numeric string and
    at least one column of the remaining rows types as something other than string.
    """
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) < 2:
        raise UnreadableData(f"{key}: fewer than two rows; the CSV classifier needs at least two")
    delim = _sniff_delimiter(lines[:200])
    if delim is None:
        raise UnreadableData(f"{key}: not delimited text (no delimiter of {CSV_DELIMITERS!r} "
                             "splits every row into the same number of columns >= 2)")
    rows = list(csv.reader(lines, delimiter=delim))
    width = len(rows[0])
    first, rest = rows[0], rows[1:]
    data_types = _column_types(rest, width)
    head_ok = (all(c.strip() and glue_value_type(c) == "string" for c in first)
               and len({c.strip().lower() for c in first}) == width)
    header = head_ok and any(t not in (None, "string") for t in data_types)
    if header:
        names = [c.strip().lower() for c in first]
        types = data_types
        data_rows = rest
    else:
        names = [f"col{i}" for i in range(width)]
        types = _column_types(rows, width)
        data_rows = rows
    quoted = '"' in text
    columns = [(n, t or "string") for n, t in zip(names, types, strict=True)]
    return FileSchema("csv", columns, header=header, delimiter=delim, quoted=quoted,
                      record_count=len(data_rows))


def _json_type(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "bigint" if _INT64_MIN <= value <= _INT64_MAX else "double"
    if isinstance(value, float):
        return "double"
    if isinstance(value, dict):
        inner = ",".join(f"{k.lower()}:{_json_type(v) or 'string'}" for k, v in value.items())
        return f"struct<{inner}>"
    if isinstance(value, list):
        item: str | None = None
        for v in value:
            item = merge_type(item, _json_type(v))
        return f"array<{item or 'string'}>"
    return "string"


def classify_json(key: str, text: str) -> FileSchema:
    """Glue's JSON classifier on JSON-lines text (or one JSON array of objects)."""
    stripped = text.strip()
    records: list[dict[str, Any]] = []
    try:
        if stripped.startswith("["):
            loaded = json.loads(stripped)
            records = [r for r in loaded if isinstance(r, dict)]
        else:
            records = [json.loads(ln) for ln in stripped.splitlines() if ln.strip()]
    except ValueError as exc:
        raise UnreadableData(f"{key}: not valid JSON ({exc})") from exc
    if not records or not all(isinstance(r, dict) for r in records):
        raise UnreadableData(f"{key}: JSON data without records (objects)")
    types: dict[str, str | None] = {}
    for record in records:
        for k, v in record.items():
            name = k.lower()
            types[name] = merge_type(types.get(name), _json_type(v))
    return FileSchema("json", [(k, t or "string") for k, t in types.items()],
                      record_count=len(records))


def hive_type(dtype: pa.DataType) -> str:
    """The Hive/Glue type name of an Arrow type."""
    if pa.types.is_boolean(dtype):
        return "boolean"
    if pa.types.is_int8(dtype) or pa.types.is_uint8(dtype):
        return "tinyint"
    if pa.types.is_int16(dtype) or pa.types.is_uint16(dtype):
        return "smallint"
    if pa.types.is_int32(dtype) or pa.types.is_uint32(dtype):
        return "int"
    if pa.types.is_integer(dtype):
        return "bigint"
    if pa.types.is_float16(dtype) or pa.types.is_float32(dtype):
        return "float"
    if pa.types.is_floating(dtype):
        return "double"
    if pa.types.is_decimal(dtype):
        return f"decimal({dtype.precision},{dtype.scale})"
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return "string"
    if pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype) or pa.types.is_fixed_size_binary(dtype):
        return "binary"
    if pa.types.is_timestamp(dtype):
        return "timestamp"
    if pa.types.is_date(dtype):
        return "date"
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        return f"array<{hive_type(dtype.value_type)}>"
    if pa.types.is_map(dtype):
        return f"map<{hive_type(dtype.key_type)},{hive_type(dtype.item_type)}>"
    if pa.types.is_struct(dtype):
        inner = ",".join(f"{dtype.field(i).name}:{hive_type(dtype.field(i).type)}"
                         for i in range(dtype.num_fields))
        return f"struct<{inner}>"
    return "string"


def classify_parquet(key: str, data: bytes) -> FileSchema:
    """Column names and Hive types from a Parquet file's footer."""
    if data[:4] != b"PAR1" or data[-4:] != b"PAR1":
        raise UnreadableData(f"{key}: not a Parquet file (missing the PAR1 magic bytes)")
    try:
        meta = pq.ParquetFile(io.BytesIO(data)).metadata
        schema = meta.schema.to_arrow_schema()
    except Exception as exc:  # pyarrow raises several error types for corrupt footers
        raise UnreadableData(f"{key}: corrupt Parquet file ({exc})") from exc
    codec = "none"
    if meta.num_row_groups and meta.row_group(0).num_columns:
        codec = meta.row_group(0).column(0).compression.lower()
    return FileSchema("parquet", [(f.name.lower(), hive_type(f.type)) for f in schema],
                      record_count=meta.num_rows, compression=codec)


def classify(key: str, data: bytes) -> FileSchema:
    """Classify one S3 object as Glue's built-in classifiers would (Parquet, JSON, CSV)."""
    if data[:4] == b"PAR1" or key.lower().endswith(".parquet"):
        schema = classify_parquet(key, data)
    else:
        raw, compression = _decompress(key, data)
        text, _ = _sample_text(key, raw)
        if not text.strip():
            raise UnreadableData(f"{key}: empty object")
        if text.lstrip()[:1] in ("{", "["):
            schema = classify_json(key, text)
        else:
            schema = classify_csv(key, text)
        schema.compression = compression
        if len(raw) > SAMPLE_BYTES and schema.record_count:
            schema.record_count = int(schema.record_count * len(raw) / SAMPLE_BYTES)
    schema.size = len(data)
    return schema


def merge_schemas(schemas: list[FileSchema]) -> FileSchema:
    """One table schema from the schemas of its files: columns by name (in the order first seen), types
    widened. Files that list the same columns in another order give the same columns, not mixed ones."""
    first = schemas[0]
    types: dict[str, str | None] = {}
    for schema in schemas:
        for name, typ in schema.columns:
            types[name] = merge_type(types[name], typ) if name in types else typ
    merged = FileSchema(first.classification, [(n, t or "string") for n, t in types.items()],
                        header=any(s.header for s in schemas), delimiter=first.delimiter,
                        quoted=any(s.quoted for s in schemas), compression=first.compression,
                        extra=dict(first.extra))
    merged.record_count = sum(s.record_count for s in schemas)
    merged.size = sum(s.size for s in schemas)
    return merged


def storage_format(schema: FileSchema) -> dict[str, Any]:
    """InputFormat, OutputFormat and SerdeInfo for a classified table."""
    if schema.classification == "parquet":
        return {"InputFormat": PARQUET_INPUT, "OutputFormat": PARQUET_OUTPUT,
                "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE,
                              "Parameters": {"serialization.format": "1"}}}
    if schema.classification == "json":
        return {"InputFormat": TEXT_INPUT, "OutputFormat": TEXT_OUTPUT,
                "SerdeInfo": {"SerializationLibrary": JSON_SERDE, "Parameters": {"paths": ",".join(
                    n for n, _ in schema.columns)}}}
    if schema.quoted:
        return {"InputFormat": TEXT_INPUT, "OutputFormat": TEXT_OUTPUT,
                "SerdeInfo": {"SerializationLibrary": OPEN_CSV_SERDE,
                              "Parameters": {"separatorChar": schema.delimiter, "quoteChar": '"'}}}
    return {"InputFormat": TEXT_INPUT, "OutputFormat": TEXT_OUTPUT,
            "SerdeInfo": {"SerializationLibrary": LAZY_SIMPLE_SERDE,
                          "Parameters": {"field.delim": schema.delimiter}}}


# --------------------------------------------------------------------------- DataBrew typing


def read_csv_as_strings(data: bytes, *, delimiter: str = ",", header: bool = True) -> pa.Table:
    """A CSV object as an Arrow table of string columns (empty cells are null)."""
    import pyarrow.csv as pacsv

    raw, _ = _decompress("", data)
    first_line = raw.split(b"\n", 1)[0].decode("utf-8-sig").rstrip("\r")
    cells = next(csv.reader([first_line], delimiter=delimiter), [])
    if header:
        names = _unique_names(cells)
        skip = 1
    else:
        names = [f"Column_{i + 1}" for i in range(len(cells))]
        skip = 0
    if not names:
        raise UnreadableData("CSV data without columns")
    return pacsv.read_csv(
        io.BytesIO(raw),
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=skip),
        parse_options=pacsv.ParseOptions(delimiter=delimiter),
        convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                             strings_can_be_null=True, null_values=[""]),
    )


def _unique_names(cells: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, cell in enumerate(cells):
        name = cell if cell != "" else f"Column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


def infer_string_column(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """DataBrew's type detection on a string column: int, bigint, double, boolean, else string."""
    values = pc.drop_null(col)
    if len(values) == 0:
        return col
    trimmed = pc.utf8_trim_whitespace(values)
    if pc.all(pc.match_substring_regex(trimmed, r"^[+-]?\d{1,18}$")).as_py():
        as_int = pc.cast(pc.utf8_trim_whitespace(col), pa.int64())
        lo, hi = pc.min(as_int).as_py(), pc.max(as_int).as_py()
        if -(2**31) <= lo and hi < 2**31:
            return pc.cast(as_int, pa.int32())
        return as_int
    if pc.all(pc.match_substring_regex(trimmed, _FLOAT_RE.pattern)).as_py():
        return pc.cast(pc.utf8_trim_whitespace(col), pa.float64())
    lowered = pc.utf8_lower(trimmed)
    if pc.all(pc.is_in(lowered, pa.array(["true", "false"]))).as_py():
        return pc.equal(pc.utf8_lower(pc.utf8_trim_whitespace(col)), "true")
    return col


def infer_table(table: pa.Table) -> pa.Table:
    """Type every string column of ``table`` as DataBrew's CSV reader does."""
    columns = []
    for name in table.column_names:
        col = table.column(name)
        columns.append(infer_string_column(col) if pa.types.is_string(col.type) else col)
    return pa.table(columns, names=table.column_names)
