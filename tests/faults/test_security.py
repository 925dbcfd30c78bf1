"""Security: least-privilege role policy, no secrets in logs or XCom, SQL params validated."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from e2e.conftest import run_dag

from airflow_sfn_etl_flows.params import glue_crawler_job_params, sales_marketing_params
from airflow_sfn_etl_flows.settings import DAGS_FOLDER

FLOWS = ("glue_crawler_job", "sales_marketing_refresh")
#: Wildcards that remain, each narrowed to a named bucket/prefix (justified in docs/reliability.md).
ALLOWED_PATTERNS = {
    # the CTAS location is s3://<bucket>/summary/sales_marketing_revenue/<run_id>/: one folder per run
    "arn:aws:s3:::sfn-etl-transformed-data/summary/sales_marketing_revenue/*/*",
}


def _policy(dagbag, dag_id: str) -> dict:
    from airflow_sfn_etl.asl import compile_dag, definition
    from airflow_sfn_etl.asl.iam import build_iam_policy_from_definition

    machine = compile_dag(dagbag.get_dag(dag_id))
    return build_iam_policy_from_definition(
        definition(machine), region="us-east-1", account="123456789012", params=dict(machine.param_defaults)
    ).document


@pytest.mark.parametrize("dag_id", FLOWS)
def test_state_machine_role_policy_is_least_privilege(dagbag, dag_id):
    for statement in _policy(dagbag, dag_id)["Statement"]:
        assert statement["Effect"] == "Allow"
        for action in statement["Action"]:
            assert "*" not in action, (statement["Sid"], action)
        for resource in statement["Resource"]:
            assert resource != "*", statement["Sid"]
            if "*" not in resource:
                continue
            head = resource.split("*", 1)[0]
            # Objects under a named bucket's prefix (s3:::bucket/prefix/*) or a named database's tables.
            objects = re.fullmatch(r"arn:aws:s3:::[a-z0-9.-]+/([A-Za-z0-9_.=-]+/)*", head)
            tables = re.fullmatch(r"arn:aws:glue:us-east-1:123456789012:table/[A-Za-z0-9_]+/", head)
            assert (
                (objects and resource.endswith("/*") and resource.count("*") == 1)
                or tables
                or resource in ALLOWED_PATTERNS
            ), (statement["Sid"], resource)


FAKE_KEY = "AKIAFAKEFAULTTEST0001"
FAKE_SECRET = "fake-Secret-Value-9f8e7d6c5b4a"
FAKE_TOKEN = "fake-Session-Token-1a2b3c4d5e6f"


@pytest.mark.spark  # the crawler flow's job is a Glue Spark job: make test-heavy
@pytest.mark.slow
def test_no_credentials_in_task_logs_or_xcom(flows, dagbag, monkeypatch, capfd):
    import os

    from airflow import settings
    from airflow.models.xcom import XComModel

    conn = {
        "conn_type": "aws",
        "login": FAKE_KEY,
        "password": FAKE_SECRET,
        "extra": {
            "region_name": "us-east-1",
            "endpoint_url": flows["endpoint_url"],
            "aws_session_token": FAKE_TOKEN,
        },
    }
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps(conn))
    run, states = run_dag(dagbag, "glue_crawler_job", {"wait_time": 1})
    assert str(run.state) == "success", states
    out, err = capfd.readouterr()
    logs = out + err
    home = Path(os.environ["AIRFLOW_HOME"]) / "logs"
    if home.is_dir():
        logs += "".join(p.read_text(errors="replace") for p in home.rglob("*") if p.is_file())
    assert "run_final_glue_job" in logs  # the task logs were captured
    session = settings.Session()
    xcoms = (
        session.query(XComModel)
        .filter(XComModel.dag_id == "glue_crawler_job", XComModel.run_id == run.run_id)
        .all()
    )
    assert xcoms  # the tasks pushed results
    text = logs + json.dumps([x.value for x in xcoms], default=str)
    for secret in (FAKE_SECRET, FAKE_TOKEN):
        assert secret not in text


def _sql_params() -> set[str]:
    used = set()
    for path in (DAGS_FOLDER / "sql").glob("*.sql"):
        used |= set(re.findall(r"\{\{\s*params\.(\w+)\s*\}\}", path.read_text()))
    return used


def test_params_spliced_into_sql_are_validated_by_pattern():
    params = {**sales_marketing_params(), **glue_crawler_job_params()}
    used = _sql_params()
    assert used, "the SQL files use params"
    for name in sorted(used):
        pattern = params[name].schema.get("pattern")
        assert pattern, f"param {name} is spliced into SQL without a pattern"
        for hostile in ("x'; DROP TABLE t; --", "x y", "x`y", 'x"y', "x;y", "x'y", "x\\ny"):
            assert not re.search(pattern, hostile), (name, hostile)


def test_no_sql_file_quotes_a_param_value_it_does_not_validate():
    for path in (DAGS_FOLDER / "sql").glob("*.sql"):
        for expr in re.findall(r"\{\{(.*?)\}\}", path.read_text()):
            assert re.fullmatch(r"\s*(params\.\w+|run_id)\s*", expr), (path.name, expr)
