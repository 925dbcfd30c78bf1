"""Athena query -> ``athena:startQueryExecution(.sync)``; a multi-line query with params is folded
onto one line (:mod:`airflow_sfn_etl.asl.sql`)."""

from __future__ import annotations

from typing import Any, Protocol

from airflow_sfn_etl.asl.context import AslContext
from airflow_sfn_etl.asl.fragments.common import single, sync, task_state
from airflow_sfn_etl.asl.ir import Fragment
from airflow_sfn_etl.asl.sql import fold_sql
from airflow_sfn_etl.asl.templates import CONTROL_CHARACTERS, Mapped, put


class AthenaQueryTask(Protocol):
    """What the fragment reads of an Athena query task (``AthenaQueryOperator``); optional fields are
    read with ``getattr``: ``workgroup``, ``catalog``, ``database``, ``output_location``,
    ``wait_for_completion``."""

    @property
    def query(self) -> str: ...


def athena_query(op: AthenaQueryTask, ctx: AslContext) -> Fragment:
    """Athena query -> ``athena:startQueryExecution(.sync)``; ``.sql`` files are inlined."""
    params: dict[str, Any] = {}
    # A ``.sql`` file's text (read here, or already by Airflow's DAG loader) without its trailing newline.
    query = ctx.resolve_template_file("query", op.query).rstrip()
    if "{{" in query and any(ch in query for ch in CONTROL_CHARACTERS):
        # It becomes a States.Format literal, which cannot hold line breaks: fold it (asl.sql).
        query = fold_sql(query, task_id=ctx.task_id, field="query")
    mapped = ctx.template("query", query)
    put(params, "QueryString", mapped)
    if isinstance(mapped, Mapped) and mapped.params:
        ctx.note(
            "params substituted into the SQL text from the execution input: "
            + ", ".join(mapped.params)
            + " (Step Functions does not check them; pass plain identifiers/values only)"
        )
    ctx.put(params, "WorkGroup", "workgroup", getattr(op, "workgroup", None) or "primary")
    context: dict[str, Any] = {}
    ctx.put(context, "Catalog", "catalog", getattr(op, "catalog", None) or "AwsDataCatalog")
    database = getattr(op, "database", None)
    if database:
        ctx.put(context, "Database", "database", database)
    params["QueryExecutionContext"] = context
    output_location = getattr(op, "output_location", None)
    if output_location:
        result: dict[str, Any] = {}
        ctx.put(result, "OutputLocation", "output_location", output_location)
        params["ResultConfiguration"] = result
    wait = bool(getattr(op, "wait_for_completion", True))
    return single(ctx, task_state(ctx, sync("arn:aws:states:::athena:startQueryExecution", wait), params))
