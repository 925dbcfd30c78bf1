"""Custom classifiers: CreateClassifier, GetClassifier(s), UpdateClassifier, DeleteClassifier (moto
has none of them), and the custom CSV classifier a crawl applies.

Definitions of every kind (``CsvClassifier``, ``GrokClassifier``, ``XMLClassifier``,
``JsonClassifier``) are kept and described as Glue describes them. A crawl runs the crawler's
``Classifiers`` in their order before the built-in ones, as Glue does: the first that recognises an
object gives its schema. Only CSV classifiers are emulated; a crawler that names another kind, or a
classifier that does not exist, fails its crawl saying so.

A CSV classifier recognises an object when each sample row splits with its ``Delimiter`` (and
``QuoteSymbol``) into the same number of columns, at least two (one with ``AllowSingleColumn``).
``ContainsHeader`` PRESENT takes the first row as the header, ABSENT as data, UNKNOWN decides as
the built-in classifier does; ``Header`` names the columns. Values are trimmed before their type is
inferred only with ``DisableValueTrimming`` false (the API documents true as its default).
``Serde`` picks the table's SerDe.
"""

from __future__ import annotations

import csv
import datetime as dt
import threading
from typing import Any

from ..aws import AwsError, Call, paged
from ..routes import route
from ..runs import RunFailed
from ..schema import (
    FileSchema,
    UnreadableData,
    _column_types,
    _decompress,
    _sample_text,
    glue_value_type,
    merge_type,
)

KINDS = ("CsvClassifier", "GrokClassifier", "XMLClassifier", "JsonClassifier")
_CSV_FIELDS = ("Delimiter", "QuoteSymbol", "ContainsHeader", "Header", "DisableValueTrimming", "AllowSingleColumn",
               "CustomDatatypeConfigured", "CustomDatatypes", "Serde")
_SERDES = {"OpenCSVSerDe": True, "LazySimpleSerDe": False}

_lock = threading.RLock()
#: (region, name) -> {kind: definition as GetClassifier describes it}
_CLASSIFIERS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}


