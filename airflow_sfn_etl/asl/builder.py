"""Walk an Airflow DAG and arrange its tasks' fragments into a state machine (IR).

Dependencies become a sequence; a fan-out/fan-in that forms a series-parallel graph becomes a
``Parallel`` state with one branch per independent chain. Several roots start with a
``Parallel``; several sinks end with one (independent tasks run side by side, as in Airflow).
Any other shape compiles with the fewest added dependencies (synchronisation points,
:mod:`~airflow_sfn_etl.asl.order`), each reported as a :class:`~airflow_sfn_etl.asl.errors.DagShapeWarning`
naming the edges it adds; with ``strict_shape=True`` it is rejected instead, naming the edges that
break it. Redundant (transitive) edges are ignored. Branches are sorted by the task_id of their
first task, so output is deterministic.
"""

from __future__ import annotations

import heapq
import logging
import re
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_sfn_etl.asl import mapping, sensors, triggers, xcom
from airflow_sfn_etl.asl.context import MAX_STATE_NAME, AslContext, retry_of, state_name_of
from airflow_sfn_etl.asl.errors import AslCompileError, DagShapeError, DagShapeWarning, UnsupportedTasksError
from airflow_sfn_etl.asl.fragments.registry import class_path, fragment_for
from airflow_sfn_etl.asl.ir import (
    EXIT,
    Choice,
    Fail,
    Fragment,
    Graph,
    Parallel,
    State,
    StateMachine,
    Succeed,
    Task,
    _Chainable,
)
from airflow_sfn_etl.asl.order import Barrier, Item, Par, Region
from airflow_sfn_etl.asl.refusals import Refusal, operator_refusals

if TYPE_CHECKING:
    from airflow.sdk import DAG, TaskGroup
    from airflow.sdk.types import Operator

_SRC = "\x00start"
_DST = "\x00end"
_Par = Par
_Item = Item
log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- graph shape


