"""Type names as Glue writes them (catalog columns, ApplyMapping, ResolveChoice) -> Spark types."""

from __future__ import annotations

import re
from typing import Any

from pyspark.sql import types as T

_SIMPLE: dict[str, T.DataType] = {
    "string": T.StringType(), "long": T.LongType(), "bigint": T.LongType(), "int": T.IntegerType(),
    "integer": T.IntegerType(), "short": T.ShortType(), "smallint": T.ShortType(), "byte": T.ByteType(),
    "tinyint": T.ByteType(), "double": T.DoubleType(), "float": T.FloatType(), "real": T.FloatType(),
    "boolean": T.BooleanType(), "date": T.DateType(), "timestamp": T.TimestampType(),
    "binary": T.BinaryType(), "null": T.NullType(),
    # Glue's DecimalType() defaults to precision 10, scale 2.
    "decimal": T.DecimalType(10, 2),
}
_TEXT = re.compile(r"\s*(char|varchar)\s*\(\s*\d+\s*\)\s*", re.I)
_DECIMAL = re.compile(r"\s*decimal\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)\s*", re.I)


def spark_type(name: str) -> T.DataType:
    """A Spark type for a Glue/Hive type name: ``long``, ``bigint``, ``decimal(12,2)``, ``array<string>``."""
    key = name.strip().lower()
    if key in _SIMPLE:
        return _SIMPLE[key]
    if _TEXT.fullmatch(key):
        return T.StringType()
    dec = _DECIMAL.fullmatch(key)
    if dec:
        return T.DecimalType(int(dec.group(1)), int(dec.group(2) or 0))
    if key.startswith(("array<", "map<", "struct<")):
        from pyspark.sql.types import _parse_datatype_string

        return _replace_text_types(_parse_datatype_string(_TEXT.sub("string", name)))
    raise ValueError(f"Unknown type name {name!r}")


def _replace_text_types(dtype: Any) -> T.DataType:
    if isinstance(dtype, (T.CharType, T.VarcharType)):
        return T.StringType()
    if isinstance(dtype, T.ArrayType):
        return T.ArrayType(_replace_text_types(dtype.elementType), dtype.containsNull)
    if isinstance(dtype, T.MapType):
        return T.MapType(_replace_text_types(dtype.keyType), _replace_text_types(dtype.valueType),
                         dtype.valueContainsNull)
    if isinstance(dtype, T.StructType):
        return T.StructType([T.StructField(f.name, _replace_text_types(f.dataType), f.nullable) for f in dtype])
    return dtype


def glue_name(dtype: T.DataType) -> str:
    """Glue's name for a Spark type, as DynamicFrame.printSchema shows it (``long``, ``int``, ``string``)."""
    names = {T.LongType: "long", T.IntegerType: "int", T.ShortType: "short", T.ByteType: "byte",
             T.StringType: "string", T.DoubleType: "double", T.FloatType: "float", T.BooleanType: "boolean",
             T.DateType: "date", T.TimestampType: "timestamp", T.BinaryType: "binary", T.NullType: "null",
             T.TimestampNTZType: "timestamp"}
    for cls, label in names.items():
        if type(dtype) is cls:
            return label
    if isinstance(dtype, T.DecimalType):
        return f"decimal({dtype.precision},{dtype.scale})"
    if isinstance(dtype, T.ArrayType):
        return "array"
    if isinstance(dtype, T.MapType):
        return "map"
    if isinstance(dtype, T.StructType):
        return "struct"
    return dtype.simpleString()
