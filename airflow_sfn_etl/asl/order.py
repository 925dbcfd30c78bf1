"""Nest a region of the DAG that is not series-parallel by adding the fewest dependencies.

A state machine can only express series-parallel orders: a sequence of items, each a task or a
``Parallel`` state whose branches are sequences again. The builder splits the DAG at the tasks every
path goes through (decision 0005); a region it cannot split that way (one connected group of tasks
with no such task) comes here, with the DAG's dependencies as a transitively reduced graph.

The region is handled as a partial order (``u < v`` when a path leads from ``u`` to ``v``):

- tasks that are not connected to each other run in parallel (one branch per connected group);
- when the tasks fall into groups that each come entirely before the next (``{a, b}`` both before
  ``{c, d}``, as ``a >> [c, d]`` and ``b >> [c, d]``), the groups form a sequence; no dependency is added;
- otherwise (the "N" shape ``a >> c``, ``b >> c``, ``b >> d`` is the smallest case) no nesting keeps
  exactly the DAG's order. The region is cut into a before-part ``A`` (closed under upstream tasks)
  and an after-part ``B``: every task of ``A`` then finishes before any task of ``B`` starts, a
  synchronisation point. Its cost is the number of ordered pairs ``(a, b)`` the DAG did not already
  order. Both parts are nested the same way, recursively.

The cut is chosen to add the fewest ordered pairs in total, then to make the longest chain of tasks
the shortest: for regions up to :data:`EXACT_LIMIT` tasks every cut (and every cut inside the parts)
is tried, with the results remembered per set of tasks; larger regions take, at each level, the best
of the cuts just before or after one task and the prefixes of a topological order. Adding
dependencies never removes one: the nesting orders every pair the DAG orders.

The dependencies reported for a cut are the fewest that imply it: each last task of ``A`` (in the
nesting) before each first task of ``B``, leaving out the pairs the DAG already orders.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

#: Regions of at most this many tasks are nested with the fewest added pairs over every choice of cuts.
EXACT_LIMIT = 10


@dataclass
class Par:
    """A parallel region: one item list per branch."""

    branches: list[list[Item]]


Item = str | Par


@dataclass(frozen=True)
class Barrier:
    """A synchronisation point added to a region: ``before`` all end before ``after`` start.

    ``edges`` are the dependencies it adds (the fewest that imply it); ``pairs`` the ordered pairs of
    tasks it adds to the DAG's order.
    """

    before: tuple[str, ...]
    after: tuple[str, ...]
    edges: tuple[tuple[str, str], ...]
    pairs: int


@dataclass(frozen=True)
class _Plan:
    """A nesting of a set of tasks: its added pairs, longest chain, and shape."""

    pairs: int
    depth: int
    kind: str  # "task", "par", "seq"
    parts: tuple[_Plan, ...] = ()
    task: str = ""
    barrier: bool = False


class Region:
    """A set of tasks closed under the tasks between any two of them, with its order."""

    def __init__(self, succ: dict[str, set[str]], position: dict[str, int], nodes: frozenset[str]) -> None:
        self.position = position
        self.nodes = nodes
        self.succ = {n: frozenset(s for s in succ[n] if s in nodes) for n in nodes}
        pred: dict[str, set[str]] = {n: set() for n in nodes}
        for n, downs in self.succ.items():
            for d in downs:
                pred[d].add(n)
        self.pred = {n: frozenset(p) for n, p in pred.items()}
        self.topo = sorted(nodes, key=position.__getitem__)
        reach: dict[str, frozenset[str]] = {}
        for n in reversed(self.topo):
            found: set[str] = set()
            for s in self.succ[n]:
                found.add(s)
                found |= reach[s]
            reach[n] = frozenset(found)
        #: The tasks after each task (its descendants in the region).
        self.reach = reach
        # The same as bit sets, for counting the pairs a cut adds.
        self._bit = {n: 1 << i for i, n in enumerate(self.topo)}
        self._reach_bits = {n: sum(self._bit[m] for m in reach[n]) for n in self.topo}
        self._memo: dict[frozenset[str], _Plan] = {}

    def nest(self) -> tuple[list[Item], list[Barrier]]:
        """The region's items (a sequence) and the synchronisation points added to nest it."""
        plan = self._plan(self.nodes)
        barriers: list[Barrier] = []
        items = self._items(plan, barriers)
        return items, barriers

    # ------------------------------------------------------------------ planning

    def _sorted(self, nodes: frozenset[str] | set[str]) -> list[str]:
        return sorted(nodes, key=self.position.__getitem__)

    def _plan(self, nodes: frozenset[str]) -> _Plan:
        known = self._memo.get(nodes)
        if known is not None:
            return known
        plan = self._plan_uncached(nodes)
        self._memo[nodes] = plan
        return plan

    def _plan_uncached(self, nodes: frozenset[str]) -> _Plan:
        if len(nodes) == 1:
            return _Plan(pairs=0, depth=1, kind="task", task=next(iter(nodes)))
        groups = self._components(nodes)
        if len(groups) > 1:
            parts = tuple(self._plan(g) for g in groups)
            return _Plan(sum(p.pairs for p in parts), max(p.depth for p in parts), "par", parts)
        series = self._series(nodes)
        if len(series) > 1:
            parts = tuple(self._plan(s) for s in series)
            return _Plan(sum(p.pairs for p in parts), sum(p.depth for p in parts), "seq", parts)
        exact = len(nodes) <= EXACT_LIMIT
        best: tuple[tuple[int, int, tuple[int, ...]], frozenset[str]] | None = None
        for before in self._cuts(nodes, exact):
            after = nodes - before
            added = self._added_pairs(before, after)
            if exact:
                first, second = self._plan(before), self._plan(after)
                key = (added + first.pairs + second.pairs, first.depth + second.depth, self._key(before))
            elif best is not None and added > best[0][0]:
                continue  # the longest chain only breaks ties
            else:  # the best cut at this level; its parts are planned once it is chosen
                key = (added, self._chain(before) + self._chain(after), self._key(before))
            if best is None or key < best[0]:
                best = (key, before)
        assert best is not None  # a connected region of 2+ tasks has a task without upstream tasks
        before = best[1]
        first, second = self._plan(before), self._plan(nodes - before)
        total = self._added_pairs(before, nodes - before) + first.pairs + second.pairs
        return _Plan(total, first.depth + second.depth, "seq", (first, second), barrier=True)

    def _key(self, nodes: frozenset[str]) -> tuple[int, ...]:
        return tuple(sorted(self.position[n] for n in nodes))

    def _added_pairs(self, before: frozenset[str], after: frozenset[str]) -> int:
        """The ordered pairs (b, a), b before and a after the cut, that the DAG does not order."""
        mask = sum(self._bit[a] for a in after)
        return len(before) * len(after) - sum((self._reach_bits[b] & mask).bit_count() for b in before)

    def _chain(self, nodes: frozenset[str]) -> int:
        """The number of tasks on the longest path inside ``nodes``."""
        longest: dict[str, int] = {}
        for n in self._sorted(nodes):
            longest[n] = 1 + max((longest[p] for p in self.pred[n] if p in nodes), default=0)
        return max(longest.values(), default=0)

    def _components(self, nodes: frozenset[str]) -> list[frozenset[str]]:
        left = set(nodes)
        out: list[frozenset[str]] = []
        while left:
            seed = min(left, key=self.position.__getitem__)
            group, stack = {seed}, [seed]
            while stack:
                node = stack.pop()
                for nxt in (self.succ[node] | self.pred[node]) & left:
                    if nxt not in group:
                        group.add(nxt)
                        stack.append(nxt)
            left -= group
            out.append(frozenset(group))
        return out

    def _series(self, nodes: frozenset[str]) -> list[frozenset[str]]:
        """The finest split of ``nodes`` into groups each entirely before the next."""
        ordered = self._sorted(nodes)
        out: list[frozenset[str]] = []
        start = 0
        common: frozenset[str] | None = None
        for i in range(len(ordered) - 1):
            common = self.reach[ordered[i]] if common is None else common & self.reach[ordered[i]]
            rest = ordered[i + 1 :]
            if all(r in common for r in rest):
                out.append(frozenset(ordered[start : i + 1]))
                start, common = i + 1, None
        out.append(frozenset(ordered[start:]))
        return out

    def _down_closed(self, nodes: frozenset[str], chosen: set[str], candidate: str) -> bool:
        return all(p in chosen for p in self.pred[candidate] if p in nodes)

    def _cuts(self, nodes: frozenset[str], exact: bool) -> Iterator[frozenset[str]]:
        """Before-parts to try: every set closed under upstream tasks (``exact``), else a few."""
        ordered = self._sorted(nodes)
        seen: set[frozenset[str]] = set()

        def keep(part: frozenset[str]) -> bool:
            if not part or part == nodes or part in seen:
                return False
            seen.add(part)
            return True

        if exact:
            chosen: list[str] = []

            def walk(i: int) -> Iterator[frozenset[str]]:
                if i == len(ordered):
                    part = frozenset(chosen)
                    if keep(part):
                        yield part
                    return
                node = ordered[i]
                if self._down_closed(nodes, set(chosen), node):
                    chosen.append(node)
                    yield from walk(i + 1)
                    chosen.pop()
                yield from walk(i + 1)

            yield from walk(0)
            return
        for i in range(1, len(ordered)):
            part = frozenset(ordered[:i])
            if keep(part):
                yield part
        for node in ordered:
            up_to = frozenset(n for n in nodes if n == node or node in self.reach[n])
            if keep(up_to):
                yield up_to
            from_on = frozenset(n for n in nodes if n != node and n not in self.reach[node])
            if keep(from_on):
                yield from_on

    # ------------------------------------------------------------------ items

    def _items(self, plan: _Plan, barriers: list[Barrier]) -> list[Item]:
        if plan.kind == "task":
            return [plan.task]
        if plan.kind == "par":
            return [Par([self._items(p, barriers) for p in plan.parts])]
        if plan.barrier:
            first, second = plan.parts
            last, firsts = self._ends(first, last=True), self._ends(second, last=False)
            edges = tuple(
                (u, v) for u in self._sorted(last) for v in self._sorted(firsts) if v not in self.reach[u]
            )
            before, after = self._tasks(first), self._tasks(second)
            barriers.append(
                Barrier(
                    before=tuple(self._sorted(before)),
                    after=tuple(self._sorted(after)),
                    edges=edges,
                    pairs=self._added_pairs(frozenset(before), frozenset(after)),
                )
            )
        return [item for p in plan.parts for item in self._items(p, barriers)]

    def _ends(self, plan: _Plan, *, last: bool) -> set[str]:
        if plan.kind == "task":
            return {plan.task}
        if plan.kind == "par":
            return set().union(*(self._ends(p, last=last) for p in plan.parts))
        return self._ends(plan.parts[-1] if last else plan.parts[0], last=last)

    def _tasks(self, plan: _Plan) -> set[str]:
        if plan.kind == "task":
            return {plan.task}
        return set().union(*(self._tasks(p) for p in plan.parts))
