"""Corpus DAGs that name their resources literally run the same on both engines.

``test_corpus_engines.py`` runs the corpus DAGs that take every resource name from their params. The
other compiling corpus DAGs name their Glue jobs, crawlers, DataBrew job, tables, topics and Lambda
functions by literal names, as users write them: this module provisions those resources on the sandbox
once (tiny CSV data), then runs each DAG on Airflow (``dag.test()``) and its compiled state machine on
the sandbox's Step Functions, one after the other, resetting between the runs what a run leaves.

What each run leaves is compared: the Athena queries it ran (text, state, rows), the Glue job runs it
started (job, arguments, state), DataBrew runs, the tables it created (columns, and rows of CTAS
tables), the rows the DataBrew job wrote, the SNS messages each topic's subscriber got, the values the
Lambda functions returned. Run ids are written ``<glue:job>`` and query ids ``<athena:query>``, so a
message or argument carrying one compares by what it names. Both engines must leave the same, and
that must equal what the DAG is written to do, computed from the raw CSV text with DuckDB.

The DAGs with trigger rules (all_done, one_failed, none_failed, all_done_min_one_success, a teardown)
also run with one task made to fail by the sandbox's fault rules: both engines must then run the same
cleanup, alert or teardown, and end the run the same way.

Both engines run the same in-memory DAG, its retry delays and poll intervals shortened to a second
(a failing path still makes every retry), compiled before Airflow runs it; ``test_corpus.py`` compiles
the files as written.

DAGs that invoke Lambda functions run their handlers (written below) on the sandbox's Lambda runtime.
"""

from __future__ import annotations

import copy
import io
import json
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import duckdb
import jinja2
import pyarrow.parquet as pq
import pytest

from airflow_sfn_etl.asl import compile_dag, definition
from airflow_sfn_etl.operators.glue import RUN_KEY_ARGUMENT
from airflow_sfn_etl_sandbox.client import SandboxClient
from tests.asl.test_corpus_engines import ACCOUNT, CORPUS, corpus_bag

__all__ = ["corpus_bag"]  # the fixture, shared with the comparison of the DAGs that take params

pytestmark = [pytest.mark.e2e]

BUCKET, RESULTS, RAW, CLEAN = "corpus-bucket", "corpus-results", "corpus-raw", "corpus-clean"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/corpus"
#: A run's retry delay (the DAGs' own are 10 s to 2 min): a failing path still makes every retry.
RETRY_DELAY = timedelta(seconds=1)

#: The Glue jobs the DAGs name; each runs a Python shell script that does nothing.
JOBS = [
    "corpus_job", "extract_job", "load_job", "orders", "customers", "items", "daily", "corpus_loader",
    "load_orders", "load_customers", "export_customers", "corpus_load", "corpus_transform", "corpus_extract",
    "corpus_orders", "corpus_customers", "corpus_join", "corpus_publish", "corpus_export",
]
TOPICS = ["corpus-topic", "corpus-alerts", "reports"]

#: Tables the test creates over the CSV files: (database, table, columns, CSV text).
DATA = [
    ("corpus_db", "events", "id int, kind string", "id,kind\n1,click\n2,view\n3,click\n"),
    ("corpus_db", "orders", "id int, amount int", "id,amount\n1,10\n2,20\n3,30\n"),
    ("corpus_db", "customers", "id int, name string", "id,name\n2,ann\n3,bob\n4,cy\n"),
    ("sales", "orders", "id int, customer_id int, region string, amount int, order_date string",
     "id,customer_id,region,amount,order_date\n1,2,east,5,2026-01-01\n2,3,west,7,2026-01-01\n"
     "3,9,east,11,2026-01-02\n4,2,east,13,2026-01-01\n5,3,north,17,2026-01-01\n"),
    ("sales", "customers", "id int, name string", "id,name\n2,ann\n3,bob\n"),
]
#: What the crawlers crawl: crawler -> (database, S3 folder, CSV text).
CRAWLED = {
    "corpus_crawler": ("corpus_raw", "events", "id,kind\n1,click\n2,view\n"),
    "raw_zone": ("raw", "orders", "id,amount\n1,4\n2,\n3,9\n"),
}
#: The DataBrew job cleans raw_zone's orders (rows without an amount go) into the clean_raw.orders table.
DATABREW_JOB = "clean-raw-orders"
CLEAN_TABLE = ("clean_raw", "orders", "id int, amount int")
PARQUET = ("ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' "
           "STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat' "
           "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'")
