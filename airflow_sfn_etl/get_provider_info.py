"""Provider metadata read by Airflow's providers manager (``airflow providers list``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_SERVICES = {
    "glue_crawler": "AWS Glue Crawler",
    "glue": "AWS Glue Job",
    "databrew": "AWS Glue DataBrew",
    "athena": "Amazon Athena",
    "sns": "Amazon SNS",
    "step_function": "AWS Step Functions",
}


#: Services whose operators are split over several modules (one per operator).
_OPERATOR_MODULES = {"step_function": ("step_function_deploy", "step_function_run")}


def _modules(role: str, split: Mapping[str, tuple[str, ...]] | None = None) -> list[dict[str, Any]]:
    return [
        {
            "integration-name": name,
            "python-modules": [f"airflow_sfn_etl.{role}.{m}" for m in (split or {}).get(module, (module,))],
        }
        for module, name in _SERVICES.items()
    ]


def get_provider_info() -> dict[str, Any]:
    """Return the provider description in the format Airflow providers use."""
    return {
        "package-name": "airflow-sfn-etl",
        "name": "AWS ETL with Step Functions",
        "description": (
            "Deferrable operators and sensors for Glue crawlers, Glue jobs, Glue DataBrew, Athena and "
            "SNS, and operators that deploy and run the equivalent Step Functions state machine."
        ),
        "versions": ["0.1.0"],
        "integrations": [
            {"integration-name": name, "external-doc-url": "https://docs.aws.amazon.com/", "tags": ["aws"]}
            for name in _SERVICES.values()
        ],
        "operators": _modules("operators", _OPERATOR_MODULES),
        "sensors": _modules("sensors"),
        "triggers": _modules("triggers"),
        "extra-links": [
            "airflow_sfn_etl.links.glue.GlueCrawlerLink",
            "airflow_sfn_etl.links.glue.GlueJobRunLink",
            "airflow_sfn_etl.links.databrew.DataBrewJobLink",
            "airflow_sfn_etl.links.athena.AthenaQueryLink",
            "airflow_sfn_etl.links.step_function.StateMachineLink",
            "airflow_sfn_etl.links.step_function.StateMachineExecutionLink",
        ],
    }
