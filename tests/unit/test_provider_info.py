"""get_provider_info lists exactly the operators, sensors, triggers and links the package has."""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import sys
from pathlib import Path

from airflow.providers.common.compat.sdk import BaseOperator, BaseOperatorLink, BaseSensorOperator
from airflow.triggers.base import BaseTrigger

import airflow_sfn_etl
from airflow_sfn_etl.get_provider_info import get_provider_info

PACKAGE = Path(airflow_sfn_etl.__file__).parent
ROLES = {"operators": BaseOperator, "sensors": BaseSensorOperator, "triggers": BaseTrigger}
HELPER_MODULES = {"__init__", "base"}
#: Modules kept for existing imports: they re-export classes that listed modules define.
REEXPORT_MODULES = {"operators": {"step_function"}}


def listed_modules(role: str) -> list[str]:
    return [module for item in get_provider_info()[role] for module in item["python-modules"]]


def public_classes(module_name: str, base: type) -> set[str]:
    module = importlib.import_module(module_name)
    return {
        name
        for name, obj in vars(module).items()
        if inspect.isclass(obj)
        and obj.__module__ == module_name
        and issubclass(obj, base)
        and not name.startswith("_")
    }


def test_metadata_fields():
    info = get_provider_info()
    assert info["package-name"] == "airflow-sfn-etl"
    assert info["name"] and info["description"] and info["versions"] == ["0.1.0"]
    names = {item["integration-name"] for item in info["integrations"]}
    for role in ROLES:
        assert {item["integration-name"] for item in info[role]} <= names


def test_every_role_module_is_listed_and_importable():
    for role, base in ROLES.items():
        on_disk = {
            f"airflow_sfn_etl.{role}.{path.stem}"
            for path in (PACKAGE / role).glob("*.py")
            if path.stem not in HELPER_MODULES | REEXPORT_MODULES.get(role, set())
        }
        assert set(listed_modules(role)) == on_disk, role
        for module in on_disk:
            assert public_classes(module, base), f"{module} defines no {base.__name__}"


def test_reexport_modules_reexport_only_classes_of_listed_modules():
    for role, stems in REEXPORT_MODULES.items():
        listed = set(listed_modules(role))
        for stem in stems:
            module_name = f"airflow_sfn_etl.{role}.{stem}"
            assert module_name not in listed
            module = importlib.import_module(module_name)
            classes = [
                obj
                for name, obj in vars(module).items()
                if inspect.isclass(obj) and issubclass(obj, ROLES[role]) and not name.startswith("_")
            ]
            assert classes, f"{module_name} re-exports no {ROLES[role].__name__}"
            assert {cls.__module__ for cls in classes} <= listed, module_name
            assert not public_classes(module_name, ROLES[role]), f"{module_name} defines classes itself"


def test_expected_classes_exist():
    expected = {
        "operators": {
            "GlueCrawlerOperator",
            "GlueJobOperator",
            "DataBrewStartJobOperator",
            "AthenaQueryOperator",
            "SnsPublishOperator",
            "StepFunctionDeployOperator",
            "StepFunctionRunOperator",
        },
        "sensors": {
            "GlueCrawlerSensor",
            "GlueJobSensor",
            "DataBrewJobSensor",
            "AthenaQuerySensor",
            "SnsMessageSensor",
            "StepFunctionExecutionSensor",
        },
        "triggers": {
            "GlueCrawlerTrigger",
            "GlueJobTrigger",
            "DataBrewJobTrigger",
            "AthenaQueryTrigger",
            "SnsMessageTrigger",
            "StepFunctionExecutionTrigger",
        },
    }
    for role, names in expected.items():
        found = set().union(*(public_classes(m, ROLES[role]) for m in listed_modules(role)))
        if role == "operators":
            found -= set().union(*(public_classes(m, BaseSensorOperator) for m in listed_modules(role)))
        assert found == names, role


def test_extra_links_are_importable_and_used():
    links = get_provider_info()["extra-links"]
    classes = []
    for path in links:
        module, _, name = path.rpartition(".")
        cls = getattr(importlib.import_module(module), name)
        assert issubclass(cls, BaseOperatorLink)
        classes.append(cls)
    on_disk = set()
    for path in (PACKAGE / "links").glob("*.py"):
        if path.stem != "__init__":
            on_disk |= {
                f"airflow_sfn_etl.links.{path.stem}.{n}"
                for n in public_classes(f"airflow_sfn_etl.links.{path.stem}", BaseOperatorLink)
            }
    assert set(links) == on_disk
    used = set()
    for module in listed_modules("operators"):
        for name in public_classes(module, BaseOperator):
            cls = getattr(importlib.import_module(module), name)
            used |= {type(link) for link in getattr(cls, "operator_extra_links", ())}
    assert set(classes) == used


