"""The sandbox's patches to moto (``airflow_sfn_etl_sandbox.moto_patches``), one test per patch.

The probes (``moto_probes.py``) run in a fresh process, with moto in-process (``mock_aws``):
first against moto as it is, after importing the whole sandbox (which must patch nothing), then
with the patches applied. It checks that unpatched moto still behaves as the
patch's docstring says, so that a moto upgrade which fixes (or changes) it fails here and the
patch is looked at again, and that the patched behaviour is the one AWS documents.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_sfn_etl_sandbox import moto_patches

PROBES = Path(__file__).with_name("moto_probes.py")
ALL_PATCHES = ["task_services", "aws_sdk_error_names", "aborted_stays_aborted", "aborted_state_events",
               "json_safe_output",
               "intrinsic_escapes", "intrinsic_json_strings", "reraised_states_errors", "jsonata_evaluator",
               "heartbeat_timeout", "distributed_map_thresholds"]
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")


@pytest.fixture(scope="module")
def probes() -> dict[str, Any]:
    """Every probe's results, from one fresh process."""
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    done = subprocess.run([sys.executable, str(PROBES)], capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.fixture
def probe(probes: dict[str, Any]):  # type: ignore[no-untyped-def]
    """``probe(name)`` -> (unpatched, patched) results of the probe for patch ``name``."""

    def results(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
        assert probes["applied_at_import"] == [], "importing the sandbox must not patch moto"
        assert probes["applied"] == ALL_PATCHES
        unpatched, patched = probes["unpatched"][name], probes["patched"][name]
        assert "probe_error" not in unpatched, unpatched.get("probe_error")
        assert "probe_error" not in patched, patched.get("probe_error")
        return unpatched, patched

    return results


def output(described: dict[str, Any]) -> Any:
    assert described.get("status") == "SUCCEEDED", described
    return json.loads(described["output"])


def test_every_patch_module_is_listed_and_documented():
    package = Path(moto_patches.__file__).parent
    modules = sorted(p.stem for p in package.glob("*.py") if p.stem not in ("__init__", "support"))
    assert sorted(moto_patches.name_of(p) for p in moto_patches.PATCHES) == modules == sorted(ALL_PATCHES)
    for patch in moto_patches.PATCHES:
        doc = patch.__doc__ or ""
        for part in ("What moto (5.2.5)", "What the patch changes", "Upstream"):
            assert part in doc, f"{patch.__name__}: the docstring lacks {part!r}"


def test_the_running_sandbox_has_every_patch_once(sandbox):
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_factory
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_factory

    assert moto_patches.applied() == ALL_PATCHES
    factory = state_task_service_factory.state_task_service_for
    moto_patches.apply_all()  # again: nothing changes
    assert state_task_service_factory.state_task_service_for is factory
    assert state_task_factory.state_task_service_for is factory
    original = factory.__sandbox_original__
    assert original.__module__ == state_task_service_factory.__name__ and not hasattr(original, "__sandbox_original__")


def test_task_services(probe):
    unpatched, patched = probe("task_services")
    assert unpatched["classes"] == {"glue": "StateTaskServiceGlue", "athena": "StateTaskServiceUnsupported",
                                    "databrew": "StateTaskServiceUnsupported", "aws-sdk": "StateTaskServiceAwsSdk",
                                    "lambda": "StateTaskServiceLambda"}
    assert set(output(unpatched["lambda_invoke"])) == {"Payload", "StatusCode"}  # moto's Docker-free Lambda
    assert unpatched["glue_sync"]["status"] == "FAILED"
    assert "'NoneType' object has no attribute 'interrupt_all'" in unpatched["glue_sync"]["cause"]
    assert unpatched["athena_sync"]["status"] == "FAILED"
    assert "Unsupported sync callback procedure" in unpatched["athena_sync"]["cause"]
    assert unpatched["get_crawler"]["status"] == "FAILED"
    assert "datetime is not JSON serializable" in unpatched["get_crawler"]["cause"]

    assert patched["classes"] == {"glue": "SandboxGlueService", "athena": "SandboxAthenaService",
                                  "databrew": "SandboxDataBrewService", "aws-sdk": "SandboxAwsSdkService",
                                  "lambda": "SandboxLambdaService"}
    invoked = output(patched["lambda_invoke"])  # + the SDK metadata AWS documents (ExecutedVersion: the sandbox's)
    assert set(invoked) == {"Payload", "SdkHttpMetadata", "SdkResponseMetadata", "StatusCode"}
    assert invoked["SdkHttpMetadata"]["HttpStatusCode"] == invoked["StatusCode"] == 200
    assert invoked["SdkResponseMetadata"]["RequestId"]
    assert invoked["SdkHttpMetadata"]["AllHttpHeaders"] == {
        k: [v] for k, v in invoked["SdkHttpMetadata"]["HttpHeaders"].items()}
    job_run = output(patched["glue_sync"])  # .sync answers the job run, timestamps in epoch milliseconds
    assert job_run["JobName"] == "probe-job" and job_run["JobRunState"] == "SUCCEEDED"
    assert isinstance(job_run["StartedOn"], int)
    query = output(patched["athena_sync"])["QueryExecution"]
    assert query["Query"] == "SELECT 1" and query["Status"]["State"] == "SUCCEEDED"
    crawler = json.loads(output(patched["get_crawler"])["text"])  # aws-sdk results: ISO-8601 timestamps
    assert crawler["Name"] == "probe-crawler" and ISO_UTC.match(crawler["CreationTime"])


def test_aws_sdk_error_names(probe):
    unpatched, patched = probe("aws_sdk_error_names")
    assert unpatched["missing_crawler"]["status"] == "FAILED"
    assert unpatched["missing_crawler"]["error"] == "glue.EntityNotFoundException"
    assert patched["missing_crawler"]["status"] == "FAILED"
    assert patched["missing_crawler"]["error"] == "Glue.EntityNotFoundException"


def test_aborted_stays_aborted(probe):
    unpatched, patched = probe("aborted_stays_aborted")
    assert unpatched == {"error_after_stop": "ProgramError", "error_while_running": "ProgramError"}
    assert patched == {"error_after_stop": "ProgramStopped", "error_while_running": "ProgramError"}


def test_aborted_state_events(probe):
    unpatched, patched = probe("aborted_state_events")
    assert [e["type"] for e in unpatched["stopped"]] == ["ExecutionStarted", "WaitStateEntered", "ExecutionAborted"]
    assert [e["type"] for e in unpatched["timed_out"]] == ["ExecutionStarted", "WaitStateEntered",
                                                           "ExecutionTimedOut"]
    assert unpatched["timed_out"][-1]["executionTimedOutEventDetails"] == {}
    # AWS: the running state's <Type>StateAborted (no details), then the execution's event.
    assert [e["type"] for e in patched["stopped"]] == ["ExecutionStarted", "WaitStateEntered", "WaitStateAborted",
                                                       "ExecutionAborted"]
    assert patched["stopped"][2] == {"type": "WaitStateAborted"}
    assert [e["type"] for e in patched["timed_out"]] == ["ExecutionStarted", "WaitStateEntered", "WaitStateAborted",
                                                         "ExecutionTimedOut"]
    assert patched["timed_out"][-1]["executionTimedOutEventDetails"]["error"] == "States.Timeout"


def test_json_safe_output(probe):
    unpatched, patched = probe("json_safe_output")
    assert "datetime is not JSON serializable" in unpatched["start_time"]["describe_error"]
    started = output(patched["start_time"])["started"]
    start_date = datetime.datetime.fromisoformat(patched["start_time"]["startDate"])
    assert started == start_date.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    # A string result is the JSON text "abc" (quotes included) on AWS; moto answers it bare.
    assert unpatched["string"]["output"] == "abc"
    assert patched["string"]["output"] == '"abc"'


def test_intrinsic_escapes(probe):
    unpatched, patched = probe("intrinsic_escapes")
    assert unpatched["braces"]["status"] == "FAILED" and unpatched["braces"]["error"] == "States.Runtime"
    assert "Single '}' encountered in format string" in unpatched["braces"]["cause"]
    assert output(patched["braces"])["text"] == "{ok}"


def test_intrinsic_json_strings(probe):
    unpatched, patched = probe("intrinsic_json_strings")
    # moto reads the JSON escape \\' as an escaped backslash, so the literal ends at the quote.
    assert output(unpatched["quote"])["text"] == "it\\\\"
    assert output(unpatched["query"])["text"] == "SELECT \\\\"
    assert output(patched["quote"])["text"] == "it's ok"
    assert output(patched["query"])["text"] == "SELECT 'it' AS v\nFROM sales.t {x}"


def test_reraised_states_errors(probe):
    unpatched, patched = probe("reraised_states_errors")
    for kind in ("parallel", "map"):
        assert unpatched[kind]["status"] == "FAILED" and unpatched[kind]["error"] == "States.Runtime"
        assert "Custom Error Names MUST NOT begin with the prefix 'States.'" in unpatched[kind]["cause"]
        assert output(patched[kind])["caught"]["Error"] == "States.Timeout"


def test_jsonata_evaluator(probe):
    unpatched, patched = probe("jsonata_evaluator")
    for kind in ("sum", "variable"):
        assert unpatched[kind]["status"] == "FAILED" and unpatched[kind]["error"] == "States.Runtime"
        assert "'NoneType' object is not callable" in unpatched[kind]["cause"]
    assert output(patched["sum"]) == 3
    assert output(patched["variable"]) == {"got": 'C:\\temp\\new "x"'}
    # SHA-256("abc"): the FIPS 180-2 test vector.
    assert output(patched["hash"]) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert patched["error"]["status"] == "FAILED"
    assert patched["error"]["error"] == "States.QueryEvaluationError"
    assert "$states.input.x + 'a'" in patched["error"]["cause"]


def test_heartbeat_timeout(probe):
    unpatched, patched = probe("heartbeat_timeout")
    assert unpatched["missed"]["status"] == "FAILED" and unpatched["missed"]["error"] == "States.Timeout"
    # AWS: a missed heartbeat is States.HeartbeatTimeout, which a catcher on States.Timeout also matches.
    assert patched["missed"]["status"] == "FAILED" and patched["missed"]["error"] == "States.HeartbeatTimeout"
    assert output(patched["caught_as_timeout"])["Error"] == "States.HeartbeatTimeout"


def test_distributed_map_thresholds(probe):
    unpatched, patched = probe("distributed_map_thresholds")
    # moto: the failed item is a null and the Map succeeds; an integer percentage does not parse.
    assert output(unpatched["default"]) == [1, None, 3]
    assert "ASLParserException" in unpatched["integer_percentage"]
    # AWS: no failure tolerated by default; one failure within ToleratedFailureCount 1 is tolerated.
    assert patched["default"]["status"] == "FAILED"
    assert patched["default"]["error"] == "States.ExceedToleratedFailureThreshold"
    assert "1 of 3 items failed" in patched["default"]["cause"]
    assert patched["tolerated"]["status"] == "SUCCEEDED"
    assert patched["integer_percentage"] == "created"
