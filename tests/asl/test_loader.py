"""DAG files are read with Airflow's own loader (DagBag): every DAG Airflow finds, chosen by id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_sfn_etl.asl import DagFileError, definition, validate
from airflow_sfn_etl.asl.loader import compile_dag_file, load_dags, pick_dag
from airflow_sfn_etl.cli import main
from airflow_sfn_etl.utils.sfn_definition import compile_source_dag

CORPUS = Path(__file__).parent / "corpus"

TWO_DAGS = '''
from datetime import datetime
from airflow.sdk import DAG, dag
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG(dag_id="block_dag", schedule=None, start_date=datetime(2026, 1, 1)):
    EmptyOperator(task_id="only")

@dag(schedule=None, start_date=datetime(2026, 1, 1))
def decorated_dag():
    EmptyOperator(task_id="a") >> EmptyOperator(task_id="b")

decorated_dag()
'''


class _Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str, *args: object) -> None:
        self.lines.append(message % args)


@pytest.fixture
def two_dags(tmp_path: Path) -> Path:
    path = tmp_path / "two.py"
    path.write_text(TWO_DAGS)
    return path


def test_a_called_dag_function_and_a_with_block_are_both_found(two_dags: Path) -> None:
    dags = load_dags(str(two_dags))
    assert list(dags) == ["block_dag", "decorated_dag"]
    assert sorted(dags["decorated_dag"].task_dict) == ["a", "b"]


def test_dag_id_chooses_and_errors_list_the_ids_found(two_dags: Path) -> None:
    dags = load_dags(str(two_dags))
    assert pick_dag(dags, "decorated_dag", str(two_dags)).dag_id == "decorated_dag"
    with pytest.raises(LookupError, match=r"defines 2 DAGs \(block_dag, decorated_dag\); choose one with --dag-id"):
        pick_dag(dags, None, str(two_dags))
    with pytest.raises(LookupError, match=r"has no DAG 'nope' \(DAGs found: block_dag, decorated_dag\)"):
        pick_dag(dags, "nope", str(two_dags))


def test_a_file_without_dags_says_so(tmp_path: Path) -> None:
    path = tmp_path / "none.py"
    path.write_text("X = 1\n")
    with pytest.raises(LookupError, match="defines no DAG that Airflow finds"):
        pick_dag(load_dags(str(path)), None, str(path))


def test_import_errors_are_reported_with_airflows_message(tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text("import airflow\nimport no_such_module_for_the_loader_test\n")
    with pytest.raises(DagFileError) as caught:
        load_dags(str(path))
    assert "could not load the DAG file" in str(caught.value)
    assert "no_such_module_for_the_loader_test" in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing.py"):
        load_dags(str(tmp_path / "missing.py"))


def test_cli_compiles_the_chosen_dag_of_a_file(two_dags: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["asl", "compile", str(two_dags), "--dag-id", "decorated_dag"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["StartAt"] == "a"
    assert document["States"]["a"] == {"Type": "Pass", "ResultPath": "$", "Next": "b"}
    assert main(["asl", "compile", str(two_dags)]) == 1
    assert "block_dag, decorated_dag" in capsys.readouterr().err


def test_deploy_operator_loads_a_dag_function_file_the_same_way() -> None:
    path = CORPUS / "taskflow_dag.py"
    loaded = compile_source_dag(str(path), None, None, state_machine_name="sm", log=_Log())
    assert loaded.document == definition(compile_dag_file(str(path)))
    assert loaded.param_defaults == {"bucket": "corpus-bucket", "database": "corpus_db"}
    assert validate(loaded.document) == []


def test_deploy_operator_lists_the_dag_ids_when_the_id_is_wrong(two_dags: Path) -> None:
    from airflow.providers.common.compat.sdk import AirflowException

    with pytest.raises(AirflowException, match=r"has no DAG 'other' \(DAGs found: block_dag, decorated_dag\)"):
        compile_source_dag(str(two_dags), "other", None, state_machine_name="sm", log=_Log())
