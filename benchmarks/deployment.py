"""Section 1b: the sales flow on the compose deployment (Celery, PostgreSQL, Redis) vs LocalExecutor.

The same DAG and the same delay faults as section 1, run one stack after the other: first the
local stack (``scripts/ui_stack.py``: LocalExecutor, SQLite), then the deployment
(``scripts/deploy_stack.py``: CeleryExecutor with two task slots, PostgreSQL, Redis, the settings
of ``docker/airflow.env``). While the runs go, the task instances' states are sampled through the
REST API to count the worker slots held (``running``) next to the waits parked on the triggerer
(``deferred``).
"""

from __future__ import annotations

import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from .overhead import OURS, _ts, critical_path
from .results import Section
from .stats import median


def _sample_states(stack: Any, stop: threading.Event, counts: list[tuple[int, int]]) -> None:
    """Every 0.5 s: (running, deferred) task instances of our DAG's runs in progress."""
    while not stop.wait(0.5):
        try:
            runs = stack.api("GET", f"/dags/{OURS}/dagRuns?state=running&limit=20")["dag_runs"]
            running = deferred = 0
            for run in runs:
                tis = stack.api("GET", f"/dags/{OURS}/dagRuns/{run['dag_run_id']}/taskInstances")
                states = [ti["state"] for ti in tis["task_instances"]]
                running += states.count("running")
                deferred += states.count("deferred")
            counts.append((running, deferred))
        except Exception:  # noqa: BLE001 - a sample lost to a busy API is skipped
            continue


def _measure_stack(kind: str, repeats: int, delay: float) -> dict[str, Any]:
    import boto3

    from airflow_sfn_etl_flows.settings import SalesMarketingSettings
    from airflow_sfn_etl_sandbox.client import SandboxClient

    from .airflow_stack import make_stack

    workdir = Path(tempfile.mkdtemp(prefix=f"sfn-etl-bench-{kind}-"))
    stack = make_stack(workdir, deployment=kind == "celery")
    began = time.monotonic()
    stack.start()
    startup = time.monotonic() - began
    settings = SalesMarketingSettings()
    params = {**settings.as_params(), "month": "2016-12"}
    walls: list[tuple[float, float]] = []
    retries = 0
    counts: list[tuple[int, int]] = []
    failures: list[str] = []
    try:
        session = boto3.Session(region_name="us-east-1", aws_access_key_id="testing",
                                aws_secret_access_key="testing")
        sandbox = SandboxClient(stack.endpoint_url)
        sandbox.delay("databrew_job", pattern=".*", seconds=delay)
        sandbox.delay("athena_query", pattern=".*", seconds=delay)
        stack.wait_for_dag(OURS)
        stack.api("PATCH", f"/dags/{OURS}", {"is_paused": False})
        stack.warm_up(OURS)
        stop = threading.Event()
        sampler = threading.Thread(target=_sample_states, args=(stack, stop, counts), daemon=True)
        sampler.start()
        try:
            for i in range(repeats):
                run_id = f"bench_{kind}_{i}_{uuid.uuid4().hex[:6]}"
                run = stack.run_dag(OURS, run_id, params)
                if run["state"] != "success":
                    failures.append(f"{kind} run {i}: {run['state']}")
                    continue
                start, end = _ts(run["queued_at"]), _ts(run["end_date"])
                path = critical_path(session, stack.endpoint_url, settings, start, end)
                walls.append((end - start, path["critical_path"]))
                tis = stack.api("GET", f"/dags/{OURS}/dagRuns/{run_id}/taskInstances")["task_instances"]
                retries += sum(max(0, int(ti["try_number"]) - 1) for ti in tis)
        finally:
            stop.set()
            sampler.join(timeout=10)
    finally:
        stack.stop()
    return {"startup": startup, "walls": walls, "retries": retries, "counts": counts, "failures": failures}


def measure(*, repeats: int = 2, delay: float = 2.0) -> Section:
    section = Section(
        "deployment",
        "1b. The sales flow on the compose deployment (Celery, PostgreSQL, Redis) vs LocalExecutor (SQLite)",
        ["stack", "runs", "wall s (median)", "critical path s (median)", "wall / critical path",
         "vs LocalExecutor", "most tasks running at once", "most tasks deferred at once", "task retries",
         "stack start-up s"],
    )
    labels = {"local": "LocalExecutor, SQLite (scripts/ui_stack.py)",
              "celery": "CeleryExecutor (2 slots), PostgreSQL, Redis (scripts/deploy_stack.py)"}
    results = {kind: _measure_stack(kind, repeats, delay) for kind in ("local", "celery")}
    base = median([w for w, _ in results["local"]["walls"]]) if results["local"]["walls"] else float("nan")
    failures: list[str] = []
    for kind, got in results.items():
        walls = got["walls"]
        wall = median([w for w, _ in walls]) if walls else float("nan")
        path = median([p for _, p in walls]) if walls else float("nan")
        ratio = median([w / p for w, p in walls if p > 0]) if walls else float("nan")
        counts = got["counts"] or [(0, 0)]
        section.add(labels[kind], len(walls), wall, path, ratio, wall / base if base else float("nan"),
                    max(c[0] for c in counts), max(c[1] for c in counts), got["retries"], got["startup"])
        section.figures[f"{kind}_wall_s"] = wall
        section.figures[f"{kind}_startup_s"] = got["startup"]
        failures += got["failures"]
    section.notes += [
        f"The sales/marketing DAG as in section 1 (each DataBrew job and Athena statement {delay:g} s longer "
        f"through sandbox delay faults); {repeats} measured run(s) per stack after the warm-up run the "
        "scheduler starts on unpause; the two stacks run one after the other, never together.",
        "Task states sampled every 0.5 s through the REST API while the measured runs go: 'running' tasks "
        "hold a worker slot (a Celery pool process, or a LocalExecutor worker), 'deferred' ones wait on "
        "the triggerer and hold none.",
        "Stack start-up: PostgreSQL/Redis (Celery only), the sandbox, `airflow db migrate`, every Airflow "
        "component and the flows' provisioning, until the REST API answers; not counted in the walls.",
    ]
    if failures:
        section.notes.append("Failed runs (excluded): " + "; ".join(failures))
    return section
