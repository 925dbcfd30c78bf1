"""User-style DAG files (tests/asl/corpus/): each compiles to a definition that our validator and npm's
asl-validator accept, or is refused with one message naming every offending task."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_sfn_etl.asl import DagShapeError, DagShapeWarning, UnsupportedTasksError, definition, validate
from airflow_sfn_etl.asl.loader import compile_dag_file
from tests.asl.asl_validator import assert_aws_accepts

CORPUS = Path(__file__).parent / "corpus"
ROOT = Path(__file__).resolve().parents[2]

COMPILES = [
    ("taskflow_dag.py", "corpus_taskflow"),
    ("trigger_rules_dag.py", "corpus_all_done"),
    ("trigger_rules_dag.py", "corpus_on_failure"),
    ("stock_operators_dag.py", "corpus_stock_operators"),
    ("mapped_dag.py", "corpus_mapped"),
    ("mapped_athena_dag.py", "corpus_mapped_athena"),
    ("mapped_glue_kwargs_dag.py", "corpus_mapped_glue_kwargs"),
    ("crossed_dependencies_dag.py", "corpus_crossed_dependencies"),
    ("setup_teardown_dag.py", "corpus_setup_teardown"),
    ("more_trigger_rules_dag.py", "corpus_none_failed"),
    ("xcom_dag.py", "corpus_xcom"),
    ("more_trigger_rules_dag.py", "corpus_crawl_then_cleanup"),
    ("stock_glue_sensor_dag.py", "corpus_stock_glue_sensor"),
    ("user_nested_machine_dag.py", "corpus_nested_machine"),
    ("stock_s3_housekeeping_dag.py", "corpus_s3_housekeeping"),
    ("user_retries_timeouts_dag.py", "corpus_retries_timeouts"),
    ("user_parallel_groups_dag.py", "corpus_parallel_groups"),
    ("stock_mapped_sqs_dag.py", "corpus_mapped_sqs"),
    ("stock_crawler_databrew_dag.py", "corpus_crawler_databrew"),
    ("user_athena_sql_file_dag.py", "corpus_athena_sql_file"),
    ("user_lambda_fanout_dag.py", "corpus_lambda_fanout"),
]

#: (file, dag_id) -> {task_id: text its line must hold}; no other task may be named.
REFUSED = {
    ("mapped_xcom_dag.py", "corpus_mapped_xcom"): {
        "list_tables": "@task or Python callable): it runs Python code in the Airflow worker",
        "load_table": "(mapped airflow_sfn_etl.operators.glue.GlueJobOperator): it maps over XCom from task(s) "
        "list_tables",
    },
    ("more_trigger_rules_dag.py", "corpus_rules_refused"): {
        "either": "trigger_rule='one_success': with several upstream tasks Airflow starts it as soon as one",
        "never": "trigger_rule='all_skipped': no upstream task of a compiled DAG is ever skipped",
    },
    ("xcom_dag.py", "corpus_xcom_refused"): {
        "audit": "field 'message' ({{ ti.xcom_pull(task_ids='alert') }}) reads the XCom of 'alert' "
        "(airflow_sfn_etl.operators.sns.SnsPublishOperator)",
        "late": "'side' is not upstream of it",
    },
    ("python_task_dag.py", "corpus_python_tasks"): {
        "list_files": "@task or Python callable): it runs Python code in the Airflow worker",
        "summarize": "@task or Python callable): it runs Python code in the Airflow worker",
    },
    ("user_refused_mix_dag.py", "corpus_refused_mix"): {
        "write_marker": "S3CreateObjectOperator): Step Functions' aws-sdk:s3:putObject sends a text Body as JSON",
        "pick_mode": "BranchPythonOperator): branching (choosing downstream tasks at run time) is not supported",
        "wait_full_load": "GlueJobSensor): the start 'full_load' has retries=2: they retry the start call",
    },
    ("stock_s3_prefix_cleanup_dag.py", "corpus_s3_prefix_cleanup"): {
        "clean_staging": "S3DeleteObjectsOperator): prefix='staging/': the operator lists the bucket",
        "rebuild": "GlueJobOperator): script_location='s3://corpus-bucket/s",
    },
    ("user_sensor_gap_dag.py", "corpus_sensor_gap"): {
        "wait_job": "GlueJobSensor): tasks other than 'start_job' and this sensor are linked between them "
        "(tell_started)",
    },
}


@pytest.mark.parametrize(("file", "dag_id"), COMPILES)
def test_corpus_dag_compiles_to_a_definition_both_validators_accept(file: str, dag_id: str, tmp_path: Path) -> None:
    document = definition(compile_dag_file(str(CORPUS / file), dag_id))
    assert document["Comment"].startswith(f"Airflow DAG '{dag_id}'")
    assert validate(document) == []
    assert_aws_accepts(document, tmp_path)


@pytest.mark.parametrize(("file", "dag_id"), sorted(REFUSED))
def test_corpus_dag_is_refused_naming_every_offending_task(file: str, dag_id: str) -> None:
    with pytest.raises(UnsupportedTasksError) as info:
        compile_dag_file(str(CORPUS / file), dag_id)
    message = str(info.value)
    expected = REFUSED[(file, dag_id)]
    named = {r.task_id for r in info.value.refusals}
    assert named == set(expected)
    for task_id, text in expected.items():
        line = next(line for line in message.splitlines() if line.startswith(f"- Task '{task_id}' "))
        assert text in line and "Instead:" in line


def test_the_crossed_dependencies_dag_adds_one_dependency_or_is_refused_when_strict() -> None:
    path = str(CORPUS / "crossed_dependencies_dag.py")
    with pytest.warns(DagShapeWarning, match=r"1 dependency added to compile it \(load_orders >> export_customers\)"):
        machine = compile_dag_file(path)
    assert machine.added_edges == (("load_orders", "export_customers"),)
    with pytest.raises(DagShapeError, match="Edges that break it: load_customers >> report"):
        compile_dag_file(path, strict_shape=True)


def test_the_readme_first_dag_is_refused_for_its_xcom_use() -> None:
    with pytest.raises(UnsupportedTasksError) as info:
        compile_dag_file(str(ROOT / "docs" / "examples" / "first_dag.py"))
    by_task = {r.task_id: r.reason for r in info.value.refusals}
    assert set(by_task) == {"total_by_region", "notify"}
    assert by_task["total_by_region"].startswith("result_to_xcom=True")
    assert "ti.xcom_pull" in by_task["notify"]
