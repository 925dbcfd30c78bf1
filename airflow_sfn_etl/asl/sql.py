"""SQL text fit for an intrinsic function: comments dropped and whitespace folded, meaning kept.

A query that reads params is sent as ``States.Format('...', $.x)``, whose string literal has no
escape for a line break or a tab (AWS documents only ``\\'``, ``\\{``, ``\\}`` and ``\\\\``). Such
a query is re-laid out on one line from :mod:`sqlparse`'s lexical tokens: comments are removed and
each run of whitespace and comments between tokens becomes one space; string literals and quoted
identifiers are tokens of their own and keep their text. The result is lexed again and checked
against the original (every token but whitespace and comments must be the same, in the same order),
so a query whose layout cannot be folded this way is never changed silently. A query without params is sent as a plain
JSON string and keeps its layout.
"""

from __future__ import annotations

import re

from sqlparse import lexer
from sqlparse import tokens as T

from airflow_sfn_etl.asl.errors import TemplateMappingError

_JINJA = re.compile(r"\{\{.*?\}\}|\{#.*?#\}|\{%.*?%\}", re.DOTALL)


def _tokens(sql: str) -> list[tuple[object, str]]:
    """sqlparse's lexical tokens of ``sql`` (type, text)."""
    return [(ttype, value) for ttype, value in lexer.tokenize(sql)]  # type: ignore[no-untyped-call]


def _layout(ttype: object) -> bool:
    """Whether a token is only layout: whitespace, a line break or a comment."""
    return ttype in T.Whitespace or ttype in T.Newline or ttype in T.Comment


def _significant(sql: str) -> list[tuple[object, str]]:
    """The tokens that carry meaning: all but whitespace, line breaks and comments."""
    return [(ttype, value) for ttype, value in _tokens(sql) if not _layout(ttype)]


def fold_sql(sql: str, *, task_id: str, field: str) -> str:
    """``sql`` without comments and with its whitespace folded to single spaces (see module doc).

    Jinja tags are kept as they are: each is replaced by a placeholder word while the SQL is folded.
    """
    tags: list[str] = []

    def hide(match: re.Match[str]) -> str:
        tags.append(match.group(0))
        return f"sfnetljinja{len(tags) - 1}x"

    hidden = _JINJA.sub(hide, sql)
    out: list[str] = []
    gap = False
    for ttype, value in _tokens(hidden):
        if _layout(ttype):
            gap = True
            continue
        if gap and out:
            out.append(" ")
        out.append(value)
        gap = False
    folded = "".join(out)
    if _significant(folded) != _significant(hidden):
        raise TemplateMappingError(
            f"Task '{task_id}': field '{field}' spans several lines and reads params, but its SQL cannot be "
            "put on one line without changing it; write it on one line, or pass it without params."
        )
    for index, tag in enumerate(tags):
        folded = folded.replace(f"sfnetljinja{index}x", tag, 1)
    return folded
