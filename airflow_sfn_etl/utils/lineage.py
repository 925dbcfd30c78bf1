"""OpenLineage datasets and facets for the provider's operators, named as OpenLineage's naming spec says.

| What | Namespace | Name |
| --- | --- | --- |
| Athena table | ``awsathena://athena.{region}.amazonaws.com`` | ``{catalog}.{database}.{table}`` |
| Glue catalog table | ``arn:aws:glue:{region}:{account id}`` | ``table/{database}/{table}`` |
| S3 object or prefix | ``s3://{bucket}`` | ``{key}`` (no leading or trailing ``/``; ``/`` for a bucket) |

A table read from the Glue Data Catalog carries a ``schema`` facet (its columns, then its partition
keys) and a ``symlinks`` facet naming its other identities: the Glue table (type ``TABLE``) for an
Athena table, and its S3 location (type ``LOCATION``).

The OpenLineage provider (``apache-airflow-providers-openlineage``, the ``openlineage`` extra) is
optional: this module imports it inside its functions only, and the operators import this module
inside their ``get_openlineage_facets_*`` methods, which Airflow calls only when it is installed.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeAlias, cast
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from airflow_sfn_etl.utils.aws import client_for

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.utils.mixins import AwsBaseHookMixin
    from airflow.providers.common.compat.openlineage.facet import Dataset, DatasetFacet, RunFacet
    from airflow.providers.openlineage.extractors.base import OperatorLineage

    #: What the ``get_openlineage_facets_*`` methods return.
    Lineage: TypeAlias = OperatorLineage[Dataset, RunFacet]

log = logging.getLogger(__name__)

#: The Athena catalog backed by the account's Glue Data Catalog (compared case-insensitively).
GLUE_BACKED_CATALOG = "awsdatacatalog"
#: Job arguments whose names say "input" (an ``s3://`` value is an input) or "output" (an output).
INPUT_ARGUMENT = re.compile(r"(^|[_-])(input|source|src)([_-]|$)", re.IGNORECASE)
OUTPUT_ARGUMENT = re.compile(r"(^|[_-])(output|target|dest|destination)([_-]|$)", re.IGNORECASE)
#: Job argument pairs naming a Glue catalog table read (first) or written (second).
INPUT_TABLE_ARGUMENTS = (("--database", "--table"), ("--input_database", "--input_table"),
                         ("--source_database", "--source_table"))
OUTPUT_TABLE_ARGUMENTS = (("--output_database", "--output_table"), ("--target_database", "--target_table"))


def athena_namespace(region: str) -> str:
    """``awsathena://athena.{region}.amazonaws.com``."""
    return f"awsathena://athena.{region}.amazonaws.com"


def glue_namespace(region: str, account: str) -> str:
    """``arn:aws:glue:{region}:{account}``."""
    return f"arn:aws:glue:{region}:{account}"


def glue_table_name(database: str, table: str) -> str:
    """``table/{database}/{table}``."""
    return f"table/{database}/{table}"


def s3_identity(uri: str) -> tuple[str, str]:
    """(namespace, name) of an ``s3://bucket/key`` URI: ``s3://bucket`` and the key without edge slashes."""
    parts = urlsplit(uri)
    if parts.scheme not in ("s3", "s3a", "s3n") or not parts.netloc:
        raise ValueError(f"not an S3 URI: {uri!r}")
    return f"s3://{parts.netloc}", parts.path.strip("/") or "/"


def s3_dataset(uri: str) -> Dataset:
    """The S3 object or prefix ``uri`` as a dataset."""
    from airflow.providers.common.compat.openlineage.facet import Dataset

    namespace, name = s3_identity(uri)
    return Dataset(namespace=namespace, name=name)


def external_run_facets(run_id: str | None, source: str, **details: Any) -> dict[str, RunFacet]:
    """``{"externalQuery": ExternalQueryRunFacet}`` for the AWS run ``run_id`` (empty without one).

    ``details`` (job name, workgroup, ...) are added to the facet as additional properties.
    """
    from airflow.providers.common.compat.openlineage.facet import ExternalQueryRunFacet

    if not run_id:
        return {}
    facet = ExternalQueryRunFacet(externalQueryId=run_id, source=source)
    extra = {key: value for key, value in details.items() if value is not None}
    return {"externalQuery": cast("RunFacet", facet.with_additional_properties(**extra)) if extra else facet}


