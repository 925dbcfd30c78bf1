"""Type mapping between the Glue/Hive catalog, DuckDB, and Athena's result metadata."""

from __future__ import annotations

import re
from functools import lru_cache

from sqlglot import exp

from .errors import QueryError

_HIVE_SIMPLE = {
    "string": "VARCHAR",
    "varchar": "VARCHAR",
    "char": "VARCHAR",
    "int": "INTEGER",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "real": "FLOAT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "binary": "BLOB",
}

_DUCK_SIMPLE = {
    "VARCHAR": "string",
    "INTEGER": "int",
    "BIGINT": "bigint",
    "HUGEINT": "bigint",
    "SMALLINT": "smallint",
    "TINYINT": "tinyint",
    "DOUBLE": "double",
    "FLOAT": "float",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_S": "timestamp",
    "BLOB": "binary",
    "UINTEGER": "bigint",
    "USMALLINT": "int",
    "UTINYINT": "smallint",
    "UBIGINT": "decimal(20,0)",
}

#: DuckDB type -> (Athena result type, precision, scale).
_ATHENA_RESULT = {
    "VARCHAR": ("varchar", 2147483647, 0),
    "INTEGER": ("integer", 10, 0),
    "BIGINT": ("bigint", 19, 0),
    "HUGEINT": ("bigint", 19, 0),
    "SMALLINT": ("smallint", 5, 0),
    "TINYINT": ("tinyint", 3, 0),
    "DOUBLE": ("double", 17, 0),
    "FLOAT": ("real", 17, 0),
    "BOOLEAN": ("boolean", 0, 0),
    "DATE": ("date", 0, 0),
    "TIMESTAMP": ("timestamp", 3, 0),
    "TIMESTAMP WITH TIME ZONE": ("timestamp with time zone", 3, 0),
    "BLOB": ("varbinary", 1048576, 0),
    "INTERVAL": ("interval day to second", 0, 0),
    "TIME": ("time", 3, 0),
    '"NULL"': ("unknown", 0, 0),
    "NULL": ("unknown", 0, 0),
}


@lru_cache(maxsize=512)
def hive_to_duckdb(hive_type: str) -> str:
    """A Glue/Hive column type (``decimal(10,2)``, ``array<string>``) as a DuckDB type."""
    text = hive_type.strip().lower()
    base = re.sub(r"\(.*\)$", "", text).strip()
    if base in _HIVE_SIMPLE:
        return _HIVE_SIMPLE[base]
    if base == "decimal":
        m = re.match(r"decimal\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)", text)
        return f"DECIMAL({m.group(1)},{m.group(2) or 0})" if m else "DECIMAL(10,0)"
    try:
        return exp.DataType.build(text, dialect="hive").sql("duckdb")
    except Exception as exc:  # sqlglot raises several kinds of errors for bad types
        raise QueryError(f"line 1:1: Unknown type '{hive_type}'", "TYPE_NOT_FOUND") from exc


@lru_cache(maxsize=512)
def duckdb_to_hive(duck_type: str) -> str:
    """A DuckDB result type as the Glue/Hive type a CTAS table declares."""
    text = duck_type.strip().upper()
    if text in _DUCK_SIMPLE:
        return _DUCK_SIMPLE[text]
    m = re.match(r"DECIMAL\((\d+),\s*(\d+)\)", text)
    if m:
        return f"decimal({m.group(1)},{m.group(2)})"
    try:
        return exp.DataType.build(duck_type, dialect="duckdb").sql("hive").lower().replace(": ", ":")
    except Exception:
        return "string"


def athena_result_type(duck_type: str) -> tuple[str, int, int]:
    """(Athena ``ColumnInfo.Type``, Precision, Scale) for a DuckDB result type."""
    text = duck_type.strip().upper()
    if text in _ATHENA_RESULT:
        return _ATHENA_RESULT[text]
    m = re.match(r"DECIMAL\((\d+),\s*(\d+)\)", text)
    if m:
        return "decimal", int(m.group(1)), int(m.group(2))
    if text.endswith("]"):
        return "array", 0, 0
    if text.startswith("MAP"):
        return "map", 0, 0
    if text.startswith("STRUCT"):
        return "row", 0, 0
    if text.startswith("TIMESTAMP"):
        return "timestamp", 3, 0
    return "varchar", 2147483647, 0
