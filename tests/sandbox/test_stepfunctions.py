"""Step Functions executions on the sandbox: real runs of small state machines through boto3.

Each test deploys a state machine, starts it and checks what a user would check: the execution
status, its output, its error and cause, its history, and the effects on the other services.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

ROLE = "arn:aws:iam::123456789012:role/sandbox-sfn"
GLUE_ROLE = "arn:aws:iam::123456789012:role/sandbox-glue"
FINAL = {"SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"}
WORKSHOP = Path(__file__).resolve().parents[3] / "shared" / "data" / "workshop"


def _uid() -> str:
    return uuid.uuid4().hex[:10]


def deploy(aws: dict[str, Any], definition: dict[str, Any]) -> str:
    """Create a state machine with a unique name; returns its ARN."""
    return aws["stepfunctions"].create_state_machine(
        name=f"sm-{_uid()}", definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]


def start(aws: dict[str, Any], arn: str, payload: dict[str, Any] | None = None) -> str:
    return aws["stepfunctions"].start_execution(
        stateMachineArn=arn, name=f"run-{_uid()}", input=json.dumps(payload or {}))["executionArn"]


def wait_done(aws: dict[str, Any], execution_arn: str, timeout: float = 60.0) -> dict[str, Any]:
    """DescribeExecution once the execution has ended."""
    deadline = time.monotonic() + timeout
    while True:
        described = aws["stepfunctions"].describe_execution(executionArn=execution_arn)
        if described["status"] in FINAL:
            return described
        if time.monotonic() > deadline:
            raise AssertionError(f"execution still {described['status']} after {timeout}s")
        time.sleep(0.2)


def run(aws: dict[str, Any], definition: dict[str, Any], payload: dict[str, Any] | None = None,
        timeout: float = 60.0) -> dict[str, Any]:
    return wait_done(aws, start(aws, deploy(aws, definition), payload), timeout)


def history(aws: dict[str, Any], execution_arn: str) -> list[dict[str, Any]]:
    return aws["stepfunctions"].get_execution_history(executionArn=execution_arn)["events"]


def glue_job(aws: dict[str, Any], script: str) -> str:
    """A Glue Python shell job running ``script``; returns its name."""
    name = f"job-{_uid()}"
    key = f"scripts/{name}.py"
    aws["s3"].put_object(Bucket=aws["bucket"], Key=key, Body=script.encode())
    aws["glue"].create_job(Name=name, Role=GLUE_ROLE, MaxRetries=0,
                           Command={"Name": "pythonshell", "ScriptLocation": f"s3://{aws['bucket']}/{key}",
                                    "PythonVersion": "3.9"})
    return name


def sync_job_state(name: str, **extra: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync",
            "Parameters": {"JobName": name}, **extra}


def until(predicate: Any, timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


# --------------------------------------------------------------------------- request-response


def test_get_crawler_then_sns_publish_succeeds_with_json_output(aws: dict[str, Any]) -> None:
    crawler = f"crawler-{_uid()}"
    aws["glue"].create_crawler(Name=crawler, Role=GLUE_ROLE, DatabaseName="db",
                               Targets={"S3Targets": [{"Path": f"s3://{aws['bucket']}/in/"}]})
    topic = aws["sns"].create_topic(Name=f"topic-{_uid()}")["TopicArn"]
    queue = aws["sqs"].create_queue(QueueName=f"q-{_uid()}")["QueueUrl"]
    queue_arn = aws["sqs"].get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    aws["sns"].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn,
                         Attributes={"RawMessageDelivery": "true"})
    definition = {
        "StartAt": "Get Crawler",
        "States": {
            "Get Crawler": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:getCrawler",
                            "Parameters": {"Name.$": "$.crawler"}, "ResultPath": "$.crawler_info",
                            "Next": "Notify"},
            "Notify": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
                       "Parameters": {"TopicArn.$": "$.topic", "Message": {
                           "Input": "refreshed", "Crawler.$": "$.crawler_info.Crawler.Name",
                           "State.$": "$.crawler_info.Crawler.State"}},
                       "ResultPath": "$.published", "End": True},
        },
    }
    described = run(aws, definition, {"crawler": crawler, "topic": topic})

    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    info = output["crawler_info"]["Crawler"]
    assert info["Name"] == crawler and info["State"] == "READY"
    # Timestamps come back as ISO-8601 strings, as AWS SDK integrations give them.
    assert isinstance(info["CreationTime"], str) and info["CreationTime"].endswith("Z")
    assert output["published"]["MessageId"]
    messages = aws["sqs"].receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", [])
    assert [json.loads(m["Body"]) for m in messages] == [
        {"Input": "refreshed", "Crawler": crawler, "State": "READY"}]
    types = [e["type"] for e in history(aws, described["executionArn"])]
    assert types.count("TaskSucceeded") == 2 and types[-1] == "ExecutionSucceeded"


def test_execution_without_name_gets_a_generated_name(aws: dict[str, Any]) -> None:
    arn = deploy(aws, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    started = aws["stepfunctions"].start_execution(stateMachineArn=arn, input="{}")
    name = started["executionArn"].rsplit(":", 1)[1]

    assert name != "None" and str(uuid.UUID(name)) == name
    assert wait_done(aws, started["executionArn"])["name"] == name


def test_aws_sdk_error_is_retried_then_caught_by_its_aws_name(aws: dict[str, Any]) -> None:
    definition = {
        "StartAt": "Get Crawler",
        "States": {
            "Get Crawler": {
                "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:getCrawler",
                "Parameters": {"Name": "no-such-crawler"}, "End": True,
                "Retry": [{"ErrorEquals": ["Glue.EntityNotFoundException"], "IntervalSeconds": 1,
                           "MaxAttempts": 2, "BackoffRate": 1.0}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Handled"}],
            },
            "Handled": {"Type": "Pass", "End": True},
        },
    }
    described = run(aws, definition)

    assert described["status"] == "SUCCEEDED"
    error = json.loads(described["output"])["error"]
    assert error["Error"] == "Glue.EntityNotFoundException"
    assert "no-such-crawler" in error["Cause"]
    types = [e["type"] for e in history(aws, described["executionArn"])]
    assert types.count("TaskFailed") == 3  # the first try and two retries


# --------------------------------------------------------------------------- flow control


def test_wait_choice_math_add_loop(aws: dict[str, Any]) -> None:
    definition = {
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Result": 0, "ResultPath": "$.count", "Next": "Wait"},
            "Wait": {"Type": "Wait", "SecondsPath": "$.wait_time", "Next": "Add Count"},
            "Add Count": {"Type": "Pass", "Next": "Check", "Parameters": {
                "wait_time.$": "$.wait_time", "count.$": "States.MathAdd($.count, 1)"}},
            "Check": {"Type": "Choice",
                      "Choices": [{"Variable": "$.count", "NumericGreaterThanEquals": 3, "Next": "Done"}],
                      "Default": "Wait"},
            "Done": {"Type": "Succeed"},
        },
    }
    began = time.monotonic()
    described = run(aws, definition, {"wait_time": 1})

    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["count"] == 3
    assert time.monotonic() - began >= 3  # three real one-second waits
    events = history(aws, described["executionArn"])
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]
    assert entered.count("Wait") == 3 and entered.count("Check") == 3 and entered[-1] == "Done"


def test_states_format_reads_json_escapes_as_aws_does(aws: dict[str, Any]) -> None:
    """A quote and a line break in a States.Format literal, JSON-escaped as AWS documents them."""
    definition = {
        "StartAt": "Format",
        "States": {"Format": {"Type": "Pass", "End": True, "Parameters": {
            "sql.$": "States.Format('SELECT \\'{}\\' AS v\\nFROM {}.t \\{x\\}', $.value, $.db)"}}},
    }
    described = run(aws, definition, {"value": "it", "db": "sales"})

    assert described["status"] == "SUCCEEDED", described.get("cause")
    assert json.loads(described["output"])["sql"] == "SELECT 'it' AS v\nFROM sales.t {x}"


def test_parallel_runs_both_branches_for_real(aws: dict[str, Any]) -> None:
    job = glue_job(aws, "import sys\nprint('branch job ran with', sys.argv[1:])\n")
    definition = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel", "End": True,
                "Branches": [
                    {"StartAt": "Job", "States": {"Job": sync_job_state(
                        job, ResultSelector={"State.$": "$.JobRunState", "Id.$": "$.Id"}, End=True)}},
                    {"StartAt": "Sum", "States": {"Sum": {
                        "Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, $.b)"}, "End": True}}},
                ],
            },
        },
    }
    described = run(aws, definition, {"a": 2, "b": 40})

    assert described["status"] == "SUCCEEDED", described.get("cause")
    job_result, sum_result = json.loads(described["output"])
    assert job_result["State"] == "SUCCEEDED" and sum_result == {"sum": 42}
    runs = aws["glue"].get_job_runs(JobName=job)["JobRuns"]
    assert [(r["Id"], r["JobRunState"]) for r in runs] == [(job_result["Id"], "SUCCEEDED")]


# --------------------------------------------------------------------------- Glue .sync


def test_glue_sync_job_success_gives_the_job_run(aws: dict[str, Any]) -> None:
    job = glue_job(aws, "print('hello from the job')\n")
    described = run(aws, {"StartAt": "Run", "States": {"Run": {**sync_job_state(job), "End": True}}})

    assert described["status"] == "SUCCEEDED"
    job_run = json.loads(described["output"])
    assert job_run["JobName"] == job and job_run["JobRunState"] == "SUCCEEDED"
    assert isinstance(job_run["StartedOn"], int) and isinstance(job_run["CompletedOn"], int)
    assert aws["glue"].get_job_run(JobName=job, RunId=job_run["Id"])["JobRun"]["JobRunState"] == "SUCCEEDED"


def test_failing_glue_sync_job_fails_execution_with_error_cause_and_history(aws: dict[str, Any]) -> None:
    job = glue_job(aws, "raise ValueError('row 7 has no deviceid')\n")
    definition = {"StartAt": "Prepare", "States": {
        "Prepare": {"Type": "Pass", "Next": "Run Final Glue Job"},
        "Run Final Glue Job": {**sync_job_state(job), "End": True}}}
    described = run(aws, definition)

    assert described["status"] == "FAILED"
    assert described["error"] == "States.TaskFailed"
    cause = json.loads(described["cause"])
    assert cause["JobName"] == job and cause["JobRunState"] == "FAILED"
    assert "ValueError: row 7 has no deviceid" in cause["ErrorMessage"]

    events = history(aws, described["executionArn"])
    by_id = {e["id"]: e for e in events}
    task_failed = next(e for e in events if e["type"] == "TaskFailed")
    assert task_failed["taskFailedEventDetails"]["error"] == "States.TaskFailed"
    assert json.loads(task_failed["taskFailedEventDetails"]["cause"])["JobRunState"] == "FAILED"
    assert task_failed["taskFailedEventDetails"]["resource"] == "startJobRun.sync"
    failed = events[-1]
    assert failed["type"] == "ExecutionFailed"
    assert failed["executionFailedEventDetails"]["error"] == "States.TaskFailed"
    # The failed state's name: follow previousEventId back to the state it happened in.
    event = task_failed
    while not event["type"].endswith("StateEntered"):
        event = by_id[event["previousEventId"]]
    assert event["stateEnteredEventDetails"]["name"] == "Run Final Glue Job"


def test_retry_reruns_a_failing_glue_job_until_it_succeeds(aws: dict[str, Any]) -> None:
    script = (
        "import boto3, sys\n"
        "from awsglue.utils import getResolvedOptions\n"
        "args = getResolvedOptions(sys.argv, ['bucket'])\n"
        "s3 = boto3.client('s3')\n"
        "if s3.list_objects_v2(Bucket=args['bucket'], Prefix='marker/').get('KeyCount', 0) == 0:\n"
        "    s3.put_object(Bucket=args['bucket'], Key='marker/first-try', Body=b'x')\n"
        "    raise RuntimeError('transient failure on the first try')\n"
        "print('second try works')\n"
    )
    job = glue_job(aws, script)
    state = sync_job_state(job, End=True, Retry=[{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1,
                                                   "MaxAttempts": 3, "BackoffRate": 2.0}])
    state["Parameters"]["Arguments"] = {"--bucket": aws["bucket"]}
    described = run(aws, {"StartAt": "Run", "States": {"Run": state}})

    assert described["status"] == "SUCCEEDED", described.get("cause")
    assert json.loads(described["output"])["JobRunState"] == "SUCCEEDED"
    types = [e["type"] for e in history(aws, described["executionArn"])]
    assert types.count("TaskFailed") == 1 and types.count("TaskSucceeded") == 1
    states = sorted(r["JobRunState"] for r in aws["glue"].get_job_runs(JobName=job)["JobRuns"])
    assert states == ["FAILED", "SUCCEEDED"]


# --------------------------------------------------------------------------- StopExecution


def test_stop_execution_during_a_long_wait_aborts_it(aws: dict[str, Any]) -> None:
    arn = deploy(aws, {"StartAt": "Long", "States": {"Long": {"Type": "Wait", "Seconds": 3600, "End": True}}})
    execution = start(aws, arn)
    until(lambda: any(e["type"] == "WaitStateEntered" for e in history(aws, execution)),
          what="the Wait state to be entered")

    stopped = aws["stepfunctions"].stop_execution(executionArn=execution, error="Operator",
                                                  cause="manual stop")

    assert stopped["stopDate"] is not None
    described = aws["stepfunctions"].describe_execution(executionArn=execution)
    assert described["status"] == "ABORTED" and described["stopDate"] is not None
    last = history(aws, execution)[-1]
    assert last["type"] == "ExecutionAborted"
    assert last["executionAbortedEventDetails"] == {"error": "Operator", "cause": "manual stop"}


def test_stop_execution_stops_the_running_glue_job_run(aws: dict[str, Any]) -> None:
    job = glue_job(aws, "import time\nprint('working', flush=True)\ntime.sleep(120)\n")
    arn = deploy(aws, {"StartAt": "Run", "States": {"Run": {**sync_job_state(job), "End": True}}})
    execution = start(aws, arn)
    run_id = until(lambda: next((r["Id"] for r in aws["glue"].get_job_runs(JobName=job)["JobRuns"]
                                 if r["JobRunState"] == "RUNNING"), None), what="the job run to be RUNNING")

    aws["stepfunctions"].stop_execution(executionArn=execution)

    assert aws["stepfunctions"].describe_execution(executionArn=execution)["status"] == "ABORTED"
    assert until(lambda: aws["glue"].get_job_run(JobName=job, RunId=run_id)["JobRun"]["JobRunState"]
                 in ("STOPPED",), what="the job run to be STOPPED")
    types = [e["type"] for e in history(aws, execution)]
    assert types[-1] == "ExecutionAborted" and "TaskSucceeded" not in types and "TaskFailed" not in types


def test_glue_sync_task_timing_out_fails_with_states_timeout_and_stops_the_run(aws: dict[str, Any]) -> None:
    job = glue_job(aws, "import time\nprint('working', flush=True)\ntime.sleep(120)\n")
    described = run(aws, {"StartAt": "Run", "States": {"Run": {**sync_job_state(job), "TimeoutSeconds": 2,
                                                                "End": True}}})

    assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")
    timed_out = next(e for e in history(aws, described["executionArn"]) if e["type"] == "TaskTimedOut")
    assert timed_out["taskTimedOutEventDetails"] == {"resourceType": "glue", "resource": "startJobRun.sync",
                                                     "error": "States.Timeout"}
    run_id = aws["glue"].get_job_runs(JobName=job)["JobRuns"][0]["Id"]
    assert until(lambda: aws["glue"].get_job_run(JobName=job, RunId=run_id)["JobRun"]["JobRunState"] == "STOPPED",
                 what="the job run to be STOPPED")


# --------------------------------------------------------------------------- Athena


def athena_state(query: str, output: str, **extra: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": "arn:aws:states:::athena:startQueryExecution.sync",
            "Parameters": {"QueryString": query, "WorkGroup": "primary",
                           "ResultConfiguration": {"OutputLocation": output}}, **extra}


def test_athena_sync_query_then_get_query_results(aws: dict[str, Any]) -> None:
    output = f"s3://{aws['bucket']}/athena/"
    definition = {"StartAt": "Query", "States": {
        "Query": {**athena_state("SELECT 6 * 7 AS answer", output), "Next": "Results"},
        "Results": {"Type": "Task", "Resource": "arn:aws:states:::athena:getQueryResults",
                    "Parameters": {"QueryExecutionId.$": "$.QueryExecution.QueryExecutionId"},
                    "ResultSelector": {"Rows.$": "$.ResultSet.Rows"}, "ResultPath": "$.results",
                    "End": True}}}
    described = run(aws, definition)

    assert described["status"] == "SUCCEEDED", described.get("cause")
    output_doc = json.loads(described["output"])
    query = output_doc["QueryExecution"]
    assert query["Status"]["State"] == "SUCCEEDED"
    assert isinstance(query["Status"]["SubmissionDateTime"], int)
    rows = [[c.get("VarCharValue") for c in row["Data"]] for row in output_doc["results"]["Rows"]]
    assert rows == [["answer"], ["42"]]


def test_failing_athena_query_fails_the_task_with_the_reason(aws: dict[str, Any]) -> None:
    output = f"s3://{aws['bucket']}/athena/"
    described = run(aws, {"StartAt": "Query", "States": {
        "Query": {**athena_state("SELECT * FROM no_such_db.no_such_table", output), "End": True}}})

    assert described["status"] == "FAILED"
    assert described["error"] == "States.TaskFailed"
    status = json.loads(described["cause"])["QueryExecution"]["Status"]
    assert status["State"] == "FAILED"
    assert "no_such_db" in status["StateChangeReason"] and "does not exist" in status["StateChangeReason"]


def test_failing_query_in_a_parallel_branch_fails_the_execution_with_the_reason(aws: dict[str, Any]) -> None:
    """A States.* error raised inside a Parallel branch reaches the execution unchanged."""
    output = f"s3://{aws['bucket']}/athena/"
    described = run(aws, {"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Good", "States": {"Good": {**athena_state("SELECT 1 AS one", output), "End": True}}},
        {"StartAt": "Bad", "States": {"Bad": {**athena_state("SELECT * FROM no_such_db.t", output),
                                                "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1,
                                                           "IntervalSeconds": 1}],
                                                "End": True}}},
    ]}}})

    assert described["status"] == "FAILED"
    assert described["error"] == "States.TaskFailed"
    status = json.loads(described["cause"])["QueryExecution"]["Status"]
    assert "no_such_db" in status["StateChangeReason"]


def test_stop_execution_cancels_the_running_athena_query(aws: dict[str, Any]) -> None:
    from airflow_sfn_etl_sandbox import faults

    query = f"SELECT 1 AS slow_{_uid()}"
    faults.add_rule({"kind": "delay", "target": "athena_query", "pattern": query.split()[-1], "seconds": 60})
    arn = deploy(aws, {"StartAt": "Query", "States": {
        "Query": {**athena_state(query, f"s3://{aws['bucket']}/athena/"), "End": True}}})
    execution = start(aws, arn)
    submitted = until(lambda: next((e for e in history(aws, execution) if e["type"] == "TaskSubmitted"),
                                   None), what="the query to be submitted")
    query_id = json.loads(submitted["taskSubmittedEventDetails"]["output"])["QueryExecutionId"]

    aws["stepfunctions"].stop_execution(executionArn=execution)

    assert aws["stepfunctions"].describe_execution(executionArn=execution)["status"] == "ABORTED"
    status = aws["athena"].get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
    assert status["State"] == "CANCELLED"


# --------------------------------------------------------------------------- DataBrew


def databrew_job(aws: dict[str, Any]) -> str:
    """A DataBrew recipe job over the workshop's marketing CSV; returns its name."""
    uid = _uid()
    bucket = aws["bucket"]
    aws["s3"].put_object(Bucket=bucket, Key="raw/marketing/marketing_data.csv",
                         Body=(WORKSHOP / "marketing_data.csv").read_bytes())
    brew = aws["databrew"]
    brew.create_dataset(Name=f"ds-{uid}", Format="CSV", FormatOptions={"Csv": {"HeaderRow": True}},
                        Input={"S3InputDefinition": {"Bucket": bucket,
                                                     "Key": "raw/marketing/marketing_data.csv"}})
    brew.create_recipe(Name=f"recipe-{uid}", Steps=[
        {"Action": {"Operation": "RENAME", "Parameters": {"sourceColumn": "Date", "targetColumn": "date"}}}])
    brew.publish_recipe(Name=f"recipe-{uid}")
    brew.create_recipe_job(Name=f"brew-{uid}", DatasetName=f"ds-{uid}", RoleArn=GLUE_ROLE,
                           RecipeReference={"Name": f"recipe-{uid}", "RecipeVersion": "1.0"},
                           Outputs=[{"Location": {"Bucket": bucket, "Key": "brewed/marketing/"},
                                     "Format": "PARQUET", "Overwrite": True}])
    return f"brew-{uid}"


