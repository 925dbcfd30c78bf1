"""Glue Spark on the sandbox: the seed's PySpark job (StartJobRun to SUCCEEDED) vs raw PySpark.

The same machine, the same run, the same files: the seed's access log (``shared/data/seed/csvlog.csv``)
at 1x and replicated to Nx rows. The sandbox side crawls the CSV, then runs the reference flow's
``se2_job0_pyspark.py`` as a ``glueetl`` job and waits for SUCCEEDED (GetJobRun every 0.1 s). The raw
side is a local SparkSession (``local[2]``, as the sandbox's host) reading the same CSV and writing
the same typed Parquet. The first sandbox run pays the Spark JVM start (cold); the timed ones reuse it.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from .results import Section

ROOT = Path(__file__).resolve().parents[1]
SEED_CSV = ROOT.parent / "shared" / "data" / "seed" / "csvlog.csv"
SCRIPT = ROOT / "packages" / "flows" / "airflow_sfn_etl_flows" / "dags" / "glue_scripts" / "se2_job0_pyspark.py"
BUCKET = "bench-glue-spark"
#: The seed job's ApplyMapping: column -> Spark type.
MAPPING = {"deviceid": "string", "uuid": "bigint", "appid": "bigint", "country": "string", "year": "bigint",
           "month": "bigint", "day": "bigint", "hour": "bigint"}


def replicated_csv(factor: int) -> bytes:
    """The seed CSV with its data rows repeated ``factor`` times (one header)."""
    header, *rows = SEED_CSV.read_text(encoding="utf-8").strip().splitlines()
    return ("\n".join([header, *(rows * factor)]) + "\n").encode()


def _wait_crawl(glue: Any, name: str) -> None:
    glue.start_crawler(Name=name)
    end = time.monotonic() + 120
    while time.monotonic() < end:
        state = glue.get_crawler(Name=name)["Crawler"]
        if state["State"] == "READY" and "LastCrawl" in state:
            if state["LastCrawl"]["Status"] != "SUCCEEDED":
                raise RuntimeError(f"crawl {name}: {state['LastCrawl']}")
            return
        time.sleep(0.1)
    raise TimeoutError(f"crawler {name} did not finish")


def _run_job(glue: Any, job: str, output_path: str) -> float:
    """StartJobRun -> SUCCEEDED, in seconds."""
    started = time.perf_counter()
    run_id = glue.start_job_run(JobName=job, Arguments={"--output_path": output_path})["JobRunId"]
    while True:
        run = glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]
        if run["JobRunState"] not in ("STARTING", "RUNNING", "STOPPING"):
            break
        time.sleep(0.1)
    took = time.perf_counter() - started
    if run["JobRunState"] != "SUCCEEDED":
        raise RuntimeError(f"job run {run_id} ended {run['JobRunState']}: {run.get('ErrorMessage')}")
    return took


def _raw_pyspark(spark: Any, csv_path: Path, out: Path) -> float:
    """The seed job's transform on plain PySpark: CSV -> typed columns (ApplyMapping) -> the columns that
    are null in every row dropped (DropNullFields: one aggregation) -> Parquet; seconds."""
    from pyspark.sql import functions as F

    started = time.perf_counter()
    frame = spark.read.option("header", "true").csv(str(csv_path))
    typed = frame.select([F.col(c).cast(t).alias(c) for c, t in MAPPING.items()])
    counts = typed.select([F.count(F.col(c)).alias(c) for c in MAPPING]).first()
    typed.drop(*[c for c in MAPPING if counts[c] == 0]).write.mode("overwrite").parquet(str(out))
    return time.perf_counter() - started


def measure(sb: Any, factors: tuple[int, ...], repeats: int) -> Section:
    import boto3
    from pyspark.sql import SparkSession

    section = Section("glue-spark", "6. Glue Spark job on the sandbox vs raw PySpark",
                      ["data", "rows", "sandbox job (s, median)", "raw PySpark (s, median)", "ratio"])
    session = boto3.Session(region_name="us-east-1")
    s3 = session.client("s3", endpoint_url=sb.endpoint_url)
    glue = session.client("glue", endpoint_url=sb.endpoint_url)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="scripts/se2_job0_pyspark.py", Body=SCRIPT.read_bytes())
    database = f"bench_{uuid.uuid4().hex[:8]}"
    glue.create_database(DatabaseInput={"Name": database})
    local = Path(tempfile.mkdtemp(prefix="sfn-etl-bench-spark-"))
    jobs: dict[int, tuple[str, Path, int]] = {}
    for factor in factors:
        body = replicated_csv(factor)
        s3.put_object(Bucket=BUCKET, Key=f"x{factor}/in0/csvlog.csv", Body=body)
        (local / f"x{factor}").mkdir()
        (local / f"x{factor}" / "csvlog.csv").write_bytes(body)
        crawler = f"bench_crawl_x{factor}"
        glue.create_crawler(Name=crawler, Role="arn:aws:iam::123456789012:role/glue", DatabaseName=database,
                            TablePrefix=f"x{factor}_", Targets={"S3Targets": [{"Path": f"s3://{BUCKET}/x{factor}/in0/"}]})
        _wait_crawl(glue, crawler)
        job = f"bench_se2_job0_x{factor}"
        glue.create_job(Name=job, Role="arn:aws:iam::123456789012:role/glue", GlueVersion="5.0",
                        WorkerType="G.1X", NumberOfWorkers=2,
                        Command={"Name": "glueetl", "ScriptLocation": f"s3://{BUCKET}/scripts/se2_job0_pyspark.py",
                                 "PythonVersion": "3"},
                        DefaultArguments={"--database": database, "--table": f"x{factor}_in0"},
                        ExecutionProperty={"MaxConcurrentRuns": 1})
        jobs[factor] = (job, local / f"x{factor}" / "csvlog.csv", len(body.splitlines()) - 1)

    first = factors[0]
    cold = _run_job(glue, jobs[first][0], f"s3://{BUCKET}/x{first}/out-cold/")
    section.figures["cold_first_run_s"] = cold

    spark = (SparkSession.builder.master("local[2]").appName("bench-raw-pyspark")
             .config("spark.ui.enabled", "false").config("spark.driver.bindAddress", "127.0.0.1").getOrCreate())
    try:
        started = time.perf_counter()
        _raw_pyspark(spark, jobs[first][1], local / "warm-up")  # the raw side's JVM warm-up, as the cold run
        raw_cold = time.perf_counter() - started
        for factor in factors:
            job, csv_path, rows = jobs[factor]
            sandbox_times, raw_times = [], []
            for i in range(repeats):
                sandbox_times.append(_run_job(glue, job, f"s3://{BUCKET}/x{factor}/out{i}/"))
                raw_times.append(_raw_pyspark(spark, csv_path, local / f"x{factor}" / f"out{i}"))
            sandbox_s, raw_s = statistics.median(sandbox_times), statistics.median(raw_times)
            section.add(f"{factor}x", rows, sandbox_s, raw_s, sandbox_s / raw_s)
            section.figures[f"ratio_x{factor}"] = sandbox_s / raw_s
    finally:
        spark.stop()
    section.notes += [
        f"First sandbox run (cold: starts the sandbox's Spark JVM, then the job): {cold:.1f} s; "
        f"raw PySpark's first run including SparkSession start-up: {raw_cold:.1f} s.",
        "Sandbox job: StartJobRun of the reference flow's se2_job0_pyspark.py (glueetl) to SUCCEEDED, "
        "polled every 0.1 s, on the warm JVM: a driver process per run (started ahead of it, with PySpark and "
        "awsglue imported) attaching to the host's SparkContext, "
        "the catalog read through the Glue API, S3 objects copied in and Parquet parts put back.",
        "Raw PySpark: a SparkSession in the benchmark process (local[2]) reading the same CSV from local disk, "
        "the same casts and the same drop of all-null columns (one aggregation, as DropNullFields), Parquet to "
        "local disk. Ratio = sandbox / raw (medians of "
        f"{repeats} run(s) each, interleaved).",
        f"Data: {SEED_CSV.name} (19 rows) with its rows replicated; factors {', '.join(f'{f}x' for f in factors)}.",
    ]
    return section
