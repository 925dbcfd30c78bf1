"""Synthetic DAGs for the compile-scale benchmark: chains and fan-out/fan-in of parallel chains."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def synthetic_dag(tasks: int, width: int) -> Any:
    """A DAG of ``tasks`` Athena tasks: a chain (``width`` 1), or start >> ``width`` chains >> end."""
    from airflow.sdk import DAG

    from airflow_sfn_etl.operators.athena import AthenaQueryOperator

    def op(task_id: str) -> Any:
        return AthenaQueryOperator(
            task_id=task_id,
            query="SELECT 1",
            database="bench",
            workgroup="primary",
            output_location="s3://bench-results/",
        )

    with DAG(dag_id=f"synthetic_{tasks}_w{width}", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
        if width <= 1:
            previous = None
            for i in range(tasks):
                current = op(f"t{i}")
                if previous is not None:
                    previous >> current
                previous = current
            return dag
        start, end = op("start"), op("end")
        per_branch, extra = divmod(tasks - 2, width)
        for b in range(width):
            previous = start
            for i in range(per_branch + (1 if b < extra else 0)):
                current = op(f"b{b}_t{i}")
                previous >> current
                previous = current
            previous >> end
    return dag