def test_databrew_sync_job_run_succeeds(aws: dict[str, Any]) -> None:
    job = databrew_job(aws)
    described = run(aws, {"StartAt": "Brew", "States": {"Brew": {
        "Type": "Task", "Resource": "arn:aws:states:::databrew:startJobRun.sync",
        "Parameters": {"Name": job}, "End": True}}}, timeout=120)

    assert described["status"] == "SUCCEEDED", described.get("cause")
    job_run = json.loads(described["output"])
    assert job_run["JobName"] == job and job_run["State"] == "SUCCEEDED"
    keys = aws["s3"].list_objects_v2(Bucket=aws["bucket"], Prefix="brewed/marketing/").get("Contents", [])
    assert any(k["Key"].endswith(".parquet") for k in keys)


def test_failing_databrew_job_run_fails_the_task_with_its_error_message(aws: dict[str, Any]) -> None:
    from airflow_sfn_etl_sandbox import faults

    job = databrew_job(aws)
    faults.add_rule({"kind": "fail", "target": "databrew_job", "name": job,
                     "message": "recipe step 1 failed"})
    described = run(aws, {"StartAt": "Brew", "States": {"Brew": {
        "Type": "Task", "Resource": "arn:aws:states:::databrew:startJobRun.sync",
        "Parameters": {"Name": job}, "End": True}}}, timeout=120)

    assert described["status"] == "FAILED"
    assert described["error"] == "States.TaskFailed"
    cause = json.loads(described["cause"])
    assert cause["State"] == "FAILED" and cause["ErrorMessage"] == "recipe step 1 failed"


