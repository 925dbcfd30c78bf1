"""XCom between compiled tasks: a task's return value read by a later task, kept in the state data.

A consumer reads a producer's XCom with ``{{ ti.xcom_pull(task_ids='producer') }}`` in a templated
field, or gets the producer's ``.output`` as an argument (:mod:`~airflow_sfn_etl.asl.templates`).
What the producer returns, and how the machine has it:

- Athena queries (``AthenaQueryOperator``, the amazon ``AthenaOperator``) return the query execution
  id, Glue jobs (ours and the amazon ``GlueJobOperator``) the job run id, DataBrew jobs the run id:
  the producer's Task state keeps it with ``ResultSelector`` ``{"value.$": <its place in the
  integration's result>}`` and ``ResultPath`` ``$.<producer>__xcom``; the consumer reads
  ``$.<producer>__xcom.value`` (inside ``States.Format`` when mixed with text);
- crawlers and the crawler sensor (ours, and the amazon ``GlueCrawlerRunOperator``) return the crawler name, known when
  compiling (a literal, or the DAG param it reads): the consumer gets that value itself.

Refused, naming the consumer, the template or argument and the producer: a producer that is not a
task of the DAG, a mapped producer (its XCom is a list), a producer whose return value is not mapped
(another operator, or ``result_to_xcom=True``, whose XCom is the rows), a consumer that is a mapped
task (each Map iteration sees only its item and the params), a producer that is not upstream of the
consumer (Airflow may find no value yet), a producer inside ``Parallel`` branches that the consumer
is outside of (the Parallel state discards its branches' data), and a producer whose failure a
trigger rule catches (the value would be missing when the machine reads it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from airflow_sfn_etl.asl import mapping
from airflow_sfn_etl.asl.errors import TemplateMappingError
from airflow_sfn_etl.asl.fragments.registry import (
    ATHENA_QUERY,
    DATABREW_JOB,
    GLUE_CRAWLER,
    GLUE_CRAWLER_SENSOR,
    GLUE_JOB,
    STOCK_ATHENA,
    STOCK_GLUE_CRAWLER_RUN,
    STOCK_GLUE_JOB,
    class_path,
    registered_class,
)
from airflow_sfn_etl.asl.ir import Fragment, Task
from airflow_sfn_etl.asl.refusals import Refusal
from airflow_sfn_etl.asl.templates import Mapped, XComResolver, map_value

#: Producers whose return value is in their Task state's result.
_IN_RESULT = {
    ATHENA_QUERY: "the query execution id",
    STOCK_ATHENA: "the query execution id",
    GLUE_JOB: "the job run id",
    STOCK_GLUE_JOB: "the job run id",
    DATABREW_JOB: "the job run id",
}
#: Producers whose return value is one of their arguments (known when compiling).
_ARGUMENT = {GLUE_CRAWLER: "crawler_name", GLUE_CRAWLER_SENSOR: "crawler_name", STOCK_GLUE_CRAWLER_RUN: "crawler_name"}
#: Where the return value is in the result of each integration (the .sync ones answer the Get/Describe call).
RESULT_PATHS = {
    "arn:aws:states:::athena:startQueryExecution.sync": "$.QueryExecution.QueryExecutionId",
    "arn:aws:states:::athena:startQueryExecution": "$.QueryExecutionId",
    "arn:aws:states:::glue:startJobRun.sync": "$.Id",
    "arn:aws:states:::glue:startJobRun": "$.JobRunId",
    "arn:aws:states:::databrew:startJobRun.sync": "$.RunId",
    "arn:aws:states:::databrew:startJobRun": "$.RunId",
}
_AS_PARAM = "pass the value as a DAG param, '{{ params.NAME }}'"
_MAPPED_HERE = (
    "the query id of Athena queries, the run id of Glue and DataBrew jobs, and the crawler name of crawlers map"
)


def data_key(task_id: str) -> str:
    """The state-data key holding a task's XCom."""
    return re.sub(r"[^A-Za-z0-9_]", "_", task_id) + "__xcom"


