"""Probes of moto's Step Functions interpreter, run in a fresh process by ``test_moto_patches.py``.

``python moto_probes.py [patch ...]`` imports every module of the sandbox (which must leave moto
as it is), runs the probe named after each patch (all by default) against moto as it is, applies
the sandbox's patches (twice: applying is idempotent), runs the probes again, and prints
``{"applied_at_import": [...], "applied": [...], "unpatched": {patch: ...}, "patched": {patch: ...}}``
as JSON on its last line; a probe that raised gives ``{"probe_error": traceback}``. The probes run
moto in-process (``mock_aws``, Step Functions executions on); no sandbox server is started.
"""

from __future__ import annotations

import datetime
import importlib
import json
import logging
import pkgutil
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any

import boto3
from moto import mock_aws

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/probe"
_SFN = "moto.stepfunctions.parser"


def import_whole_sandbox() -> list[str]:
    """Import every module of the sandbox package; returns their names.

    ``glue_spark.lib`` is left out: it is the ``awsglue`` library that runs inside a Glue Spark job's
    driver process (where it is imported as ``awsglue``), not a module of the sandbox's own process.
    """
    import airflow_sfn_etl_sandbox as package

    job_side = package.__name__ + ".glue_spark.lib"
    names = [info.name for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
             if not info.name.startswith(job_side)]
    for name in names:
        importlib.import_module(name)
    return names


def execute(definition: dict[str, Any], payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run a state machine to its end; DescribeExecution's answer (JSON-safe) or ``describe_error``."""
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = sfn.create_state_machine(name=f"probe-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition),
                                   roleArn=ROLE)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(payload or {}))["executionArn"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            described = sfn.describe_execution(executionArn=execution)
        except Exception as exc:  # what a client sees when moto cannot answer
            return {"describe_error": f"{type(exc).__name__}: {exc}"}
        if described["status"] != "RUNNING":
            return {key: (value.isoformat() if isinstance(value, datetime.datetime) else value)
                    for key, value in described.items() if key != "ResponseMetadata"}
        time.sleep(0.05)
    return {"status": "RUNNING"}


def _task(resource: str, parameters: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "Parameters": parameters,
                                             "End": True, **extra}}}