class _Shape:
    """The DAG's dependency graph with a virtual source and sink, transitively reduced."""

    def __init__(
        self, dag_id: str, task_ids: list[str], edges: set[tuple[str, str]], *, strict: bool = False
    ) -> None:
        self.dag_id = dag_id
        self.strict = strict
        #: Synchronisation points added to nest regions that are not series-parallel.
        self.barriers: list[Barrier] = []
        nodes = [_SRC, *task_ids, _DST]
        self.succ: dict[str, set[str]] = {n: set() for n in nodes}
        for up, down in edges:
            self.succ[up].add(down)
        has_upstream = {down for _, down in edges}
        for t in task_ids:
            if t not in has_upstream:
                self.succ[_SRC].add(t)
            if not self.succ[t]:
                self.succ[t].add(_DST)
        self._reduce()
        self.pred: dict[str, set[str]] = {n: set() for n in nodes}
        for up, downs in self.succ.items():
            for down in downs:
                self.pred[down].add(up)
        self.order = {n: i for i, n in enumerate(self._topo(nodes))}

    def _reach(self, start: str, allowed: set[str] | None = None) -> set[str]:
        seen: set[str] = set()
        stack = [start]
        while stack:
            node = stack.pop()
            for nxt in self.succ[node]:
                if nxt not in seen and (allowed is None or nxt in allowed):
                    seen.add(nxt)
                    stack.append(nxt)
        return seen

    def _reduce(self) -> None:
        for node in sorted(self.succ):
            if len(self.succ[node]) < 2:
                continue
            reach = {o: self._reach(o) for o in self.succ[node]}  # once per successor, not per pair
            for direct in sorted(self.succ[node]):
                others = self.succ[node] - {direct}
                if any(direct in reach[o] for o in others):
                    self.succ[node].discard(direct)

    def _topo(self, nodes: list[str]) -> list[str]:
        indeg = {n: 0 for n in nodes}
        for downs in self.succ.values():
            for d in downs:
                indeg[d] += 1
        ready = [n for n in nodes if indeg[n] == 0]
        heapq.heapify(ready)
        out: list[str] = []
        while ready:
            node = heapq.heappop(ready)
            out.append(node)
            for d in self.succ[node]:
                indeg[d] -= 1
                if indeg[d] == 0:
                    heapq.heappush(ready, d)
        return out

    def decompose(self, src: str, dst: str, nodes: frozenset[str]) -> list[_Item]:
        """The items strictly between ``src`` and ``dst`` (all of ``nodes``), as a sequence."""
        if not nodes:
            return []
        ordered = sorted(nodes, key=self.order.__getitem__)
        cuts = self._cuts(src, dst, ordered)
        if cuts:
            items: list[_Item] = []
            bounds = [src, *cuts, dst]
            position = {n: i for i, n in enumerate(ordered)}
            at = [-1, *(position[c] for c in cuts), len(ordered)]
            for (a, b), (lo, hi) in zip(zip(bounds, bounds[1:], strict=False), zip(at, at[1:], strict=False),
                                        strict=False):
                # Every node lies on a src -> dst path through every cut, in topological order: the
                # nodes between two consecutive cuts are exactly those ordered between them.
                between = frozenset(ordered[lo + 1:hi])
                items.extend(self.decompose(a, b, between))
                if b != dst:
                    items.append(b)
            return items
        components = self._components(nodes)
        if len(components) == 1:
            return self._nest(src, dst, nodes)
        return [_Par([self.decompose(src, dst, c) for c in components])]

    def _nest(self, src: str, dst: str, nodes: frozenset[str]) -> list[_Item]:
        """Items of a region the cuts cannot split, with the fewest added dependencies (``asl.order``)."""
        items, barriers = Region(self.succ, self.order, nodes).nest()
        added = [b for b in barriers if b.pairs]
        if added and self.strict:
            raise self._shape_error(src, dst, nodes, added)
        self.barriers.extend(added)
        return items

    def _cuts(self, src: str, dst: str, ordered: list[str]) -> list[str]:
        """The nodes every ``src`` -> ``dst`` path goes through, in topological order.

        ``ordered`` (the nodes strictly between ``src`` and ``dst``, topologically sorted) all lie
        on such paths, so a node is on every path exactly when no edge jumps over it in that order:
        one sweep over the edges (O(nodes + edges)) instead of a reachability search per node.
        """
        position = {n: i + 1 for i, n in enumerate(ordered)}
        position[src], position[dst] = 0, len(ordered) + 1
        cover = [0] * (len(ordered) + 3)
        for u in (src, *ordered):
            for v in self.succ[u]:
                if v in position and position[v] > position[u] + 1:
                    cover[position[u] + 1] += 1
                    cover[position[v]] -= 1
        cuts, running = [], 0
        for i, node in enumerate(ordered, start=1):
            running += cover[i]
            if running == 0:
                cuts.append(node)
        return cuts

    def _components(self, nodes: frozenset[str]) -> list[frozenset[str]]:
        left = set(nodes)
        out: list[frozenset[str]] = []
        while left:
            seed = min(left, key=self.order.__getitem__)
            comp = {seed}
            stack = [seed]
            while stack:
                node = stack.pop()
                for nxt in (self.succ[node] | self.pred[node]) & left:
                    if nxt not in comp:
                        comp.add(nxt)
                        stack.append(nxt)
            left -= comp
            out.append(frozenset(comp))
        return out

    def _shape_error(
        self, src: str, dst: str, nodes: frozenset[str], barriers: list[Barrier]
    ) -> DagShapeError:
        entries = self.succ[src] & nodes
        exits = self.pred[dst] & nodes
        inside = [(u, v) for u in nodes for v in self.succ[u] if v in nodes]
        came_from = {n: {e for e in entries if n == e or n in self._reach(e, set(nodes))} for n in nodes}
        goes_to = {n: {x for x in exits if n == x or x in self._reach(n, set(nodes))} for n in nodes}
        joins = {(u, v) for u, v in inside if came_from[u] < came_from[v]}
        splits = {(u, v) for u, v in inside if goes_to[v] < goes_to[u]}
        culprits = (joins & splits) or (joins | splits) or set(inside)
        listed = ", ".join(f"{u} >> {v}" for u, v in sorted(culprits, key=lambda e: (self.order[e[0]], e[1])))
        where = (
            "between the DAG's roots and sinks"
            if src == _SRC and dst == _DST
            else (
                f"between {'the start' if src == _SRC else repr(src)} "
                f"and {'the end' if dst == _DST else repr(dst)}"
            )
        )
        return DagShapeError(
            f"DAG '{self.dag_id}' cannot be compiled to Step Functions: the tasks {where} "
            f"({', '.join(sorted(nodes, key=self.order.__getitem__))}) do not form a series-parallel graph, "
            f"so they cannot be split into Parallel branches that start together and end together. "
            f"Edges that break it: {listed}. Remove these dependencies, or join the branches in one task "
            "before the crossing dependency, or leave strict_shape off (the CLI's --strict-shape) to compile it "
            f"with the added dependencies {_edges_text(b.edges for b in barriers)}."
        )


