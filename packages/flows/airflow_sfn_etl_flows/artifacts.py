"""The committed Step Functions artefacts of the reference flows, under ``state_machines/``.

For each Airflow-engine DAG in :data:`FLOW_DAG_FILES`: ``<dag_id>.asl.json`` (the definition the
Step Functions DAGs deploy), ``<dag_id>.mmd`` (Mermaid diagram) and ``<dag_id>.iam.json`` (the
execution role's least-privilege policy). The definitions are region- and account-free: ARNs
built from names (the SNS topic) read the region and account from ``$$.StateMachine.Id`` at run
time, so one file deploys to any account and to the sandbox. The IAM policy needs literal ARNs:
the committed one is scoped with the param defaults in :data:`IAM_REGION` / :data:`IAM_ACCOUNT`
(the sandbox's); the deploy operator (``create_role=True``) generates the real account's at run time.

``airflow-sfn-etl build-state-machines`` writes them; ``--check`` fails when one is stale.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from airflow_sfn_etl_flows.settings import DAGS_FOLDER, ENV_PREFIX

#: Airflow-engine DAG files compiled to committed state machines, by dag_id.
FLOW_DAG_FILES = {
    "sales_marketing_refresh": "sales_marketing_refresh.py",
    "glue_crawler_job": "glue_crawler_job.py",
}
IAM_REGION = "us-east-1"
IAM_ACCOUNT = "123456789012"


def state_machines_dir() -> Path:
    """``$SFN_ETL_STATE_MACHINES_DIR``, else this package's ``state_machines/``."""
    env = os.environ.get("SFN_ETL_STATE_MACHINES_DIR")
    return Path(env) if env else DAGS_FOLDER.parent / "state_machines"


def definition_path(dag_id: str) -> Path:
    """Path of the committed ``<dag_id>.asl.json``."""
    return state_machines_dir() / f"{dag_id}.asl.json"


@dataclass(frozen=True)
class Artefact:
    """One generated file: its name, its expected text, and how long compiling its DAG took."""

    name: str
    text: str
    compile_seconds: float


@contextmanager
def _builtin_defaults() -> Iterator[None]:
    """Hide ``SFN_ETL_*`` overrides, so the committed files never depend on the machine that built them."""
    saved = {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIX)}
    for key in saved:
        del os.environ[key]
    try:
        yield
    finally:
        os.environ.update(saved)


def render_artefacts(dags_folder: Path = DAGS_FOLDER) -> list[Artefact]:
    """Compile every flow DAG (with the built-in param defaults) and render its three files (no AWS call)."""
    with _builtin_defaults():
        return _render(dags_folder)


def _render(dags_folder: Path) -> list[Artefact]:
    from airflow_sfn_etl.asl import compile_dag, definition, render_iam_policy, render_json, render_mermaid
    from airflow_sfn_etl.asl.loader import load_dags, pick_dag
    from airflow_sfn_etl.asl.validate import validate_or_raise

    out: list[Artefact] = []
    for dag_id, file_name in FLOW_DAG_FILES.items():
        path = dags_folder / file_name
        dag = pick_dag(load_dags(str(path)), dag_id, str(path))
        start = time.perf_counter()
        machine = compile_dag(dag)
        validate_or_raise(definition(machine))
        texts = {
            f"{dag_id}.asl.json": render_json(machine),
            f"{dag_id}.mmd": render_mermaid(machine),
            f"{dag_id}.iam.json": render_iam_policy(machine, region=IAM_REGION, account=IAM_ACCOUNT),
        }
        seconds = time.perf_counter() - start
        out.extend(Artefact(name, text, seconds) for name, text in texts.items())
    return out


def stale_artefacts(out_dir: Path, artefacts: list[Artefact]) -> list[str]:
    """Names of the artefacts whose file is missing or differs from the freshly rendered text."""
    stale = []
    for artefact in artefacts:
        path = out_dir / artefact.name
        if not path.is_file() or path.read_text(encoding="utf-8") != artefact.text:
            stale.append(artefact.name)
    return stale


def write_artefacts(out_dir: Path, artefacts: list[Artefact]) -> list[str]:
    """Write the artefacts that changed; return their names."""
    out_dir.mkdir(parents=True, exist_ok=True)
    changed = stale_artefacts(out_dir, artefacts)
    for artefact in artefacts:
        if artefact.name in changed:
            (out_dir / artefact.name).write_text(artefact.text, encoding="utf-8")
    return changed
