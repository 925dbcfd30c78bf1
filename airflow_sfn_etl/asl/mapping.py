"""Dynamic task mapping over literal lists -> a ``Map`` state.

``Op.partial(...).expand(arg=[v1, v2, ...])`` (several mapped arguments: their cross product, in
Airflow's order, the last argument varying fastest) and ``Op.partial(...).expand_kwargs([{...}, ...])``
with literal values compile to two states:

- ``<task>: Items``, a ``Pass`` state writing the items (one object per mapped task instance) to
  ``$.<task key>__map_items`` in the state data (the only key the mapping adds; later tasks do not read it);
- ``<task>``, a ``Map`` state over them, whose ``ItemProcessor`` is the task's fragment for one item
  (``<task>: Item``). ``ItemSelector`` gives each iteration the DAG params the fragment reads and its
  item under ``map_item``; the fields of the fragment's Parameters that differ between items read
  ``$.map_item.<field>``. ``MaxConcurrency`` is the task's ``max_active_tis_per_dagrun``, else 0 (no
  limit). ``ResultPath`` is null: the outputs are discarded, as for every other task.

Per-item semantics are Airflow's: each item runs with the task's retries and timeout, and one failed
item fails the Map and so the run, as a failed mapped task instance fails the DAG run under the
default trigger rule (the Map stops the items still running; Airflow would let them finish).

Refused: mapping over XCom (``.expand(arg=upstream.output)``, values known only at run time, and a
state machine has no XCom), over a dict, over an empty list (Airflow skips the task and its
downstream tasks, a Map over no items succeeds), items whose varying values hold ``{{ params }}``
(an item is a JSON literal), and items that differ in more than one state's Parameters or in anything
else (the crawler fragment names its crawler in three states and its failure cause). Airflow itself
refuses a string (``expand(arg="{{ ... }}")``) when the DAG is parsed.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Callable, Iterator
from typing import Any

from airflow_sfn_etl.asl.errors import AslCompileError
from airflow_sfn_etl.asl.ir import Fragment, Graph, Map, Parallel, Pass, State, Task
from airflow_sfn_etl.asl.render_json import state_dict
from airflow_sfn_etl.asl.templates import param_path

#: The key of the current item in each Map iteration's input.
ITEM_KEY = "map_item"
_SIMPLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def is_mapped(task: Any) -> bool:
    """Whether the task is a mapped operator (``.partial().expand()`` / ``.expand_kwargs()``)."""
    return any(base.__name__ == "MappedOperator" for base in type(task).__mro__)


def _references(value: Any) -> Iterator[str]:
    """Task ids of the XCom a value refers to (Airflow's ``ResolveMixin.iter_references``)."""
    refs = getattr(value, "iter_references", None)
    if callable(refs):
        for operator, _key in refs():
            yield str(operator.task_id)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _references(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _references(v)


class MappingRefused(Exception):
    """A mapped task whose items cannot be known when compiling: ``reason`` and ``instead``."""

    def __init__(self, reason: str, instead: str) -> None:
        super().__init__(reason)
        self.reason, self.instead = reason, instead


def items_of(task: Any) -> list[dict[str, Any]]:
    """The keyword arguments of each mapped task instance, in map-index order.

    :raises MappingRefused: when the values are not literal lists (XCom, a dict, an empty list).
    """
    expand_input = task.expand_input
    value = expand_input.value
    xcom = sorted(set(_references(value)))
    if xcom:
        raise MappingRefused(
            f"it maps over XCom from task(s) {', '.join(xcom)}: the values exist only when that task has run, "
            "and a state machine has no XCom to read them from",
            "map over a literal list in the DAG file, or pass the values as a DAG param to one task",
        )
    kind = type(expand_input).__name__
    if kind == "DictOfListsExpandInput":
        names = list(value)
        lists = [value[n] for n in names]
        bad = [n for n, v in zip(names, lists, strict=True) if not isinstance(v, (list, tuple))]
        if bad:
            raise MappingRefused(
                f"it maps {', '.join(bad)} over a dict (key/value pairs); only literal lists compile",
                "map over a list of the values",
            )
        items = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*lists)]
    elif kind == "ListOfDictsExpandInput" and isinstance(value, (list, tuple)):
        if not all(isinstance(v, dict) for v in value):
            raise MappingRefused("expand_kwargs is given a list whose items are not dicts", "give a list of dicts")
        items = [dict(v) for v in value]
    else:
        raise MappingRefused(f"its mapped input ({kind}) is not a literal list", "map over a literal list")
    if not items:
        raise MappingRefused(
            "it maps over an empty list: Airflow skips the task and its downstream tasks, while a Map state "
            "over no items succeeds and runs them",
            "leave the task out, or give it at least one value",
        )
    return items


def unmapped(task: Any, item: dict[str, Any]) -> Any:
    """The operator one mapped task instance runs: the class with the partial and the item's arguments."""
    kwargs = {k: v for k, v in task.partial_kwargs.items() if k not in item}
    kwargs.update(item)
    display = getattr(task, "task_display_name", None)
    if display and display != task.task_id:
        kwargs.setdefault("task_display_name", display)
    return task.operator_class(task_id=task.task_id, **kwargs)