DATABASES = ["corpus_db", "sales", "corpus_raw", "raw", "clean_raw", "clean"]

#: The Lambda functions' handlers: each checks its event, so a wrong payload fails the run.
HANDLERS = {
    ("us-east-1", "prepare-source"): """
def handler(event, context):
    if set(event) != {"source"} or event["source"] not in ("crm", "erp", "web"):
        raise ValueError("unexpected event %r" % (event,))
    return {"prepared": event["source"]}
""",
    ("us-east-1", "publish-catalog"): """
def handler(event, context):
    return {"published": sorted(event["sources"]), "count": len(event["sources"])}
""",
    ("us-east-1", "corpus-prepare"): """
def handler(event, context):
    if set(event) != {"bucket", "mode"}:
        raise ValueError("unexpected event %r" % (event,))
    return {"prepared": "s3://%s/" % event["bucket"], "mode": event["mode"]}
""",
}
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def _zip(code: str, module: str = "handler") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{module}.py", code)
    return buffer.getvalue()


def _lambda_role(sb: Any) -> str:
    iam = sb.client("iam")
    try:
        return str(iam.get_role(RoleName="corpus-lambda")["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        return str(iam.create_role(RoleName="corpus-lambda", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"])


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _statement(query: str) -> str:
    """A query's text without its ``--`` comments, on one line (the compiled machine sends the SQL
    without comments; Airflow sends the rendered file as it is)."""
    return " ".join(" ".join(line.split("--", 1)[0] for line in query.splitlines()).split())


