"""Date functions: YEAR, MONTH, DAY, HOUR, MINUTE, SECOND, from a date column or a value; DATE_FORMAT
and DATE_ADD, which write a date in a ``dateTimeFormat``.

Dates are read from strings such as ``2016-12-31``, ``2016-12-31 23:59:59`` and slashed dates
(``12/31/2016``, ``31/12/2016``). DataBrew documents no order for slashed dates, so the sandbox
reads a column's slashed dates in the one order its values allow: month first when a value can only
be month first (a second field above 12), day first when a value can only be day first (a first
field above 12). A column whose slashed dates fit both orders (03/01/2024) fails the step naming the
column and a value, unless the step gives the order: YEAR, MONTH, DAY, HOUR, MINUTE and SECOND take
a ``dateTimeFormat`` (e.g. ``dd/mm/yyyy``) for the dates they read (a sandbox parameter; DataBrew's
reference lists none for them). DATE_FORMAT and DATE_ADD document ``dateTimeFormat`` as the format
they write, and no parameter for the order they read, so an ambiguous column fails them.

The date parts are integer columns (month 1..12, day 1..31), so a month used as a partition column
gives folders ``month=1`` .. ``month=12``.
"""

from __future__ import annotations

import calendar
import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

from .base import Operation, RecipeError, operation, put, require, source_or_value

_TIME = r"(?:[ T](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?"
_SLASHED = r"^\s*(?P<a>\d{1,2})[/.-](?P<b>\d{1,2})[/.-](?P<y>\d{4})" + _TIME
_ISO = r"^\s*(?P<y>\d{4})[-/](?P<m>\d{1,2})[-/](?P<d>\d{1,2})" + _TIME
PARTS = ("year", "month", "day", "hour", "minute", "second")


def _int_field(struct: pa.ChunkedArray, name: str) -> pa.ChunkedArray:
    values = pc.struct_field(struct, name)
    values = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
    return pc.cast(values, pa.int32())


def date_parts(values: pa.ChunkedArray, day_first: bool) -> dict[str, pa.ChunkedArray]:
    """year, month, day, hour, minute, second of each value (null where it is not a date); slashed
    dates are read day first when ``day_first``, else month first."""
    if pa.types.is_timestamp(values.type) or pa.types.is_date(values.type):
        out = {"year": pc.year(values), "month": pc.month(values), "day": pc.day(values)}
        if pa.types.is_timestamp(values.type):
            out.update(hour=pc.hour(values), minute=pc.minute(values), second=pc.second(values))
        else:
            zero = pc.multiply(pc.cast(out["year"], pa.int64()), 0)
            out.update(hour=zero, minute=zero, second=zero)
        return {k: pc.cast(v, pa.int32()) for k, v in out.items()}
    text = pc.cast(values, pa.string())
    slashed = pc.extract_regex(text, _SLASHED)
    iso = pc.extract_regex(text, _ISO)
    first, second = _int_field(slashed, "a"), _int_field(slashed, "b")
    month_s, day_s = (second, first) if day_first else (first, second)
    out = {
        "year": pc.coalesce(_int_field(iso, "y"), _int_field(slashed, "y")),
        "month": pc.coalesce(_int_field(iso, "m"), month_s),
        "day": pc.coalesce(_int_field(iso, "d"), day_s),
    }
    for name in ("H", "M", "S"):
        part = pc.coalesce(_int_field(iso, name), _int_field(slashed, name))
        has_date = pc.is_valid(out["year"])
        out[{"H": "hour", "M": "minute", "S": "second"}[name]] = pc.if_else(
            pc.and_(has_date, pc.is_null(part)), pa.scalar(0, pa.int32()), part)
    valid = pc.and_(pc.and_(pc.greater_equal(out["month"], 1), pc.less_equal(out["month"], 12)),
                    pc.and_(pc.greater_equal(out["day"], 1), pc.less_equal(out["day"], 31)))
    return {k: pc.if_else(valid, v, pa.scalar(None, pa.int32())) for k, v in out.items()}


def parse_dates(values: pa.ChunkedArray, day_first: bool) -> pa.ChunkedArray:
    """Values as timestamps (null where not a date); slashed dates day first when ``day_first``."""
    if pa.types.is_timestamp(values.type):
        return values
    parts = date_parts(values, day_first)
    text = pc.binary_join_element_wise(
        *[pc.utf8_lpad(pc.cast(parts[p], pa.string()), 4 if p == "year" else 2, "0") for p in PARTS], "-")
    return pc.strptime(text, "%Y-%m-%d-%H-%M-%S", "s", error_is_null=True)