# --------------------------------------------------------------------------- faults


def test_sfn_execution_fault_fails_the_execution(aws: dict[str, Any]) -> None:
    from airflow_sfn_etl_sandbox import faults

    arn = deploy(aws, {"StartAt": "Long", "States": {"Long": {"Type": "Wait", "Seconds": 30, "End": True}}})
    faults.add_rule({"kind": "fail", "target": "sfn_execution", "name": arn.rsplit(":", 1)[1],
                     "message": "injected for the test"})
    described = wait_done(aws, start(aws, arn), timeout=10)

    assert described["status"] == "FAILED"
    assert (described["error"], described["cause"]) == ("Sandbox.InjectedFault", "injected for the test")


# --------------------------------------------------------------------------- .sync: runs ended from outside
# AWS: a ``.sync`` task succeeds only when its run succeeds; a run that ends any other way (stopped
# from outside, timed out, cancelled) fails the task with States.TaskFailed, the run's description
# as the cause.


def _failed_with(described: dict[str, Any], state_key: str, state: str) -> dict[str, Any]:
    assert described["status"] == "FAILED", described.get("output")
    assert described["error"] == "States.TaskFailed"
    cause = json.loads(described["cause"])
    assert cause_state(cause, state_key) == state
    return cause


def cause_state(cause: dict[str, Any], key: str) -> Any:
    value: Any = cause
    for part in key.split("."):
        value = value[part]
    return value


