"""EmptyOperator -> a Pass state."""

from __future__ import annotations

from airflow_sfn_etl.asl.context import AslContext
from airflow_sfn_etl.asl.ir import Fragment, Pass


def empty(op: object, ctx: AslContext) -> Fragment:
    """EmptyOperator (a join or marker task) -> a Pass state that passes its input on."""
    state = Pass(name=ctx.state_name, result_path="$")
    return Fragment(name=ctx.state_name, start=state.name, states=[state])
