"""The deployment harness and docker-compose.yaml run Airflow with the same settings.

``docker/airflow.env`` holds the settings; the compose file's Airflow services read it
(``env_file``) and ``scripts/deploy_stack.py`` starts the same components with it. Each sets only
the per-deployment keys (addresses, secrets, auth manager) itself. These tests fail when either
side grows a setting of its own.
"""

from __future__ import annotations

from typing import Any

import pytest

from . import compose, stacks

AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker",
                    "airflow-triggerer", "airflow-init")


@pytest.fixture(scope="module")
def deploy_stack() -> Any:
    return stacks.load("deploy_stack")


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    return compose.load()["services"]


def _airflow_keys(env: dict[str, str]) -> set[str]:
    return {key for key in env if key.startswith("AIRFLOW")}


def test_every_airflow_service_reads_the_shared_settings(services, deploy_stack) -> None:
    for name in AIRFLOW_SERVICES:
        assert deploy_stack.ENV_FILE in compose.env_files(services[name]), name
        env = compose.environment(services[name])
        for key, value in deploy_stack.read_env_file().items():
            assert env[key] == value, (name, key)


def test_compose_sets_only_per_deployment_settings_itself(services, deploy_stack) -> None:
    """A setting added to a service's environment, and not to the env file, would not be tested."""
    extra_for_init = {"_AIRFLOW_DB_MIGRATE", "_AIRFLOW_WWW_USER_CREATE", "_AIRFLOW_WWW_USER_USERNAME",
                      "_AIRFLOW_WWW_USER_PASSWORD"}
    for name in AIRFLOW_SERVICES:
        own = _airflow_keys(compose.inline_environment(services[name])) - extra_for_init
        assert own <= deploy_stack.PER_DEPLOYMENT, (name, sorted(own - deploy_stack.PER_DEPLOYMENT))
        shared = set(deploy_stack.read_env_file())
        assert not own & shared, (name, "overrides the env file", sorted(own & shared))


def test_the_harness_runs_the_env_file_and_sets_only_per_deployment_keys(tmp_path, deploy_stack) -> None:
    stack = deploy_stack.DeploymentStack(workdir=tmp_path)
    env = stack.env()
    shared = deploy_stack.read_env_file()
    for key, value in shared.items():
        assert env[key] == value, key
    local_only = {"AIRFLOW__API__HOST", "AIRFLOW__API__PORT", "AIRFLOW__API__BASE_URL",
                  "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"}
    own = {key for key in env if key.startswith("AIRFLOW__")} - set(shared)
    assert own - local_only <= deploy_stack.PER_DEPLOYMENT, sorted(own - local_only - deploy_stack.PER_DEPLOYMENT)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://127.0.0.1:")
    # A component restarted later gets the same secrets (else the api-server rejects its tokens).
    again = stack.env()
    for key in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY"):
        assert again[key] == env[key], key


def test_env_file_lines_are_key_value(deploy_stack, tmp_path) -> None:
    bad = tmp_path / "bad.env"
    bad.write_text("# comment\n\nGOOD=1\nnot a setting\n")
    with pytest.raises(ValueError, match=r"bad.env:4: expected KEY=VALUE"):
        deploy_stack.read_env_file(bad)
    assert deploy_stack.read_env_file(deploy_stack.ENV_FILE)["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