def test_glue_sync_job_run_stopped_from_outside_fails_the_task(aws: dict[str, Any]) -> None:
    job = glue_job(aws, "import time\nprint('working', flush=True)\ntime.sleep(120)\n")
    execution = start(aws, deploy(aws, {"StartAt": "Run", "States": {"Run": {**sync_job_state(job), "End": True}}}))
    run_id = until(lambda: next((r["Id"] for r in aws["glue"].get_job_runs(JobName=job)["JobRuns"]
                                 if r["JobRunState"] == "RUNNING"), None), what="the job run to be RUNNING")

    aws["glue"].batch_stop_job_run(JobName=job, JobRunIds=[run_id])

    cause = _failed_with(wait_done(aws, execution), "JobRunState", "STOPPED")
    assert cause["Id"] == run_id
    types = [e["type"] for e in history(aws, execution)]
    assert "TaskFailed" in types and "TaskSucceeded" not in types


def test_glue_sync_job_run_timing_out_fails_the_task(aws: dict[str, Any], monkeypatch: Any) -> None:
    from airflow_sfn_etl_sandbox import glue_jobs

    monkeypatch.setattr(glue_jobs, "TIMEOUT_UNIT_SECONDS", 0.5)
    job = glue_job(aws, "import time\ntime.sleep(120)\n")
    state = sync_job_state(job, End=True)
    state["Parameters"]["Timeout"] = 1
    cause = _failed_with(run(aws, {"StartAt": "Run", "States": {"Run": state}}), "JobRunState", "TIMEOUT")
    assert cause["JobName"] == job


