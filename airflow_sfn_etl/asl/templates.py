"""Map Airflow templated values to ASL: ``{{ params.x }}`` becomes execution input.

- a string that is exactly ``{{ params.x }}`` -> the path ``$.x``;
- text mixed with params -> ``States.Format('... {} ...', $.x)`` (literal text escaped per the
  intrinsic-function rules: ``\\``, ``'``, ``{`` and ``}`` take a backslash, the only escapes AWS
  documents; text with line breaks or tabs is refused, as no escape exists for them);
- ``{{ ti.xcom_pull(task_ids='x') }}`` (or ``task_instance.xcom_pull('x')``, key ``return_value``) and
  an operator's ``.output`` passed as an argument -> the value the compiler gives for task ``x``'s XCom
  (``xcom``, a resolver from :mod:`~airflow_sfn_etl.asl.xcom`): a path into the state data, or a
  literal known when compiling;
- any other Jinja (macros, ``ds``, ``var``, other ``ti`` calls, filters, statements) ->
  :class:`TemplateMappingError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, overload

from airflow_sfn_etl.asl.errors import TemplateMappingError

_OPEN = {"{{": "}}", "{%": "%}", "{#": "#}"}
_PARAM_RE = re.compile(
    r"""^\s*params\s*(?:\.\s*(?P<attr>[A-Za-z_][A-Za-z0-9_]*)|\[\s*(?P<q>['"])(?P<key>[^'"]+)(?P=q)\s*\])\s*$"""
)
_SIMPLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_XCOM_RE = re.compile(
    r"""^(?:ti|task_instance)\s*\.\s*xcom_pull\(\s*(?:task_ids\s*=\s*)?(?P<q>['"])(?P<task>[^'"]+)(?P=q)\s*"""
    r"""(?:,\s*key\s*=\s*(?P<k>['"])return_value(?P=k)\s*)?\)$"""
)

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
    #: Tasks whose XCom the value reads from the state data.
    xcoms: tuple[str, ...] = ()

    @property
    def dynamic(self) -> bool:
        """True when the value must be written under a ``.$`` key."""
        return self.expression is not None


#: What :func:`map_value` makes of a value: a :class:`Mapped` for a string or a scalar, a Parameters
#: dict (dynamic entries under ``.$`` keys) for a dict, a plain list of literals for a list.
MappedValue: TypeAlias = "Mapped | dict[str, Any] | list[Any]"
#: Gives the ASL value of a task's XCom (its return value), or raises TemplateMappingError saying why not.
XComResolver: TypeAlias = "Callable[[str, str], Mapped]"


def xcom_task_id(value: object) -> str | None:
    """The producing task of an operator's ``.output`` (a plain XCom argument of the return value)."""
    if type(value).__name__ != "PlainXComArg" or getattr(value, "key", None) != "return_value":
        return None
    return str(value.operator.task_id)  # type: ignore[attr-defined]


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


def split_template(
    text: str, *, task_id: str, field: str, xcom: XComResolver | None = None
) -> list[str | ParamRef | ContextRef | Mapped]:
    """Split a Jinja string into literal text, params and XCom values; raise on any other Jinja."""
    parts: list[str | ParamRef | ContextRef | Mapped] = []
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
            pulled = _XCOM_RE.match(expr)
            if expr in CONTEXT_VARIABLES:
                parts.append(ContextRef(CONTEXT_VARIABLES[expr]))
            elif pulled and xcom is not None:
                parts.append(xcom(pulled.group("task"), f"field '{field}' ({source})"))
            elif pulled or "xcom_pull" in expr:
                raise TemplateMappingError(
                    f"Task '{task_id}': field '{field}' pulls XCom with {source!r}, which cannot be compiled "
                    "here (only ti.xcom_pull(task_ids='<one task>') of the return value, in a templated field of "
                    "a compiled task, maps). Pass the value as a DAG param instead: '{{ params.NAME }}'."
                )
            elif not match:
                raise TemplateMappingError(
                    f"Task '{task_id}': field '{field}' uses the Jinja expression {source!r}, which cannot "
                    "be compiled to Step Functions (macros, ds, var, ti, conn, filters and other "
                    "expressions have no equivalent; only params, run_id and ti.xcom_pull(task_ids='x') map). "
                    "Use a DAG param instead: '{{ params.NAME }}', given in the execution input."
                )
            else:
                parts.append(ParamRef(match.group("attr") or match.group("key")))
        pos = end + 2
    return [p for p in parts if p != ""]


def map_string(text: str, *, task_id: str, field: str, xcom: XComResolver | None = None) -> Mapped:
    """Map one templated string to a literal, a path or a ``States.Format`` expression."""
    raw = split_template(text, task_id=task_id, field=field, xcom=xcom)
    # XCom values known when compiling are literal text.
    parts: list[str | ParamRef | ContextRef | Mapped] = [
        str(p.literal) if isinstance(p, Mapped) and not p.dynamic else p for p in raw
    ]
    names = tuple(sorted({p.name for p in parts if isinstance(p, ParamRef)}
                         | {n for p in raw if isinstance(p, Mapped) for n in p.params}))
    xcoms = tuple(sorted({t for p in raw if isinstance(p, Mapped) for t in p.xcoms}))
    if all(isinstance(p, str) for p in parts):
        return Mapped(literal="".join(p for p in parts if isinstance(p, str)), params=names, xcoms=xcoms)
    if len(parts) == 1 and isinstance(parts[0], ParamRef):
        return Mapped(expression=param_path(parts[0].name), params=names)
    if len(parts) == 1 and isinstance(parts[0], ContextRef):
        return Mapped(expression=parts[0].path, params=names)
    if len(parts) == 1 and isinstance(parts[0], Mapped):
        return Mapped(expression=parts[0].expression, params=names, xcoms=xcoms)
    if any(isinstance(p, str) and any(ch in CONTROL_CHARACTERS for ch in p) for p in parts):
        raise TemplateMappingError(
            f"Task '{task_id}': field '{field}' mixes params with line breaks or tabs; it would become a "
            "States.Format string, which has no escape for them. Put the text on one line, or pass the "
            "whole value as one param."
        )
    return Mapped(expression=format_expression(list(parts)), params=names, xcoms=xcoms)


@overload
def map_value(
    value: str, *, task_id: str, field: str, used: set[str] | None = None, xcom: XComResolver | None = None
) -> Mapped: ...


@overload
def map_value(
    value: dict[Any, Any],
    *,
    task_id: str,
    field: str,
    used: set[str] | None = None,
    xcom: XComResolver | None = None,
) -> dict[str, Any]: ...


@overload
def map_value(
    value: list[Any] | tuple[Any, ...],
    *,
    task_id: str,
    field: str,
    used: set[str] | None = None,
    xcom: XComResolver | None = None,
) -> list[Any]: ...


@overload
def map_value(
    value: object, *, task_id: str, field: str, used: set[str] | None = None, xcom: XComResolver | None = None
) -> MappedValue: ...


def map_value(
    value: object, *, task_id: str, field: str, used: set[str] | None = None, xcom: XComResolver | None = None
) -> MappedValue:
    """Map a templated value (str, dict, list, scalar) to ASL Parameters content.

    Returns a :class:`Mapped` for strings; dicts and lists are mapped recursively into plain
    containers whose dynamic entries use ``.$`` keys (lists with dynamic items are rejected).
    Param names read are added to ``used``. An operator's ``.output`` maps through ``xcom``.
    """
    if isinstance(value, str):
        mapped = map_string(value, task_id=task_id, field=field, xcom=xcom)
        if used is not None:
            used.update(mapped.params)
        return mapped
    producer = xcom_task_id(value)
    if producer is not None or type(value).__name__.endswith("XComArg"):
        if producer is None or xcom is None:
            raise TemplateMappingError(
                f"Task '{task_id}': field '{field}' is given an XCom argument ({type(value).__name__}) that cannot "
                "be compiled (only an operator's .output, its return value, in an argument of a compiled task "
                "maps). Pass the value as a DAG param instead: '{{ params.NAME }}'."
            )
        mapped = xcom(producer, f"field '{field}' ({producer}.output)")
        if used is not None:
            used.update(mapped.params)
        return mapped
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key in sorted(value, key=str):
            put(out, str(key), map_value(value[key], task_id=task_id, field=f"{field}.{key}", used=used, xcom=xcom))
        return out
    if isinstance(value, (list, tuple)):
        items: list[MappedValue] = [
            map_value(v, task_id=task_id, field=f"{field}[{i}]", used=used, xcom=xcom) for i, v in enumerate(value)
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
