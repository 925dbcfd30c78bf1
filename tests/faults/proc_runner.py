"""A minimal worker / triggerer in a process of its own, so tests can SIGKILL it mid-wait.

``python proc_runner.py task '<json>'``: build the operator, run ``execute`` with a task context
(non-deferrable: it waits in this process, like a worker), print ``RESULT <json>``.
``python proc_runner.py trigger '<json>'``: rebuild a serialized trigger and run it on an asyncio
loop, like the triggerer; print ``EVENT <json>`` with its event.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faults.harness import context, rebuild  # noqa: E402

OPERATORS = {
    "glue_job": "airflow_sfn_etl.operators.glue.GlueJobOperator",
    "crawler": "airflow_sfn_etl.operators.glue_crawler.GlueCrawlerOperator",
    "databrew": "airflow_sfn_etl.operators.databrew.DataBrewStartJobOperator",
    "athena": "airflow_sfn_etl.operators.athena.AthenaQueryOperator",
    "sfn": "airflow_sfn_etl.operators.step_function.StepFunctionRunOperator",
}


def run_task(spec: dict) -> None:
    module, _, name = OPERATORS[spec["operator"]].rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    op = cls(task_id=spec["task_id"], deferrable=False, **spec["kwargs"])
    ctx = context(
        spec["task_id"], try_number=spec["try_number"], max_tries=spec["max_tries"], retries=spec["retries"]
    )
    print("STARTED", flush=True)
    result = op.execute(ctx)
    print("RESULT " + json.dumps(result), flush=True)


def run_trigger(spec: dict) -> None:
    trigger = rebuild(spec["classpath"], spec["kwargs"])

    async def first() -> dict:
        async for event in trigger.run():
            return dict(event.payload)
        return {}

    print("STARTED", flush=True)
    print("EVENT " + json.dumps(asyncio.run(first()), default=str), flush=True)


if __name__ == "__main__":
    {"task": run_task, "trigger": run_trigger}[sys.argv[1]](json.loads(sys.argv[2]))