class World:
    """The resources the DAGs name, on the sandbox, and what a run leaves in them."""

    def __init__(self, sb: Any) -> None:
        self.sb = sb
        self.s3, self.glue, self.athena = sb.client("s3"), sb.client("glue"), sb.client("athena")
        self.sqs, self.sns, self.sfn = sb.client("sqs"), sb.client("sns"), sb.client("stepfunctions")
        self.databrew = sb.client("databrew")
        for bucket in (BUCKET, RESULTS, RAW, CLEAN):
            self.s3.create_bucket(Bucket=bucket)
        for database in DATABASES:
            self.glue.create_database(DatabaseInput={"Name": database})
        self.s3.put_object(Bucket=BUCKET, Key="scripts/noop.py", Body=b"print('done')\n")
        for job in JOBS:
            self.glue.create_job(
                Name=job, Role=ROLE, ExecutionProperty={"MaxConcurrentRuns": 5},
                Command={"Name": "pythonshell", "ScriptLocation": f"s3://{BUCKET}/scripts/noop.py"},
            )
        for database, table, columns, text in DATA:
            self.s3.put_object(Bucket=BUCKET, Key=f"data/{database}/{table}/{table}.csv", Body=text.encode())
            self.ddl(f"CREATE EXTERNAL TABLE {database}.{table} ({columns}) ROW FORMAT DELIMITED FIELDS "
                     f"TERMINATED BY ',' LOCATION 's3://{BUCKET}/data/{database}/{table}/' "
                     "TBLPROPERTIES ('skip.header.line.count'='1')")
        database, table, columns = CLEAN_TABLE
        self.ddl(f"CREATE EXTERNAL TABLE {database}.{table} ({columns}) {PARQUET} "
                 f"LOCATION 's3://{CLEAN}/{table}/'")
        self.base_tables = self.tables()
        for crawler, (database, folder, text) in CRAWLED.items():
            self.s3.put_object(Bucket=RAW, Key=f"{folder}/{folder}.csv", Body=text.encode())
            self.glue.create_crawler(Name=crawler, Role=ROLE, DatabaseName=database,
                                     Targets={"S3Targets": [{"Path": f"s3://{RAW}/{folder}/"}]})
        self.databrew.create_dataset(
            Name="raw-orders", Format="CSV", FormatOptions={"Csv": {"Delimiter": ",", "HeaderRow": True}},
            Input={"S3InputDefinition": {"Bucket": RAW, "Key": "orders/orders.csv"}},
        )
        self.databrew.create_recipe(Name="clean-orders", Steps=[
            {"Action": {"Operation": "REMOVE_MISSING", "Parameters": {"sourceColumn": "amount"}}}])
        self.databrew.publish_recipe(Name="clean-orders")
        self.databrew.create_recipe_job(
            Name=DATABREW_JOB, DatasetName="raw-orders", RoleArn=ROLE,
            RecipeReference={"Name": "clean-orders", "RecipeVersion": "1.0"},
            DataCatalogOutputs=[{"DatabaseName": CLEAN_TABLE[0], "TableName": CLEAN_TABLE[1], "Overwrite": True}],
        )
        self.athena.create_work_group(Name="reporting", Configuration={})
        # corpus_all_done's query names no output location: the primary workgroup's is used (moto has
        # no UpdateWorkGroup: the workgroup is made again with one).
        self._primary({"ResultConfiguration": {"OutputLocation": f"s3://{RESULTS}/primary/"}})
        self.topic_arns: dict[str, str] = {}
        self.subscribers: dict[str, str] = {}
        for topic in TOPICS:
            arn = self.sns.create_topic(Name=topic)["TopicArn"]
            url = self.sqs.create_queue(QueueName=f"{topic}-subscriber")["QueueUrl"]
            queue_arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"]
            self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
            self.topic_arns[topic], self.subscribers[topic] = arn, url
        role = _lambda_role(sb)
        for (region, function), code in HANDLERS.items():
            boto3.client("lambda", endpoint_url=sb.endpoint_url, region_name=region).create_function(
                FunctionName=function, Runtime="python3.12", Role=role, Handler="handler.handler",
                Code={"ZipFile": _zip(code)},
            )

    def _primary(self, configuration: dict[str, Any]) -> None:
        self.athena.delete_work_group(WorkGroup="primary")
        self.athena.create_work_group(Name="primary", Configuration=configuration)

    def close(self) -> None:
        self._primary({})

    def ddl(self, query: str) -> None:
        qid = self.athena.start_query_execution(
            QueryString=query, ResultConfiguration={"OutputLocation": f"s3://{RESULTS}/setup/"})["QueryExecutionId"]
        state = self._wait_query(qid)
        assert state["State"] == "SUCCEEDED", (query, state)

    def _wait_query(self, qid: str) -> dict[str, Any]:
        for _ in range(300):
            status = self.athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
            if status["State"] not in ("QUEUED", "RUNNING"):
                return dict(status)
            time.sleep(0.1)
        raise AssertionError(f"query {qid} still running")

    # -- what a run leaves ---------------------------------------------------------------------------
    def tables(self) -> dict[str, dict[str, Any]]:
        out = {}
        for database in DATABASES:
            for table in self.glue.get_tables(DatabaseName=database)["TableList"]:
                descriptor = table.get("StorageDescriptor", {})
                out[f"{database}.{table['Name']}"] = {
                    "columns": [(c["Name"], c["Type"]) for c in descriptor.get("Columns", [])],
                    "location": descriptor.get("Location"),
                }
        return out

    def _keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return [o["Key"] for page in pages for o in page.get("Contents", [])]

    def _parquet_rows(self, location: str) -> list[tuple[Any, ...]]:
        bucket, _, prefix = location.removeprefix("s3://").partition("/")
        rows: list[tuple[Any, ...]] = []
        for key in self._keys(bucket, prefix):
            if key.endswith(".parquet") or "." not in key.rsplit("/", 1)[-1]:
                body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                rows.extend(tuple(r.values()) for r in pq.read_table(io.BytesIO(body)).to_pylist())
        return sorted(rows)

    def prepare(self) -> dict[str, Any]:
        """Remove what a run leaves (tables it made, outputs, messages); return the ids of runs so far."""
        for name in set(self.tables()) - set(self.base_tables):
            database, table = name.split(".")
            self.glue.delete_table(DatabaseName=database, Name=table)
        for bucket, prefix in ((RESULTS, ""), (CLEAN, ""), (BUCKET, "staging/"), (BUCKET, "out/")):
            for key in self._keys(bucket, prefix):
                self.s3.delete_object(Bucket=bucket, Key=key)
        for url in self.subscribers.values():
            self._drain(url)
        self.run_keys: list[str] = []
        return {
            "queries": set(self._query_ids()),
            "glue": {run["Id"] for job in JOBS for run in self.glue.get_job_runs(JobName=job)["JobRuns"]},
            "databrew": {r["RunId"] for r in self.databrew.list_job_runs(Name=DATABREW_JOB)["JobRuns"]},
        }

    def _query_ids(self) -> list[str]:
        ids: list[str] = []
        for workgroup in ("primary", "reporting"):
            pages = self.athena.get_paginator("list_query_executions").paginate(WorkGroup=workgroup)
            ids.extend(qid for page in pages for qid in page["QueryExecutionIds"])
        return ids

    def _drain(self, url: str) -> list[str]:
        bodies: list[str] = []
        while True:
            got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return bodies
            for message in got:
                bodies.append(message["Body"])
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def outcome(self, before: dict[str, Any], lambda_results: list[Any]) -> dict[str, Any]:
        ids: dict[str, str] = {}
        queries = []
        for qid in set(self._query_ids()) - before["queries"]:
            execution = self.athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
            text = _statement(execution["Query"])
            ids[qid] = f"<athena:{text}>"
            rows = None
            if execution["Status"]["State"] == "SUCCEEDED" and execution.get("StatementType") == "DML":
                result = self.athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
                values = [[d.get("VarCharValue") for d in row["Data"]] for row in result]
                rows = values[:1] + sorted(values[1:])
            queries.append((text, execution["Status"]["State"], rows))
        glue_runs = []
        for job in JOBS:
            for run in self.glue.get_job_runs(JobName=job)["JobRuns"]:
                if run["Id"] not in before["glue"]:
                    ids[run["Id"]] = f"<glue:{job}>"
                    arguments = dict(run.get("Arguments") or {})
                    # The provider's GlueJobOperator tags its runs to re-attach to them on a retry.
                    key = arguments.pop(RUN_KEY_ARGUMENT, None)
                    if key is not None:
                        self.run_keys.append(key)
                    glue_runs.append((job, arguments, run["JobRunState"]))
        databrew_runs = [
            r["State"] for r in self.databrew.list_job_runs(Name=DATABREW_JOB)["JobRuns"]
            if r["RunId"] not in before["databrew"]
        ]
        made = {}
        for name, table in self.tables().items():
            if name not in self.base_tables:
                made[name] = {"columns": table["columns"]}
                if name == "corpus_db.report":  # a CTAS table: its Parquet rows
                    made[name]["rows"] = self._parquet_rows(table["location"])
                else:
                    made[name]["location"] = table["location"]
        sns = []
        for topic, url in self.subscribers.items():
            for envelope in map(json.loads, self._drain(url)):
                sns.append((topic, envelope.get("Subject"), envelope["Message"]))
        outcome = {
            "athena": sorted(queries, key=_key),
            "glue": sorted(glue_runs, key=_key),
            "databrew": databrew_runs,
            "tables made": made,
            "clean rows": self._parquet_rows(f"s3://{CLEAN}/orders/"),
            "sns": sorted(sns, key=_key),
            "lambda results": sorted(lambda_results, key=_key),
        }
        text = json.dumps(outcome, sort_keys=True, default=str)
        for raw_id, name in ids.items():
            text = text.replace(raw_id, name)
        return dict(json.loads(text))


