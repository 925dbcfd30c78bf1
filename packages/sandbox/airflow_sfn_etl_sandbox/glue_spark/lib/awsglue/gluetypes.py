"""Glue's schema types, as ``DynamicFrame.schema()`` returns them (converted from the Spark schema)."""

from __future__ import annotations

from typing import Any


class DataType:
    """Base of Glue's types; ``typeName()`` is Glue's name (``long``, ``string``, ``struct``...)."""

    _name = "data"

    def __init__(self, properties: dict[str, Any] | None = None) -> None:
        self.properties = dict(properties or {})

    @classmethod
    def typeName(cls) -> str:  # noqa: N802 (Glue's name)
        return cls._name

    def jsonValue(self) -> dict[str, Any]:  # noqa: N802
        return {"dataType": self.typeName(), "properties": self.properties}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, self.__class__) and self.jsonValue() == other.jsonValue()

    def __hash__(self) -> int:
        return hash(repr(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.properties or ''})"


class AtomicType(DataType):
    pass


def _atomic(class_name: str, glue_name: str) -> type[AtomicType]:
    return type(class_name, (AtomicType,), {"_name": glue_name})


BinaryType = _atomic("BinaryType", "binary")
BooleanType = _atomic("BooleanType", "boolean")
ByteType = _atomic("ByteType", "byte")
DateType = _atomic("DateType", "date")
DoubleType = _atomic("DoubleType", "double")
FloatType = _atomic("FloatType", "float")
IntegerType = _atomic("IntegerType", "int")
LongType = _atomic("LongType", "long")
NullType = _atomic("NullType", "null")
ShortType = _atomic("ShortType", "short")
StringType = _atomic("StringType", "string")
TimestampType = _atomic("TimestampType", "timestamp")


class DecimalType(AtomicType):
    _name = "decimal"

    def __init__(self, precision: int = 10, scale: int = 2, properties: dict[str, Any] | None = None) -> None:
        super().__init__(properties)
        self.precision, self.scale = precision, scale

    def jsonValue(self) -> dict[str, Any]:  # noqa: N802
        return {**super().jsonValue(), "precision": self.precision, "scale": self.scale}

    def __repr__(self) -> str:
        return f"DecimalType({self.precision}, {self.scale})"


class ArrayType(DataType):
    _name = "array"

    def __init__(self, elementType: DataType, properties: dict[str, Any] | None = None) -> None:  # noqa: N803
        super().__init__(properties)
        self.elementType = elementType

    def jsonValue(self) -> dict[str, Any]:  # noqa: N802
        return {**super().jsonValue(), "elementType": self.elementType.jsonValue()}

    def __repr__(self) -> str:
        return f"ArrayType({self.elementType!r})"


class MapType(DataType):
    _name = "map"

    def __init__(self, valueType: DataType, properties: dict[str, Any] | None = None) -> None:  # noqa: N803
        super().__init__(properties)
        self.valueType = valueType

    def jsonValue(self) -> dict[str, Any]:  # noqa: N802
        return {**super().jsonValue(), "valueType": self.valueType.jsonValue()}

    def __repr__(self) -> str:
        return f"MapType({self.valueType!r})"


class Field:
    def __init__(self, name: str, dataType: DataType, properties: dict[str, Any] | None = None) -> None:  # noqa: N803
        self.name, self.dataType, self.properties = name, dataType, dict(properties or {})

    def jsonValue(self) -> dict[str, Any]:  # noqa: N802
        return {"name": self.name, "container": self.dataType.jsonValue(), "properties": self.properties}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Field) and self.jsonValue() == other.jsonValue()

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"Field({self.name}, {self.dataType!r})"


class StructType(DataType):
    _name = "struct"

    def __init__(self, fields: list[Field] | None = None, properties: dict[str, Any] | None = None) -> None:
        super().__init__(properties)
        self.fields = list(fields or [])
        self.field_map = {f.name: f for f in self.fields}

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def getField(self, name: str) -> Field | None:  # noqa: N802
        return self.field_map.get(name)

    def hasField(self, field: str | Field) -> bool:  # noqa: N802
        return (field.name if isinstance(field, Field) else field) in self.field_map

    def jsonValue(self) -> dict[str, Any]:  # noqa: N802
        return {**super().jsonValue(), "fields": [f.jsonValue() for f in self.fields]}

    def __repr__(self) -> str:
        return f"StructType([{', '.join(repr(f) for f in self.fields)}])"


def from_spark(dtype: Any) -> DataType:
    """The Glue type for a Spark SQL type."""
    from pyspark.sql import types as T

    simple = {T.BinaryType: BinaryType, T.BooleanType: BooleanType, T.ByteType: ByteType, T.DateType: DateType,
              T.DoubleType: DoubleType, T.FloatType: FloatType, T.IntegerType: IntegerType, T.LongType: LongType,
              T.NullType: NullType, T.ShortType: ShortType, T.StringType: StringType,
              T.TimestampType: TimestampType, T.TimestampNTZType: TimestampType}
    for spark_cls, glue_cls in simple.items():
        if type(dtype) is spark_cls:
            return glue_cls()
    if isinstance(dtype, T.DecimalType):
        return DecimalType(dtype.precision, dtype.scale)
    if isinstance(dtype, T.ArrayType):
        return ArrayType(from_spark(dtype.elementType))
    if isinstance(dtype, T.MapType):
        return MapType(from_spark(dtype.valueType))
    if isinstance(dtype, T.StructType):
        return StructType([Field(f.name, from_spark(f.dataType)) for f in dtype.fields])
    raise NotImplementedError(f"Spark type {dtype.simpleString()} has no Glue counterpart in the sandbox")