def unique(datasets: Iterable[Dataset | None]) -> list[Dataset]:
    """The datasets without ``None`` and without repeats of one (namespace, name), first kept."""
    seen: set[tuple[str, str]] = set()
    out = []
    for dataset in datasets:
        if dataset is None or (dataset.namespace, dataset.name) in seen:
            continue
        seen.add((dataset.namespace, dataset.name))
        out.append(dataset)
    return out


def operator_lineage(
    inputs: Iterable[Dataset | None] = (),
    outputs: Iterable[Dataset | None] = (),
    run_facets: dict[str, RunFacet] | None = None,
    job_facets: dict[str, Any] | None = None,
) -> Lineage:
    """An ``OperatorLineage`` with each dataset once."""
    from airflow.providers.openlineage.extractors.base import OperatorLineage

    return OperatorLineage(
        inputs=unique(inputs), outputs=unique(outputs), run_facets=run_facets or {}, job_facets=job_facets or {}
    )


class AwsCatalog:
    """Names datasets and reads the Glue Data Catalog with the operator's AWS connection.

    Lookups that fail (a dropped table, missing permissions) give a dataset without the facets
    they would have added: lineage never fails a task, and a name is still worth emitting.
    """

    def __init__(self, operator: AwsBaseHookMixin[Any]) -> None:
        self.operator = operator
        self._tables: dict[tuple[str, str], dict[str, Any] | None] = {}

    @cached_property
    def region(self) -> str:
        region: str = self.operator.hook.conn_region_name
        return region

    @cached_property
    def account(self) -> str:
        account: str = self.operator.hook.account_id
        return account

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` on the operator's connection, region and botocore config."""
        return client_for(self.operator, service)

    @cached_property
    def glue(self) -> Any:
        return self.client("glue")

    def table(self, database: str, table: str) -> dict[str, Any] | None:
        """Glue ``GetTable``'s table, or None when it cannot be read."""
        key = (database.lower(), table.lower())
        if key not in self._tables:
            try:
                self._tables[key] = self.glue.get_table(DatabaseName=database, Name=table)["Table"]
            except (ClientError, BotoCoreError) as error:
                log.info("No Glue catalog entry for %s.%s: %s", database, table, error)
                self._tables[key] = None
        return self._tables[key]

    def remember(self, database: str, table: dict[str, Any]) -> None:
        """Keep a table read by another call (GetTables) for later lookups."""
        self._tables[(database.lower(), str(table["Name"]).lower())] = table

    def table_location(self, database: str, table: str) -> str | None:
        """The table's ``StorageDescriptor.Location``, if it is an S3 URI."""
        found = self.table(database, table)
        location = ((found or {}).get("StorageDescriptor") or {}).get("Location")
        if isinstance(location, str) and location.startswith("s3"):
            return location
        return None

    def table_facets(self, database: str, table: str, *, glue_symlink: bool) -> dict[str, DatasetFacet]:
        """``schema`` and ``symlinks`` facets of a catalog table (empty when it cannot be read)."""
        from airflow.providers.common.compat.openlineage.facet import (
            Identifier,
            SchemaDatasetFacet,
            SchemaDatasetFacetFields,
            SymlinksDatasetFacet,
        )

        found = self.table(database, table)
        if found is None:
            return {}
        facets: dict[str, DatasetFacet] = {}
        descriptor = found.get("StorageDescriptor") or {}
        columns = [*(descriptor.get("Columns") or []), *(found.get("PartitionKeys") or [])]
        if columns:
            facets["schema"] = SchemaDatasetFacet(fields=[
                SchemaDatasetFacetFields(name=c["Name"], type=c.get("Type"), description=c.get("Comment"))
                for c in columns
            ])
        identifiers = []
        if glue_symlink:
            identifiers.append(Identifier(
                namespace=glue_namespace(self.region, found.get("CatalogId") or self.account),
                name=glue_table_name(found.get("DatabaseName", database), found.get("Name", table)),
                type="TABLE",
            ))
        location = self.table_location(database, table)
        if location:
            namespace, name = s3_identity(location)
            identifiers.append(Identifier(namespace=namespace, name=name, type="LOCATION"))
        if identifiers:
            facets["symlinks"] = SymlinksDatasetFacet(identifiers=identifiers)
        return facets

    def athena_table(self, catalog: str, database: str, table: str) -> Dataset:
        """An Athena table; one of the Glue-backed catalog has the Glue table's schema and symlinks."""
        from airflow.providers.common.compat.openlineage.facet import Dataset

        facets: dict[str, DatasetFacet] = {}
        if catalog.lower() == GLUE_BACKED_CATALOG:
            facets = self.table_facets(database, table, glue_symlink=True)
        return Dataset(
            namespace=athena_namespace(self.region), name=f"{catalog}.{database}.{table}", facets=facets
        )

    def glue_table(self, database: str, table: str) -> Dataset:
        """A Glue Data Catalog table, with its schema and its S3 location as a symlink."""
        from airflow.providers.common.compat.openlineage.facet import Dataset

        return Dataset(
            namespace=glue_namespace(self.region, self.account),
            name=glue_table_name(database, table),
            facets=self.table_facets(database, table, glue_symlink=False),
        )

    def arguments_datasets(self, arguments: dict[str, Any]) -> tuple[list[Dataset], list[Dataset]]:
        """(inputs, outputs) named by job arguments: catalog table pairs and ``s3://`` values.

        Tables: ``--database``/``--table`` (also ``--input_*``, ``--source_*``) are read,
        ``--output_database``/``--output_table`` (also ``--target_*``) written. S3 URIs: an
        argument whose name has a word ``input``/``source``/``src`` is read, one with
        ``output``/``target``/``dest`` written; other arguments (``--TempDir``, library paths)
        are not data.
        """
        inputs: list[Dataset] = []
        outputs: list[Dataset] = []
        for pairs, into in ((INPUT_TABLE_ARGUMENTS, inputs), (OUTPUT_TABLE_ARGUMENTS, outputs)):
            for database_arg, table_arg in pairs:
                database, table = arguments.get(database_arg), arguments.get(table_arg)
                if database and table:
                    into.append(self.glue_table(str(database), str(table)))
        for name, value in arguments.items():
            if not isinstance(value, str) or not value.startswith("s3://"):
                continue
            bare = name.lstrip("-")
            if OUTPUT_ARGUMENT.search(bare):
                outputs.append(s3_dataset(value))
            elif INPUT_ARGUMENT.search(bare):
                inputs.append(s3_dataset(value))
        return inputs, outputs


#: ``MSCK REPAIR TABLE [db.]table``: Athena loads the partitions found under the table's location.
MSCK_REPAIR = re.compile(r"^\s*MSCK\s+REPAIR\s+TABLE\s+(?:[`\"]?(\w+)[`\"]?\.)?[`\"]?(\w+)[`\"]?", re.IGNORECASE)
#: Athena ``SubstatementType`` -> OpenLineage lifecycle change of the statement's output tables.
LIFECYCLE = {"CREATE_TABLE": "CREATE", "CREATE_TABLE_AS_SELECT": "CREATE", "DROP_TABLE": "DROP"}