@pytest.fixture(scope="module")
def world(sandbox: Any, airflow_db: Any) -> Any:
    sandbox.reset()
    made = World(sandbox)
    yield made
    made.close()


# -- what the DAGs are written to do, from the raw CSV text --------------------------------------------
def _read_csv(con: duckdb.DuckDBPyConnection, name: str, text: str) -> None:
    """``name`` as a DuckDB table of the CSV text (DuckDB's own type detection)."""
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as handle:
        handle.write(text)
    con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_csv('{handle.name}', header = true)")
    Path(handle.name).unlink()


def _duck() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for database, table, _, text in DATA:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {database}")
        _read_csv(con, f"{database}.{table}", text)
    return con


def _rows(header: list[str], sql: str) -> list[list[str | None]]:
    """The query's rows from DuckDB on the raw CSVs, as Athena's result set lists them (text)."""
    found = _duck().execute(sql).fetchall()
    return [header] + sorted([None if v is None else str(v) for v in row] for row in found)


def _glue(job: str, args: dict[str, str] | None = None) -> list[Any]:
    return [job, args or {}, "SUCCEEDED"]


def _query(text: str, rows: list[list[str | None]] | None = None) -> list[Any]:
    return [_statement(text), "SUCCEEDED", rows]


def _crawled(crawler: str) -> dict[str, Any]:
    """The table a crawler makes of one CSV folder: named after the folder, each column typed as the
    CSV classifier does (whole numbers bigint, text string)."""
    database, folder, text = CRAWLED[crawler]
    con = duckdb.connect()
    _read_csv(con, "crawled", text)
    types = {"BIGINT": "bigint", "VARCHAR": "string"}
    return {f"{database}.{folder}": {
        "columns": [[name, types[kind]] for name, kind, *_ in con.execute("DESCRIBE crawled").fetchall()],
        "location": f"s3://{RAW}/{folder}/",
    }}


