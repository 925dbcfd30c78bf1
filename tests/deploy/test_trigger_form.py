"""The monthly refresh DAG's params render as a usable trigger form in the Airflow 3 UI.

The UI builds its form from the params the REST API serves (``GET /api/v2/dags/{id}/details``:
``{name: param.dump()}`` of the serialized DAG). These tests read the DAG the way the
dag-processor does (``DagBag``), round-trip it through serialization as stored in the
metadata DB, and check each field the form needs, with the UI's own rules: a field is
*required* when its schema ``type`` does not allow ``null``, and clearing a text field sends
``null``.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from .compose import ROOT

DAG_ID = "sales_marketing_refresh"
EXPECTED = {"transformed_bucket", "athena_query_bucket", "workgroup", "database", "topic", "sales_job",
            "marketing_job", "month"}


@pytest.fixture(scope="module")
def api_params() -> dict[str, dict[str, Any]]:
    """The params as the REST API's DAG details endpoint serves them."""
    from airflow.api_fastapi.core_api.datamodels.dags import DAGDetailsResponse
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.serialized_objects import DagSerialization

    bag = DagBag(dag_folder=ROOT / "dags")
    assert not bag.import_errors, bag.import_errors
    stored = json.loads(json.dumps(DagSerialization.to_dict(bag.dags[DAG_ID])))
    serialized = DagSerialization.from_dict(stored)
    params = DAGDetailsResponse.get_params(serialized.params)
    # What the UI receives is JSON.
    return json.loads(json.dumps(params))


def _ui_required(schema: dict[str, Any]) -> bool:
    """The UI's ``isRequired``: a typed field is required unless its type list includes ``null``."""
    kind = schema.get("type")
    return bool(kind) and not (isinstance(kind, list) and "null" in kind)


def test_every_param_reaches_the_form(api_params: dict[str, dict[str, Any]]) -> None:
    assert set(api_params) == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_param_has_title_description_type_default(api_params: dict[str, dict[str, Any]], name: str) -> None:
    param = api_params[name]
    schema = param["schema"]
    assert schema.get("title") and schema["title"] != name, "the form shows the title as the field label"
    assert param.get("description") and len(param["description"]) > 10
    assert schema.get("type") in ("string", "integer", "number", "boolean", "array", "object") \
        or isinstance(schema.get("type"), list)
    assert "value" in param and param["value"] is not None or not _ui_required(schema), \
        f"{name}: a required field without a default blocks the trigger button"
    assert schema.get("section"), "fields are grouped in sections in the form"
    # The default is valid under its own schema (the form opens without an error).
    jsonschema.validate(param["value"], schema)
    if "enum" in schema:
        assert param["value"] in schema["enum"]
        assert set(schema.get("values_display", {})) <= set(schema["enum"])


def test_defaults_come_from_the_deployment_settings(api_params: dict[str, dict[str, Any]]) -> None:
    from airflow_sfn_etl_flows.settings import SalesMarketingSettings

    defaults = SalesMarketingSettings().as_params()
    for name in EXPECTED - {"month"}:
        assert api_params[name]["value"] == defaults[name], name


def test_month_accepts_a_month_and_rejects_a_bad_one(api_params: dict[str, dict[str, Any]]) -> None:
    schema = api_params["month"]["schema"]
    jsonschema.validate("2016-12", schema)
    for bad in ("2016-13", "2016-1", "Dec 2016"):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


def test_identifier_fields_reject_sql_injection(api_params: dict[str, dict[str, Any]]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate("default; DROP TABLE x", api_params["database"]["schema"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate("Not_A_Bucket!", api_params["transformed_bucket"]["schema"])


def test_month_has_a_valid_default_so_the_form_triggers_as_is(api_params: dict[str, dict[str, Any]]) -> None:
    """The UI marks a string field required; a valid default keeps a routine refresh one click away."""
    schema = api_params["month"]["schema"]
    assert api_params["month"]["value"] == "latest"
    jsonschema.validate(api_params["month"]["value"], schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate("", schema)
