"""Intrinsic literals use only AWS's documented escapes; multi-line SQL with params is folded safely."""

from __future__ import annotations

import pytest

from airflow_sfn_etl.asl import TemplateMappingError, compile_dag, definition, validate
from airflow_sfn_etl.asl.templates import escape_intrinsic_literal, map_string
from airflow_sfn_etl.operators.athena import AthenaQueryOperator
from airflow_sfn_etl.operators.sns import SnsPublishOperator
from tests.asl.conftest import make_dag


def _query(sql: str) -> dict[str, object]:
    with make_dag(params={"db": "sales"}) as dag:
        AthenaQueryOperator(task_id="q", query=sql)
    document = definition(compile_dag(dag))
    assert validate(document) == []
    return document["States"]["q"]["Parameters"]


def test_only_the_documented_escapes_are_written() -> None:
    assert escape_intrinsic_literal("a'b{c}d\\e") == "a\\'b\\{c\\}d\\\\e"
    with pytest.raises(ValueError, match="cannot hold"):
        escape_intrinsic_literal("line one\nline two")


def test_multi_line_sql_with_params_is_folded_onto_one_line_keeping_literals() -> None:
    sql = (
        "-- totals per region\n"
        "SELECT region,\n"
        "       sum(amount) AS total   -- the sum\n"
        "FROM {{ params.db }}.orders\n"
        "WHERE note = 'a  --  b'\n"
        "\tAND id > 0\n"
    )
    params = _query(sql)
    assert params["QueryString.$"] == (
        "States.Format('SELECT region, sum(amount) AS total FROM {}.orders WHERE note = \\'a  --  b\\' "
        "AND id > 0', $.db)"
    )


def test_sql_without_params_keeps_its_layout_as_a_plain_string() -> None:
    sql = "SELECT 1\n-- comment kept\nFROM t"
    assert _query(sql) == {
        "QueryString": sql,
        "QueryExecutionContext": {"Catalog": "AwsDataCatalog"},
        "WorkGroup": "primary",
    }


def test_a_line_break_inside_a_string_literal_is_refused() -> None:
    with make_dag() as dag:
        AthenaQueryOperator(task_id="q", query="SELECT 'a\nb' FROM {{ params.db }}.t")
    with pytest.raises(TemplateMappingError, match="Task 'q': field 'query' mixes params with line breaks"):
        compile_dag(dag)


def test_other_text_with_params_and_line_breaks_is_refused() -> None:
    with make_dag() as dag:
        SnsPublishOperator(task_id="n", target="t", message="Done:\n{{ params.month }}")
    with pytest.raises(TemplateMappingError, match="Task 'n': field 'message' mixes params with line breaks"):
        compile_dag(dag)
    assert map_string("two\nlines", task_id="n", field="message").literal == "two\nlines"


@pytest.mark.parametrize(
    ("literal", "problem"),
    [("'a\\nb'", "bad escape"), ("'a\\tb'", "bad escape"), ("'a\nb'", "control character")],
)
def test_our_validator_accepts_only_the_documented_escapes(literal: str, problem: str) -> None:
    document = {
        "StartAt": "p",
        "States": {"p": {"Type": "Pass", "Parameters": {"x.$": f"States.Format({literal})"}, "End": True}},
    }
    assert any(problem in error for error in validate(document))
    document["States"]["p"]["Parameters"]["x.$"] = "States.Format('a\\'b\\{\\}\\\\')"
    assert validate(document) == []