def _clean_rows() -> list[list[int]]:
    con = duckdb.connect()
    _read_csv(con, "raw_orders", CRAWLED["raw_zone"][2])
    return [list(r) for r in con.execute("SELECT id, amount FROM raw_orders WHERE amount IS NOT NULL "
                                         "ORDER BY id").fetchall()]


def _nothing(**parts: Any) -> dict[str, Any]:
    return {"athena": [], "glue": [], "databrew": [], "tables made": {}, "clean rows": [], "sns": [],
            "lambda results": []} | parts


def _sorted(outcome: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(outcome | {
        key: sorted(outcome[key], key=_key) for key in ("athena", "glue", "sns", "lambda results")
    }))


COUNT_ORDERS = "SELECT count(*) FROM corpus_db.orders"
SQL_FILE = CORPUS / "sql" / "daily_summary.sql"
SQL_PARAMS = {"database": "sales", "day": "2026-01-01"}


def _mapped_athena() -> dict[str, Any]:
    return _nothing(
        athena=[
            _query("SELECT count(*) FROM orders", _rows(["_col0"], "SELECT count(*) FROM sales.orders")),
            _query("SELECT region, sum(amount) FROM orders GROUP BY region",
                   _rows(["region", "_col1"], "SELECT region, sum(amount) FROM sales.orders GROUP BY region")),
            _query("SELECT o.id FROM orders o JOIN sales.customers c ON o.customer_id = c.id",
                   _rows(["id"], "SELECT o.id FROM sales.orders o JOIN sales.customers c ON o.customer_id = c.id")),
        ],
        sns=[["corpus-topic", None, "counted"]],
    )


def _sql_file() -> dict[str, Any]:
    query = jinja2.Template(SQL_FILE.read_text()).render(params=SQL_PARAMS)
    return _nothing(
        athena=[_query(query, _rows(["region", "revenue"], query.split("\n", 1)[1]))],
        sns=[["reports", "Report", "daily summary ready"]],
    )


