"""Fixtures for the lineage tests: the flows' sandbox resources (from the e2e suite) and a flow
runner that collects the OpenLineage events a run emits through the ``file`` transport."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from e2e.conftest import flows  # noqa: F401 - the e2e suite's fixture: the flows provisioned on the sandbox

RUN_FLOW = Path(__file__).with_name("run_flow.py")


@dataclass
class FlowRun:
    """A DAG run and the OpenLineage events it emitted (one JSON object per event)."""

    run_id: str
    state: str
    tasks: dict[str, str]
    events: list[dict[str, Any]]

    def complete(self, job_name: str) -> dict[str, Any]:
        """The COMPLETE event of the OpenLineage job ``job_name`` (``<dag_id>.<task_id>``)."""
        found = [e for e in self.events if e["eventType"] == "COMPLETE" and e["job"]["name"] == job_name]
        assert len(found) == 1, (job_name, [(e["eventType"], e["job"]["name"]) for e in self.events])
        return found[0]


@pytest.fixture
def run_with_lineage(flows, tmp_path):  # noqa: F811
    """``run(dag_id, conf)`` -> :class:`FlowRun`: one DAG run in a new process with
    ``AIRFLOW__OPENLINEAGE__TRANSPORT`` set to a ``file`` transport writing into ``tmp_path``."""

    def run(dag_id: str, conf: dict[str, Any] | None = None) -> FlowRun:
        events_file = tmp_path / f"{dag_id}.openlineage.jsonl"
        env = {
            **os.environ,
            "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
                {"type": "file", "log_file_path": str(events_file), "append": True}
            ),
            "AIRFLOW__OPENLINEAGE__NAMESPACE": "sfn-etl-lineage-tests",
            "PYTHONPATH": os.pathsep.join(sys.path),
        }
        result = subprocess.run(
            [sys.executable, str(RUN_FLOW), dag_id, json.dumps(conf or {})],
            capture_output=True, text=True, env=env, timeout=600, check=False,
        )
        found = [line[len("RESULT "):] for line in result.stdout.splitlines() if line.startswith("RESULT ")]
        assert result.returncode == 0 and found, result.stdout[-4000:] + result.stderr[-8000:]
        outcome = json.loads(found[-1])
        lines = events_file.read_text().splitlines() if events_file.exists() else []
        return FlowRun(outcome["run_id"], outcome["state"], outcome["tasks"],
                       [json.loads(line) for line in lines if line.strip()])

    return run