def strip_sql_comments(query: str) -> str:
    """The query without ``--`` line comments (the parser's own splitting keeps the statement)."""
    return "\n".join(line for line in query.splitlines() if not line.lstrip().startswith("--"))


def athena_query_lineage(
    aws: AwsCatalog,
    query: str,
    *,
    catalog: str,
    database: str | None,
    workgroup: str | None = None,
    output_location: str | None = None,
    execution: dict[str, Any] | None = None,
) -> Lineage:
    """Lineage of one Athena statement: tables from openlineage-sql, their schema from Glue.

    Inputs and outputs are the Athena tables the SQL parser finds (CTAS and INSERT read and
    write, DDL writes, SELECT reads); ``MSCK REPAIR TABLE`` (which the parser does not cover)
    reads the table's S3 location and writes the table. A SELECT that writes no table writes its
    result set: the results location is then the output. ``execution`` (GetQueryExecution's
    ``QueryExecution``) adds the ``externalQuery`` run facet (query id, workgroup) and, from its
    ``SubstatementType``, a ``lifecycleStateChange`` facet (CREATE, DROP) on the outputs.
    """
    from airflow.providers.common.compat.openlineage.facet import (
        Error,
        ExtractionErrorRunFacet,
        LifecycleStateChange,
        LifecycleStateChangeDatasetFacet,
        SQLJobFacet,
    )
    from airflow.providers.openlineage.sqlparser import SQLParser

    parser = SQLParser(dialect="trino", default_schema=database)
    job_facets = {"sql": SQLJobFacet(query=SQLParser.normalize_sql(query))}
    run_facets: dict[str, Any] = {}
    inputs: list[Dataset] = []
    outputs: list[Dataset] = []

    def table(name: Any) -> Dataset:
        return aws.athena_table(name.database or catalog, name.schema or database or "default", name.name)

    repair = MSCK_REPAIR.match(strip_sql_comments(query))
    if repair:
        repaired_db, repaired = repair.group(1) or database or "default", repair.group(2)
        location = aws.table_location(repaired_db, repaired) if catalog.lower() == GLUE_BACKED_CATALOG else None
        if location:
            inputs.append(s3_dataset(location))
        outputs.append(aws.athena_table(catalog, repaired_db, repaired))
    else:
        parsed = parser.parse(query)
        if parsed is not None:
            inputs += [table(name) for name in parsed.in_tables]
            outputs += [table(name) for name in parsed.out_tables]
            if parsed.errors:
                run_facets["extractionError"] = ExtractionErrorRunFacet(
                    totalTasks=1,
                    failedTasks=len(parsed.errors),
                    errors=[
                        Error(errorMessage=e.message, stackTrace=None, task=e.origin_statement, taskNumber=e.index)
                        for e in parsed.errors
                    ],
                )
        if not outputs and inputs and output_location:
            outputs.append(s3_dataset(output_location))
    if execution:
        run_facets.update(external_run_facets(
            execution.get("QueryExecutionId"), "awsathena", workgroup=execution.get("WorkGroup") or workgroup
        ))
        change = LIFECYCLE.get(str(execution.get("SubstatementType") or "").upper())
        if change:
            for dataset in outputs:
                if dataset is not None and dataset.namespace.startswith("awsathena://"):
                    dataset.facets = {
                        **(dataset.facets or {}),
                        "lifecycleStateChange": LifecycleStateChangeDatasetFacet(
                            lifecycleStateChange=LifecycleStateChange(change)
                        ),
                    }
    return operator_lineage(inputs, outputs, run_facets, job_facets)