#: (file, dag_id) -> (what the DAG is written to leave, params to run it with).
EXPECTED: dict[tuple[str, str], tuple[Callable[[], dict[str, Any]], dict[str, Any]]] = {
    ("taskflow_dag.py", "corpus_taskflow"): (lambda: _nothing(
        glue=[_glue("corpus_job", {"--out": f"s3://{BUCKET}/out/"})],
        athena=[_query("SELECT count(*) AS n FROM corpus_db.events",
                       _rows(["n"], "SELECT count(*) FROM corpus_db.events"))],
        sns=[["corpus-topic", None, "Corpus flow finished"]],
    ), {}),
    ("trigger_rules_dag.py", "corpus_all_done"): (lambda: _nothing(
        glue=[_glue("corpus_job")], athena=[_query("DROP TABLE IF EXISTS corpus_db.staging")],
        sns=[["corpus-topic", None, "cleanup done"]],
    ), {}),
    # The load succeeds, so the one_failed alert is skipped on Airflow and not entered on Step Functions.
    ("trigger_rules_dag.py", "corpus_on_failure"): (lambda: _nothing(
        glue=[_glue("extract_job"), _glue("load_job")],
    ), {}),
    ("mapped_dag.py", "corpus_mapped"): (lambda: _nothing(
        glue=[_glue("orders"), _glue("customers"), _glue("items"),
              _glue("daily", {"--day": "1"}), _glue("daily", {"--day": "2"})],
        sns=[["corpus-topic", None, "loaded"]],
    ), {}),
    ("mapped_athena_dag.py", "corpus_mapped_athena"): (_mapped_athena, {"results": f"s3://{RESULTS}/athena/"}),
    ("mapped_glue_kwargs_dag.py", "corpus_mapped_glue_kwargs"): (lambda: _nothing(
        glue=[_glue("corpus_loader", {"--table": "orders", "--mode": "full"}),
              _glue("corpus_loader", {"--table": "customers", "--mode": "full"}),
              _glue("corpus_loader", {"--table": "items", "--mode": "delta"})],
    ), {}),
    ("crossed_dependencies_dag.py", "corpus_crossed_dependencies"): (lambda: _nothing(
        glue=[_glue("load_orders"), _glue("load_customers"), _glue("export_customers")],
        athena=[_query("CREATE TABLE corpus_db.report AS SELECT * FROM corpus_db.orders JOIN corpus_db.customers "
                       "USING (id)")],
        **{"tables made": {"corpus_db.report": {
            "columns": [["id", "int"], ["amount", "int"], ["name", "string"]],
            "rows": [list(r) for r in sorted(_duck().execute(
                "SELECT * FROM corpus_db.orders JOIN corpus_db.customers USING (id)").fetchall())],
        }}},
    ), {}),
    # The staging table is made, then dropped by the teardown: none is left.
    ("setup_teardown_dag.py", "corpus_setup_teardown"): (lambda: _nothing(
        glue=[_glue("corpus_load"), _glue("corpus_transform")],
        athena=[_query(f"CREATE EXTERNAL TABLE corpus_db.staging (id int) LOCATION 's3://{BUCKET}/staging/'"),
                _query("DROP TABLE IF EXISTS corpus_db.staging")],
    ), {}),
    ("more_trigger_rules_dag.py", "corpus_none_failed"): (lambda: _nothing(
        glue=[_glue(j) for j in ("corpus_extract", "corpus_orders", "corpus_customers", "corpus_join",
                                 "corpus_publish")],
        sns=[["corpus-topic", None, "done"]],
    ), {}),
    ("more_trigger_rules_dag.py", "corpus_crawl_then_cleanup"): (lambda: _nothing(
        sns=[["corpus-topic", None, "crawl ended"]], **{"tables made": _crawled("corpus_crawler")},
    ), {}),
    ("xcom_dag.py", "corpus_xcom"): (lambda: _nothing(
        athena=[_query(COUNT_ORDERS, _rows(["_col0"], COUNT_ORDERS))],
        glue=[_glue("corpus_export", {"--count_query": f"<athena:{COUNT_ORDERS}>", "--crawler": "corpus_crawler"})],
        sns=[["corpus-topic", None, f"export run <glue:corpus_export> after query <athena:{COUNT_ORDERS}>"]],
        **{"tables made": _crawled("corpus_crawler")},
    ), {}),
    ("stock_crawler_databrew_dag.py", "corpus_crawler_databrew"): (lambda: _nothing(
        athena=[_query("SELECT count(*) FROM clean_raw.orders", [["_col0"], [str(len(_clean_rows()))]])],
        databrew=["SUCCEEDED"], **{"tables made": _crawled("raw_zone"), "clean rows": _clean_rows()},
    ), {}),
    ("user_athena_sql_file_dag.py", "corpus_athena_sql_file"): (
        _sql_file, SQL_PARAMS | {"results": f"s3://{RESULTS}/summary/"}),
    ("stock_operators_dag.py", "corpus_stock_operators"): (lambda: _nothing(
        glue=[_glue("corpus_job", {"--out": f"s3://{BUCKET}/out/"})],
        athena=[_query("SELECT count(*) FROM corpus_db.events",
                       _rows(["_col0"], "SELECT count(*) FROM corpus_db.events"))],
        sns=[["corpus-topic", "Corpus", "done"]], **{"tables made": _crawled("corpus_crawler")},
        **{"lambda results": [{"prepared": f"s3://{BUCKET}/", "mode": "full"}]},
    ), {"bucket": BUCKET, "topic_arn": f"arn:aws:sns:us-east-1:{ACCOUNT}:corpus-topic"}),
    ("user_lambda_fanout_dag.py", "corpus_lambda_fanout"): (lambda: _nothing(
        **{"lambda results": [{"prepared": s} for s in ("crm", "erp", "web")]
           + [{"published": ["crm", "erp", "web"], "count": 3}]},
    ), {}),
}