def test_athena_sync_query_cancelled_from_outside_fails_the_task(aws: dict[str, Any]) -> None:
    from airflow_sfn_etl_sandbox import faults

    query = f"SELECT 1 AS slow_{_uid()}"
    faults.add_rule({"kind": "delay", "target": "athena_query", "pattern": query.split()[-1], "seconds": 60})
    execution = start(aws, deploy(aws, {"StartAt": "Query", "States": {
        "Query": {**athena_state(query, f"s3://{aws['bucket']}/athena/"), "End": True}}}))
    submitted = until(lambda: next((e for e in history(aws, execution) if e["type"] == "TaskSubmitted"),
                                   None), what="the query to be submitted")
    query_id = json.loads(submitted["taskSubmittedEventDetails"]["output"])["QueryExecutionId"]

    aws["athena"].stop_query_execution(QueryExecutionId=query_id)

    cause = _failed_with(wait_done(aws, execution), "QueryExecution.Status.State", "CANCELLED")
    assert cause["QueryExecution"]["QueryExecutionId"] == query_id


def _brew_state(job: str) -> dict[str, Any]:
    return {"Type": "Task", "Resource": "arn:aws:states:::databrew:startJobRun.sync",
            "Parameters": {"Name": job}, "End": True}


def test_databrew_sync_job_run_stopped_from_outside_fails_the_task(aws: dict[str, Any]) -> None:
    from airflow_sfn_etl_sandbox import faults

    job = databrew_job(aws)
    faults.add_rule({"kind": "delay", "target": "databrew_job", "name": job, "seconds": 60})
    execution = start(aws, deploy(aws, {"StartAt": "Brew", "States": {"Brew": _brew_state(job)}}))
    run_id = until(lambda: next((r["RunId"] for r in aws["databrew"].list_job_runs(Name=job)["JobRuns"]
                                 if r["State"] == "RUNNING"), None), what="the DataBrew run to be RUNNING")

    aws["databrew"].stop_job_run(Name=job, RunId=run_id)

    cause = _failed_with(wait_done(aws, execution, timeout=120), "State", "STOPPED")
    assert cause["RunId"] == run_id