def _date_function(part: str) -> Operation:
    def apply(table: pa.Table, params: dict[str, str]) -> pa.Table:
        target = require(params, "targetColumn")
        source = _chunked(source_or_value(table, params))
        name = params.get("sourceColumn") or "value"
        order = format_order(params.get("dateTimeFormat"))
        day_first = order if order is not None else slashed_order(
            source, name, fix="give their order with the parameter dateTimeFormat, \"dd/mm/yyyy\" (day first) "
                              "or \"mm/dd/yyyy\" (month first)")
        parts = date_parts(source, day_first)
        _fail_on_unread(source, parts["year"], name, "expected e.g. 12/31/2016, 31/12/2016 or 2016-12-31"
                        + (f", slashed dates as {params['dateTimeFormat']!r}" if order is not None else ""))
        return put(table, target, parts[part])

    return apply


for _part in PARTS:
    operation(_part.upper(), parameters=("sourceColumn", "value", "targetColumn", "dateTimeFormat"))(
        _date_function(_part))


#: DataBrew's date format tokens (``yyyy-mm-dd HH:MM:SS``: ``mm`` the month, ``MM`` the minutes)
#: and the strftime directive of each, longest first.
_FORMAT_TOKENS = (("month", "%B"), ("yyyy", "%Y"), ("yy", "%y"), ("mm", "%m"), ("dd", "%d"),
                  ("HH", "%H"), ("MM", "%M"), ("SS", "%S"))
DEFAULT_DATE_FORMAT = "yyyy-mm-dd HH:MM:SS"


def strftime_format(date_format: str) -> str:
    """DataBrew date format ``date_format`` as a strftime format; other letters are not emulated."""
    out, i = [], 0
    while i < len(date_format):
        for token, directive in _FORMAT_TOKENS:
            if date_format.startswith(token, i):
                out.append(directive)
                i += len(token)
                break
        else:
            char = date_format[i]
            if char.isalpha():
                known = ", ".join(token for token, _ in _FORMAT_TOKENS)
                raise RecipeError(f"dateTimeFormat {date_format!r}: {char!r} at position {i + 1} is not a date "
                                  f"format token emulated by the sandbox (it knows {known})")
            out.append("%%" if char == "%" else char)
            i += 1
    return "".join(out)


def format_order(date_format: str | None) -> bool | None:
    """Whether the date format ``date_format`` (DataBrew's tokens: ``dd`` day, ``mm`` month) puts the day
    before the month; None when it gives no day or no month."""
    if not date_format:
        return None
    day, month = date_format.find("d"), date_format.find("m")
    if day < 0 or month < 0:
        return None
    return day < month


def slashed_order(values: pa.ChunkedArray, name: str, *, fix: str) -> bool:
    """Whether the slashed dates of ``values`` (column or value ``name``) are day first: True when a
    value can only be day first (a first field above 12), False when a value can only be month first
    (a second field above 12) or there are no slashed dates. Dates that can only be day first next to
    dates that can only be month first fail, and so do slashed dates that fit both orders (DataBrew
    does not document which it reads); ``fix`` says how the step can give the order."""
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return False
    slashed = pc.extract_regex(values, _SLASHED)
    first, second = _int_field(slashed, "a"), _int_field(slashed, "b")
    day_only = values.filter(pc.fill_null(pc.greater(first, 12), False))
    month_only = values.filter(pc.fill_null(pc.greater(second, 12), False))
    if len(day_only) and len(month_only):
        raise RecipeError(f"{name!r} holds both day-first ({day_only[0].as_py()!r}) and month-first "
                          f"({month_only[0].as_py()!r}) dates")
    if len(day_only):
        return True
    if len(month_only):
        return False
    both = values.filter(pc.is_valid(first))
    if len(both):
        raise RecipeError(f"{name!r} holds slashed dates that read as a date both month first and day first "
                          f"(e.g. {both[0].as_py()!r}), and none that fits only one order; DataBrew does not "
                          f"document which order it reads, so this is not emulated by the sandbox; {fix}")
    return False


