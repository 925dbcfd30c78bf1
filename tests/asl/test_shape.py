"""DAGs that are not series-parallel compile with the fewest added dependencies, each one reported;
``strict_shape`` refuses them instead. The compiled order is read back from the ASL definition itself."""

from __future__ import annotations

import itertools
import random
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.standard.operators.empty import EmptyOperator

from airflow_sfn_etl.asl import DagShapeError, DagShapeWarning, compile_dag, definition, validate
from airflow_sfn_etl.asl.order import EXACT_LIMIT
from tests.asl.asl_validator import assert_aws_accepts
from tests.asl.conftest import make_dag

Pair = tuple[str, str]


# ----------------------------------------------------------------- the order a definition runs its tasks in


def _sequence(states: dict[str, Any], start: str) -> list[Any]:
    """The states of one Next chain: a task name, or a list of branch sequences for a Parallel state."""
    out: list[Any] = []
    name: str | None = start
    while name is not None:
        state = states[name]
        if state["Type"] == "Parallel":
            out.append([_sequence(b["States"], b["StartAt"]) for b in state["Branches"]])
        elif state["Type"] in ("Pass", "Task"):
            out.append(name)
        else:
            raise AssertionError(f"unexpected state type {state['Type']} in {name}")
        name = None if state.get("End") else state["Next"]
    return out


def _tasks(element: Any) -> set[str]:
    if isinstance(element, str):
        return {element}
    return set().union(*(_tasks(e) for e in element))


def _order(sequence: list[Any]) -> set[Pair]:
    """(u, v) for every two tasks where u ends before v starts: earlier items of a chain before later ones."""
    pairs: set[Pair] = set()
    for i, element in enumerate(sequence):
        if not isinstance(element, str):
            for branch in element:
                pairs |= _order(branch)
        for later in sequence[i + 1 :]:
            pairs |= set(itertools.product(_tasks(element), _tasks(later)))
    return pairs


def _compiled_order(dag: Any, **kwargs: Any) -> tuple[set[Pair], Any]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        machine = compile_dag(dag, **kwargs)
    document = definition(machine)
    assert validate(document) == []
    shape = [str(w.message) for w in caught if issubclass(w.category, DagShapeWarning)]
    assert shape == list(machine.warnings)
    return _order(_sequence(document["States"], document["StartAt"])), machine


def _closure(nodes: list[str], edges: set[Pair]) -> set[Pair]:
    succ = {n: {v for u, v in edges if u == n} for n in nodes}
    out: set[Pair] = set()
    for n in nodes:
        stack, seen = list(succ[n]), set()
        while stack:
            m = stack.pop()
            if m not in seen:
                seen.add(m)
                stack.extend(succ[m])
        out |= {(n, m) for m in seen}
    return out


def _dag(nodes: list[str], edges: set[Pair], dag_id: str = "shape") -> Any:
    with make_dag(dag_id) as dag:
        ops = {n: EmptyOperator(task_id=n) for n in nodes}
        for u, v in edges:
            ops[u] >> ops[v]
    return dag


def _random_dag(rng: random.Random, n: int, p: float) -> tuple[list[str], set[Pair]]:
    nodes = [f"t{i:02d}" for i in range(n)]
    shuffled = nodes[:]
    rng.shuffle(shuffled)  # a random topological order, independent of the names
    edges = {(shuffled[i], shuffled[j]) for i in range(n) for j in range(i + 1, n) if rng.random() < p}
    return nodes, edges


# ----------------------------------------------------------------- the fewest pairs any nesting must add


@cache
def _series_parallel_orders(nodes: frozenset[str]) -> frozenset[frozenset[Pair]]:
    """Every series-parallel order on ``nodes`` (as sets of ordered pairs), by brute force."""

    @cache
    def orders(group: frozenset[str]) -> frozenset[frozenset[Pair]]:
        if len(group) == 1:
            return frozenset({frozenset()})
        out: set[frozenset[Pair]] = set()
        members = sorted(group)
        for size in range(1, len(members)):
            for first in itertools.combinations(members, size):
                a = frozenset(first)
                b = group - a
                for ra in orders(a):
                    for rb in orders(b):
                        out.add(ra | rb)  # side by side
                        out.add(ra | rb | frozenset(itertools.product(a, b)))  # a before b
        return frozenset(out)

    return orders(nodes)


