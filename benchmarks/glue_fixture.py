"""A Glue Python-shell job on the sandbox whose runs take a fixed time (a delay fault)."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any
from unittest.mock import MagicMock

SCRIPT = b"print('bench job done')\n"


def create_timed_job(sb: Any, seconds: float, name: str | None = None) -> str:
    """Create a no-op pythonshell job whose every run takes ``seconds`` longer; returns its name."""
    from airflow_sfn_etl_sandbox import faults

    name = name or f"bench_wait_{uuid.uuid4().hex[:8]}"
    bucket = f"bench-scripts-{uuid.uuid4().hex[:8]}"
    s3 = sb.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="noop.py", Body=SCRIPT)
    sb.client("glue").create_job(
        Name=name,
        Role="arn:aws:iam::123456789012:role/bench",
        Command={"Name": "pythonshell", "ScriptLocation": f"s3://{bucket}/noop.py", "PythonVersion": "3.9"},
        MaxCapacity=0.0625,
    )
    faults.add_rule({"kind": "delay", "target": "glue_job", "name": name, "seconds": seconds})
    return name


def task_context(task_id: str, dag_id: str = "bench_waiting") -> dict[str, Any]:
    """The parts of a task context the operators read (no Airflow DB); XCom pushes are swallowed."""
    run_id = f"manual__{uuid.uuid4().hex[:12]}"
    ti = MagicMock(name="ti")
    ti.dag_id, ti.run_id, ti.task_id = dag_id, run_id, task_id
    ti.try_number, ti.max_tries, ti.map_index = 1, 0, -1
    task = SimpleNamespace(task_id=task_id, retries=0)
    dag = SimpleNamespace(dag_id=dag_id, fileloc=__file__)
    return {"ti": ti, "task_instance": ti, "task": task, "dag": dag, "run_id": run_id}
