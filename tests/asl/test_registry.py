"""The fragment registry is the one way an operator reaches its ASL fragment."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import BaseOperator

from airflow_sfn_etl.asl import UnsupportedOperatorError, compile_dag, definition, fragments
from airflow_sfn_etl.asl.fragments import registry
from airflow_sfn_etl.get_provider_info import get_provider_info
from airflow_sfn_etl.operators.glue import GlueJobOperator
from tests.asl.conftest import make_dag

#: The operators the compiler supports (DESIGN: Glue job, crawler and its sensor, DataBrew, Athena, SNS,
#: EmptyOperator as a join), with the fragment module that compiles each.
EXPECTED = {
    "airflow_sfn_etl.operators.glue.GlueJobOperator": "glue",
    "airflow_sfn_etl.operators.glue_crawler.GlueCrawlerOperator": "glue_crawler",
    "airflow_sfn_etl.sensors.glue_crawler.GlueCrawlerSensor": "glue_crawler",
    "airflow_sfn_etl.operators.databrew.DataBrewStartJobOperator": "databrew",
    "airflow_sfn_etl.operators.athena.AthenaQueryOperator": "athena",
    "airflow_sfn_etl.operators.sns.SnsPublishOperator": "sns",
    "airflow.providers.standard.operators.empty.EmptyOperator": "empty",
    "airflow.providers.amazon.aws.operators.glue.GlueJobOperator": "stock",
    "airflow.providers.amazon.aws.operators.glue_crawler.GlueCrawlerRunOperator": "stock",
    "airflow.providers.amazon.aws.operators.athena.AthenaOperator": "athena",
    "airflow.providers.amazon.aws.operators.sns.SnsPublishOperator": "stock",
    "airflow.providers.amazon.aws.operators.lambda_function.LambdaInvokeFunctionOperator": "lambda_function",
    "airflow.providers.amazon.aws.operators.glue_databrew.GlueDataBrewStartJobOperator": "stock",
    "airflow.providers.amazon.aws.operators.step_function.StepFunctionStartExecutionOperator": "stock",
    "airflow.providers.amazon.aws.operators.sqs.SqsPublishOperator": "sqs",
    "airflow.providers.amazon.aws.operators.s3.S3CopyObjectOperator": "s3",
    "airflow.providers.amazon.aws.operators.s3.S3DeleteObjectsOperator": "s3",
    "airflow.providers.amazon.aws.sensors.glue_crawler.GlueCrawlerSensor": "glue_crawler",
}


def _class(path: str) -> type:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_supported_operators_are_exactly_the_expected_ones() -> None:
    assert fragments.supported() == sorted(EXPECTED)


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_each_supported_class_resolves_through_the_registry(path: str) -> None:
    cls = _class(path)
    assert fragments.class_path(cls) == path
    fn = fragments.lookup(cls)
    assert fn is not None
    assert fn.__module__ == f"airflow_sfn_etl.asl.fragments.{EXPECTED[path]}"
    assert fn is registry._REGISTRY[path]


def test_no_provider_class_carries_its_own_fragment() -> None:
    info = get_provider_info()
    modules = [m for role in ("operators", "sensors") for item in info[role] for m in item["python-modules"]]
    classes = [
        obj
        for module in modules
        for obj in vars(importlib.import_module(module)).values()
        if inspect.isclass(obj) and issubclass(obj, BaseOperator) and obj.__module__ == module
    ]
    assert len(classes) >= len([p for p in EXPECTED if p.startswith("airflow_sfn_etl.")])
    for cls in classes:
        assert not hasattr(cls, "to_asl"), cls


def test_a_to_asl_method_is_not_consulted() -> None:
    class WithMethod(GlueJobOperator):
        def to_asl(self, ctx: Any) -> Any:
            raise AssertionError("the compiler called to_asl")

    with make_dag() as dag:
        WithMethod(task_id="g", job_name="etl")
    state = definition(compile_dag(dag))["States"]["g"]
    assert state["Resource"] == "arn:aws:states:::glue:startJobRun.sync"
    assert state["Parameters"] == {"JobName": "etl"}


def test_stand_in_registration_is_used_and_removed(stand_in: Any) -> None:
    path = fragments.class_path(stand_in)
    assert path in fragments.supported()
    with make_dag() as dag:
        stand_in(task_id="s", job_name="j")
    assert definition(compile_dag(dag))["States"]["s"]["Parameters"] == {"JobName": "j"}
    fragments.unregister(path)
    assert fragments.lookup(stand_in) is None
    with pytest.raises(UnsupportedOperatorError, match="Task 's'"):
        compile_dag(dag)