def test_databrew_sync_job_run_timing_out_fails_the_task(aws: dict[str, Any], monkeypatch: Any) -> None:
    from airflow_sfn_etl_sandbox import databrew, faults

    monkeypatch.setattr(databrew, "TIMEOUT_UNIT_SECONDS", 0.5)
    job = databrew_job(aws)
    aws["databrew"].update_recipe_job(Name=job, RoleArn=GLUE_ROLE, Timeout=1, Outputs=[
        {"Location": {"Bucket": aws["bucket"], "Key": "brewed/marketing/"}, "Format": "PARQUET", "Overwrite": True}])
    faults.add_rule({"kind": "delay", "target": "databrew_job", "name": job, "seconds": 60})

    cause = _failed_with(run(aws, {"StartAt": "Brew", "States": {"Brew": _brew_state(job)}}, timeout=120),
                         "State", "TIMEOUT")
    assert cause["JobName"] == job


# --------------------------------------------------------------------------- nested executions
# AWS: startExecution answers {ExecutionArn, StartDate}; .sync answers the child's DescribeExecution
# with Input/Output as JSON strings, .sync:2 with them parsed; a failed child fails the task with
# States.TaskFailed; .waitForTaskToken waits for SendTaskSuccess with the child's token.


def _parent(arn: str, resource: str, child_input: Any) -> dict[str, Any]:
    return {"StartAt": "Child", "States": {"Child": {
        "Type": "Task", "Resource": f"arn:aws:states:::states:{resource}",
        "Parameters": {"StateMachineArn": arn, "Input": child_input}, "End": True}}}