def _one_kind(params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    given = [k for k in KINDS if params.get(k)]
    if len(given) != 1:
        raise AwsError("InvalidInputException", f"Give exactly one of {', '.join(KINDS)}")
    return given[0], dict(params[given[0]])


def _check_csv(body: dict[str, Any]) -> None:
    header = body.get("ContainsHeader", "UNKNOWN")
    if header not in ("PRESENT", "ABSENT", "UNKNOWN"):
        raise AwsError("InvalidInputException", f"ContainsHeader {header} is not valid (PRESENT, ABSENT or UNKNOWN)")
    delimiter, quote = body.get("Delimiter", ","), body.get("QuoteSymbol", '"')
    if len(delimiter) != 1 or len(quote) != 1:
        raise AwsError("InvalidInputException", "Delimiter and QuoteSymbol are single characters")
    if delimiter == quote:
        raise AwsError("InvalidInputException", "QuoteSymbol must be different from the column delimiter")


@route("glue", "CreateClassifier")
def create_classifier(call: Call) -> dict[str, Any]:
    kind, body = _one_kind(call.params)
    if kind == "CsvClassifier":
        _check_csv(body)
    name = body.get("Name", "")
    now = dt.datetime.now(dt.timezone.utc)
    with _lock:
        if (call.region, name) in _CLASSIFIERS:
            raise AwsError("AlreadyExistsException", f"Classifier with name {name} already exists")
        _CLASSIFIERS[call.region, name] = {kind: {**body, "CreationTime": now, "LastUpdated": now, "Version": 1}}
    return {}


def _get(region: str, name: str) -> dict[str, dict[str, Any]]:
    found = _CLASSIFIERS.get((region, name))
    if found is None:
        raise AwsError("EntityNotFoundException", f"Classifier with name {name} not found")
    return found


@route("glue", "GetClassifier")
def get_classifier(call: Call) -> dict[str, Any]:
    with _lock:
        return {"Classifier": _get(call.region, call.params.get("Name", ""))}


@route("glue", "GetClassifiers")
def get_classifiers(call: Call) -> dict[str, Any]:
    with _lock:
        found = [c for (region, _), c in sorted(_CLASSIFIERS.items()) if region == call.region]
    return paged(found, "Classifiers", call.params.get("NextToken"), call.params.get("MaxResults"))


@route("glue", "UpdateClassifier")
def update_classifier(call: Call) -> dict[str, Any]:
    kind, body = _one_kind(call.params)
    name = body.get("Name", "")
    with _lock:
        current = _get(call.region, name)
        if kind not in current:
            raise AwsError("InvalidInputException", f"Classifier {name} is not a {kind}")
        merged = {**current[kind], **{k: v for k, v in body.items() if v is not None}}
        if kind == "CsvClassifier":
            _check_csv(merged)
        merged.update(LastUpdated=dt.datetime.now(dt.timezone.utc), Version=current[kind]["Version"] + 1)
        current[kind] = merged
    return {}


@route("glue", "DeleteClassifier")
def delete_classifier(call: Call) -> dict[str, Any]:
    name = call.params.get("Name", "")
    with _lock:
        _get(call.region, name)
        del _CLASSIFIERS[call.region, name]
    return {}


def crawler_classifiers(region: str, names: list[str] | None) -> list[dict[str, Any]]:
    """The CSV classifier definitions a crawler names, in its order; the crawl fails for others."""
    out = []
    with _lock:
        for name in names or []:
            found = _CLASSIFIERS.get((region, name))
            if found is None:
                raise RunFailed(f"Classifier {name} of the crawler does not exist")
            kind = next(iter(found))
            if kind != "CsvClassifier":
                raise RunFailed(f"Custom classifier {name} is a {kind}: only CsvClassifier custom classifiers are "
                                "emulated by the sandbox")
            body = dict(found[kind])
            if body.get("CustomDatatypeConfigured") or body.get("CustomDatatypes"):
                raise RunFailed(f"CsvClassifier {name}: CustomDatatypes are not emulated by the sandbox")
            if body.get("Serde") not in (None, "None", *_SERDES):
                raise RunFailed(f"CsvClassifier {name}: Serde {body.get('Serde')} is not emulated by the sandbox")
            out.append(body)
    return out


def _types(rows: list[list[str]], width: int, trim: bool) -> list[str | None]:
    if trim:
        return _column_types(rows, width)
    types: list[str | None] = [None] * width
    for row in rows:
        for i in range(width):
            cell = row[i] if i < len(row) else ""
            typ = glue_value_type(cell)
            types[i] = merge_type(types[i], "string" if typ is not None and cell != cell.strip() else typ)
    return types


def classify_with_csv(key: str, data: bytes, body: dict[str, Any]) -> FileSchema | None:
    """The schema custom CSV classifier ``body`` gives an object, or None when it does not recognise it."""
    try:
        raw, compression = _decompress(key, data)
        text, _ = _sample_text(key, raw)
    except UnreadableData:
        return None
    delimiter, quote = body.get("Delimiter", ","), body.get("QuoteSymbol", '"')
    lines = [ln for ln in text.splitlines() if ln.strip()]
    rows = list(csv.reader(lines, delimiter=delimiter, quotechar=quote))
    widths = {len(r) for r in rows}
    least = 1 if body.get("AllowSingleColumn") else 2
    if not rows or len(widths) != 1 or widths.pop() < least:
        return None
    width = len(rows[0])
    trim = body.get("DisableValueTrimming") is False  # the API's default is true: no trimming
    contains = body.get("ContainsHeader", "UNKNOWN")
    first, rest = rows[0], rows[1:]
    if contains == "UNKNOWN":
        rest_types = _types(rest, width, trim)
        header = (bool(rest) and all(c.strip() and glue_value_type(c) == "string" for c in first)
                  and len({c.strip().lower() for c in first}) == width
                  and any(t not in (None, "string") for t in rest_types))
    else:
        header = contains == "PRESENT"
    data_rows = rest if header else rows
    names = list(body.get("Header") or [])
    if names and len(names) != width:
        return None
    if not names:
        names = [c.strip().lower() for c in first] if header else [f"col{i}" for i in range(width)]
    types = _types(data_rows, width, trim)
    serde = body.get("Serde")
    quoted = _SERDES[serde] if serde in _SERDES else quote in text
    schema = FileSchema("csv", [(n, t or "string") for n, t in zip(names, types, strict=True)], header=header,
                        delimiter=delimiter, quoted=quoted, compression=compression, record_count=len(data_rows),
                        size=len(data))
    schema.extra["quoteChar"] = quote
    return schema


def reset() -> None:
    with _lock:
        _CLASSIFIERS.clear()


def export_state() -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    with _lock:
        return {k: {kind: dict(v) for kind, v in c.items()} for k, c in _CLASSIFIERS.items()}


def import_state(saved: dict[tuple[str, str], dict[str, dict[str, Any]]]) -> None:
    with _lock:
        _CLASSIFIERS.update(saved)
