"""The one place the compiler finds an operator's fragment: a table keyed by operator class path.

The compiler owns every fragment; it never imports an operator module (a class path is a
string), and operators know nothing of the compiler. A task compiles with the entry of the
nearest class in its MRO, so subclasses of a supported operator compile like it and a
registration for a subclass takes precedence.

Fragment functions read operator attributes named like the constructor arguments
(``job_name``, ``script_args``, ``query``, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airflow_sfn_etl.asl.context import AslContext
from airflow_sfn_etl.asl.errors import UnsupportedOperatorError
from airflow_sfn_etl.asl.fragments.athena import athena_query
from airflow_sfn_etl.asl.fragments.databrew import databrew_job
from airflow_sfn_etl.asl.fragments.empty import empty
from airflow_sfn_etl.asl.fragments.glue import glue_job
from airflow_sfn_etl.asl.fragments.glue_crawler import glue_crawler, glue_crawler_sensor
from airflow_sfn_etl.asl.fragments.lambda_function import lambda_invoke
from airflow_sfn_etl.asl.fragments.s3 import s3_copy_object, s3_delete_objects
from airflow_sfn_etl.asl.fragments.sns import sns_publish
from airflow_sfn_etl.asl.fragments.sqs import stock_sqs_publish
from airflow_sfn_etl.asl.fragments.stock import (
    stock_databrew_job,
    stock_glue_crawler_run,
    stock_glue_job,
    stock_sns_publish,
    stock_start_execution,
)
from airflow_sfn_etl.asl.ir import Fragment

#: A fragment function: (the task, its compile context) -> its states. Each function types the task as
#: the Protocol of what it reads (e.g. :class:`~airflow_sfn_etl.asl.fragments.glue.GlueJobTask`); the
#: table is keyed by class path, so the task's type is known only at lookup, hence ``Any`` here.
FragmentFn = Callable[[Any, AslContext], Fragment]

PKG = "airflow_sfn_etl.operators"
GLUE_JOB = f"{PKG}.glue.GlueJobOperator"
GLUE_CRAWLER = f"{PKG}.glue_crawler.GlueCrawlerOperator"
GLUE_CRAWLER_SENSOR = "airflow_sfn_etl.sensors.glue_crawler.GlueCrawlerSensor"
DATABREW_JOB = f"{PKG}.databrew.DataBrewStartJobOperator"
ATHENA_QUERY = f"{PKG}.athena.AthenaQueryOperator"
SNS_PUBLISH = f"{PKG}.sns.SnsPublishOperator"
EMPTY = "airflow.providers.standard.operators.empty.EmptyOperator"
#: The amazon provider's operators with the same meaning as ours (fragments.stock).
AMAZON = "airflow.providers.amazon.aws.operators"
STOCK_GLUE_JOB = f"{AMAZON}.glue.GlueJobOperator"
STOCK_GLUE_CRAWLER_RUN = f"{AMAZON}.glue_crawler.GlueCrawlerRunOperator"
STOCK_ATHENA = f"{AMAZON}.athena.AthenaOperator"
STOCK_SNS_PUBLISH = f"{AMAZON}.sns.SnsPublishOperator"
LAMBDA_INVOKE = f"{AMAZON}.lambda_function.LambdaInvokeFunctionOperator"
STOCK_DATABREW_JOB = f"{AMAZON}.glue_databrew.GlueDataBrewStartJobOperator"
STOCK_START_EXECUTION = f"{AMAZON}.step_function.StepFunctionStartExecutionOperator"
STOCK_SQS_PUBLISH = f"{AMAZON}.sqs.SqsPublishOperator"
S3_COPY_OBJECT = f"{AMAZON}.s3.S3CopyObjectOperator"
S3_DELETE_OBJECTS = f"{AMAZON}.s3.S3DeleteObjectsOperator"
#: The amazon provider's crawler sensor: the crawler poll loop, as our sensor.
STOCK_GLUE_CRAWLER_SENSOR = "airflow.providers.amazon.aws.sensors.glue_crawler.GlueCrawlerSensor"

_REGISTRY: dict[str, FragmentFn] = {
    GLUE_JOB: glue_job,
    GLUE_CRAWLER: glue_crawler,
    GLUE_CRAWLER_SENSOR: glue_crawler_sensor,
    DATABREW_JOB: databrew_job,
    ATHENA_QUERY: athena_query,
    SNS_PUBLISH: sns_publish,
    EMPTY: empty,
    STOCK_GLUE_JOB: stock_glue_job,
    STOCK_GLUE_CRAWLER_RUN: stock_glue_crawler_run,
    STOCK_ATHENA: athena_query,
    STOCK_SNS_PUBLISH: stock_sns_publish,
    LAMBDA_INVOKE: lambda_invoke,
    STOCK_DATABREW_JOB: stock_databrew_job,
    STOCK_START_EXECUTION: stock_start_execution,
    STOCK_SQS_PUBLISH: stock_sqs_publish,
    S3_COPY_OBJECT: s3_copy_object,
    S3_DELETE_OBJECTS: s3_delete_objects,
    STOCK_GLUE_CRAWLER_SENSOR: glue_crawler_sensor,
}


#: The constructor arguments each fragment carries into its states. The compiler refuses a task that
#: sets any other argument of its operator (see :mod:`airflow_sfn_etl.asl.refusals`), except those
#: that only tune the Airflow worker. A registration without such a list is not checked.
_CARRIED: dict[str, frozenset[str]] = {
    GLUE_JOB: frozenset({"job_name", "script_args", "wait_for_completion"}),
    GLUE_CRAWLER: frozenset({"crawler_name", "wait_for_completion", "poll_interval", "max_polls"}),
    GLUE_CRAWLER_SENSOR: frozenset({"crawler_name", "wait_time", "max_polls"}),
    DATABREW_JOB: frozenset({"job_name", "wait_for_completion"}),
    ATHENA_QUERY: frozenset({"query", "database", "catalog", "workgroup", "output_location"}),
    SNS_PUBLISH: frozenset({"target", "message", "subject", "message_attributes"}),
    EMPTY: frozenset(),
    STOCK_GLUE_JOB: frozenset({"job_name", "script_args", "run_job_kwargs", "wait_for_completion"}),
    STOCK_GLUE_CRAWLER_RUN: frozenset(
        {"crawler_name", "wait_for_completion", "poll_interval", "fail_on_already_running"}
    ),
    STOCK_ATHENA: frozenset({"query", "database", "catalog", "workgroup", "output_location"}),
    STOCK_SNS_PUBLISH: frozenset(
        {"target_arn", "message", "subject", "message_attributes", "message_group_id", "message_deduplication_id"}
    ),
    LAMBDA_INVOKE: frozenset({"function_name", "payload", "qualifier", "invocation_type", "client_context"}),
    STOCK_DATABREW_JOB: frozenset({"job_name", "wait_for_completion"}),
    STOCK_START_EXECUTION: frozenset({"state_machine_arn", "name", "state_machine_input"}),
    STOCK_SQS_PUBLISH: frozenset(
        {"sqs_queue", "message_content", "message_attributes", "delay_seconds", "message_group_id",
         "message_deduplication_id"}
    ),
    S3_COPY_OBJECT: frozenset(
        {"source_bucket_key", "dest_bucket_key", "source_bucket_name", "dest_bucket_name", "source_version_id",
         "acl_policy", "meta_data_directive", "kms_key_id", "kms_encryption_type"}
    ),
    S3_DELETE_OBJECTS: frozenset({"bucket", "keys"}),
    STOCK_GLUE_CRAWLER_SENSOR: frozenset({"crawler_name"}),
}


def register(class_path: str, carried: frozenset[str] | None = None) -> Callable[[FragmentFn], FragmentFn]:
    """Register a fragment function for an operator class (``module.Class``); ``carried`` names the
    constructor arguments the fragment reads (any other one set on a task is refused)."""

    def decorator(fn: FragmentFn) -> FragmentFn:
        _REGISTRY[class_path] = fn
        if carried is not None:
            _CARRIED[class_path] = frozenset(carried)
        else:
            _CARRIED.pop(class_path, None)
        return fn

    return decorator


def unregister(class_path: str) -> None:
    """Remove a registration (tests use it for stand-in operators)."""
    _REGISTRY.pop(class_path, None)
    _CARRIED.pop(class_path, None)


def carried_args(class_path: str) -> frozenset[str] | None:
    """The arguments the fragment of a registered class carries (None: not declared)."""
    return _CARRIED.get(class_path)


def supported() -> list[str]:
    """Registered operator class paths, sorted."""
    return sorted(_REGISTRY)


def class_path(cls: type) -> str:
    """``module.QualifiedName`` of a class."""
    return f"{cls.__module__}.{cls.__qualname__}"


def registered_class(cls: type) -> str | None:
    """The class path of the nearest registered class in the MRO of ``cls``."""
    for base in cls.__mro__:
        if class_path(base) in _REGISTRY:
            return class_path(base)
    return None


def lookup(cls: type) -> FragmentFn | None:
    """The fragment function of an operator class: that of the nearest registered class in its MRO."""
    for base in cls.__mro__:
        fn = _REGISTRY.get(class_path(base))
        if fn is not None:
            return fn
    return None


def fragment_for(operator: Any, ctx: AslContext) -> Fragment:
    """The operator's fragment, from the registry."""
    fn = lookup(type(operator))
    if fn is None:
        raise UnsupportedOperatorError(
            f"Task '{operator.task_id}' uses {class_path(type(operator))}, which has no Step Functions "
            f"mapping. Supported operators: {', '.join(supported())}."
        )
    return fn(operator, ctx)
