"""Templates: params -> execution input, other Jinja -> clear errors, .sql files inlined."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_sfn_etl.asl import TemplateMappingError, compile_dag, definition, validate
from airflow_sfn_etl.asl.templates import escape_intrinsic_literal, map_string
from airflow_sfn_etl.operators.athena import AthenaQueryOperator
from airflow_sfn_etl.operators.glue import GlueJobOperator
from tests.asl.conftest import make_dag


def _map(text: str):  # type: ignore[no-untyped-def]
    return map_string(text, task_id="t", field="f")


def test_exact_param_becomes_a_path() -> None:
    mapped = _map("{{ params.job }}")
    assert (mapped.expression, mapped.params) == ("$.job", ("job",))
    assert _map("{{params['my-key']}}").expression == "$['my-key']"


def test_text_with_params_becomes_states_format_with_escapes() -> None:
    mapped = _map("s3://{{ params.bucket }}/it's/{x}\\{{ params.k }}")
    assert mapped.expression == "States.Format('s3://{}/it\\'s/\\{x\\}\\\\{}', $.bucket, $.k)"
    assert mapped.params == ("bucket", "k")


def test_plain_text_stays_literal_and_comments_drop() -> None:
    assert _map("plain 'text' {x}").literal == "plain 'text' {x}"
    assert _map("a{# note #}b").literal == "ab"


def test_whitespace_control_markers() -> None:
    assert _map("x  {{- params.a -}}  y").expression == "States.Format('x{}y', $.a)"


def test_run_id_maps_to_the_execution_name() -> None:
    assert _map("{{ run_id }}").expression == "$$.Execution.Name"
    assert _map("out/{{ run_id }}/").expression == "States.Format('out/{}/', $$.Execution.Name)"


def test_escape_intrinsic_literal() -> None:
    assert escape_intrinsic_literal("a'b{c}d\\") == "a\\'b\\{c\\}d\\\\"


@pytest.mark.parametrize(
    "expression",
    [
        "{{ ds }}",
        "{{ macros.ds_add(ds, 1) }}",
        "{{ var.value.x }}",
        "{{ ti.xcom_pull(task_ids=['a', 'b']) }}",
        "{{ ti.xcom_pull('a', key='rows') }}",
        "{{ params.x | upper }}",
        "{{ params.x ~ 'y' }}",
    ],
)
def test_unmappable_expression_names_task_field_and_expression(expression: str) -> None:
    with make_dag() as dag:
        GlueJobOperator(task_id="load_day", job_name="job", script_args={"--day": f"d={expression}"})
    with pytest.raises(TemplateMappingError) as info:
        compile_dag(dag)
    message = str(info.value)
    assert "Task 'load_day'" in message
    assert "field 'script_args.--day'" in message
    assert expression in message
    assert "params.NAME" in message


def test_jinja_statement_is_rejected() -> None:
    with make_dag() as dag:
        AthenaQueryOperator(task_id="q", query="SELECT 1 {% if params.x %}WHERE 1=1{% endif %}")
    with pytest.raises(
        TemplateMappingError, match=r"Task 'q': field 'query' uses the Jinja statement '\{% if params.x %\}'"
    ):
        compile_dag(dag)


def test_sql_file_is_inlined_and_its_params_mapped(tmp_path: Path) -> None:
    (tmp_path / "q.sql").write_text("SELECT * FROM {{ params.db }}.t WHERE c = 'v'\n")
    with make_dag(template_searchpath=[str(tmp_path)], params={"db": "sales"}) as dag:
        AthenaQueryOperator(task_id="q", query="q.sql", database="{{ params.db }}")
    machine = compile_dag(dag)
    params = definition(machine)["States"]["q"]["Parameters"]
    assert params["QueryString.$"] == "States.Format('SELECT * FROM {}.t WHERE c = \\'v\\'', $.db)"
    assert params["QueryExecutionContext"] == {"Catalog": "AwsDataCatalog", "Database.$": "$.db"}
    assert machine.params_used == ("db",)
    assert any("substituted into the SQL" in note and "db" in note for note in machine.notes)
    assert validate(definition(machine)) == []


def test_missing_sql_file_is_named(tmp_path: Path) -> None:
    with make_dag(template_searchpath=[str(tmp_path)]) as dag:
        AthenaQueryOperator(task_id="q", query="missing.sql")
    with pytest.raises(
        TemplateMappingError, match=r"Task 'q': field 'query' names the template file 'missing.sql'"
    ):
        compile_dag(dag)


def test_list_with_params_is_rejected() -> None:
    from airflow_sfn_etl.asl.templates import map_value

    with pytest.raises(TemplateMappingError, match="field 'x' is a list"):
        map_value(["{{ params.a }}"], task_id="t", field="x")
