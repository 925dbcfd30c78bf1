"""Render the IR as a Mermaid flowchart: Parallel states become subgraphs, one per branch (a Map state's
item processor is its one branch, "Each item")."""

from __future__ import annotations

from airflow_sfn_etl.asl.ir import (
    Choice,
    ChoiceRule,
    Fail,
    Graph,
    Map,
    Parallel,
    Pass,
    State,
    StateMachine,
    Succeed,
    Task,
    Wait,
    _Chainable,
)

_OPS = {  # longest suffix first
    "GreaterThanEquals": ">=",
    "LessThanEquals": "<=",
    "GreaterThan": ">",
    "LessThan": "<",
    "Equals": "==",
    "Matches": "matches",
}


def _label(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def rule_text(rule: ChoiceRule) -> str:
    """A short human form of a Choice rule (``$.x.State == READY``)."""
    if rule.and_:
        return " and ".join(rule_text(r) for r in rule.and_)
    if rule.or_:
        return " or ".join(rule_text(r) for r in rule.or_)
    if rule.not_ is not None:
        return f"not ({rule_text(rule.not_)})"
    op = str(rule.operator)
    if op.startswith("Is"):
        return f"{rule.variable} {op[2:].lower()}" if rule.value else f"{rule.variable} not {op[2:].lower()}"
    for suffix, symbol in _OPS.items():
        base = op[: -len("Path")] if op.endswith("Path") else op
        if base.endswith(suffix):
            return f"{rule.variable} {symbol} {rule.value}"
    return f"{rule.variable} {op} {rule.value}"


class _Renderer:
    def __init__(self) -> None:
        self.ids: dict[str, str] = {}
        self.lines: list[str] = ["flowchart TD"]
        self.edges: list[str] = []

    def node_id(self, name: str) -> str:
        if name not in self.ids:
            self.ids[name] = f"s{len(self.ids)}"
        return self.ids[name]

    def shape(self, state: State) -> str:
        sid, label = self.node_id(state.name), _label(state.name)
        if isinstance(state, Choice):
            return f"{sid}{{{label}}}"
        if isinstance(state, Wait):
            return f"{sid}([{label}])"
        if isinstance(state, Pass):
            return f"{sid}[/{label}/]"
        if isinstance(state, (Fail, Succeed)):
            return f"{sid}(({label}))"
        return f"{sid}[{label}]"

    def graph(self, graph: Graph, indent: str, end_target: str) -> None:
        for state in graph.states:
            if isinstance(state, Parallel):
                pid = self.node_id(state.name)
                self.lines.append(f"{indent}subgraph {pid}[{_label(state.name)}]")
                self.lines.append(f"{indent}  direction TB")
                for i, branch in enumerate(state.branches):
                    bid = f"{pid}_b{i}"
                    title = "Each item" if isinstance(state, Map) else f"Branch {i + 1}"
                    self.lines.append(f"{indent}  subgraph {bid}[{_label(title)}]")
                    self.graph(branch, indent + "    ", end_target="")
                    self.lines.append(f"{indent}  end")
                self.lines.append(f"{indent}end")
            else:
                self.lines.append(indent + self.shape(state))
            self.flow(state, end_target)

    def edge(self, src: str, dst: str, label: str | None = None, dotted: bool = False) -> None:
        arrow = "-.->" if dotted else "-->"
        text = f"|{_label(label)}|" if label else ""
        self.edges.append(f"  {self.node_id(src)} {arrow}{text} {self.node_id(dst)}")

    def flow(self, state: State, end_target: str) -> None:
        if isinstance(state, _Chainable):
            if state.end:
                if end_target:
                    self.edges.append(f"  {self.node_id(state.name)} --> {end_target}")
            elif state.next:
                self.edge(state.name, state.next)
        if isinstance(state, Choice):
            for rule in state.choices:
                if rule.next:
                    self.edge(state.name, rule.next, rule_text(rule))
            if state.default:
                self.edge(state.name, state.default, "default")
        if isinstance(state, (Task, Parallel)):
            for catch in state.catch:
                self.edge(state.name, catch.next, "catch " + ", ".join(catch.error_equals), dotted=True)


def render_mermaid(machine: StateMachine) -> str:
    """The state machine as a Mermaid ``flowchart TD`` (deterministic text, trailing newline)."""
    renderer = _Renderer()
    for state in machine.graph.iter_states():
        renderer.node_id(state.name)
    renderer.lines.append("  start((Start))")
    renderer.graph(machine.graph, "  ", end_target="finish")
    renderer.lines.append("  finish((End))")
    renderer.edges.insert(0, f"  start --> {renderer.node_id(machine.graph.start)}")
    return "\n".join(renderer.lines + renderer.edges) + "\n"