class XComUses:
    """The XCom reads of the DAG's tasks: resolves them while fragments are built, then checks and wires them."""

    def __init__(self, dag: Any) -> None:
        self.dag = dag
        #: (consumer, producer, what the consumer wrote) for values read from the state data.
        self.uses: list[tuple[str, str, str]] = []

    def resolver(self, consumer: str) -> XComResolver:
        """The resolver the consumer's templates use."""

        def resolve(producer: str, source: str) -> Mapped:
            return self._resolve(consumer, producer, source)

        return resolve

    def _resolve(self, consumer: str, producer: str, source: str) -> Mapped:
        def refuse(why: str, instead: str = _AS_PARAM) -> TemplateMappingError:
            return TemplateMappingError(f"Task '{consumer}': {source} reads the XCom of {why}. Instead: {instead}.")

        task = self.dag.task_dict.get(producer)
        if task is None:
            raise refuse(f"'{producer}', which is not a task of this DAG", "name a task of the DAG")
        if mapping.is_mapped(task):
            raise refuse(f"the mapped task '{producer}', a list of its items' values, which no state holds")
        registered = registered_class(type(task))
        if registered in _ARGUMENT:
            attr = _ARGUMENT[registered]
            value = map_value(getattr(task, attr), task_id=producer, field=attr)
            if not isinstance(value, Mapped):
                raise refuse(f"'{producer}', whose {attr} is not text")
            return Mapped(literal=value.literal, expression=value.expression, params=value.params)
        if registered in _IN_RESULT and not getattr(task, "result_to_xcom", False):
            self.uses.append((consumer, producer, source))
            return Mapped(expression=f"$.{data_key(producer)}.value", xcoms=(producer,))
        what = "its rows (result_to_xcom=True)" if getattr(task, "result_to_xcom", False) else "its return value"
        raise refuse(
            f"'{producer}' ({class_path(type(task))}), whose XCom is {what}, which the compiler does not map "
            f"({_MAPPED_HERE})"
        )

    def refusals(
        self, items: Sequence[object], caught: set[int], path_of: Callable[[Any], str]
    ) -> list[Refusal]:
        """Refusals of the reads the nesting cannot carry (``caught``: top-level items whose failure a
        trigger rule catches)."""
        tasks = self.dag.task_dict
        where = _locations(items)
        out: list[Refusal] = []
        seen: set[tuple[str, str]] = set()
        for consumer, producer, source in self.uses:
            if (consumer, producer) in seen:
                continue
            seen.add((consumer, producer))
            task = tasks[consumer]

            def refuse(reason: str, instead: str, task: Any = task, source: str = source) -> None:
                out.append(Refusal(task.task_id, path_of(task), f"{source}: {reason}", instead))

            if mapping.is_mapped(task):
                refuse(
                    f"a mapped task reads the XCom of '{producer}': each Map iteration sees only its item and the "
                    "DAG params",
                    "pass the value as a DAG param, or list the tasks explicitly",
                )
            elif producer not in _upstream(tasks, consumer):
                refuse(
                    f"'{producer}' is not upstream of it, so Airflow may find no value when it runs",
                    f"add the dependency {producer} >> {consumer}",
                )
            elif producer in where and consumer in where and not _visible(where[producer], where[consumer]):
                refuse(
                    f"'{producer}' runs inside parallel branches that it is outside of, and a Parallel state "
                    "discards its branches' data",
                    f"read the value in a task of the same branch as '{producer}'",
                )
            elif len(where.get(producer, ())) == 1 and where[producer][0] in caught:
                refuse(
                    f"the failure of '{producer}' is caught by a trigger rule, so its value may be missing",
                    f"keep all_success on the tasks after '{producer}'",
                )
        return out

    def wire(self, fragments: dict[str, Fragment]) -> None:
        """Keep each read producer's value: ``ResultSelector`` and ``ResultPath`` on its Task state."""
        for producer in sorted({p for _, p, _ in self.uses}):
            state = _producing_state(fragments[producer], producer)
            if state is None:  # each producer in _IN_RESULT compiles to one such state
                raise AssertionError(f"no state of task '{producer}' gives its XCom")
            state.result_selector = {"value.$": RESULT_PATHS[state.resource]}
            state.result_path = f"$.{data_key(producer)}"


def _producing_state(fragment: Fragment, producer: str) -> Task | None:
    found = [s for s in fragment.states if isinstance(s, Task) and s.task_id == producer and s.resource in RESULT_PATHS]
    return found[0] if len(found) == 1 else None


def _upstream(tasks: dict[str, Any], task_id: str) -> set[str]:
    """Every task upstream of ``task_id``, directly or not (Airflow's own walk of the DAG)."""
    relatives: set[str] = tasks[task_id].get_flat_relative_ids(upstream=True)
    return relatives


def _locations(items: Sequence[object], prefix: tuple[int, ...] = ()) -> dict[str, tuple[int, ...]]:
    """Each task's place in the nesting: index, then (branch, index) pairs for each Parallel it is in."""
    out: dict[str, tuple[int, ...]] = {}
    for index, item in enumerate(items):
        if isinstance(item, str):
            out[item] = (*prefix, index)
        else:
            for number, branch in enumerate(getattr(item, "branches", [])):
                out.update(_locations(branch, (*prefix, index, number)))
    return out


def _visible(producer: tuple[int, ...], consumer: tuple[int, ...]) -> bool:
    """Whether the consumer runs later in the producer's own sequence (possibly nested in a later item)."""
    *outer, index = producer
    return (
        len(consumer) > len(outer)
        and tuple(consumer[: len(outer)]) == tuple(outer)
        and consumer[len(outer)] > index
    )


__all__ = ["RESULT_PATHS", "XComUses", "data_key"]