def _chunked(values: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray:
    return pa.chunked_array([values]) if isinstance(values, pa.Array) else values


def _fail_on_unread(source: pa.ChunkedArray, parsed: pa.ChunkedArray, name: str, reads: str) -> None:
    """Fail naming the values of ``source`` that are not empty and did not read as a date."""
    text = source if pa.types.is_string(source.type) else pc.cast(source, pa.string())
    unread = pc.and_(pc.is_null(parsed), pc.and_(pc.is_valid(text), pc.not_equal(pc.utf8_trim_whitespace(text), "")))
    if pc.any(unread).as_py():
        raise RecipeError(f"{name!r} holds values that are not a date this step can read: "
                          f"{text.filter(unread).to_pylist()[:3]} ({reads})")


#: How DATE_FORMAT and DATE_ADD can be given dates whose order they can tell.
_NO_READ_FORMAT = ("{op} takes no parameter for the order it reads (its dateTimeFormat is the format it writes): "
                   "give it dates that fit one order only, or yyyy-mm-dd dates")


@operation("DATE_FORMAT", parameters=("sourceColumn", "value", "dateTimeFormat", "targetColumn"))
def date_format(table: pa.Table, params: dict[str, str]) -> pa.Table:
    """The date in each value written in ``dateTimeFormat`` (default ``yyyy-mm-dd HH:MM:SS``).

    Slashed dates are read in the order the column's values allow (see the module); a column whose
    slashed dates fit both orders, or a value that is not a date this step can read, fails the step.
    """
    target = require(params, "targetColumn")
    if params.get("sourceColumn") and "value" in params:
        raise RecipeError("specify either sourceColumn or value, not both")
    fmt = strftime_format(params.get("dateTimeFormat") or DEFAULT_DATE_FORMAT)
    source = _chunked(source_or_value(table, params))
    name = params.get("sourceColumn") or "value"
    parsed = parse_dates(source, slashed_order(source, name, fix=_NO_READ_FORMAT.format(op="DATE_FORMAT")))
    _fail_on_unread(source, parsed, name, "it reads e.g. 12/31/2016, 31/12/2016 and 2016-12-31 23:59:59")
    return put(table, target, pc.strftime(parsed, format=fmt))


#: DATE_ADD ``units``: calendar months per unit, or the length of a unit.
_MONTH_UNITS = {"MONTHS": 1, "QUARTERS": 3, "YEARS": 12}
_TIME_UNITS = {"WEEKS": dt.timedelta(weeks=1), "DAYS": dt.timedelta(days=1), "HOURS": dt.timedelta(hours=1),
               "MINUTES": dt.timedelta(minutes=1), "SECONDS": dt.timedelta(seconds=1),
               "MILLISECONDS": dt.timedelta(milliseconds=1), "MICROSECONDS": dt.timedelta(microseconds=1)}


def _add_months(when: dt.datetime, months: int) -> dt.datetime:
    """``when`` moved by whole calendar months; a day past the end of the month becomes its last day."""
    index = when.year * 12 + when.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return when.replace(year=year, month=month + 1, day=min(when.day, last))


@operation("DATE_ADD", parameters=("sourceColumn", "value", "units", "dateAddValue", "dateTimeFormat",
                                   "targetColumn"))
def date_add(table: pa.Table, params: dict[str, str]) -> pa.Table:
    """The date of each value moved by ``dateAddValue`` ``units``, written in ``dateTimeFormat``.

    Dates are read as DATE_FORMAT reads them; MONTHS, QUARTERS and YEARS move the calendar month (a
    day past the end of the new month becomes its last day, 2020-01-31 + 1 month = 2020-02-29).
    """
    target = require(params, "targetColumn")
    if params.get("sourceColumn") and "value" in params:
        raise RecipeError("specify either sourceColumn or value, not both")
    units = require(params, "units").upper()
    if units not in _MONTH_UNITS and units not in _TIME_UNITS:
        raise RecipeError(f"units must be one of {', '.join([*_MONTH_UNITS, *_TIME_UNITS])}, got {params['units']!r}")
    raw_amount = require(params, "dateAddValue")
    try:
        amount = int(raw_amount)
    except ValueError:
        raise RecipeError(f"dateAddValue must be a whole number, got {raw_amount!r}") from None
    fmt = strftime_format(params.get("dateTimeFormat") or DEFAULT_DATE_FORMAT)
    source = _chunked(source_or_value(table, params))
    name = params.get("sourceColumn") or "value"
    parsed = parse_dates(source, slashed_order(source, name, fix=_NO_READ_FORMAT.format(op="DATE_ADD")))
    _fail_on_unread(source, parsed, name, "it reads e.g. 12/31/2016, 31/12/2016 and 2016-12-31 23:59:59")
    moved: list[dt.datetime | None] = []
    for when in parsed.to_pylist():
        if when is None:
            moved.append(None)
        elif units in _MONTH_UNITS:
            moved.append(_add_months(when, amount * _MONTH_UNITS[units]))
        else:
            moved.append(when + amount * _TIME_UNITS[units])
    # The format has no token below seconds: the seconds are written whole.
    seconds = pc.cast(pa.array(moved, pa.timestamp("us")), pa.timestamp("s"), safe=False)
    return put(table, target, pc.strftime(seconds, format=fmt))