def glue_job_lineage(aws: AwsCatalog, job_name: str, arguments: dict[str, Any], run_id: str | None) -> Lineage:
    """Lineage of a Glue job run: datasets named by its arguments over the job's default arguments.

    The job's ``DefaultArguments`` (GetJob) are merged under the run's, as Glue does; see
    :meth:`AwsCatalog.arguments_datasets` for which arguments name data.
    """
    merged: dict[str, Any] = {}
    try:
        merged.update(aws.glue.get_job(JobName=job_name)["Job"].get("DefaultArguments") or {})
    except (ClientError, BotoCoreError) as error:
        log.info("Could not read Glue job %s's default arguments: %s", job_name, error)
    merged.update(arguments)
    inputs, outputs = aws.arguments_datasets(merged)
    return operator_lineage(inputs, outputs, external_run_facets(run_id, "awsglue", jobName=job_name))


def crawler_lineage(aws: AwsCatalog, crawler_name: str) -> Lineage:
    """Lineage of a crawl: its S3 targets are read; the tables it created or updated are written.

    A table is the crawler's when Glue marked it ``UPDATED_BY_CRAWLER`` with the crawler's name
    (tables it marked ``DEPRECATED_BY_CRAWLER`` are left out); the crawler's database is searched.
    """
    crawler = aws.glue.get_crawler(Name=crawler_name)["Crawler"]
    targets = crawler.get("Targets") or {}
    inputs = [s3_dataset(t["Path"]) for t in targets.get("S3Targets") or [] if str(t.get("Path", "")).startswith("s3")]
    outputs: list[Dataset] = []
    databases = [crawler["DatabaseName"]] if crawler.get("DatabaseName") else []
    databases += [t["DatabaseName"] for t in targets.get("CatalogTargets") or [] if t.get("DatabaseName")]
    for database in dict.fromkeys(databases):
        pages = aws.glue.get_paginator("get_tables").paginate(DatabaseName=database)
        for page in pages:
            for table in page.get("TableList", []):
                params = table.get("Parameters") or {}
                if params.get("UPDATED_BY_CRAWLER") == crawler_name and "DEPRECATED_BY_CRAWLER" not in params:
                    aws.remember(database, table)
                    outputs.append(aws.glue_table(database, table["Name"]))
    last = crawler.get("LastCrawl") or {}
    return operator_lineage(
        inputs, outputs, external_run_facets(last.get("MessagePrefix"), "awsgluecrawler", crawlerName=crawler_name)
    )


