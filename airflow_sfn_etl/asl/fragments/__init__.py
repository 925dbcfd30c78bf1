"""ASL fragments of the operators the compiler supports: one module per service, one registry.

:mod:`~airflow_sfn_etl.asl.fragments.registry` maps an operator class path to its fragment
function; the service modules (``glue``, ``glue_crawler``, ``databrew``, ``athena``, ``sns``,
``empty``) build the states.
"""

from __future__ import annotations

from airflow_sfn_etl.asl.fragments.athena import athena_query
from airflow_sfn_etl.asl.fragments.databrew import databrew_job
from airflow_sfn_etl.asl.fragments.empty import empty
from airflow_sfn_etl.asl.fragments.glue import glue_job
from airflow_sfn_etl.asl.fragments.glue_crawler import CRAWLER_RUNNING, glue_crawler, glue_crawler_sensor
from airflow_sfn_etl.asl.fragments.registry import (
    FragmentFn,
    class_path,
    fragment_for,
    lookup,
    register,
    supported,
    unregister,
)
from airflow_sfn_etl.asl.fragments.sns import sns_publish

__all__ = [
    "CRAWLER_RUNNING",
    "FragmentFn",
    "athena_query",
    "class_path",
    "databrew_job",
    "empty",
    "fragment_for",
    "glue_crawler",
    "glue_crawler_sensor",
    "glue_job",
    "lookup",
    "register",
    "sns_publish",
    "supported",
    "unregister",
]
