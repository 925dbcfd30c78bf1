"""Operator that runs one Athena query per task try chain, with optional rows in XCom."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeAlias

from airflow.providers.amazon.aws.hooks.athena import AthenaHook
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowException
from botocore.exceptions import BotoCoreError, ClientError

from airflow_sfn_etl.links.athena import AthenaQueryLink
from airflow_sfn_etl.operators.base import DEFER_AFTER_SECONDS, StopsRunOnKill, wait_or_defer
from airflow_sfn_etl.triggers.athena import AthenaQueryTrigger
from airflow_sfn_etl.utils.aws import default_deferrable, error_code, persist_link, trigger_kwargs
from airflow_sfn_etl.utils.events import AthenaQuerySucceeded, WaitFailed
from airflow_sfn_etl.utils.polling import raise_for_event
from airflow_sfn_etl.utils.run_key import earlier_tries, idempotency_token
from airflow_sfn_etl.utils.start_once import start_once

if TYPE_CHECKING:
    import jinja2
    from airflow.sdk import Context

    from airflow_sfn_etl.utils.lineage import Lineage


RESULTS_XCOM_KEY = "query_results"
_INT_TYPES = {"tinyint", "smallint", "integer", "int", "bigint"}
_FLOAT_TYPES = {"float", "real", "double"}

#: One result cell, typed by its Athena column type (integers, floats and booleans converted).
Cell: TypeAlias = "int | float | bool | str | None"


def _convert(value: str | None, athena_type: str) -> Cell:
    if value is None:
        return None
    kind = athena_type.lower()
    try:
        if kind in _INT_TYPES:
            return int(value)
        if kind in _FLOAT_TYPES:
            return float(value)
    except ValueError:
        return value
    if kind == "boolean":
        return value.lower() == "true"
    return value


def fetch_rows(hook: AthenaHook, query_execution_id: str, max_rows: int) -> list[dict[str, Cell]]:
    """Return up to ``max_rows`` result rows as dicts keyed by column name, typed by Athena type."""
    rows: list[dict[str, Cell]] = []
    columns: list[tuple[str, str]] | None = None
    kwargs: dict[str, Any] = {"QueryExecutionId": query_execution_id, "MaxResults": 1000}
    first_page = True
    while len(rows) < max_rows:
        page = hook.get_conn().get_query_results(**kwargs)
        result_set = page.get("ResultSet", {})
        if columns is None:
            info = result_set.get("ResultSetMetadata", {}).get("ColumnInfo", [])
            columns = [(column["Name"], column.get("Type", "varchar")) for column in info]
        raw_rows = [
            [cell.get("VarCharValue") for cell in row.get("Data", [])] for row in result_set.get("Rows", [])
        ]
        if first_page and raw_rows and raw_rows[0] == [name for name, _ in columns]:
            raw_rows = raw_rows[1:]  # Athena repeats the header as the first row of a SELECT
        first_page = False
        for values in raw_rows[: max_rows - len(rows)]:
            typed = zip(columns, values, strict=False)
            rows.append({name: _convert(value, kind) for (name, kind), value in typed})
        token = page.get("NextToken")
        if not token:
            break
        kwargs["NextToken"] = token
    return rows


class AthenaQueryOperator(StopsRunOnKill, AwsBaseOperator[AthenaHook]):
    """Run an Athena query and wait for it; a retry re-attaches to a query still running.

    The ``ClientRequestToken`` is a hash of dag_id/run_id/task_id/map index, the first try of
    the try chain, the workgroup, catalog, database and query text: Athena answers a repeated
    token with the original execution, so a retry (after a lost worker) does not run the query
    twice, while a cleared task (a new try chain) or a changed query runs again. A retry whose
    earlier try's query ended FAILED or CANCELLED runs the query again, under the token of the
    next attempt (the same hash plus ``attempt <n>``), so ``retries`` do retry a failed query.
    Returns the query execution id; with ``result_to_xcom`` the rows (list of dicts) are also
    pushed under the XCom key ``query_results``. FAILED and CANCELLED fail the task with ``StateChangeReason``.

    OpenLineage (with the ``openlineage`` extra): the tables the statement reads and writes, as
    Athena datasets with their Glue schema and S3 location (:func:`~airflow_sfn_etl.utils.lineage.
    athena_query_lineage`), the SQL, and the query id and workgroup as the external run.

    :param query: SQL text, or a path to a ``.sql`` template file.
    :param database: database (schema) the query runs in.
    :param catalog: data catalog name.
    :param workgroup: Athena workgroup.
    :param output_location: S3 URI for results; default: the workgroup's own output location.
    :param allowed_output_buckets: if given, results may only be written to these buckets (an
        ``output_location`` or workgroup location elsewhere fails before the query starts).
    :param result_to_xcom: push the result rows to XCom under ``query_results``.
    :param max_result_rows: maximum number of rows pushed to XCom.
    :param poll_interval: seconds between the first polls (later polls back off up to a minute).
    :param deferrable: wait on the triggerer instead of the worker.
    :param defer_after: when deferrable, seconds to poll the run in the worker before deferring; a
        run that ends sooner needs no deferral (0: defer after one look).
    """

    aws_hook_class = AthenaHook
    run_attribute = "query_execution_id"
    template_fields: Sequence[str] = aws_template_fields(
        "query", "database", "catalog", "workgroup", "output_location", "allowed_output_buckets"
    )
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers = {"query": "sql"}
    operator_extra_links = (AthenaQueryLink(),)
    ui_color = "#44b5e2"

    def __init__(
        self,
        *,
        query: str,
        database: str | None = None,
        catalog: str = "AwsDataCatalog",
        workgroup: str = "primary",
        output_location: str | None = None,
        allowed_output_buckets: Sequence[str] | None = None,
        result_to_xcom: bool = False,
        max_result_rows: int = 100,
        poll_interval: float = 3,
        deferrable: bool = default_deferrable(),
        defer_after: float = DEFER_AFTER_SECONDS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(query, str) or not query.strip():
            raise ValueError("query must be a non-empty SQL string or a path to a .sql file")
        if max_result_rows < 1:
            raise ValueError(f"max_result_rows must be at least 1, not {max_result_rows}")
        self.query = query
        self.database = database
        self.catalog = catalog
        self.workgroup = workgroup
        self.output_location = output_location
        if isinstance(allowed_output_buckets, str):
            raise ValueError("allowed_output_buckets must be a list of bucket names, not a string")
        self.allowed_output_buckets = allowed_output_buckets
        self.result_to_xcom = result_to_xcom
        self.max_result_rows = max_result_rows
        self.poll_interval = poll_interval
        self.deferrable = deferrable
        self.defer_after = defer_after
        self.query_execution_id: str | None = None

    def check_output_bucket(self, location: str, source: str) -> str:
        """Return ``location`` if it is an ``s3://`` URI in an allowed bucket; fail naming the fix."""
        if not location.startswith("s3://") or not location[5:].split("/", 1)[0]:
            raise AirflowException(f"{source} must be an s3://bucket/prefix URI, not {location!r}")
        bucket = location[5:].split("/", 1)[0]
        allowed = [str(b).strip() for b in (self.allowed_output_buckets or [])]
        if self.allowed_output_buckets is not None and bucket not in allowed:
            raise AirflowException(
                f"Task '{self.task_id}': {source} {location!r} is in bucket '{bucket}', which is not one "
                f"of allowed_output_buckets {allowed}: write results to an allowed bucket or add "
                f"'{bucket}' to allowed_output_buckets"
            )
        return location

    def render_template_fields(self, context: Context, jinja_env: jinja2.Environment | None = None) -> None:
        """Render templates; a missing ``.sql`` file fails naming it and where it was looked for."""
        from jinja2 import TemplateNotFound

        try:
            super().render_template_fields(context, jinja_env)
        except TemplateNotFound as error:
            dag = context.get("dag") if hasattr(context, "get") else None
            paths = list(getattr(dag, "template_searchpath", None) or [])
            if dag is not None and getattr(dag, "folder", None):
                paths.append(str(dag.folder))
            raise AirflowException(
                f"Task '{self.task_id}': SQL file '{error.name}' not found "
                f"(looked in {paths or 'the DAG folder'}); "
                "add it there, set the DAG's template_searchpath to its folder, or fix query"
            ) from None

    def resolve_output_location(self) -> str:
        """Return ``output_location``, else the workgroup's ``ResultConfiguration.OutputLocation``."""
        if self.output_location:
            return self.check_output_bucket(self.output_location, "output_location")
        try:
            workgroup = self.hook.get_conn().get_work_group(WorkGroup=self.workgroup)["WorkGroup"]
        except ClientError as error:
            if error_code(error) in ("InvalidRequestException", "ResourceNotFoundException"):
                raise AirflowException(
                    f"Athena workgroup '{self.workgroup}' not found: create it or fix workgroup"
                ) from error
            raise
        location = (workgroup.get("Configuration") or {}).get("ResultConfiguration", {}).get("OutputLocation")
        if not location:
            raise AirflowException(
                f"Athena workgroup '{self.workgroup}' has no query result location: pass "
                "output_location='s3://bucket/prefix/' or set the workgroup's "
                "ResultConfiguration.OutputLocation"
            )
        return self.check_output_bucket(location, f"Athena workgroup '{self.workgroup}' output location")

    def make_trigger(self) -> AthenaQueryTrigger:
        """Return the trigger that waits for this task's query execution."""
        if self.query_execution_id is None:
            raise AirflowException("No Athena query to wait for: execute() has not started one")
        return AthenaQueryTrigger(
            query_execution_id=self.query_execution_id,
            poll_interval=self.poll_interval,
            **trigger_kwargs(self),
        )

    def execute(self, context: Context) -> str:
        if not self.query.strip():
            raise AirflowException("The rendered query is empty")
        output_location = self.resolve_output_location()
        query_context = {"Catalog": self.catalog}
        if self.database:
            query_context["Database"] = self.database
        this_try_began = datetime.now(timezone.utc)
        earlier = earlier_tries(context)
        # Try n of the chain sends the token of the first try whose query did not fail: a retry after
        # a lost worker attaches to the query still running, a retry after a failed query runs anew.
        for attempt in range(earlier + 1):
            extra = (f"attempt {attempt}",) if attempt else ()
            token = idempotency_token(
                context, self.workgroup, self.catalog, self.database or "", self.query, *extra
            )
            # The token makes a repeated start return the same execution, so a throttling burst
            # that outlasts botocore's retries is simply retried (with backoff) here.
            def start(token: str = token) -> str:
                query_id = self.hook.run_query(
                    query=self.query,
                    query_context=query_context,
                    result_configuration={"OutputLocation": output_location},
                    client_request_token=token,
                    workgroup=self.workgroup,
                )
                if not query_id:
                    raise AirflowException("Athena answered StartQueryExecution without a QueryExecutionId")
                return str(query_id)

            query_id, _ = start_once(start, lambda: None, what="Athena query")
            self.query_execution_id = query_id
            if attempt == earlier or not self._failed_before(query_id, this_try_began):
                break
        self.raise_if_killed()
        persist_link(AthenaQueryLink, context, self, query_execution_id=self.query_execution_id)
        event = wait_or_defer(self, self.make_trigger())
        return self._finish(context, event)

    def _failed_before(self, query_execution_id: str, moment: datetime) -> bool:
        """Whether the query ended FAILED or CANCELLED before ``moment`` (an earlier try's query)."""
        status = (self.hook.get_query_info(query_execution_id, use_cache=False) or {}).get(
            "QueryExecution", {}).get("Status", {})
        ended = status.get("CompletionDateTime")
        if status.get("State") not in ("FAILED", "CANCELLED") or not isinstance(ended, datetime):
            return False
        if ended.tzinfo is None:
            ended = ended.replace(tzinfo=timezone.utc)
        if ended >= moment:
            return False
        self.log.info(
            "Athena query %s of an earlier try ended %s (%s): this try runs the query again",
            query_execution_id, status["State"], status.get("StateChangeReason", "no reason given"),
        )
        return True

    def execute_complete(
        self, context: Context, event: AthenaQuerySucceeded | WaitFailed | None = None
    ) -> str:
        """Resume after the trigger: fail with StateChangeReason, or finish the task."""
        succeeded = raise_for_event(event)
        self.query_execution_id = succeeded["query_execution_id"]
        return self._finish(context, succeeded)

    def get_openlineage_facets_on_start(self) -> Lineage:
        """The statement's tables (before it runs: no query id yet)."""
        from airflow_sfn_etl.utils.lineage import AwsCatalog, athena_query_lineage

        return athena_query_lineage(
            AwsCatalog(self), self.query, catalog=self.catalog, database=self.database,
            workgroup=self.workgroup, output_location=self.output_location,
        )

    def get_openlineage_facets_on_complete(self, task_instance: object = None) -> Lineage:
        """The statement's tables, as the catalog has them now, and its query execution."""
        from airflow_sfn_etl.utils.lineage import AwsCatalog, athena_query_lineage

        execution: dict[str, Any] | None = None
        if self.query_execution_id:
            try:
                execution = self.hook.get_conn().get_query_execution(
                    QueryExecutionId=self.query_execution_id
                )["QueryExecution"]
            except (ClientError, BotoCoreError) as error:
                self.log.info("Could not read Athena query %s for lineage: %s", self.query_execution_id, error)
                execution = {"QueryExecutionId": self.query_execution_id}
        return athena_query_lineage(
            AwsCatalog(self), self.query, catalog=self.catalog, database=self.database,
            workgroup=self.workgroup, output_location=self.output_location, execution=execution,
        )

    def _finish(self, context: Context, event: AthenaQuerySucceeded) -> str:
        query_id = event["query_execution_id"]
        self.log.info(
            "Athena query %s succeeded: DataScannedInBytes=%s EngineExecutionTimeInMillis=%s",
            query_id,
            event.get("data_scanned_bytes"),
            event.get("engine_execution_time_ms"),
        )
        if self.result_to_xcom:
            rows = fetch_rows(self.hook, query_id, self.max_result_rows)
            self.log.info("Pushing %d row(s) to XCom key '%s'", len(rows), RESULTS_XCOM_KEY)
            context["ti"].xcom_push(key=RESULTS_XCOM_KEY, value=rows)
        return query_id