def _edges_text(groups: Any) -> str:
    return ", ".join(f"{u} >> {v}" for edges in groups for u, v in edges)


def _tasks_text(task_ids: tuple[str, ...]) -> str:
    return ", ".join(sorted(task_ids))


def shape_warning(dag_id: str, barrier: Barrier) -> str:
    """The warning for one added synchronisation point, naming the dependencies it adds."""
    count = len(barrier.edges)
    return (
        f"DAG '{dag_id}' is not series-parallel: {count} dependenc{'y' if count == 1 else 'ies'} "
        f"added to compile it ({_edges_text([barrier.edges])}): "
        f"{_tasks_text(barrier.before)} {'ends' if len(barrier.before) == 1 else 'all end'} before "
        f"{_tasks_text(barrier.after)} {'starts' if len(barrier.after) == 1 else 'start'}. "
        "Declare them in the DAG to make this explicit, or compile with strict_shape=True (--strict-shape) "
        "to refuse instead."
    )


# --------------------------------------------------------------------------- linking


def _retarget(state: State, target: str | None, done: str) -> bool:
    """Point EXIT transitions at ``target``; at the end (None) ``Next`` becomes ``End`` and other
    references go to the Succeed state ``done``. Return True if ``done`` is needed."""
    other = target if target is not None else done
    used_done = False
    if isinstance(state, _Chainable) and state.next == EXIT:
        if target is None:
            state.next, state.end = None, True
        else:
            state.next = target
    if isinstance(state, Choice):
        for rule in state.choices:
            if rule.next == EXIT:
                rule.next, used_done = other, used_done or target is None
        if state.default == EXIT:
            state.default, used_done = other, used_done or target is None
    if isinstance(state, (Task, Parallel)):
        for catch in state.catch:
            if catch.next == EXIT:
                catch.next, used_done = other, used_done or target is None
    return used_done


def link(fragments: list[Fragment]) -> Graph:
    """Chain fragments in order; the last one's exit ends the graph (adding a Succeed if needed)."""
    states: list[State] = []
    for i, frag in enumerate(fragments):
        target = fragments[i + 1].start if i + 1 < len(fragments) else None
        done = f"{frag.name}: Done"[:MAX_STATE_NAME]
        needs_succeed = False
        for state in frag.states:
            needs_succeed |= _retarget(state, target, done)
        states.extend(frag.states)
        if needs_succeed:
            states.append(Succeed(name=done))
    return Graph(start=fragments[0].start, states=states)


# --------------------------------------------------------------------------- DAG -> IR


@dataclass
class BuildOptions:
    """Compile-time settings: ARN region/account (None -> read at run time from the machine's ARN)."""

    region: str | None = None
    account: str | None = None
    #: Refuse a DAG that is not series-parallel instead of adding dependencies.
    strict_shape: bool = False


