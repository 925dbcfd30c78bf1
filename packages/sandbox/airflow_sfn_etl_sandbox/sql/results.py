"""Athena's result files: values rendered as Trino prints them, CSV with every value quoted.

A SELECT result is ``<id>.csv``: a header row, then one row per result row; every value is
double-quoted and NULL is an empty unquoted field (which is how GetQueryResults tells NULL from
an empty string). DDL and SHOW output is ``<id>.txt``: one line per row, fields separated by tabs.
"""

from __future__ import annotations

import datetime
import decimal
from typing import Any

from .types import athena_result_type


def render(value: Any) -> str | None:
    """A Python value as Athena's text for it (``true``, ``1.0E7``, ``2016-01-31 00:00:00.000``)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _double(value)
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return " ".join(f"{b:02x}" for b in value)
    if isinstance(value, list):
        return "[" + ", ".join("null" if v is None else str(render(v)) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"{render(k)}={'null' if v is None else render(v)}" for k, v in value.items())
            + "}"
        )
    if isinstance(value, datetime.timedelta):
        total = value.total_seconds()
        days, rest = divmod(abs(total), 86400)
        h, rest = divmod(rest, 3600)
        m, s = divmod(rest, 60)
        return f"{'-' if total < 0 else ''}{int(days)} {int(h):02d}:{int(m):02d}:{s:06.3f}"
    return str(value)


def _double(v: float) -> str:
    """Java's ``Double.toString``: plain between 1e-3 and 1e7, else ``d.dddE<n>``."""
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "Infinity" if v > 0 else "-Infinity"
    if v == 0 or 1e-3 <= abs(v) < 1e7:
        return repr(v)
    sign, digits, exponent = decimal.Decimal(repr(v)).normalize().as_tuple()
    text = "".join(map(str, digits))
    power = len(text) - 1 + int(exponent)
    mantissa = text[0] + "." + (text[1:] or "0")
    return f"{'-' if sign else ''}{mantissa}E{power}"


def _quote(text: str | None) -> str:
    return "" if text is None else '"' + text.replace('"', '""') + '"'


def to_csv(names: list[str], rows: list[list[Any]]) -> bytes:
    lines = [",".join(_quote(n) for n in names)]
    lines.extend(",".join(_quote(render(v)) for v in row) for row in rows)
    return ("\n".join(lines) + "\n").encode()


def to_txt(rows: list[list[Any]]) -> bytes:
    return "".join("\t".join(render(v) or "" for v in row) + "\n" for row in rows).encode()


def parse_csv(data: bytes) -> list[list[str | None]]:
    """Rows of an Athena result CSV; an unquoted empty field is None (NULL)."""
    text = data.decode()
    rows: list[list[str | None]] = []
    row: list[str | None] = []
    i, n = 0, len(text)
    if n == 0:
        return rows
    while True:
        if i < n and text[i] == '"':
            j, parts = i + 1, []
            while True:
                k = text.find('"', j)
                if k == -1:
                    raise ValueError("unterminated quoted field in result CSV")
                if k + 1 < n and text[k + 1] == '"':
                    parts.append(text[j : k + 1])
                    j = k + 2
                    continue
                parts.append(text[j:k])
                i = k + 1
                break
            row.append("".join(parts))
        else:
            ends = [p for p in (text.find(",", i), text.find("\n", i)) if p != -1]
            k = min(ends) if ends else n
            row.append(text[i:k] or None)
            i = k
        if i >= n:
            rows.append(row)
            break
        if text[i] == ",":
            i += 1
            continue
        rows.append(row)
        row = []
        i += 1
        if i >= n:
            break
    return rows


def parse_txt(data: bytes) -> list[list[str | None]]:
    return [[field for field in line.split("\t")] for line in data.decode().split("\n") if line != ""]


def column_info(columns: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """``ResultSetMetadata.ColumnInfo`` for (name, DuckDB type) columns."""
    out = []
    for name, duck in columns:
        kind, precision, scale = athena_result_type(duck)
        out.append(
            {
                "CatalogName": "hive",
                "SchemaName": "",
                "TableName": "",
                "Name": name,
                "Label": name,
                "Type": kind,
                "Precision": precision,
                "Scale": scale,
                "Nullable": "UNKNOWN",
                "CaseSensitive": kind == "varchar",
            }
        )
    return out
