"""Test-wide setup: an isolated AIRFLOW_HOME, fake AWS credentials, and the sandbox fixtures."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Must happen before anything imports airflow.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
_home = Path(tempfile.gettempdir()) / f"airflow-sfn-etl-tests-{os.getpid()}-{_worker}"
_home.mkdir(parents=True, exist_ok=True)
os.environ["AIRFLOW_HOME"] = str(_home)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).resolve().parents[1] / "dags")
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_home}/airflow.db"
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("AWS_ENDPOINT_URL", None)

import logging  # noqa: E402

import pytest  # noqa: E402

logging.getLogger("werkzeug").setLevel(logging.ERROR)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
WORKSHOP = SHARED / "data" / "workshop"
SEED = SHARED / "data" / "seed"


@pytest.fixture(autouse=True)
def _fresh_shared_hooks():
    """Each test's triggers build their hook from that test's connection (tests point it at different
    sandboxes; a hook shared across tests would keep an endpoint that has since gone away)."""
    from airflow_sfn_etl.triggers.base import clear_shared_hooks

    clear_shared_hooks()
    yield
    clear_shared_hooks()


@pytest.fixture(scope="session")
def sandbox():
    """One local AWS per test process (state is shared: use unique names or ``sandbox_reset``)."""
    from airflow_sfn_etl_sandbox import Sandbox

    with Sandbox() as sb:
        yield sb


@pytest.fixture
def sandbox_env(sandbox, monkeypatch):
    """Point boto3 and Airflow's ``aws_default`` connection at the sandbox for one test."""
    for key, value in sandbox.env().items():
        monkeypatch.setenv(key, value)
    yield sandbox
    from airflow_sfn_etl_sandbox import faults

    faults.clear()


@pytest.fixture(scope="session")
def airflow_db():
    """An initialised Airflow metadata DB (SQLite) for dag.test() and task runs."""
    from airflow.utils import db

    db.resetdb()
    yield