def databrew_job_lineage(aws: AwsCatalog, job_name: str, run_id: str | None) -> Lineage:
    """Lineage of a DataBrew job run: its dataset's source is read; its S3 and catalog outputs written."""
    databrew = aws.client("databrew")
    job = databrew.describe_job(Name=job_name)
    inputs: list[Dataset] = []
    if job.get("DatasetName"):
        source = databrew.describe_dataset(Name=job["DatasetName"]).get("Input") or {}
        s3 = source.get("S3InputDefinition")
        catalog = source.get("DataCatalogInputDefinition")
        if s3 and s3.get("Bucket"):
            inputs.append(s3_dataset(f"s3://{s3['Bucket']}/{s3.get('Key', '')}"))
        elif catalog and catalog.get("DatabaseName") and catalog.get("TableName"):
            inputs.append(aws.glue_table(catalog["DatabaseName"], catalog["TableName"]))
    outputs: list[Dataset] = []
    for output in job.get("Outputs") or []:
        location = output.get("Location") or {}
        if location.get("Bucket"):
            outputs.append(s3_dataset(f"s3://{location['Bucket']}/{location.get('Key', '')}"))
    for output in job.get("DataCatalogOutputs") or []:
        if output.get("DatabaseName") and output.get("TableName"):
            outputs.append(aws.glue_table(output["DatabaseName"], output["TableName"]))
    return operator_lineage(inputs, outputs, external_run_facets(run_id, "awsdatabrew", jobName=job_name))


def _json(text: Any) -> dict[str, Any]:
    try:
        value = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _scheduled_tasks(history: Iterable[dict[str, Any]]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(resourceType, resource, parameters) of each ``TaskScheduled`` event of an execution history."""
    for event in history:
        details = event.get("taskScheduledEventDetails")
        if event.get("type") == "TaskScheduled" and details:
            yield details.get("resourceType", ""), details.get("resource", ""), _json(details.get("parameters"))


def state_machine_task_lineage(
    aws: AwsCatalog, resource_type: str, resource: str, parameters: dict[str, Any]
) -> Lineage | None:
    """Lineage of one Task state as Step Functions scheduled it (its resolved parameters).

    Covers what the provider's operators cover: Athena queries, Glue job runs and crawls,
    DataBrew job runs; other tasks (SNS, the crawler polls) have no datasets (None).
    """
    action = resource.split(".")[0].lower()  # "startJobRun.sync" -> "startjobrun"
    service = resource_type.lower()
    if service == "athena" and action == "startqueryexecution" and parameters.get("QueryString"):
        context = parameters.get("QueryExecutionContext") or {}
        return athena_query_lineage(
            aws,
            str(parameters["QueryString"]),
            catalog=context.get("Catalog") or "AwsDataCatalog",
            database=context.get("Database"),
            workgroup=parameters.get("WorkGroup"),
            output_location=(parameters.get("ResultConfiguration") or {}).get("OutputLocation"),
        )
    if service == "glue" and action == "startjobrun" and parameters.get("JobName"):
        return glue_job_lineage(aws, str(parameters["JobName"]), parameters.get("Arguments") or {}, None)
    if service in ("glue", "aws-sdk:glue") and action == "startcrawler" and parameters.get("Name"):
        return crawler_lineage(aws, str(parameters["Name"]))
    if service == "databrew" and action == "startjobrun" and parameters.get("Name"):
        return databrew_job_lineage(aws, str(parameters["Name"]), None)
    return None


def step_functions_execution_lineage(
    aws: AwsCatalog, execution_arn: str | None, state_machine_arn: str
) -> Lineage:
    """Lineage of a state machine execution: the union of the datasets of the tasks it scheduled.

    The execution history's ``TaskScheduled`` events carry each task's parameters as resolved
    from the execution input, so a machine compiled from a DAG gets the datasets its DAG's
    tasks would have had with the same params. The execution is the ``externalQuery`` run.
    """
    inputs: list[Dataset] = []
    outputs: list[Dataset] = []
    if execution_arn:
        sfn = aws.client("stepfunctions")
        pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
        history = [event for page in pages for event in page.get("events", [])]
        for resource_type, resource, parameters in _scheduled_tasks(history):
            try:
                task = state_machine_task_lineage(aws, resource_type, resource, parameters)
            except (ClientError, BotoCoreError) as error:
                log.info("No lineage for task %s:%s of %s: %s", resource_type, resource, execution_arn, error)
                continue
            if task is not None:
                inputs += task.inputs
                outputs += task.outputs
    return operator_lineage(
        inputs, outputs, external_run_facets(execution_arn, "awsstepfunctions", stateMachineArn=state_machine_arn)
    )
