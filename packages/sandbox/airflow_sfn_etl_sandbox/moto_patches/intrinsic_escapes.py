"""Intrinsic string literals unescape ``\\'``, ``\\{``, ``\\}`` and ``\\\\``, and States.Format fills only ``{}``.

What moto (5.2.5) does wrong: AWS documents that in an intrinsic function's string literal the
characters ``' { } \\`` are written escaped with a backslash. moto's
``Preprocessor._replace_escaped_characters`` (``asl/parse/intrinsic/preprocessor.py``) keeps
those escapes as they are (backslash included), and ``StringFormat._eval_body`` fills the
template with Python's ``str.format``. So ``States.Format('\\{{}\\}', $.x)`` fails the execution
with "Single '}' encountered in format string", and a literal quote cuts the string short.

What the patch changes: the four escapes are read as their characters (held as private markers
while the template is parsed), and ``States.Format`` replaces each unescaped ``{}`` with its
argument, in order, then restores the escaped characters; too few arguments is an error.

Upstream: unescape the four characters in ``_replace_escaped_characters`` and implement
``States.Format`` by splitting on ``{}`` instead of ``str.format``, in moto's
``stepfunctions/parser`` (and in LocalStack, where the parser comes from).
"""

from __future__ import annotations

from typing import Any

from .support import SFN_PARSER, moto_attr, once

_ESCAPED = {"'": "\x00q", "{": "\x00l", "}": "\x00r", "\\": "\x00b"}
_RESTORE = {v: k for k, v in _ESCAPED.items()}


def _restore(text: str) -> str:
    for marker, char in _RESTORE.items():
        text = text.replace(marker, char)
    return text


@once
def apply() -> None:
    _, preprocessor = moto_attr(f"{SFN_PARSER}.asl.parse.intrinsic.preprocessor", "Preprocessor")
    _, string_format = moto_attr(
        f"{SFN_PARSER}.asl.component.intrinsic.function.statesfunction.generic.string_format",
        "StringFormat",
    )
    original_replace = preprocessor._replace_escaped_characters

    def _replace_escaped_characters(match: Any) -> str:
        char = match.group(1)
        if char in _ESCAPED:
            return _ESCAPED[char]
        return original_replace(match)

    def _eval_body(self: Any, env: Any) -> None:
        self.argument_list.eval(env=env)
        args = env.stack.pop()
        template: str = args[0]
        values = [self._to_str_repr(v) for v in args[1:]]
        pieces = template.split("{}")
        if len(pieces) - 1 > len(values):
            raise ValueError(f"States.Format has {len(pieces) - 1} placeholders but {len(values)} arguments")
        out = pieces[0] + "".join(str(v) + piece for v, piece in zip(values, pieces[1:], strict=False))
        env.stack.append(_restore(out))

    preprocessor._replace_escaped_characters = staticmethod(_replace_escaped_characters)
    string_format._eval_body = _eval_body