def task_services() -> dict[str, Any]:
    factory = importlib.import_module(f"{_SFN}.asl.component.state.exec.state_task.service.state_task_service_factory")
    classes = {name: type(factory.state_task_service_for(name)).__name__
               for name in ("glue", "athena", "databrew", "aws-sdk", "lambda")}
    glue = boto3.client("glue", region_name=REGION)
    glue.create_job(Name="probe-job", Role=ROLE,
                    Command={"Name": "pythonshell", "ScriptLocation": "s3://probe/job.py"})
    glue.create_crawler(Name="probe-crawler", Role=ROLE, DatabaseName="probe",
                        Targets={"S3Targets": [{"Path": "s3://probe/in/"}]})
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="probe-results")
    glue_sync = execute(_task("arn:aws:states:::glue:startJobRun.sync", {"JobName": "probe-job"}))
    athena_sync = execute(_task("arn:aws:states:::athena:startQueryExecution.sync", {
        "QueryString": "SELECT 1", "ResultConfiguration": {"OutputLocation": "s3://probe-results/"}}))
    get_crawler = execute({"StartAt": "Get", "States": {
        "Get": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:getCrawler",
                "Parameters": {"Name": "probe-crawler"}, "Next": "AsText"},
        "AsText": {"Type": "Pass", "Parameters": {"text.$": "States.JsonToString($.Crawler)"}, "End": True}}})
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="probe-lambda", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]["Arn"]
    boto3.client("lambda", region_name=REGION).create_function(  # moto's Docker-free Lambda (see _run)
        FunctionName="probe-fn", Runtime="python3.11", Role=role, Handler="app.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18})
    lambda_invoke = execute(_task("arn:aws:states:::lambda:invoke", {"FunctionName": "probe-fn"}))
    return {"classes": classes, "glue_sync": glue_sync, "athena_sync": athena_sync, "get_crawler": get_crawler,
            "lambda_invoke": lambda_invoke}


def aws_sdk_error_names() -> dict[str, Any]:
    return {"missing_crawler": execute(_task("arn:aws:states:::aws-sdk:glue:getCrawler", {"Name": "no-such-crawler"}))}


def aborted_stays_aborted() -> dict[str, Any]:
    environment = importlib.import_module(f"{_SFN}.asl.eval.environment")
    events = importlib.import_module(f"{_SFN}.asl.eval.event.event_manager")
    api = importlib.import_module(f"{_SFN}.api")
    context = {"Execution": {"Id": "arn:probe", "Input": {}, "Name": "probe", "RoleArn": ROLE,
                             "StartTime": "2026-01-01T00:00:00.000Z"},
               "StateMachine": {"Id": "arn:probe-machine", "Name": "probe-machine"}}

    def program_state_after(stop_first: bool) -> str:
        env = environment.Environment(
            aws_execution_details=None, execution_type="STANDARD", context=context,
            event_history_context=events.EventHistoryContext.of_program_start(),
            cloud_watch_logging_session=None, activity_store={})
        env.next_state_name = "Work"  # the program is running
        if stop_first:
            env.set_stop(stop_date=datetime.datetime.now(datetime.timezone.utc), cause="manual", error="Operator")
        env.set_error(api.ExecutionFailedEventDetails(error="States.TaskFailed", cause="the run was stopped"))
        return type(env.program_state()).__name__

    return {"error_after_stop": program_state_after(True), "error_while_running": program_state_after(False)}


def json_safe_output() -> dict[str, Any]:
    return {"start_time": execute({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Parameters": {"started.$": "$$.Execution.StartTime"}, "End": True}}}),
        "string": execute({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "abc", "End": True}}})}


def _format(template: str, *paths: str, payload: dict[str, Any]) -> dict[str, Any]:
    expression = f"States.Format('{template}', {', '.join(paths)})"
    return execute({"StartAt": "F", "States": {"F": {"Type": "Pass", "Parameters": {"text.$": expression},
                                                     "End": True}}}, payload)


def intrinsic_escapes() -> dict[str, Any]:
    # The ASL literal \{{}\}: an escaped brace, a placeholder, an escaped brace.
    return {"braces": _format("\\{{}\\}", "$.x", payload={"x": "ok"})}


def intrinsic_json_strings() -> dict[str, Any]:
    # In the ASL JSON text: 'it\\'s {}' and 'SELECT \\'{}\\' AS v\\nFROM {}.t \\{x\\}'.
    return {"quote": _format("it\\'s {}", "$.x", payload={"x": "ok"}),
            "query": _format("SELECT \\'{}\\' AS v\\nFROM {}.t \\{x\\}", "$.value", "$.db",
                             payload={"value": "it", "db": "sales"})}


def reraised_states_errors() -> dict[str, Any]:
    queue = boto3.client("sqs", region_name=REGION).create_queue(QueueName="probe")["QueueUrl"]
    waits = {"StartAt": "Wait", "States": {"Wait": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "TimeoutSeconds": 1,
        "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token"}}, "End": True}}}
    catch = [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.caught", "Next": "Caught"}]
    caught = {"Type": "Pass", "End": True}
    parallel = execute({"StartAt": "Both", "States": {
        "Both": {"Type": "Parallel", "Branches": [waits], "Catch": catch, "End": True}, "Caught": caught}})
    mapped = execute({"StartAt": "Each", "States": {
        "Each": {"Type": "Map", "ItemsPath": "$.items", "Iterator": waits, "Catch": catch, "End": True},
        "Caught": caught}}, {"items": [1]})
    return {"parallel": parallel, "map": mapped}


def jsonata_evaluator() -> dict[str, Any]:
    def jsonata_pass(output: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        return execute({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
            "P": {"Type": "Pass", "Output": output, "End": True}}}, payload)

    variable = execute({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Assign": {"v.$": "$.path"}, "Next": "B"},
        "B": {"Type": "Pass", "Parameters": {"got.$": "$v"}, "End": True}}}, {"path": 'C:\\temp\\new "x"'})
    return {"sum": jsonata_pass("{% $states.input.x + 1 %}", {"x": 2}),
            "variable": variable,
            "hash": jsonata_pass("{% $hash('abc', 'SHA-256') %}"),
            "error": jsonata_pass("{% $states.input.x + 'a' %}", {"x": 2})}


