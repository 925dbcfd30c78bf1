"""The error an Athena query fails with: an Athena-style message and its error category."""

from __future__ import annotations

from sqlglot.errors import ParseError, TokenError

#: AthenaError.ErrorCategory values.
SYSTEM, USER, OTHER = 1, 2, 3


class QueryError(Exception):
    """A query failure; ``message`` becomes the execution's ``StateChangeReason``.

    :param message: e.g. ``TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.default.t' does not exist``
    :param error_type: a short code kept in ``AthenaError.ErrorType`` (Athena uses numbers; we use
        the name before the colon, e.g. ``TABLE_NOT_FOUND``).
    :param category: 1 system, 2 user, 3 other (``AthenaError.ErrorCategory``).
    """

    def __init__(self, message: str, error_type: str = "GENERIC_USER_ERROR", category: int = USER) -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type
        self.category = category


def at(meta: dict[str, int] | None) -> str:
    """``line L:C: `` for a sqlglot token meta dict (empty when unknown)."""
    if not meta or "line" not in meta:
        return ""
    col = max(1, int(meta.get("col", 1)) - (int(meta["end"]) - int(meta["start"])))
    return f"line {meta['line']}:{col}: "


def coded(code: str, text: str, meta: dict[str, int] | None = None, category: int = USER) -> QueryError:
    """A :class:`QueryError` with message ``CODE: line L:C: text``."""
    return QueryError(f"{code}: {at(meta)}{text}", code, category)


def syntax_error(err: ParseError | TokenError, sql: str) -> QueryError:
    """Athena's ``SYNTAX_ERROR`` for a statement sqlglot cannot parse as Trino."""
    if isinstance(err, ParseError) and err.errors:
        first = err.errors[0]
        token = first.get("highlight") or ""
        col = max(1, int(first.get("col", 1)) - len(token) + 1)
        desc = first.get("description", "syntax error")
        return QueryError(f"line {first.get('line', 1)}:{col}: mismatched input '{token}'. {desc}", "SYNTAX_ERROR")
    return QueryError(f"line 1:1: {err}", "SYNTAX_ERROR")
