"""The demo: both reference flows, on both engines, against the local AWS sandbox.

Starts the sandbox, provisions the flows' resources with the real workshop data, runs the
Airflow-engine DAGs and the Step Functions DAGs with ``dag.test()``, then prints the summary
table and the SNS notice and writes the results as CSV files.
"""

from __future__ import annotations

import contextlib
import csv
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .settings import DAGS_FOLDER, CrawlerJobSettings, SalesMarketingSettings, shared_data_dir

SUMMARY_SQL = ("SELECT year, month, total_paid_conversion, total_weighted_revenue "
               "FROM {database}.sales_marketing_revenue "
               "ORDER BY CAST(year AS integer) DESC, CAST(month AS integer) DESC")

#: Per engine: the DAG ids and the run conf that keeps its outputs apart from the other engine's.
ENGINES: dict[str, dict[str, Any]] = {
    "airflow": {
        "sales": "sales_marketing_refresh",
        "crawler": "glue_crawler_job",
        "sales_conf": {"database": "default"},
        "crawler_conf": {"output_prefix": "se2/out0/"},
    },
    "stepfunctions": {
        "sales": "sales_marketing_refresh_sfn",
        "crawler": "glue_crawler_job_sfn",
        "sales_conf": {"database": "sfn_engine"},
        "crawler_conf": {"output_prefix": "se2/out0_sfn/"},
    },
}
DEMO_WAIT_TIME = 2  # seconds between crawler polls: the sandbox crawls in well under a second
#: How the sandbox runs a Glue job, by its ``Command.Name``.
JOB_RUNTIMES = {"glueetl": "glueetl (PySpark) on local Spark", "pythonshell": "pythonshell (Python) as a local process"}


@dataclass
class EngineResult:
    engine: str
    runs: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    summary: tuple[list[str], list[list[str]]] | None = None
    crawler_out: tuple[list[str], list[list[Any]]] | None = None
    notices: list[dict[str, Any]] = field(default_factory=list)


def prepare_airflow_home(home: Path) -> None:
    """Point Airflow at a private home + SQLite DB (before Airflow is imported)."""
    home.mkdir(parents=True, exist_ok=True)
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_FOLDER)
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{home}/airflow.db"
    os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")


@contextlib.contextmanager
def captured_output(log_path: Path) -> Iterator[TextIO]:
    """Send everything written to fds 1 and 2 (Airflow's and boto's logs) to ``log_path``.

    Yields a text stream on the original standard output, for the demo's own progress lines.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    console = os.fdopen(os.dup(saved[0]), "w", buffering=1)
    with open(log_path, "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield console
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            console.close()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def run_dag(dag_id: str, conf: dict[str, Any]) -> tuple[str, float]:
    """Run one DAG with ``dag.test()``; return (state, seconds)."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(DAGS_FOLDER))
    dag = bag.get_dag(dag_id)
    if dag is None:
        errors = "".join(f"\n{path}:\n{err}" for path, err in bag.import_errors.items())
        raise KeyError(f"DAG {dag_id!r} not found in {DAGS_FOLDER}; found {sorted(bag.dag_ids)}{errors}")
    start = time.monotonic()
    run = dag.test(run_conf=conf)
    return str(run.state), time.monotonic() - start


def describe_job_run(glue: Any, job: str, engine: str, say: TextIO) -> str:
    """Print what ran the crawler flow's Glue job (its newest run); return the run's ``--output_path``."""
    definition = glue.get_job(JobName=job)["Job"]
    run = glue.get_job_runs(JobName=job, MaxResults=1)["JobRuns"][0]
    kind = definition["Command"]["Name"]
    output = {**definition.get("DefaultArguments", {}), **run.get("Arguments", {})}["--output_path"]
    print(f"[{engine}] {job}: {JOB_RUNTIMES.get(kind, kind)} (Glue {definition.get('GlueVersion', '?')}), "
          f"run {run['JobRunState']} in {run.get('ExecutionTime', 0)} s, output {output}", file=say)
    return str(output)


