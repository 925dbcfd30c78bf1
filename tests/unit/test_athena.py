"""Athena operator, sensor and trigger: workgroup output location, idempotent token, rows to XCom."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3
import pytest
from airflow.providers.common.compat.sdk import AirflowException, TaskDeferred
from moto import mock_aws
from moto.athena.models import QueryResults, athena_backends
from moto.core import DEFAULT_ACCOUNT_ID

from airflow_sfn_etl.operators.athena import RESULTS_XCOM_KEY, AthenaQueryOperator
from airflow_sfn_etl.sensors.athena import AthenaQuerySensor
from airflow_sfn_etl.triggers.athena import AthenaQueryTrigger

from .provider_support import collect, make_context, mock_hook, roundtrip, xcom_pushes

QUERY = "SELECT city, SUM(amount) AS total FROM sales GROUP BY city"


def execution(state: str, reason: str | None = None, qid: str = "q-1", ended: datetime | None = None) -> dict:
    status: dict = {"State": state}
    if reason:
        status["StateChangeReason"] = reason
    if ended is not None:
        status["CompletionDateTime"] = ended
    return {
        "QueryExecution": {
            "QueryExecutionId": qid,
            "Status": status,
            "Statistics": {"DataScannedInBytes": 2048, "EngineExecutionTimeInMillis": 321},
        }
    }


def make_op(**kwargs) -> AthenaQueryOperator:
    kwargs.setdefault("output_location", "s3://results/athena/")
    return AthenaQueryOperator(task_id="query", query=QUERY, database="shop", poll_interval=0, **kwargs)


def mocked(op: AthenaQueryOperator, *states: dict):
    hook = mock_hook()
    hook.run_query.return_value = "q-1"
    hook.get_query_info.side_effect = list(states)
    op.hook = hook
    return hook


def queue_results(rows: list[list[str]], columns: list[tuple[str, str]]) -> None:
    backend = athena_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    backend.query_results_queue.append(
        QueryResults(
            rows=[{"Data": [{"VarCharValue": value} for value in row]} for row in rows],
            column_info=[{"Name": name, "Type": kind} for name, kind in columns],
        )
    )


@mock_aws
def test_uses_workgroup_output_location_and_pushes_typed_rows():
    boto3.client("s3").create_bucket(Bucket="wg-results")
    boto3.client("athena").create_work_group(
        Name="etl", Configuration={"ResultConfiguration": {"OutputLocation": "s3://wg-results/q/"}}
    )
    queue_results(
        [["city", "total", "open"], ["Lyon", "7", "true"], ["Oslo", "12", "false"], ["Rome", "3", "true"]],
        [("city", "varchar"), ("total", "bigint"), ("open", "boolean")],
    )
    op = AthenaQueryOperator(
        task_id="query", query=QUERY, workgroup="etl", result_to_xcom=True, max_result_rows=2, poll_interval=0
    )
    context = make_context()
    query_id = op.execute(context)
    info = boto3.client("athena").get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
    assert info["ResultConfiguration"]["OutputLocation"].startswith("s3://wg-results/q/")
    assert xcom_pushes(context)[RESULTS_XCOM_KEY] == [
        {"city": "Lyon", "total": 7, "open": True},
        {"city": "Oslo", "total": 12, "open": False},
    ]


@mock_aws
def test_no_output_location_anywhere_fails_early_with_fix():
    op = AthenaQueryOperator(task_id="query", query=QUERY, poll_interval=0)
    with pytest.raises(
        AirflowException, match=r"workgroup 'primary' has no query result location: pass output_location"
    ):
        op.execute(make_context())
    assert boto3.client("athena").list_query_executions()["QueryExecutionIds"] == []


def test_empty_query_fails_early():
    with pytest.raises(ValueError, match="query must be a non-empty SQL string"):
        AthenaQueryOperator(task_id="q", query="  ")


def test_sql_files_are_templates():
    assert ".sql" in AthenaQueryOperator.template_ext
    assert "query" in AthenaQueryOperator.template_fields


def test_client_request_token_is_stable_across_retries_and_changes_with_query_or_clear():
    def token(query: str = QUERY, **ctx) -> str:
        op = make_op()
        op.query = query
        hook = mocked(op, execution("SUCCEEDED"))
        op.execute(make_context(**ctx))
        return hook.run_query.call_args.kwargs["client_request_token"]

    first = token()
    assert len(first) == 64
    # A retry whose earlier try's query is still running (a lost worker) attaches to it.
    op = make_op()
    hook = mocked(op, execution("RUNNING"), execution("SUCCEEDED"))
    op.execute(make_context(try_number=2, max_tries=2, retries=2))
    assert [c.kwargs["client_request_token"] for c in hook.run_query.call_args_list] == [first]
    assert token(try_number=4, max_tries=5, retries=2) != first  # cleared: new chain
    assert token(query=QUERY + " LIMIT 5") != first


def test_retry_after_a_failed_query_runs_it_again_under_a_new_token():
    earlier = datetime.now(timezone.utc) - timedelta(minutes=5)
    first_try = make_op()
    first_hook = mocked(first_try, execution("SUCCEEDED"))
    first_try.execute(make_context())
    first = first_hook.run_query.call_args.kwargs["client_request_token"]

    op = make_op()
    hook = mocked(op, execution("FAILED", "GENERIC_INTERNAL_ERROR: worker lost", ended=earlier),
                  execution("SUCCEEDED", qid="q-2"))
    hook.run_query.side_effect = ["q-1", "q-2"]
    assert op.execute(make_context(try_number=2, max_tries=2, retries=2)) == "q-2"
    tokens = [c.kwargs["client_request_token"] for c in hook.run_query.call_args_list]
    assert tokens[0] == first and tokens[1] != first and len(tokens) == 2
    # Try 3 after two failed queries walks past both, to a third token.
    op = make_op()
    hook = mocked(op, execution("FAILED", "x", ended=earlier), execution("CANCELLED", "y", ended=earlier),
                  execution("SUCCEEDED", qid="q-3"))
    hook.run_query.side_effect = ["q-1", "q-2", "q-3"]
    assert op.execute(make_context(try_number=3, max_tries=2, retries=2)) == "q-3"
    assert [c.kwargs["client_request_token"] for c in hook.run_query.call_args_list][:2] == tokens
    assert len(set(c.kwargs["client_request_token"] for c in hook.run_query.call_args_list)) == 3


def test_a_query_that_failed_during_this_try_fails_it_without_a_second_start():
    """The try's own query failing at once is its answer: no extra run beyond the try's own."""
    op = make_op()
    later = datetime.now(timezone.utc) + timedelta(seconds=1)
    hook = mocked(op, execution("FAILED", "SYNTAX_ERROR: line 1:1", ended=later),
                  execution("FAILED", "SYNTAX_ERROR: line 1:1", ended=later))
    with pytest.raises(AirflowException, match="SYNTAX_ERROR"):
        op.execute(make_context(try_number=2, max_tries=2, retries=2))
    assert hook.run_query.call_count == 1


def test_logs_scan_statistics(capsys):
    op = make_op()
    mocked(op, execution("RUNNING"), execution("SUCCEEDED"))
    assert op.execute(make_context()) == "q-1"
    assert "DataScannedInBytes=2048 EngineExecutionTimeInMillis=321" in capsys.readouterr().out


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED"])
def test_failure_states_fail_with_state_change_reason(state):
    op = make_op()
    mocked(
        op,
        execution("QUEUED"),
        execution(state, "TABLE_NOT_FOUND: line 1:38: Table 'shop.sales' does not exist"),
    )
    with pytest.raises(AirflowException, match=rf"q-1 {state}: TABLE_NOT_FOUND: line 1:38"):
        op.execute(make_context())


def test_on_kill_stops_query():
    op = make_op(deferrable=True)
    hook = mocked(op)
    with pytest.raises(TaskDeferred):
        op.execute(make_context())
    op.on_kill()
    hook.stop_query.assert_called_once_with("q-1")


def test_deferred_complete_pushes_rows_and_raises_reason():
    op = make_op(deferrable=True, result_to_xcom=True)
    hook = mocked(op)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(make_context())
    assert isinstance(deferred.value.trigger, AthenaQueryTrigger)
    hook.get_conn.return_value.get_query_results.return_value = {
        "ResultSet": {
            "ResultSetMetadata": {"ColumnInfo": [{"Name": "n", "Type": "integer"}]},
            "Rows": [{"Data": [{"VarCharValue": "n"}]}, {"Data": [{"VarCharValue": "42"}]}, {"Data": [{}]}],
        }
    }
    context = make_context()
    assert op.execute_complete(context, {"status": "success", "query_execution_id": "q-1"}) == "q-1"
    assert xcom_pushes(context)[RESULTS_XCOM_KEY] == [{"n": 42}, {"n": None}]
    with pytest.raises(AirflowException, match="SYNTAX_ERROR"):
        op.execute_complete(context, {"status": "failed", "message": "q-1 FAILED: SYNTAX_ERROR at 1:1"})


def test_trigger_serialize_roundtrip():
    trigger = AthenaQueryTrigger(query_execution_id="q-1", poll_interval=3, aws_conn_id="aws_etl")
    again = roundtrip(trigger)
    assert again.serialize() == trigger.serialize()
    assert (again.query_execution_id, again.aws_conn_id) == ("q-1", "aws_etl")


async def test_trigger_run_success_has_statistics():
    trigger = AthenaQueryTrigger(query_execution_id="q-1", poll_interval=0)
    trigger.hook = mock_hook()
    trigger.hook.get_query_info.side_effect = [
        execution("QUEUED"),
        execution("RUNNING"),
        execution("SUCCEEDED"),
    ]
    [event] = await collect(trigger)
    assert event["status"] == "success"
    assert (event["data_scanned_bytes"], event["engine_execution_time_ms"]) == (2048, 321)


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED"])
async def test_trigger_run_failure_states(state):
    trigger = AthenaQueryTrigger(query_execution_id="q-1", poll_interval=0)
    trigger.hook = mock_hook()
    trigger.hook.get_query_info.return_value = execution(state, "Query exhausted resources")
    [event] = await collect(trigger)
    assert (event["status"], event["state"]) == ("failed", state)
    assert event["message"] == f"Athena query q-1 {state}: Query exhausted resources"


async def test_trigger_on_kill_stops_query():
    trigger = AthenaQueryTrigger(query_execution_id="q-1")
    trigger.hook = mock_hook()
    await trigger.on_kill()
    trigger.hook.stop_query.assert_called_once_with("q-1")


@mock_aws
def test_sensor_on_moto_query():
    boto3.client("s3").create_bucket(Bucket="results")
    query_id = boto3.client("athena").start_query_execution(
        QueryString="SELECT 1", ResultConfiguration={"OutputLocation": "s3://results/"}
    )["QueryExecutionId"]
    sensor = AthenaQuerySensor(task_id="wait", query_execution_id=query_id, poke_interval=0)
    assert sensor.execute(make_context()) == query_id


def test_sensor_failure_raises_reason():
    sensor = AthenaQuerySensor(task_id="wait", query_execution_id="q-1")
    sensor.hook = mock_hook()
    sensor.hook.get_query_info.return_value = execution("FAILED", "Access Denied on s3://data")
    with pytest.raises(AirflowException, match="q-1 FAILED: Access Denied on s3://data"):
        sensor.poke(make_context())