def _cases() -> list[Any]:
    return [
        pytest.param(file, dag_id, id=dag_id) for file, dag_id in EXPECTED
    ]


def _lambda_xcom(run: Any, dag: Any) -> list[Any]:
    """What the Lambda tasks returned on Airflow (the operator pushes the function's payload)."""
    from airflow.providers.amazon.aws.operators.lambda_function import LambdaInvokeFunctionOperator

    lambda_tasks = {t.task_id for t in dag.tasks if t.task_type == LambdaInvokeFunctionOperator.__name__}
    pulled = [ti.xcom_pull(task_ids=ti.task_id, map_indexes=ti.map_index)
              for ti in run.get_task_instances() if ti.task_id in lambda_tasks]
    return [json.loads(value) if isinstance(value, str) else value for value in pulled]


def _lambda_outputs(events: list[dict[str, Any]]) -> list[Any]:
    """What the Lambda tasks returned on Step Functions (lambda:invoke's Payload)."""
    out = []
    for event in events:
        details = event.get("taskSucceededEventDetails")
        if details and details["resourceType"] == "lambda":
            payload = json.loads(details["output"])["Payload"]
            out.append(json.loads(payload) if isinstance(payload, str) else payload)
    return out


def _run_both(
    world: World, corpus_bag: Any, monkeypatch: Any, file: str, dag_id: str, params: dict[str, Any]
) -> tuple[tuple[str, dict[str, Any]], tuple[str, dict[str, Any]]]:
    """Run the DAG on Airflow, then its compiled machine on Step Functions, each after a reset of what
    a run leaves: ((Airflow's run state, outcome), (the execution's status, outcome))."""
    bundle = {"name": "corpus", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
              "kwargs": {"path": str(CORPUS), "refresh_interval": 0}}
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps([bundle]))
    dag = copy.deepcopy(corpus_bag.get_dag(dag_id))
    for task in dag.tasks:
        task.retry_delay = RETRY_DELAY
        if getattr(task, "deferrable", False):
            # Deferring needs aiobotocore, which the test environment lacks: the task waits in the
            # worker instead (the same calls, polled by the operator rather than by a trigger).
            task.deferrable = False
        for wait in ("poke_interval", "poll_interval", "waiter_delay"):
            # The DAGs poll every 6 to 30 s; a second finds the same end sooner.
            if isinstance(getattr(task, wait, None), (int, float)) and getattr(task, wait) > 1:
                setattr(task, wait, 1)

    # The DAG as Airflow runs it (its waits shortened as above; test_corpus.py compiles the files),
    # compiled before the run (operators keep what they resolved while running).
    document = definition(compile_dag(dag))

    before = world.prepare()
    run = dag.test(run_conf=params)
    on_airflow = world.outcome(before, _lambda_xcom(run, dag))
    assert all(key.startswith(f"{dag_id}/{run.run_id}/") for key in world.run_keys), world.run_keys
    airflow_state = (str(run.state), {ti.task_id: str(ti.state) for ti in run.get_task_instances()})

    before = world.prepare()
    arn = world.sfn.create_state_machine(
        name=f"{dag_id.replace('_', '-')}-{len(world.sfn.list_state_machines()['stateMachines'])}",
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn",
        definition=json.dumps(document),
    )["stateMachineArn"]
    # The execution's input is the run's params, the DAG's defaults included (as StepFunctionRunOperator
    # passes them).
    run_input = dict(dag.params.dump()) | params
    execution = world.sfn.start_execution(stateMachineArn=arn, input=json.dumps(run_input))["executionArn"]
    for _ in range(1500):
        described = world.sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            break
        time.sleep(0.2)
    events = world.sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    on_step_functions = world.outcome(before, _lambda_outputs(events))
    assert world.run_keys == []
    return (airflow_state[0], on_airflow), (described["status"], on_step_functions)