def format_table(columns: list[str], rows: list[list[Any]]) -> str:
    widths = [max(len(str(c)), *(len(str(r[i])) for r in rows)) if rows else len(c) for i, c in enumerate(columns)]
    line = "  ".join(str(c).rjust(w) for c, w in zip(columns, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(str(v).rjust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def write_csv(path: Path, columns: list[str], rows: list[list[Any]]) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerows(rows)


def run_demo(out_dir: Path, *, engines: tuple[str, ...] = ("airflow", "stepfunctions"),
             stdout: TextIO | None = None) -> int:
    """Run the demo; return 0 when every run succeeded and both engines agree."""
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    prepare_airflow_home(out_dir / "airflow-home")
    log_path = out_dir / "airflow-task-logs.txt"
    log_path.write_text("")

    import boto3

    from airflow_sfn_etl_sandbox import Sandbox

    from .provision import ensure_glue_database, provision_crawler_job, provision_sales_marketing
    from .results import athena_rows, drain_notices, parquet_rows

    data = shared_data_dir()
    sales, crawl = SalesMarketingSettings(), CrawlerJobSettings()
    failures: list[str] = []
    results: list[EngineResult] = []
    with captured_output(log_path) as console, Sandbox() as sandbox:
        os.environ.update(sandbox.env())
        endpoint = sandbox.endpoint_url
        print(f"Local AWS sandbox on {endpoint} (task logs: {log_path})", file=console)
        from airflow.utils import db

        db.resetdb()
        session = boto3.Session(region_name="us-east-1")
        refs = provision_sales_marketing(session, data / "workshop", sales, endpoint_url=endpoint)
        provision_crawler_job(session, data / "seed", crawl, endpoint_url=endpoint)
        glue = session.client("glue", endpoint_url=endpoint)
        for spec in ENGINES.values():  # each engine's tables live in a database of their own
            ensure_glue_database(glue, spec["sales_conf"]["database"])
        print("Resources provisioned: DataBrew jobs, Athena workgroup, SNS topic, Glue crawler and job",
              file=console)
        for engine in engines:
            spec = ENGINES[engine]
            res = EngineResult(engine)
            results.append(res)
            for flow, conf in (("sales", spec["sales_conf"]),
                               ("crawler", {**spec["crawler_conf"], "wait_time": DEMO_WAIT_TIME})):
                dag_id = spec[flow]
                state, seconds = run_dag(dag_id, conf)
                res.runs[dag_id], res.seconds[dag_id] = state, seconds
                print(f"[{engine}] {dag_id}: {state} in {seconds:.1f} s", file=console)
                if state != "success":
                    failures.append(f"{dag_id} ({engine}) ended {state}; task logs in {log_path}")
            if res.runs.get(spec["sales"]) == "success":
                res.summary = athena_rows(session, SUMMARY_SQL.format(database=spec["sales_conf"]["database"]),
                                          workgroup=sales.workgroup, database=spec["sales_conf"]["database"],
                                          endpoint_url=endpoint)
                res.notices = drain_notices(session, refs["queue_url"], endpoint_url=endpoint)
            if res.runs.get(spec["crawler"]) == "success":
                output_path = describe_job_run(glue, crawl.job, engine, console)
                bucket, _, prefix = output_path.removeprefix("s3://").partition("/")
                res.crawler_out = parquet_rows(session, bucket, prefix, endpoint_url=endpoint)
    return report(results, out_dir, failures, stdout or sys.stdout)


def report(results: list[EngineResult], out_dir: Path, failures: list[str], say: TextIO) -> int:
    """Print the summary table and notice, write the CSVs, compare engines; return the exit code."""
    first = results[0] if results else None
    if first and first.summary:
        columns, rows = first.summary
        print(f"\nsales_marketing_revenue ({len(rows)} months, newest first):", file=say)
        print(format_table(columns, rows), file=say)
    for res in results:
        suffix = "" if res is first else f".{res.engine}"
        if res.summary:
            write_csv(out_dir / f"sales_marketing_revenue{suffix}.csv", *res.summary)
        if res.crawler_out:
            columns, rows = res.crawler_out
            rows = sorted(rows, key=lambda r: tuple(str(v) for v in r))
            write_csv(out_dir / f"se2_out0{suffix}.csv", columns, rows)
        for notice in res.notices:
            print(f"\nSNS notice ({res.engine} engine): {notice['raw']}", file=say)
        if not res.notices and res.summary:
            failures.append(f"no SNS notice arrived from the {res.engine} engine")
    if first and first.crawler_out:
        columns, rows = first.crawler_out
        rows = sorted(rows, key=lambda r: tuple(str(v) for v in r))
        print(f"\nse2_out0: the Glue Spark job's Parquet output ({first.engine} engine, {len(rows)} rows):", file=say)
        print(format_table(columns, rows), file=say)
    if first is not None:
        for res in results[1:]:
            for what in ("summary", "crawler_out"):
                a, b = getattr(first, what), getattr(res, what)
                if a and b:
                    same = _canonical(a) == _canonical(b)
                    print(f"{what}: {first.engine} and {res.engine} engines agree: {'yes' if same else 'NO'}",
                          file=say)
                    if not same:
                        failures.append(f"{what} differs between the {first.engine} and {res.engine} engines")
    print(f"\nResults written to {out_dir}", file=say)
    for failure in failures:
        print(f"FAILED: {failure}", file=say)
    return 1 if failures else 0


def _canonical(table: tuple[list[str], list[list[Any]]]) -> tuple[list[str], list[tuple[str, ...]]]:
    columns, rows = table
    return columns, sorted(tuple(str(v) for v in r) for r in rows)