CHILD = {"StartAt": "Double", "States": {"Double": {
    "Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"}, "End": True}}}


def test_start_execution_request_response_answers_the_child_execution(aws: dict[str, Any]) -> None:
    child = deploy(aws, CHILD)
    described = run(aws, _parent(child, "startExecution", {"n": 4}))
    assert described["status"] == "SUCCEEDED", described.get("cause")
    out = json.loads(described["output"])
    assert set(out) == {"ExecutionArn", "StartDate"} and isinstance(out["StartDate"], int)
    assert wait_done(aws, out["ExecutionArn"])["status"] == "SUCCEEDED"


@pytest.mark.parametrize(("resource", "parsed"), [("startExecution.sync", False), ("startExecution.sync:2", True)])
def test_start_execution_sync_answers_the_child_output(aws: dict[str, Any], resource: str, parsed: bool) -> None:
    child = deploy(aws, CHILD)
    described = run(aws, _parent(child, resource, {"n": 21}))
    assert described["status"] == "SUCCEEDED", described.get("cause")
    out = json.loads(described["output"])
    assert out["Status"] == "SUCCEEDED" and out["StateMachineArn"] == child
    child_output = out["Output"] if parsed else json.loads(out["Output"])
    child_input = out["Input"] if parsed else json.loads(out["Input"])
    assert isinstance(out["Output"], dict if parsed else str)
    assert child_output == {"doubled": 42} and child_input == {"n": 21}
    assert json.loads(aws["stepfunctions"].describe_execution(executionArn=out["ExecutionArn"])["output"]) == \
        {"doubled": 42}


