"""SQL text fit for an intrinsic function: comments dropped and whitespace folded, meaning kept.

A query that reads params is sent as ``States.Format('...', $.x)``, whose string literal has no
escape for a line break or a tab (AWS documents only ``\\'``, ``\\{``, ``\\}`` and ``\\\\``). Such
a query is re-laid out on one line by :mod:`sqlparse`: comments are removed and each run of
whitespace between tokens becomes one space; string literals and quoted identifiers are tokens of
their own and keep their text. The result is checked token by token against the original (every
token but whitespace and comments must be the same, in the same order), so a query whose layout
cannot be folded this way is never changed silently. A query without params is sent as a plain
JSON string and keeps its layout.
"""

from __future__ import annotations

import re

import sqlparse
from sqlparse import tokens as T

from airflow_sfn_etl.asl.errors import TemplateMappingError

_JINJA = re.compile(r"\{\{.*?\}\}|\{#.*?#\}|\{%.*?%\}", re.DOTALL)


def _significant(sql: str) -> list[tuple[object, str]]:
    """The tokens that carry meaning: all but whitespace, line breaks and comments."""
    out = []
    for statement in sqlparse.parse(sql):
        for token in statement.flatten():  # type: ignore[no-untyped-call]
            if token.is_whitespace or token.ttype in T.Comment:
                continue
            out.append((token.ttype, token.value))
    return out


def fold_sql(sql: str, *, task_id: str, field: str) -> str:
    """``sql`` without comments and with its whitespace folded to single spaces (see module doc).

    Jinja tags are kept as they are: each is replaced by a placeholder word while the SQL is folded.
    """
    tags: list[str] = []

    def hide(match: re.Match[str]) -> str:
        tags.append(match.group(0))
        return f"sfnetljinja{len(tags) - 1}x"

    hidden = _JINJA.sub(hide, sql)
    folded = sqlparse.format(hidden, strip_comments=True, strip_whitespace=True).strip()
    if _significant(folded) != _significant(hidden):
        raise TemplateMappingError(
            f"Task '{task_id}': field '{field}' spans several lines and reads params, but its SQL cannot be "
            "put on one line without changing it; write it on one line, or pass it without params."
        )
    for index, tag in enumerate(tags):
        folded = folded.replace(f"sfnetljinja{index}x", tag, 1)
    return folded