def heartbeat_timeout() -> dict[str, Any]:
    queue = boto3.client("sqs", region_name=REGION).create_queue(QueueName="probe-heartbeat")["QueueUrl"]

    def waits(**extra: Any) -> dict[str, Any]:
        return {"StartAt": "Wait", "States": {"Wait": {
            "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "HeartbeatSeconds": 1,
            "TimeoutSeconds": 30, "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token"}},
            **extra}}}

    caught = waits(Catch=[{"ErrorEquals": ["States.Timeout"], "Next": "Caught"}], Next="Done")
    caught["States"].update({"Caught": {"Type": "Pass", "End": True}, "Done": {"Type": "Succeed"}})
    return {"missed": execute(waits(End=True)), "caught_as_timeout": execute(caught)}


def distributed_map_thresholds() -> dict[str, Any]:
    def distributed(**extra: Any) -> dict[str, Any]:
        return {"StartAt": "Each", "States": {"Each": {
            "Type": "Map", "ItemsPath": "$.items", "End": True, **extra, "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "Check",
                "States": {"Check": {"Type": "Choice", "Default": "Good",
                                     "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "Bad"}]},
                           "Bad": {"Type": "Fail", "Error": "Bad"}, "Good": {"Type": "Succeed"}}}}}}

    sfn = boto3.client("stepfunctions", region_name=REGION)
    try:
        sfn.create_state_machine(name="probe-percentage", definition=json.dumps(distributed(
            ToleratedFailurePercentage=50)), roleArn=ROLE)
        integer_percentage = "created"
    except Exception as exc:
        integer_percentage = f"{type(exc).__name__}: {exc}"
    return {"default": execute(distributed(), {"items": [1, 2, 3]}),
            "tolerated": execute(distributed(ToleratedFailureCount=1), {"items": [1, 2, 3]}),
            "integer_percentage": integer_percentage}


def _history_until(sfn: Any, execution: str, last: str) -> list[dict[str, Any]]:
    """The execution's events (type and details only) once ``last`` is recorded (or after 10 s)."""
    deadline = time.monotonic() + 10
    while True:
        events = sfn.get_execution_history(executionArn=execution)["events"]
        if (events and events[-1]["type"] == last) or time.monotonic() > deadline:
            return [{k: v for k, v in e.items() if k == "type" or k.endswith("EventDetails")} for e in events]
        time.sleep(0.05)


def aborted_state_events() -> dict[str, Any]:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    wait = {"StartAt": "Long", "States": {"Long": {"Type": "Wait", "Seconds": 30, "End": True}}}
    arn = sfn.create_state_machine(name=f"probe-{uuid.uuid4().hex[:8]}", definition=json.dumps(wait),
                                   roleArn=ROLE)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    while len(sfn.get_execution_history(executionArn=execution)["events"]) < 2:
        time.sleep(0.05)
    sfn.stop_execution(executionArn=execution, error="Operator", cause="manual")
    stopped = _history_until(sfn, execution, "ExecutionAborted")
    timed_out_arn = sfn.create_state_machine(name=f"probe-{uuid.uuid4().hex[:8]}", roleArn=ROLE,
                                             definition=json.dumps({**wait, "TimeoutSeconds": 1}))["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=timed_out_arn, input="{}")["executionArn"]
    return {"stopped": stopped, "timed_out": _history_until(sfn, execution, "ExecutionTimedOut")}


PROBES: dict[str, Callable[[], dict[str, Any]]] = {
    probe.__name__: probe for probe in (task_services, aws_sdk_error_names, aborted_stays_aborted,
                                        aborted_state_events, json_safe_output,
                                        intrinsic_escapes, intrinsic_json_strings, reraised_states_errors,
                                        jsonata_evaluator, heartbeat_timeout, distributed_map_thresholds)
}


def _run(names: list[str]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name in names:
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}):
            try:
                results[name] = PROBES[name]()
            except Exception:
                results[name] = {"probe_error": traceback.format_exc()}
    return results


def main(names: list[str]) -> None:
    logging.disable(logging.CRITICAL)  # moto logs each interpreter failure at length
    names = names or list(PROBES)
    import_whole_sandbox()
    from airflow_sfn_etl_sandbox import moto_patches

    out: dict[str, Any] = {"applied_at_import": moto_patches.applied()}
    out["unpatched"] = _run(names)
    moto_patches.apply_all()
    moto_patches.apply_all()
    out["applied"] = moto_patches.applied()
    out["patched"] = _run(names)
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