def _dynamic(value: Any) -> bool:
    if isinstance(value, dict):
        return any(str(k).endswith(".$") or _dynamic(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_dynamic(v) for v in value)
    return False


def _item_path(key: str) -> str:
    return f"$.{ITEM_KEY}." + key if _SIMPLE.match(key) else f"$.{ITEM_KEY}['" + key.replace("'", "\\'") + "']"


def _without_parameters(state: State) -> dict[str, Any]:
    out = state_dict(state)
    out.pop("Parameters", None)
    return out


def build_map(
    task: Any,
    *,
    state_name: str,
    data_key: str,
    item_fragment: Callable[[Any], tuple[Fragment, set[str]]],
) -> tuple[Fragment, Fragment]:
    """The mapped task's fragment (``Pass`` + ``Map``) and the fragment of its first item.

    :param task: the mapped operator.
    :param state_name: the task's state name (the Map's name).
    :param data_key: the task's state-data key.
    :param item_fragment: compiles one unmapped operator; returns its fragment and the params it reads.
    """
    items = items_of(task)
    built = [item_fragment(unmapped(task, item)) for item in items]
    fragments = [f for f, _ in built]
    params_used = sorted(set().union(*(p for _, p in built)))
    if ITEM_KEY in params_used:
        raise AslCompileError(
            f"Task '{task.task_id}': the DAG param '{ITEM_KEY}' has the name the Map state gives its item; "
            "rename the param."
        )
    first = fragments[0]
    shapes = [[_without_parameters(s) for s in f.states] for f in fragments]
    if any(shape != shapes[0] for shape in shapes[1:]):
        raise AslCompileError(
            f"Task '{task.task_id}': its mapped values change the states the task compiles to (not only their "
            "Parameters), so one ItemProcessor cannot run every item; list the tasks explicitly instead."
        )
    varying: dict[int, list[str]] = {}
    for index, state in enumerate(first.states):
        if not isinstance(state, Task):
            continue
        per_item: list[dict[str, Any]] = []
        for frag in fragments:
            same = frag.states[index]
            assert isinstance(same, Task)  # the states are alike but for their Parameters
            per_item.append(same.parameters)
        keys: set[str] = set().union(*per_item)
        missing = object()
        changing = sorted(k for k in keys if any(p.get(k, missing) != per_item[0].get(k, missing) for p in per_item))
        dynamic = [k for k in changing if k.endswith(".$") or any(_dynamic(p.get(k)) for p in per_item)]
        if dynamic:
            raise AslCompileError(
                f"Task '{task.task_id}': the mapped values of {', '.join(k.removesuffix('.$') for k in dynamic)} "
                "read '{{ params }}' or run_id; a Map item is a JSON literal. Map over literal values only."
            )
        partial = sorted(k for k in keys if any(k not in p for p in per_item))
        if partial:
            raise AslCompileError(
                f"Task '{task.task_id}': its items set different fields of state '{state.name}' "
                f"({', '.join(partial)} only in some); give every item the same arguments."
            )
        if changing:
            varying[index] = changing
    if len(varying) > 1:
        names = ", ".join(repr(first.states[i].name) for i in sorted(varying))
        raise AslCompileError(
            f"Task '{task.task_id}': its mapped values change the Parameters of several states ({names}), "
            "while a Map item gives one state its values; list the tasks explicitly instead."
        )
    values: list[dict[str, Any]] = [{} for _ in items]
    processor_states = copy.deepcopy(first.states)
    for index, changed in varying.items():
        state = processor_states[index]
        assert isinstance(state, Task)
        for key in changed:
            del state.parameters[key]
            state.parameters[f"{key}.$"] = _item_path(key)
        for value, frag in zip(values, fragments, strict=True):
            source = frag.states[index]
            assert isinstance(source, Task)
            for key in changed:
                value[key] = source.parameters[key]
    processor = _link_processor(Fragment(name=first.name, start=first.start, states=processor_states))
    items_key = f"{data_key}__map_items"
    selector: dict[str, Any] = {f"{name}.$": param_path(name) for name in params_used}
    selector[f"{ITEM_KEY}.$"] = "$$.Map.Item.Value"
    limit = getattr(task, "max_active_tis_per_dagrun", None)
    map_state = Map(
        name=state_name,
        branches=[processor],
        items_path=f"$.{items_key}",
        item_selector=selector,
        max_concurrency=int(limit or 0),
        items=values,
        result_path=None,
    )
    feed = Pass(
        name=f"{state_name}: Items",
        comment=f"The {len(values)} items of the mapped task '{task.task_id}'",
        result=values,  # type: ignore[arg-type]
        result_path=f"$.{items_key}",
        next=state_name,
    )
    return Fragment(name=state_name, start=feed.name, states=[feed, map_state]), first


def _link_processor(fragment: Fragment) -> Graph:
    from airflow_sfn_etl.asl.builder import link  # the builder imports this module

    return link([fragment])


def bind_item(parameters: dict[str, Any], item: Any) -> dict[str, Any]:
    """A Parameters dict of a Map's ItemProcessor with ``$.map_item...`` paths replaced by the item's values."""
    out: dict[str, Any] = {}
    for key, value in parameters.items():
        if key.endswith(".$") and isinstance(value, str) and value.startswith((f"$.{ITEM_KEY}.", f"$.{ITEM_KEY}[")):
            found: Any = item
            rest = value[len("$." + ITEM_KEY) :]
            for part in re.findall(r"\.([A-Za-z_][A-Za-z0-9_]*)|\['((?:[^'\\]|\\.)*)'\]", rest):
                name = part[0] or part[1].replace("\\'", "'")
                found = found.get(name) if isinstance(found, dict) else None
            out[key[:-2]] = found
        elif isinstance(value, dict):
            out[key] = bind_item(value, item)
        else:
            out[key] = value
    return out


def item_tasks(state: Parallel) -> list[Task]:
    """The Task states of a Map's ItemProcessor once per item, Parameters bound to the item."""
    assert isinstance(state, Map)
    inner = [s for s in state.branches[0].iter_states() if isinstance(s, Task)]
    out: list[Task] = []
    for item in state.items or [None]:
        for task in inner:
            bound = copy.copy(task)
            bound.parameters = bind_item(task.parameters, item) if item is not None else task.parameters
            out.append(bound)
    return out
