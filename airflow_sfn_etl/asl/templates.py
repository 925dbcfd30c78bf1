"""Map Airflow templated values to ASL: ``{{ params.x }}`` becomes execution input.

- a string that is exactly ``{{ params.x }}`` -> the path ``$.x``;
- text mixed with params -> ``States.Format('... {} ...', $.x)`` (literal text escaped per the
  intrinsic-function rules: ``\\``, ``'``, ``{`` and ``}`` take a backslash, the only escapes AWS
  documents; text with line breaks or tabs is refused, as no escape exists for them);
- any other Jinja (macros, ``ds``, ``var``, ``ti``, filters, statements) -> :class:`TemplateMappingError`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, overload

from airflow_sfn_etl.asl.errors import TemplateMappingError

_OPEN = {"{{": "}}", "{%": "%}", "{#": "#}"}
_PARAM_RE = re.compile(
    r"""^\s*params\s*(?:\.\s*(?P<attr>[A-Za-z_][A-Za-z0-9_]*)|\[\s*(?P<q>['"])(?P<key>[^'"]+)(?P=q)\s*\])\s*$"""
)
_SIMPLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: Jinja names with a Step Functions equivalent in the context object (besides params).
CONTEXT_VARIABLES = {"run_id": "$$.Execution.Name"}


@dataclass(frozen=True)
class ParamRef:
    """A ``{{ params.name }}`` occurrence."""

    name: str


@dataclass(frozen=True)
class ContextRef:
    """A Jinja variable with a context-object equivalent (``{{ run_id }}`` -> ``$$.Execution.Name``)."""

    path: str


@dataclass(frozen=True)
class Mapped:
    """A value mapped to ASL: either a literal or a dynamic expression (path or intrinsic)."""

    literal: object = None
    expression: str | None = None
    params: tuple[str, ...] = ()

    @property
    def dynamic(self) -> bool:
        """True when the value must be written under a ``.$`` key."""
        return self.expression is not None


#: What :func:`map_value` makes of a value: a :class:`Mapped` for a string or a scalar, a Parameters
#: dict (dynamic entries under ``.$`` keys) for a dict, a plain list of literals for a list.
MappedValue: TypeAlias = "Mapped | dict[str, Any] | list[Any]"


def param_path(name: str) -> str:
    """The JSONPath of a param in the execution input (``$.name`` or ``$['na me']``)."""
    if _SIMPLE_KEY.match(name):
        return f"$.{name}"
    return "$['" + name.replace("'", "\\'") + "']"


#: Characters an intrinsic string literal cannot hold: AWS documents no escape for them.
CONTROL_CHARACTERS = frozenset(chr(c) for c in range(32)) | {"\x7f"}


def escape_intrinsic_literal(text: str) -> str:
    """Escape text for a string literal inside an intrinsic function: ``\\ ' { }`` take a backslash,
    the only escapes AWS documents. Control characters (line breaks, tabs) have none and are refused
    (:func:`map_string` refuses them in templated fields, with the task and field)."""
    bad = sorted({repr(ch) for ch in text if ch in CONTROL_CHARACTERS})
    if bad:
        raise ValueError(f"an intrinsic string literal cannot hold {', '.join(bad)}: {text!r}")
    return "".join("\\" + ch if ch in "\\'{}" else ch for ch in text)


def format_expression(parts: Sequence[str | ParamRef | ContextRef | Mapped]) -> str:
    """Build ``States.Format('...', args)`` from literal text, params and nested expressions."""
    template: list[str] = []
    args: list[str] = []
    for part in parts:
        if isinstance(part, ParamRef):
            template.append("{}")
            args.append(param_path(part.name))
        elif isinstance(part, ContextRef):
            template.append("{}")
            args.append(part.path)
        elif isinstance(part, Mapped):
            if part.dynamic:
                template.append("{}")
                args.append(str(part.expression))
            else:
                template.append(escape_intrinsic_literal(str(part.literal)))
        else:
            template.append(escape_intrinsic_literal(part))
    return "States.Format('" + "".join(template) + "'" + "".join(", " + a for a in args) + ")"


def split_template(text: str, *, task_id: str, field: str) -> list[str | ParamRef | ContextRef]:
    """Split a Jinja string into literal text and params; raise on any other Jinja."""
    parts: list[str | ParamRef | ContextRef] = []
    pos = 0
    strip_next = False
    while True:
        starts = [(text.find(o, pos), o) for o in _OPEN]
        starts = [(i, o) for i, o in starts if i >= 0]
        if not starts:
            literal = text[pos:]
            if strip_next:
                literal = literal.lstrip()
            parts.append(literal)
            break
        index, opener = min(starts)
        closer = _OPEN[opener]
        end = text.find(closer, index + 2)
        if end < 0:
            raise TemplateMappingError(
                f"Task '{task_id}': field '{field}' has an unclosed Jinja tag {opener!r} in {text!r}."
            )
        inner = text[index + 2 : end]
        literal = text[pos:index]
        if strip_next:
            literal = literal.lstrip()
        strip_left = inner.startswith("-")
        strip_next = inner.endswith("-")
        if strip_left:
            literal = literal.rstrip()
        parts.append(literal)
        expr = inner.strip("-+").strip()
        source = text[index : end + 2]
        if opener == "{#":
            pass
        elif opener == "{%":
            raise TemplateMappingError(
                f"Task '{task_id}': field '{field}' uses the Jinja statement {source!r}, which cannot be "
                "compiled to Step Functions. Only '{{ params.NAME }}' maps to the execution input: "
                "compute the value before the run and pass it as a DAG param."
            )
        else:
            match = _PARAM_RE.match(expr)
            if expr in CONTEXT_VARIABLES:
                parts.append(ContextRef(CONTEXT_VARIABLES[expr]))
            elif not match:
                raise TemplateMappingError(
                    f"Task '{task_id}': field '{field}' uses the Jinja expression {source!r}, which cannot "
                    "be compiled to Step Functions (macros, ds, var, ti, conn, filters and other "
                    "expressions have no equivalent; only params and run_id map). Use a DAG param instead: "
                    "'{{ params.NAME }}', given in the execution input."
                )
            else:
                parts.append(ParamRef(match.group("attr") or match.group("key")))
        pos = end + 2
    return [p for p in parts if p != ""]


def map_string(text: str, *, task_id: str, field: str) -> Mapped:
    """Map one templated string to a literal, a path or a ``States.Format`` expression."""
    parts = split_template(text, task_id=task_id, field=field)
    names = tuple(sorted({p.name for p in parts if isinstance(p, ParamRef)}))
    if all(isinstance(p, str) for p in parts):
        return Mapped(literal="".join(p for p in parts if isinstance(p, str)))
    if len(parts) == 1 and isinstance(parts[0], ParamRef):
        return Mapped(expression=param_path(parts[0].name), params=names)
    if len(parts) == 1 and isinstance(parts[0], ContextRef):
        return Mapped(expression=parts[0].path, params=names)
    if any(isinstance(p, str) and any(ch in CONTROL_CHARACTERS for ch in p) for p in parts):
        raise TemplateMappingError(
            f"Task '{task_id}': field '{field}' mixes params with line breaks or tabs; it would become a "
            "States.Format string, which has no escape for them. Put the text on one line, or pass the "
            "whole value as one param."
        )
    return Mapped(expression=format_expression(list(parts)), params=names)


@overload
def map_value(value: str, *, task_id: str, field: str, used: set[str] | None = None) -> Mapped: ...


@overload
def map_value(
    value: dict[Any, Any], *, task_id: str, field: str, used: set[str] | None = None
) -> dict[str, Any]: ...


@overload
def map_value(
    value: list[Any] | tuple[Any, ...], *, task_id: str, field: str, used: set[str] | None = None
) -> list[Any]: ...


@overload
def map_value(value: object, *, task_id: str, field: str, used: set[str] | None = None) -> MappedValue: ...


def map_value(value: object, *, task_id: str, field: str, used: set[str] | None = None) -> MappedValue:
    """Map a templated value (str, dict, list, scalar) to ASL Parameters content.

    Returns a :class:`Mapped` for strings; dicts and lists are mapped recursively into plain
    containers whose dynamic entries use ``.$`` keys (lists with dynamic items are rejected).
    Param names read are added to ``used``.
    """
    if isinstance(value, str):
        mapped = map_string(value, task_id=task_id, field=field)
        if used is not None:
            used.update(mapped.params)
        return mapped
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key in sorted(value, key=str):
            put(out, str(key), map_value(value[key], task_id=task_id, field=f"{field}.{key}", used=used))
        return out
    if isinstance(value, (list, tuple)):
        items: list[MappedValue] = [
            map_value(v, task_id=task_id, field=f"{field}[{i}]", used=used) for i, v in enumerate(value)
        ]
        if any(isinstance(i, Mapped) and i.dynamic for i in items):
            raise TemplateMappingError(
                f"Task '{task_id}': field '{field}' is a list with '{{{{ params.* }}}}' items; "
                "Step Functions cannot place execution input inside a list literal. Pass the whole "
                "list as one param instead."
            )
        return [i.literal if isinstance(i, Mapped) else i for i in items]
    return Mapped(literal=value)


def put(target: dict[str, Any], key: str, value: object) -> None:
    """Set ``key`` (or ``key.$`` for a dynamic :class:`Mapped`) in an ASL Parameters dict."""
    if isinstance(value, Mapped):
        if value.dynamic:
            target[key + ".$"] = value.expression
        else:
            target[key] = value.literal
    else:
        target[key] = value