class _Builder:
    def __init__(self, dag: DAG, options: BuildOptions) -> None:
        self.dag = dag
        self.options = options
        self.param_defaults = _param_defaults(dag)
        folder = getattr(dag, "folder", None)
        search = [folder] if folder else []
        tsp = getattr(dag, "template_searchpath", None) or []
        search += [tsp] if isinstance(tsp, str) else list(tsp)
        self.search_path = tuple(str(s) for s in search)
        self.params_used: set[str] = set()
        self.notes: list[str] = []
        self.parallel_names: set[str] = set()
        self.xcoms = xcom.XComUses(dag)
        self.merge = sensors.SensorMerge()

    def build(self) -> StateMachine:
        if not self.dag.task_dict:
            raise AslCompileError(f"DAG '{self.dag.dag_id}' has no tasks to compile.")
        # Stock sensors right after the start they wait for become the start's waiting state.
        self.merge = sensors.plan(self.dag)
        self.notes.extend(self.merge.notes)
        tasks = {k: t for k, t in self.dag.task_dict.items() if k not in self.merge.absorbed}
        refusals, errors = self._task_fragments()
        refusals.extend(self.merge.refusals)
        edges = self.merge.contract(
            {(t.task_id, d) for t in self.dag.task_dict.values() for d in t.downstream_task_ids}
        )
        shape = _Shape(self.dag.dag_id, sorted(tasks), edges, strict=self.options.strict_shape)
        shape_error: DagShapeError | None = None
        points: list[triggers.TriggerPoint] = []
        try:
            items = shape.decompose(_SRC, _DST, frozenset(tasks))
        except DagShapeError as error:
            shape_error, items = error, []
        else:
            points, rule_refusals = triggers.plan(self.dag, items, _path_of)
            refusals.extend(rule_refusals)
            caught = {k for p in points for k, outcome in p.on_failure.items() if outcome != triggers.FAIL}
            refusals.extend(self.xcoms.refusals(items, caught, _path_of))
        if refusals:
            self._refuse(refusals, errors, shape_error)
        if shape_error is not None:
            raise shape_error
        shape_warnings = [shape_warning(self.dag.dag_id, b) for b in shape.barriers]
        for message in shape_warnings:
            log.warning("%s", message)
            warnings.warn(message, DagShapeWarning, stacklevel=3)
        fragments = self._fragments(items)
        triggers.wrap_failing(points, fragments)
        triggers.apply(points, fragments)
        self.xcoms.wire(self.built)
        graph = link(fragments)
        self._check_names(graph)
        timeout = getattr(self.dag, "dagrun_timeout", None)
        description = getattr(self.dag, "description", None)
        comment = f"Airflow DAG '{self.dag.dag_id}'" + (f": {description}" if description else "")
        comment += " (compiled by airflow-sfn-etl)"
        return StateMachine(
            dag_id=self.dag.dag_id,
            comment=comment,
            graph=graph,
            timeout_seconds=int(timeout.total_seconds()) if timeout else None,
            params_used=tuple(sorted(self.params_used)),
            param_defaults=self.param_defaults,
            notes=tuple(self.notes),
            added_edges=tuple(edge for b in shape.barriers for edge in b.edges),
            warnings=tuple(shape_warnings),
        )

    def _task_fragments(self) -> tuple[list[Refusal], dict[str, AslCompileError]]:
        """Check every task and build the fragment of each one that passes: (refusals, errors by task)."""
        refusals: list[Refusal] = []
        errors: dict[str, AslCompileError] = {}
        self.built: dict[str, Fragment] = {}
        #: The fragment of one item of each mapped task (its Map state's ItemProcessor).
        self.item_fragments: dict[str, Fragment] = {}
        for task_id in sorted(self.dag.task_dict):
            if task_id in self.merge.handled:
                continue  # merged into its start, or refused by sensors.plan
            task = self.dag.task_dict[task_id]
            refused = operator_refusals(task)
            if refused:
                refusals.extend(refused)
                continue
            outlets = [getattr(a, "uri", None) or str(a) for a in getattr(task, "outlets", None) or ()]
            if outlets:
                self.notes.append(
                    f"Task '{task_id}' has outlets {', '.join(outlets)}: the state machine emits no Airflow asset "
                    "events; declare the same outlets on the Airflow task that runs the machine "
                    "(StepFunctionRunOperator or StepFunctionDeployOperator) to emit them when it succeeds"
                )
            try:
                self.built[task_id] = frag = self._task_fragment(task)
            except AslCompileError as error:
                errors[task_id] = error
                reason, _, instead = str(error).removeprefix(f"Task '{task_id}': ").partition(" Instead: ")
                refusals.append(Refusal(task_id, _path_of(task), reason, instead))
                continue
            frag = self.item_fragments.get(task_id, frag)
            if getattr(task, "execution_timeout", None) and len(frag.states) > 1:
                refusals.append(
                    Refusal(
                        task_id,
                        _path_of(task),
                        f"execution_timeout={task.execution_timeout}: the task compiles to a poll loop of "
                        f"{len(frag.states)} states, which Step Functions cannot time as one (TimeoutSeconds "
                        "applies to one Task state)",
                        "bound the loop with max_polls, or set wait_for_completion=False",
                    )
                )
        return refusals, errors

    def _refuse(
        self, refusals: list[Refusal], errors: dict[str, AslCompileError], shape_error: DagShapeError | None
    ) -> None:
        """Raise one error naming every refused task (a lone compile error is raised as it is)."""
        if not refusals:
            return
        if len(refusals) == 1 and shape_error is None and refusals[0].task_id in errors:
            raise errors[refusals[0].task_id]
        raise UnsupportedTasksError(self.dag.dag_id, refusals, shape_error)

    def _fragments(self, items: list[_Item]) -> list[Fragment]:
        out: list[Fragment] = []
        for item in items:
            if isinstance(item, str):
                out.append(self.built[item])
            else:
                branches = sorted(item.branches, key=_first_task_id)
                graphs = [link(self._fragments(b)) for b in branches]
                name = self._parallel_name(item, branches)
                par = Parallel(name=name, branches=graphs, result_path=None)
                out.append(Fragment(name=name, start=name, states=[par]))
        return out

    def _task_fragment(self, task: Operator) -> Fragment:
        if mapping.is_mapped(task):
            name = state_name_of(task)
            if len(name) + len(": Items") > MAX_STATE_NAME:
                raise AslCompileError(
                    f"Task '{task.task_id}': state name {name!r} leaves no room for the Map's states "
                    f"(at most {MAX_STATE_NAME - len(': Items')} characters); set a shorter task_display_name."
                )
            try:
                frag, item = mapping.build_map(
                    task,
                    state_name=name,
                    data_key=re.sub(r"[^A-Za-z0-9_]", "_", str(task.task_id)),
                    item_fragment=lambda op: self._item_fragment(op, f"{name}: Item"),
                )
            except mapping.MappingRefused as refused:  # checked by refusals.py first; kept for direct use
                raise AslCompileError(f"Task '{task.task_id}': {refused.reason}") from refused
            self.item_fragments[str(task.task_id)] = item
            return frag
        return self._single_fragment(task, state_name_of(task))

    def _item_fragment(self, task: Operator, state_name: str) -> tuple[Fragment, set[str]]:
        before = set(self.params_used)
        self.params_used = set()
        try:
            frag = self._single_fragment(task, state_name)
            used = set(self.params_used)
        finally:
            self.params_used |= before
        notes = list(dict.fromkeys(self.notes))
        self.notes[:] = notes
        return frag, used

    def _single_fragment(self, task: Operator, state_name: str) -> Fragment:
        ctx = AslContext(
            task=task,
            state_name=state_name,
            retry=retry_of(task),
            region=self.options.region,
            account=self.options.account,
            search_path=self.search_path,
            param_defaults=self.param_defaults,
            xcom=self.xcoms.resolver(str(task.task_id)),
            waited_by=self.merge.waits.get(str(task.task_id)),
        )
        if len(ctx.state_name) > MAX_STATE_NAME:
            raise AslCompileError(
                f"Task '{task.task_id}': state name {ctx.state_name!r} is longer than {MAX_STATE_NAME} "
                "characters; set a shorter task_display_name."
            )
        frag = fragment_for(task, ctx)
        if frag.start not in {s.name for s in frag.states}:
            raise AslCompileError(
                f"Task '{task.task_id}': its fragment starts at unknown state {frag.start!r}."
            )
        if ctx.retry and any(isinstance(state, Fail) for state in frag.states):
            ctx.note(
                f"retries={task.retries} apply to each AWS call of its poll loop; a failed or timed-out crawl "
                "ends the execution at once, where Airflow would retry the task"
            )
        self.params_used |= ctx.params_used
        self.notes.extend(ctx.notes)
        self.merge.apply(str(task.task_id), frag)
        return frag

    def _parallel_name(self, item: _Par, branches: list[list[_Item]]) -> str:
        ids = _all_task_ids(item)
        group = _common_group(self.dag, ids)
        if group is not None:
            name = str(group.label)
        else:
            firsts = [state_name_of(self.dag.task_dict[_first_task_id(b)]) for b in branches]
            name = "Parallel: " + " | ".join(firsts)
            if len(name) > MAX_STATE_NAME:
                name = name[: MAX_STATE_NAME - 3] + "..."
        base, n = name, 2
        while name in self.parallel_names:
            suffix = f" ({n})"
            name = base[: MAX_STATE_NAME - len(suffix)] + suffix
            n += 1
        self.parallel_names.add(name)
        return name

    def _check_names(self, graph: Graph) -> None:
        seen: dict[str, str] = {}
        for state in graph.iter_states():
            owner = getattr(state, "task_id", None) or state.name
            if state.name in seen:
                raise AslCompileError(
                    f"State name {state.name!r} is used twice (tasks {seen[state.name]!r} and {owner!r}); "
                    "state names must be unique: give the tasks distinct task_display_name values."
                )
            seen[state.name] = str(owner)