def test_link_formats():
    from airflow_sfn_etl.links.step_function import StateMachineExecutionLink

    url = StateMachineExecutionLink().format_link(
        aws_domain="aws.amazon.com",
        region_name="us-east-1",
        execution_arn="arn:aws:states:us-east-1:123456789012:execution:etl:e1",
    )
    assert url == (
        "https://console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/"
        "arn%3Aaws%3Astates%3Aus-east-1%3A123456789012%3Aexecution%3Aetl%3Ae1"
    )


def test_airflow_providers_list_shows_package(tmp_path):
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path)}
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
    airflow = Path(sys.executable).parent / "airflow"
    result = subprocess.run(
        [str(airflow), "providers", "list", "--output", "plain"],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    line = next(line for line in result.stdout.splitlines() if "airflow-sfn-etl" in line)
    assert "0.1.0" in line


def test_constructor_arguments_are_keyword_only_with_agreed_names_and_defaults():
    from airflow_sfn_etl.operators.athena import AthenaQueryOperator
    from airflow_sfn_etl.operators.databrew import DataBrewStartJobOperator
    from airflow_sfn_etl.operators.glue import GlueJobOperator
    from airflow_sfn_etl.operators.glue_crawler import GlueCrawlerOperator
    from airflow_sfn_etl.operators.sns import SnsPublishOperator
    from airflow_sfn_etl.operators.step_function import StepFunctionDeployOperator, StepFunctionRunOperator
    from airflow_sfn_etl.sensors.athena import AthenaQuerySensor
    from airflow_sfn_etl.sensors.databrew import DataBrewJobSensor
    from airflow_sfn_etl.sensors.glue import GlueJobSensor
    from airflow_sfn_etl.sensors.glue_crawler import GlueCrawlerSensor
    from airflow_sfn_etl.sensors.sns import SnsMessageSensor
    from airflow_sfn_etl.sensors.step_function import StepFunctionExecutionSensor

    required = object()
    agreed = {
        GlueCrawlerOperator: {
            "crawler_name": required,
            "wait_for_completion": True,
            "poll_interval": 5,
            "max_polls": None,
            "deferrable": False,
        },
        GlueJobOperator: {
            "job_name": required,
            "script_args": None,
            "wait_for_completion": True,
            "poll_interval": 5,
            "verbose": False,
            "deferrable": False,
        },
        DataBrewStartJobOperator: {
            "job_name": required,
            "wait_for_completion": True,
            "poll_interval": 5,
            "deferrable": False,
        },
        AthenaQueryOperator: {
            "query": required,
            "database": None,
            "catalog": "AwsDataCatalog",
            "workgroup": "primary",
            "output_location": None,
            "result_to_xcom": False,
            "max_result_rows": 100,
            "poll_interval": 3,
            "deferrable": False,
        },
        SnsPublishOperator: {
            "target": required,
            "message": required,
            "subject": None,
            "message_attributes": None,
        },
        StepFunctionDeployOperator: {
            "state_machine_name": required,
            "definition": None,
            "source_dag_file": None,
            "source_dag_id": None,
            "role_arn": None,
            "create_role": False,
            "role_name": None,
            "policy_params": None,
            "logging_configuration": None,
            "publish_version": False,
            "state_machine_type": "STANDARD",
        },
        StepFunctionRunOperator: {
            "state_machine_arn": required,
            "input": None,
            "execution_name": None,
            "wait_for_completion": True,
            "poll_interval": 5,
            "max_poll_interval": 60,
            "deferrable": False,
        },
        GlueCrawlerSensor: {"crawler_name": required, "wait_time": None},
        GlueJobSensor: {"job_name": required, "run_id": required},
        DataBrewJobSensor: {"job_name": required, "run_id": required},
        AthenaQuerySensor: {"query_execution_id": required},
        SnsMessageSensor: {"queue_url": required, "message_filter": None},
        StepFunctionExecutionSensor: {"execution_arn": required},
    }
    for cls, params in agreed.items():
        signature = inspect.signature(cls.__init__)
        for name, default in params.items():
            parameter = signature.parameters[name]
            assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, (cls.__name__, name)
            expected = inspect.Parameter.empty if default is required else default
            assert parameter.default == expected, (cls.__name__, name)
