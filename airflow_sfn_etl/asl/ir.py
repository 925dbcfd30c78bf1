"""Intermediate representation of a Step Functions state machine (JSONPath query language).

States are plain dataclasses. Transitions name their target state; the sentinel :data:`EXIT`
means "whatever follows this fragment" and is resolved when fragments are chained
(:func:`airflow_sfn_etl.asl.builder.link`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias

#: Transition target meaning "the state after this fragment" (resolved when fragments are linked).
EXIT = "\x00exit"

#: A value a Choice comparison compares with (string, number, boolean; a path for ``...Path`` operators).
ChoiceValue: TypeAlias = "str | int | float | bool | None"
#: Any JSON value, e.g. a Pass state's ``Result``.
JsonValue: TypeAlias = "str | int | float | bool | None | list[JsonValue] | dict[str, JsonValue]"


@dataclass(frozen=True)
class Retry:
    """One ``Retry`` entry of a Task or Parallel state."""

    error_equals: tuple[str, ...]
    interval_seconds: int | None = None
    max_attempts: int | None = None
    backoff_rate: float | None = None
    max_delay_seconds: int | None = None


@dataclass
class Catch:
    """One ``Catch`` entry: on these errors go to ``next`` (``result_path`` None keeps the input)."""

    error_equals: tuple[str, ...]
    next: str
    result_path: str | None = None


@dataclass
class ChoiceRule:
    """A Choice rule: a comparison (``variable`` + ``operator`` + ``value``) or And/Or/Not of rules.

    Top-level rules carry ``next``; nested rules leave it None.
    """

    variable: str | None = None
    operator: str | None = None
    value: ChoiceValue = None
    and_: tuple[ChoiceRule, ...] = ()
    or_: tuple[ChoiceRule, ...] = ()
    not_: ChoiceRule | None = None
    next: str | None = None


@dataclass
class _StateBase:
    """Fields every state has."""

    name: str
    comment: str | None = None


@dataclass
class _Chainable(_StateBase):
    """A state that continues with ``next`` or ends its branch (``end``)."""

    next: str | None = EXIT
    end: bool = False
    input_path: str | None = "$"
    output_path: str | None = "$"


@dataclass
class Task(_Chainable):
    """A Task state calling a service integration."""

    resource: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    result_selector: dict[str, Any] | None = None
    #: ``"$"`` replaces the input with the result; ``None`` discards the result (input flows on).
    result_path: str | None = None
    retry: list[Retry] = field(default_factory=list)
    catch: list[Catch] = field(default_factory=list)
    timeout_seconds: int | None = None
    #: The Airflow task this state was compiled from (not rendered).
    task_id: str | None = None


@dataclass
class Pass(_Chainable):
    """A Pass state (used for counters and constants)."""

    result: JsonValue = None
    parameters: dict[str, Any] | None = None
    result_path: str | None = "$"


@dataclass
class Wait(_Chainable):
    """A Wait state: exactly one of ``seconds`` / ``seconds_path`` / ``timestamp`` / ``timestamp_path``."""

    seconds: int | None = None
    seconds_path: str | None = None
    timestamp: str | None = None
    timestamp_path: str | None = None


@dataclass
class Choice(_StateBase):
    """A Choice state."""

    choices: list[ChoiceRule] = field(default_factory=list)
    default: str | None = None


@dataclass
class Fail(_StateBase):
    """A Fail state (``cause``/``cause_path`` and ``error``/``error_path`` are exclusive pairs)."""

    error: str | None = None
    cause: str | None = None
    error_path: str | None = None
    cause_path: str | None = None


@dataclass
class Succeed(_StateBase):
    """A Succeed state."""


@dataclass
class Parallel(_Chainable):
    """A Parallel state: each branch is a :class:`Graph` of its own."""

    branches: list[Graph] = field(default_factory=list)
    #: None: the branch outputs (an array) are discarded and the input flows on.
    result_path: str | None = None
    retry: list[Retry] = field(default_factory=list)
    catch: list[Catch] = field(default_factory=list)


@dataclass
class Map(Parallel):
    """A Map state: its one branch (``branches[0]``, rendered as ``ItemProcessor``) runs once per item.

    It is a :class:`Parallel` for everything that links states (Catch, Retry, iteration over nested
    states); ``items`` (not rendered) are the literal items, for the IAM policy.
    """

    items_path: str = "$"
    item_selector: dict[str, Any] | None = None
    #: 0: no limit.
    max_concurrency: int = 0
    items: list[Any] = field(default_factory=list)


State = Task | Pass | Wait | Choice | Fail | Succeed | Parallel | Map


@dataclass
class Fragment:
    """An ordered sub-graph with one entry (``start``) and one exit.

    The exit is every transition that targets :data:`EXIT`; linking a fragment to the next one
    rewrites those targets. ``name`` is the state name of the Airflow task it came from.
    """

    name: str
    start: str
    states: list[State]


@dataclass
class Graph:
    """A complete state list with ``StartAt`` (the whole machine or one Parallel branch)."""

    start: str
    states: list[State]

    def iter_states(self) -> list[State]:
        """All states, depth first, including those inside Parallel branches and Map item processors."""
        out: list[State] = []
        for state in self.states:
            out.append(state)
            if isinstance(state, Parallel):
                for branch in state.branches:
                    out.extend(branch.iter_states())
        return out


@dataclass
class StateMachine:
    """A compiled state machine: the graph plus what the renderers need besides it."""

    dag_id: str
    comment: str
    graph: Graph
    timeout_seconds: int | None = None
    #: Names of the DAG params the definition reads from the execution input, sorted.
    params_used: tuple[str, ...] = ()
    #: Default values of the DAG params (for IAM scoping and the execution input).
    param_defaults: dict[str, Any] = field(default_factory=dict)
    #: Notes the compiler wants the user to see (e.g. params substituted into SQL).
    notes: tuple[str, ...] = ()
    #: Dependencies the compiler added to nest a DAG that is not series-parallel (upstream, downstream).
    added_edges: tuple[tuple[str, str], ...] = ()
    #: Warnings for the user (the dependencies added, by synchronisation point).
    warnings: tuple[str, ...] = ()

    def tasks(self) -> list[Task]:
        """Every Task state, depth first."""
        return [s for s in self.graph.iter_states() if isinstance(s, Task)]
