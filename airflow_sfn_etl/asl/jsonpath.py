"""Syntax checks for ASL JSONPath expressions and intrinsic functions."""

from __future__ import annotations

import re

INTRINSICS = frozenset(
    {
        "States.Format",
        "States.StringToJson",
        "States.JsonToString",
        "States.Array",
        "States.ArrayPartition",
        "States.ArrayContains",
        "States.ArrayRange",
        "States.ArrayGetItem",
        "States.ArrayLength",
        "States.ArrayUnique",
        "States.Base64Encode",
        "States.Base64Decode",
        "States.Hash",
        "States.JsonMerge",
        "States.MathRandom",
        "States.MathAdd",
        "States.StringSplit",
        "States.UUID",
    }
)

_NAME = r"[^.\[\]\s'\"()]+"
_SEGMENT = re.compile(
    rf"""\.{_NAME}|\['(?:[^'\\]|\\.)*'\]|\[\d+\]|\[\*\]|\.\*|\.\.{_NAME}|\[\?\(.*?\)\]|\[-?\d*:-?\d*\]|\[\d+(?:,\s*\d+)+\]"""
)
_REFERENCE_SEGMENT = re.compile(rf"""\.{_NAME}|\['(?:[^'\\]|\\.)*'\]|\[\d+\]""")


def path_error(path: object, *, reference: bool = False) -> str | None:
    """Why ``path`` is not a valid JSONPath (None if it is).

    :param reference: reference paths (ResultPath, Variable, SecondsPath...) allow only ``.name``,
        ``['name']`` and ``[n]`` segments: no ``*``, ``..``, filters or slices.
    """
    if not isinstance(path, str):
        return "must be a string"
    text = path[2:] if path.startswith("$$") else path[1:] if path.startswith("$") else None
    if text is None:
        return "must start with '$' (or '$$' for the context object)"
    pattern = _REFERENCE_SEGMENT if reference else _SEGMENT
    pos = 0
    while pos < len(text):
        match = pattern.match(text, pos)
        if not match:
            kind = "reference path" if reference else "path"
            return f"invalid {kind} syntax at {text[pos:]!r}"
        pos = match.end()
    return None


def _split_args(body: str) -> list[str] | str:
    """Split intrinsic arguments at top-level commas; a str result is an error message."""
    args: list[str] = []
    depth = 0
    current: list[str] = []
    i = 0
    in_string = False
    while i < len(body):
        ch = body[i]
        if in_string:
            current.append(ch)
            if ch == "\\" and i + 1 < len(body):
                current.append(body[i + 1])
                i += 2
                continue
            if ch == "'":
                in_string = False
        elif ch == "'":
            in_string = True
            current.append(ch)
        elif ch == "(":
            depth += 1
            current.append(ch)
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return "unbalanced ')'"
            current.append(ch)
        elif ch == "," and depth == 0:
            args.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
        i += 1
    if in_string:
        return "unterminated string literal"
    if depth:
        return "unbalanced '('"
    tail = "".join(current).strip()
    if tail or args:
        args.append(tail)
    return args


def _string_literal_error(arg: str) -> str | None:
    body = arg[1:-1]
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            if i + 1 >= len(body) or body[i + 1] not in "\\'{}":
                allowed = "\\\\, \\', \\{ and \\}"
                return f"bad escape in string literal {arg!r} (AWS documents only {allowed})"
            i += 2
            continue
        if ord(ch) < 32:
            return f"control character {ch!r} in string literal {arg!r} (it has no escape)"
        if ch == "'":
            return f"unescaped quote in string literal {arg!r}"
        i += 1
    return None


def intrinsic_error(expression: str) -> str | None:
    """Why ``expression`` is not a valid intrinsic-function call (None if it is)."""
    match = re.match(r"^(States\.[A-Za-z0-9]+)\((.*)\)$", expression.strip(), re.S)
    if not match:
        return f"{expression!r} is not an intrinsic function call"
    name, body = match.groups()
    if name not in INTRINSICS:
        return f"unknown intrinsic function {name}"
    args = _split_args(body)
    if isinstance(args, str):
        return f"{name}: {args}"
    for arg in args:
        if not arg:
            return f"{name}: empty argument"
        if arg.startswith("'"):
            if not arg.endswith("'") or len(arg) < 2:
                return f"{name}: unterminated string literal {arg!r}"
            problem = _string_literal_error(arg)
            if problem:
                return f"{name}: {problem}"
        elif arg.startswith("$"):
            problem = path_error(arg)
            if problem:
                return f"{name}: argument {arg!r} {problem}"
        elif arg.startswith("States."):
            problem = intrinsic_error(arg)
            if problem:
                return problem
        elif not re.match(r"^(-?\d+(\.\d+)?|true|false|null)$", arg):
            return f"{name}: argument {arg!r} is not a string, number, boolean, null, path or intrinsic"
    if name == "States.Format" and args:
        template = args[0]
        if not template.startswith("'"):
            return "States.Format: the first argument must be a string literal"
        placeholders = len(re.findall(r"(?<!\\)\{\}", template))
        if placeholders != len(args) - 1:
            return (
                f"States.Format: the template has {placeholders} '{{}}' placeholder(s) "
                f"but {len(args) - 1} argument(s) follow"
            )
    return None


def dynamic_value_error(value: object) -> str | None:
    """Why a ``.$`` value is neither a path nor an intrinsic function (None if it is fine)."""
    if not isinstance(value, str):
        return "must be a string holding a path or an intrinsic function"
    if value.startswith("States."):
        return intrinsic_error(value)
    return path_error(value)
