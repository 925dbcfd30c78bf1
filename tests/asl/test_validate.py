"""Validator: one failing example per rule, and the hand-written references pass."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from airflow_sfn_etl.asl import AslValidationError, validate, validate_or_raise

FIXTURES = Path(__file__).parent / "fixtures"


def _load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def _base() -> dict[str, Any]:
    return {
        "StartAt": "Job",
        "States": {
            "Job": {
                "Type": "Task",
                "Resource": "arn:aws:states:::glue:startJobRun.sync",
                "Parameters": {"JobName.$": "$.job"},
                "ResultPath": None,
                "Retry": [
                    {
                        "ErrorEquals": ["States.ALL"],
                        "IntervalSeconds": 1,
                        "MaxAttempts": 2,
                        "BackoffRate": 2.0,
                    }
                ],
                "Next": "Check",
            },
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Done"}],
                "Default": "Pause",
            },
            "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Job"},
            "Done": {"Type": "Succeed"},
        },
    }


def test_reference_crawler_state_machine_passes() -> None:
    assert validate(_load("reference_crawler_job.json")) == []


def test_reference_sales_state_machine_passes() -> None:
    assert validate(_load("reference_sales_marketing.json")) == []


def test_base_example_passes() -> None:
    assert validate(_base()) == []
    validate_or_raise(_base())


def _errors(mutate: Any) -> list[str]:
    doc = copy.deepcopy(_base())
    mutate(doc)
    return validate(doc)


CASES = {
    "start_at_missing": (lambda d: d.update(StartAt="Nope"), "Top level: StartAt 'Nope' is not a state"),
    "next_missing": (
        lambda d: d["States"]["Pause"].update(Next="Gone"),
        "State 'Pause': Next 'Gone' is not a state",
    ),
    "default_missing": (
        lambda d: d["States"]["Check"].update(Default="Gone"),
        "State 'Check': Default 'Gone' is not a state",
    ),
    "choice_next_missing": (
        lambda d: d["States"]["Check"]["Choices"][0].update(Next="Gone"),
        "State 'Check': Choices[0].Next 'Gone' is not a state",
    ),
    "unreachable": (
        lambda d: d["States"].update(Orphan={"Type": "Succeed"}),
        "State 'Orphan' (Top level): unreachable from StartAt 'Job'",
    ),
    "dead_loop": (
        lambda d: d["States"]["Check"]["Choices"][0].update(Next="Pause"),
        "no path from it reaches a terminal state",
    ),
    "next_and_end": (
        lambda d: d["States"]["Pause"].update(End=True),
        "State 'Pause': a Wait state needs exactly one of 'Next' or 'End': true.",
    ),
    "choice_two_operators": (
        lambda d: d["States"]["Check"]["Choices"][0].update(StringEquals="x"),
        "exactly one comparison operator or And/Or/Not (found BooleanEquals, StringEquals)",
    ),
    "choice_no_variable": (
        lambda d: d["States"]["Check"]["Choices"][0].pop("Variable"),
        "the BooleanEquals comparison needs 'Variable'",
    ),
    "choice_wrong_value_type": (
        lambda d: d["States"]["Check"]["Choices"][0].update(BooleanEquals="yes"),
        "BooleanEquals needs a boolean value",
    ),
    "choice_nested_next": (
        lambda d: d["States"]["Check"]["Choices"].__setitem__(
            0, {"And": [{"Variable": "$.a", "IsPresent": True, "Next": "Done"}], "Next": "Done"}
        ),
        "Choices[0].And[0]: a nested rule (inside And/Or/Not) cannot have 'Next'",
    ),
    "choice_empty_and": (
        lambda d: d["States"]["Check"]["Choices"].__setitem__(0, {"And": [], "Next": "Done"}),
        "And must hold a non-empty list of rules",
    ),
    "choice_not_object": (
        lambda d: d["States"]["Check"]["Choices"].__setitem__(0, {"Not": [1], "Next": "Done"}),
        "Not must hold one rule object",
    ),
    "retry_empty_errors": (
        lambda d: d["States"]["Job"]["Retry"][0].update(ErrorEquals=[]),
        "Retry[0]: ErrorEquals must be a non-empty list",
    ),
    "retry_all_not_alone": (
        lambda d: d["States"]["Job"]["Retry"][0].update(ErrorEquals=["States.ALL", "X"]),
        "States.ALL must appear alone",
    ),
    "retry_all_not_last": (
        lambda d: d["States"]["Job"]["Retry"].append({"ErrorEquals": ["X"]}),
        "Retry[0]: the States.ALL entry must be the last Retry entry",
    ),
    "retry_negative_attempts": (
        lambda d: d["States"]["Job"]["Retry"][0].update(MaxAttempts=-1),
        "MaxAttempts must be an integer >= 0",
    ),
    "retry_backoff_below_one": (
        lambda d: d["States"]["Job"]["Retry"][0].update(BackoffRate=0.5),
        "BackoffRate must be a number >= 1.0",
    ),
    "catch_next_missing": (
        lambda d: d["States"]["Job"].update(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Gone"}]),
        "State 'Job': Catch[0].Next 'Gone' is not a state",
    ),
    "unknown_resource": (
        lambda d: d["States"]["Job"].update(Resource="arn:aws:states:::glue:startJobRunX"),
        "Resource 'arn:aws:states:::glue:startJobRunX' is not a known service integration",
    ),
    "bad_result_path": (
        lambda d: d["States"]["Job"].update(ResultPath="$..x"),
        "State 'Job': ResultPath '$..x' invalid reference path syntax",
    ),
    "bad_dollar_key": (
        lambda d: d["States"]["Job"]["Parameters"].update({"JobName.$": "job"}),
        "State 'Job': Parameters.JobName.$ = 'job': must start with '$'",
    ),
    "bad_intrinsic": (
        lambda d: d["States"]["Job"]["Parameters"].update({"JobName.$": "States.Format('{}-{}', $.a)"}),
        "States.Format: the template has 2 '{}' placeholder(s) but 1 argument(s) follow",
    ),
    "unknown_intrinsic": (
        lambda d: d["States"]["Job"]["Parameters"].update({"JobName.$": "States.Nope($.a)"}),
        "unknown intrinsic function States.Nope",
    ),
    "wait_two_fields": (
        lambda d: d["States"]["Pause"].update(SecondsPath="$.s"),
        "needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath (found Seconds, SecondsPath)",
    ),
    "wait_no_field": (lambda d: d["States"]["Pause"].pop("Seconds"), "(found none)"),
    "unknown_type": (
        lambda d: d["States"]["Pause"].update(Type="Sleep"),
        "State 'Pause': Type 'Sleep' is not one of",
    ),
    "fail_cause_and_path": (
        lambda d: d["States"].update(Done={"Type": "Fail", "Cause": "x", "CausePath": "$.c"}),
        "a Fail state takes Cause or CausePath, not both",
    ),
    "succeed_with_next": (
        lambda d: d["States"]["Done"].update(Next="Job"),
        "State 'Done': a Succeed state cannot have 'Next' or 'End'",
    ),
    "long_name": (lambda d: d["States"].update({"x" * 81: {"Type": "Succeed"}}), "longer than 80 characters"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_rule_reports_the_state_and_fix(case: str) -> None:
    mutate, expected = CASES[case]
    errors = _errors(mutate)
    assert any(expected in e for e in errors), errors


def test_parallel_branches_are_validated_recursively() -> None:
    doc = _load("reference_sales_marketing.json")
    branch = doc["States"]["Refresh Sales Marketing Data"]["Branches"][1]
    branch["States"]["Drop Old Marketing Table"]["Next"] = "Nowhere"
    errors = validate(doc)
    assert any("State 'Drop Old Marketing Table': Next 'Nowhere' is not a state" in e for e in errors), errors
    assert any(
        "unreachable" in e and "branch 1 of Parallel 'Refresh Sales Marketing Data'" in e for e in errors
    )


def test_branch_cannot_jump_out() -> None:
    doc = _load("reference_sales_marketing.json")
    branch = doc["States"]["Refresh Sales Marketing Data"]["Branches"][0]
    branch["States"]["Load Sales Table Partitions"].pop("End")
    branch["States"]["Load Sales Table Partitions"]["Next"] = "Notify Users"
    assert any("Next 'Notify Users' is not a state in this scope" in e for e in validate(doc))


def test_duplicate_names_across_branches() -> None:
    doc = _load("reference_sales_marketing.json")
    branch = doc["States"]["Refresh Sales Marketing Data"]["Branches"][0]
    branch["States"]["Notify Users"] = {"Type": "Succeed"}
    assert any("State 'Notify Users': the name is also used in" in e for e in validate(doc))


def test_validate_or_raise_lists_every_problem() -> None:
    doc = _base()
    doc["States"]["Pause"]["Next"] = "Gone"
    doc["States"]["Job"]["Retry"][0]["MaxAttempts"] = -1
    with pytest.raises(AslValidationError) as info:
        validate_or_raise(doc)
    assert len(info.value.errors) >= 2
    assert "Next 'Gone'" in str(info.value) and "MaxAttempts" in str(info.value)


def test_placeholder_lambda_arns_are_tolerated_but_garbage_is_not() -> None:
    doc = _load("reference_crawler_job.json")
    doc["States"]["Add Count"]["Resource"] = "arn:aws:lambda:${AWS::Region}:<account>:function:x"
    assert validate(doc) == []
    doc["States"]["Add Count"]["Resource"] = "lambda-function-x"
    assert any("State 'Add Count': Resource" in e for e in validate(doc))