def _path_of(task: Operator) -> str:
    inner = getattr(task, "operator_class", None) if mapping.is_mapped(task) else None
    return f"mapped {class_path(inner)}" if isinstance(inner, type) else class_path(type(task))


def _first_task_id(items: list[_Item] | _Item) -> str:
    if isinstance(items, str):
        return items
    if isinstance(items, _Par):
        return min(_first_task_id(b) for b in items.branches)
    return _first_task_id(items[0])


def _all_task_ids(item: _Item | list[_Item]) -> set[str]:
    if isinstance(item, str):
        return {item}
    if isinstance(item, _Par):
        return set().union(*(_all_task_ids(b) for b in item.branches))
    return set().union(*(_all_task_ids(i) for i in item)) if item else set()


def _common_group(dag: DAG, task_ids: set[str]) -> TaskGroup | None:
    """The innermost non-root TaskGroup holding exactly these tasks, if any."""
    tasks = [dag.task_dict[t] for t in sorted(task_ids)]
    chains: list[list[TaskGroup]] = []
    for task in tasks:
        chain: list[TaskGroup] = []
        group = getattr(task, "task_group", None)
        while group is not None and not getattr(group, "is_root", True):
            chain.append(group)
            group = group.parent_group
        chains.append(chain)
    if not chains or not chains[0]:
        return None
    for group in chains[0]:
        if all(any(g is group for g in chain) for chain in chains[1:]):
            members = {t.task_id for t in group.iter_tasks()}
            return group if members == task_ids else None
    return None


def _param_defaults(dag: DAG) -> dict[str, Any]:
    params = getattr(dag, "params", None)
    if params is None:
        return {}
    dump = getattr(params, "dump", None)
    values = dump() if callable(dump) else dict(params)
    return {str(k): v for k, v in sorted(values.items())}


def build_state_machine(
    dag: DAG, *, region: str | None = None, account: str | None = None, strict_shape: bool = False
) -> StateMachine:
    """Compile an Airflow DAG to the state machine IR.

    :param dag: the Airflow DAG.
    :param region: AWS region for ARNs built from names (None: read from the running machine's ARN).
    :param account: AWS account id, same rule as ``region``.
    :param strict_shape: refuse a DAG that is not series-parallel (:class:`DagShapeError`) instead of
        adding the fewest dependencies that make it so (each reported as a :class:`DagShapeWarning`).
    """
    options = BuildOptions(region=region, account=account, strict_shape=strict_shape)
    return _Builder(dag, options).build()