@pytest.mark.parametrize("resource", ["startExecution.sync", "startExecution.sync:2"])
def test_failing_child_fails_the_sync_task_with_its_error(aws: dict[str, Any], resource: str) -> None:
    child = deploy(aws, {"StartAt": "Broke", "States": {"Broke": {"Type": "Fail", "Error": "ChildBroke",
                                                                  "Cause": "no rows"}}})
    described = run(aws, _parent(child, resource, {}))
    assert (described["status"], described["error"]) == ("FAILED", "States.TaskFailed")
    cause = json.loads(described["cause"])
    assert (cause["Status"], cause["Error"], cause["Cause"]) == ("FAILED", "ChildBroke", "no rows")


def test_child_timing_out_fails_the_sync_task(aws: dict[str, Any]) -> None:
    child = deploy(aws, {"TimeoutSeconds": 1, "StartAt": "Long",
                         "States": {"Long": {"Type": "Wait", "Seconds": 60, "End": True}}})
    described = run(aws, _parent(child, "startExecution.sync:2", {}))
    assert (described["status"], described["error"]) == ("FAILED", "States.TaskFailed")
    cause = json.loads(described["cause"])
    assert cause["Status"] == "TIMED_OUT" and cause["StateMachineArn"] == child


def test_child_stopped_from_outside_fails_the_sync_task(aws: dict[str, Any]) -> None:
    child = deploy(aws, {"StartAt": "Long", "States": {"Long": {"Type": "Wait", "Seconds": 3600, "End": True}}})
    execution = start(aws, deploy(aws, _parent(child, "startExecution.sync", {})))
    child_arn = until(lambda: next((e["executionArn"] for e in aws["stepfunctions"].list_executions(
        stateMachineArn=child)["executions"] if e["status"] == "RUNNING"), None), what="the child to run")

    aws["stepfunctions"].stop_execution(executionArn=child_arn, error="Operator", cause="not needed")

    described = wait_done(aws, execution)
    assert (described["status"], described["error"]) == ("FAILED", "States.TaskFailed")
    cause = json.loads(described["cause"])
    assert (cause["Status"], cause["ExecutionArn"]) == ("ABORTED", child_arn)
    assert (cause["Error"], cause["Cause"]) == ("Operator", "not needed")


def test_aborting_the_parent_stops_a_sync_child(aws: dict[str, Any]) -> None:
    child = deploy(aws, {"StartAt": "Long", "States": {"Long": {"Type": "Wait", "Seconds": 3600, "End": True}}})
    execution = start(aws, deploy(aws, _parent(child, "startExecution.sync", {})))
    child_arn = until(lambda: next((e["executionArn"] for e in aws["stepfunctions"].list_executions(
        stateMachineArn=child)["executions"] if e["status"] == "RUNNING"), None), what="the child to run")

    aws["stepfunctions"].stop_execution(executionArn=execution)

    assert until(lambda: aws["stepfunctions"].describe_execution(executionArn=child_arn)["status"] == "ABORTED",
                 what="the child to be ABORTED")


def test_wait_for_task_token_child_answers_with_send_task_success(aws: dict[str, Any]) -> None:
    child = deploy(aws, {"StartAt": "Answer", "States": {"Answer": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:sendTaskSuccess",
        "Parameters": {"TaskToken.$": "$.token", "Output.$": "States.JsonToString($.payload)"}, "End": True}}})
    described = run(aws, _parent(child, "startExecution.waitForTaskToken",
                                 {"token.$": "$$.Task.Token", "payload": {"rows": 7}}))
    assert described["status"] == "SUCCEEDED", described.get("cause")
    assert json.loads(described["output"]) == {"rows": 7}


def test_missing_child_state_machine_fails_with_the_api_error(aws: dict[str, Any]) -> None:
    missing = "arn:aws:states:us-east-1:123456789012:stateMachine:no-such-machine"
    described = run(aws, _parent(missing, "startExecution.sync", {}))
    assert described["status"] == "FAILED"
    assert described["error"] == "StepFunctions.StateMachineDoesNotExistException"