# ----------------------------------------------------------------- tests


def test_the_n_shape_compiles_with_one_added_dependency_named_in_a_warning(tmp_path: Path) -> None:
    dag = _dag(list("abcd"), {("a", "c"), ("b", "c"), ("b", "d")}, "n_shape")
    order, machine = _compiled_order(dag)
    # {a, b} then {c, d}: the one pair the DAG does not order is a before d.
    assert order - _closure(list("abcd"), {("a", "c"), ("b", "c"), ("b", "d")}) == {("a", "d")}
    assert machine.added_edges == (("a", "d"),)
    (message,) = machine.warnings
    assert message.startswith("DAG 'n_shape' is not series-parallel: 1 dependency added to compile it (a >> d)")
    assert "a, b all end before c, d start" in message
    assert_aws_accepts(definition(machine), tmp_path)


def test_strict_shape_refuses_naming_the_edges_that_break_it_and_those_it_would_add() -> None:
    dag = _dag(list("abcd"), {("a", "c"), ("b", "c"), ("b", "d")}, "n_shape")
    with pytest.raises(DagShapeError) as info:
        compile_dag(dag, strict_shape=True)
    message = str(info.value)
    assert "do not form a series-parallel graph" in message
    assert "Edges that break it: b >> c." in message
    assert "with the added dependencies a >> d." in message


def test_complete_bipartite_layers_need_no_added_dependency_even_when_strict() -> None:
    edges = {(u, v) for u in "ab" for v in "cd"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", DagShapeWarning)
        order, machine = _compiled_order(_dag(list("abcd"), edges), strict_shape=True)
    assert order == edges and machine.added_edges == () and machine.warnings == ()


def test_a_series_parallel_dag_gets_no_warning() -> None:
    edges = {("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")}
    with warnings.catch_warnings():
        warnings.simplefilter("error", DagShapeWarning)
        order, machine = _compiled_order(_dag(list("abcd"), edges))
    assert order == _closure(list("abcd"), edges) and machine.warnings == ()


@pytest.mark.parametrize("seed", range(6))
def test_random_dags_keep_every_dependency_and_add_exactly_the_reported_ones(seed: int) -> None:
    rng = random.Random(seed)
    for case in range(40):
        n = rng.randint(2, 9) if case % 4 else rng.randint(EXACT_LIMIT + 1, 22)
        nodes, edges = _random_dag(rng, n, rng.choice((0.15, 0.3, 0.5)))
        original = _closure(nodes, edges)
        order, machine = _compiled_order(_dag(nodes, edges))
        assert set(itertools.chain.from_iterable(order)) <= set(nodes)
        # Every dependency of the DAG, direct or through other tasks: u ends before v starts.
        missing = original - order
        assert not missing, f"seed {seed} case {case}: {sorted(missing)} dropped from {sorted(edges)}"
        # The nesting adds exactly what the reported edges imply, and nothing when it adds no edge.
        assert order == _closure(nodes, edges | set(machine.added_edges))
        assert all(edge not in original for edge in machine.added_edges)
        assert bool(machine.warnings) == bool(machine.added_edges)


@pytest.mark.parametrize("seed", range(3))
def test_small_dags_get_the_fewest_added_pairs_any_nesting_can_have(seed: int) -> None:
    rng = random.Random(100 + seed)
    checked = 0
    while checked < 6:  # DAGs that are not series-parallel
        nodes, edges = _random_dag(rng, rng.randint(4, 6), 0.35)
        original = _closure(nodes, edges)
        order, machine = _compiled_order(_dag(nodes, edges))
        if not machine.added_edges:
            continue
        fewest = min(
            len(candidate) - len(original)
            for candidate in _series_parallel_orders(frozenset(nodes))
            if original <= candidate
        )
        assert len(order) - len(original) == fewest, (sorted(edges), sorted(order - original))
        checked += 1