@pytest.mark.parametrize(("file", "dag_id"), _cases())
def test_a_corpus_dag_naming_its_resources_leaves_the_same_on_airflow_and_on_step_functions(
    file: str, dag_id: str, world: World, sandbox_env: Any, corpus_bag: Any, monkeypatch: Any
) -> None:
    expected, params = EXPECTED[(file, dag_id)]
    (state, on_airflow), (status, on_step_functions) = _run_both(
        world, corpus_bag, monkeypatch, file, dag_id, params)
    assert (state, status) == ("success", "SUCCEEDED")
    assert on_step_functions == on_airflow
    assert on_airflow == _sorted(expected())


def _failed(job: str) -> list[Any]:
    return [job, {}, "FAILED"]


#: (file, dag_id, what fails) -> (what the DAG is written to leave then, how the run ends). Airflow's
#: run ends by its leaf tasks: it succeeds when they all succeeded or were skipped (a task after an
#: all_done / one_failed cleanup is such a leaf), and a teardown leaf does not count.
FAILURES: dict[tuple[str, str, str, str], tuple[Callable[[], dict[str, Any]], str]] = {
    ("trigger_rules_dag.py", "corpus_on_failure", "glue_job", "load_job"): (lambda: _nothing(
        glue=[_glue("extract_job"), _failed("load_job")], sns=[["corpus-alerts", None, "the load failed"]],
    ), "success"),
    ("trigger_rules_dag.py", "corpus_all_done", "glue_job", "corpus_job"): (lambda: _nothing(
        glue=[_failed("corpus_job")], athena=[_query("DROP TABLE IF EXISTS corpus_db.staging")],
        sns=[["corpus-topic", None, "cleanup done"]],
    ), "success"),
    ("more_trigger_rules_dag.py", "corpus_none_failed", "glue_job", "corpus_publish"): (lambda: _nothing(
        glue=[_glue(j) for j in ("corpus_extract", "corpus_orders", "corpus_customers", "corpus_join")]
        + [_failed("corpus_publish")],
        sns=[["corpus-topic", None, "done"]],
    ), "success"),
    ("more_trigger_rules_dag.py", "corpus_crawl_then_cleanup", "crawler", "corpus_crawler"): (lambda: _nothing(
        sns=[["corpus-topic", None, "crawl ended"]],
    ), "success"),
    ("setup_teardown_dag.py", "corpus_setup_teardown", "glue_job", "corpus_load"): (lambda: _nothing(
        glue=[_failed("corpus_load")],
        athena=[_query(f"CREATE EXTERNAL TABLE corpus_db.staging (id int) LOCATION 's3://{BUCKET}/staging/'"),
                _query("DROP TABLE IF EXISTS corpus_db.staging")],
    ), "failed"),
}


@pytest.mark.parametrize(("file", "dag_id", "target", "name"), sorted(FAILURES), ids=lambda v: str(v))
def test_a_corpus_dag_whose_task_fails_leaves_the_same_on_airflow_and_on_step_functions(
    file: str, dag_id: str, target: str, name: str, world: World, sandbox_env: Any, corpus_bag: Any,
    monkeypatch: Any,
) -> None:
    SandboxClient(sandbox_env.endpoint_url).fail(target, name, message=f"{name} fails for the test")
    expected, state = FAILURES[(file, dag_id, target, name)]
    (airflow_state, on_airflow), (status, on_step_functions) = _run_both(
        world, corpus_bag, monkeypatch, file, dag_id, {})
    assert (airflow_state, status) == (state, {"success": "SUCCEEDED", "failed": "FAILED"}[state])
    assert on_step_functions == on_airflow
    assert on_airflow == _sorted(expected())
