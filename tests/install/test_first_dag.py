"""The README's first-DAG walkthrough (docs/examples/first_dag*.py), step by step on the sandbox.

The resources are created by the walkthrough's own setup script, the DAG runs with
``airflow dags test`` in a private AIRFLOW_HOME whose DAG folder is docs/examples, and the query
result and the SNS notice are checked against totals computed from the CSV with the standard library.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import boto3
import pytest

from airflow_sfn_etl_sandbox import Sandbox
from airflow_sfn_etl_sandbox.client import SandboxClient

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"
WALKTHROUGH = ROOT / "README.md"
BUCKET, DATABASE, CRAWLER, TOPIC = "my-first-dag", "first_dag", "first_dag_orders", "first-dag-totals"


def _fenced(text: str) -> str:
    return f"```python\n{text}```"


def test_walkthrough_shows_the_example_files_verbatim():
    doc = WALKTHROUGH.read_text()
    for name in ("first_dag_setup.py", "first_dag.py"):
        assert _fenced((EXAMPLES / name).read_text()) in doc, f"{WALKTHROUGH.name} no longer shows {name} as it is"
    for command in ("airflow-sfn-etl sandbox", "airflow db migrate", "airflow dags test first_dag",
                    "/_sandbox/sns/messages?topic=first-dag-totals"):
        assert command in doc
    # The lines the sandbox prints for --port 4566, as the walkthrough has the reader paste them.
    for key, value in Sandbox(port=4566).env().items():
        shown = f"'{value}'" if key == "AIRFLOW_CONN_AWS_DEFAULT" else value
        assert f"\nexport {key}={shown}\n" in doc


def _totals_from_csv(text: str) -> dict[str, tuple[int, Decimal]]:
    """{region: (orders, total amount)} straight from the CSV, in exact decimal arithmetic."""
    totals: dict[str, list] = defaultdict(lambda: [0, Decimal(0)])
    for row in csv.DictReader(io.StringIO(text)):
        totals[row["region"]][0] += 1
        totals[row["region"]][1] += Decimal(row["amount"])
    return {region: (n, amount) for region, (n, amount) in totals.items()}


def _as_totals(rows: list[dict]) -> dict[str, tuple[int, Decimal]]:
    return {row["region"]: (int(row["orders"]), Decimal(str(row["total"])).quantize(Decimal("0.01")))
            for row in rows}


@pytest.mark.e2e
def test_first_dag_walkthrough_on_the_sandbox(sandbox_env, tmp_path):
    sandbox_env.reset()
    home = tmp_path / "airflow-home"
    env = {k: v for k, v in os.environ.items() if k != "AIRFLOW__CORE__UNIT_TEST_MODE"}
    env.update(sandbox_env.env())  # the lines `airflow-sfn-etl sandbox` prints
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__DAGS_FOLDER": str(EXAMPLES),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    })

    def run(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=600, check=False)
        assert done.returncode == 0, f"{args}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done

    run(str(EXAMPLES / "first_dag_setup.py"))
    run("-m", "airflow", "db", "migrate")
    run("-m", "airflow", "dags", "test", "first_dag")

    with sqlite3.connect(home / "airflow.db") as db:
        runs = db.execute("SELECT state FROM dag_run WHERE dag_id = 'first_dag'").fetchall()
        tasks = dict(db.execute("SELECT task_id, state FROM task_instance WHERE dag_id = 'first_dag'").fetchall())
    assert runs == [("success",)]
    assert tasks == {"crawl_orders": "success", "total_by_region": "success", "notify": "success"}

    s3 = boto3.client("s3", endpoint_url=sandbox_env.endpoint_url, region_name="us-east-1")
    orders = s3.get_object(Bucket=BUCKET, Key="orders/orders.csv")["Body"].read().decode()
    expected = _totals_from_csv(orders)
    assert len(expected) == 3 and sum(n for n, _ in expected.values()) == 6

    # The crawler catalogued the CSV with Glue's types for its columns.
    glue = boto3.client("glue", endpoint_url=sandbox_env.endpoint_url, region_name="us-east-1")
    columns = glue.get_table(DatabaseName=DATABASE, Name="orders")["Table"]["StorageDescriptor"]["Columns"]
    assert [(c["Name"], c["Type"]) for c in columns] == [("order_id", "bigint"), ("region", "string"),
                                                         ("amount", "double")]

    # Athena wrote its result where output_location says, one CSV per query.
    results = s3.list_objects_v2(Bucket=BUCKET, Prefix="athena-results/").get("Contents", [])
    result_csvs = [o["Key"] for o in results if o["Key"].endswith(".csv")]
    assert len(result_csvs) == 1
    body = s3.get_object(Bucket=BUCKET, Key=result_csvs[0])["Body"].read().decode()
    result_rows = list(csv.DictReader(io.StringIO(body)))
    assert [r["region"] for r in result_rows] == sorted(expected)
    assert _as_totals(result_rows) == expected

    # The notice carries the same rows (XCom -> JSON message).
    notices = SandboxClient(sandbox_env.endpoint_url).sns_messages(TOPIC)
    assert len(notices) == 1
    assert notices[0]["subject"] == "Order totals by region"
    # The amazon provider's hook publishes with MessageStructure=json: {"default": <message>}.
    envelope = json.loads(notices[0]["message"])
    assert list(envelope) == ["default"]
    payload = json.loads(envelope["default"])
    assert _as_totals(payload) == expected
    assert [row["region"] for row in payload] == sorted(expected)
