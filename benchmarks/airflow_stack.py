"""A real Airflow 3 (api-server, scheduler, dag-processor, triggerer; SQLite, LocalExecutor) + sandbox.

Reuses ``scripts/ui_stack.py`` (the stack the browser test starts), with a DAGs folder holding
only the two DAGs the overhead benchmark runs: ours (``dags/sales_marketing_refresh.py``) and the
stock-provider baseline (``bench/dags/sales_marketing_stock.py``).
"""

from __future__ import annotations

import importlib.util
import sys
import time
import urllib.error
from pathlib import Path
from typing import Any

from airflow_sfn_etl_flows.settings import DAGS_FOLDER

ROOT = Path(__file__).resolve().parents[1]  # the repository (scripts/ holds the stacks)
BENCH_DAGS = Path(__file__).resolve().parent / "dags"
TERMINAL = {"success", "failed"}


def _ui_stack_module() -> Any:
    spec = importlib.util.spec_from_file_location("sfn_etl_ui_stack", ROOT / "scripts" / "ui_stack.py")
    assert spec and spec.loader, "scripts/ui_stack.py is missing"
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def bench_dags_folder(workdir: Path) -> Path:
    """A DAGs folder with our DAG (and its SQL) and the stock baseline, as symlinks."""
    folder = workdir / "dags"
    folder.mkdir(parents=True, exist_ok=True)
    links = {
        "sales_marketing_refresh.py": DAGS_FOLDER / "sales_marketing_refresh.py",
        "sql": DAGS_FOLDER / "sql",
        "sales_marketing_stock.py": BENCH_DAGS / "sales_marketing_stock.py",
    }
    for name, target in links.items():
        link = folder / name
        if not link.exists():
            link.symlink_to(target)
    return folder


def _deploy_stack_module() -> Any:
    scripts = str(ROOT / "scripts")
    if scripts not in sys.path:
        sys.path.insert(0, scripts)  # deploy_stack imports ui_stack from its folder
    spec = importlib.util.spec_from_file_location("deploy_stack", ROOT / "scripts" / "deploy_stack.py")
    assert spec and spec.loader, "scripts/deploy_stack.py is missing"
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def make_stack(workdir: Path, *, deployment: bool = False) -> Any:
    """An (unstarted) stack whose DAGs folder is :func:`bench_dags_folder`.

    ``deployment``: the compose deployment as processes (``scripts/deploy_stack.py``: Celery,
    PostgreSQL, Redis) instead of the LocalExecutor stack (``scripts/ui_stack.py``).
    """
    base = _deploy_stack_module().DeploymentStack if deployment else _ui_stack_module().UiStack
    dags = bench_dags_folder(workdir)

    class BenchStack(base):  # type: ignore[misc, valid-type]
        def env(self) -> dict[str, str]:
            env = super().env()
            env["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags)
            env["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
            return env

        def wait_for_dag(self, dag_id: str, timeout: float = 240) -> None:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    self.api("GET", f"/dags/{dag_id}")
                    return
                except urllib.error.HTTPError as err:
                    if err.code != 404 or time.monotonic() > deadline:
                        raise RuntimeError(f"{dag_id} never appeared:\n{self.diagnostics()}") from err
                    time.sleep(1)

        def warm_up(self, dag_id: str, timeout: float = 60) -> None:
            """Wait for the run the scheduler starts when a scheduled DAG is unpaused (not measured)."""
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                runs = self.api("GET", f"/dags/{dag_id}/dagRuns")["dag_runs"]
                if runs:
                    self.wait_run(dag_id, runs[0]["dag_run_id"])
                    return
                time.sleep(1)

        def run_dag(
            self, dag_id: str, run_id: str, conf: dict[str, Any], timeout: float = 600
        ) -> dict[str, Any]:
            """Trigger a run and wait until it ends; returns the dag run as the API reports it."""
            self.api(
                "POST", f"/dags/{dag_id}/dagRuns", {"dag_run_id": run_id, "conf": conf, "logical_date": None}
            )
            return self.wait_run(dag_id, run_id, timeout)

        def wait_run(self, dag_id: str, run_id: str, timeout: float = 600) -> dict[str, Any]:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                run = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
                if run["state"] in TERMINAL:
                    return dict(run)
                time.sleep(0.5)
            raise TimeoutError(f"{dag_id} run {run_id} did not end in {timeout:.0f}s:\n{self.diagnostics()}")

    return BenchStack(workdir=workdir)
