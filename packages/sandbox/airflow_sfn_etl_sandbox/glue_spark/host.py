"""The warm Spark driver JVM that glueetl runs share.

``python -m airflow_sfn_etl_sandbox.glue_spark.host WORKDIR`` starts a local SparkSession (no UI,
bound to 127.0.0.1, nothing fetched: no ``spark.jars.packages``), prints one line
``GLUE-SPARK-HOST-READY {"port": ..., "secret": ..., "spark": ...}`` naming its py4j gateway, then
reads commands on standard input, one a line:

- ``cancel GROUP``: cancel the Spark jobs of a job group (a run's id);
- ``stop`` (or end of input, as when the sandbox exits): stop Spark and exit.

Settings from the environment: ``SFN_ETL_SANDBOX_SPARK_MASTER`` (``local[2]``) and
``SFN_ETL_SANDBOX_SPARK_MEMORY`` (driver memory, ``1g``).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

READY = "GLUE-SPARK-HOST-READY "


def spark_conf(workdir: Path) -> dict[str, str]:
    return {
        "spark.app.name": "aws-sandbox-glueetl",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.warehouse.dir": str(workdir / "warehouse"),
        "spark.local.dir": str(workdir / "tmp"),
        "spark.sql.pyspark.inferNestedDictAsStruct.enabled": "true",
        "spark.sql.sources.partitionOverwriteMode": "static",
    }


def main(argv: list[str]) -> int:
    workdir = Path(argv[0] if argv else os.getcwd())
    (workdir / "tmp").mkdir(parents=True, exist_ok=True)
    master = os.environ.get("SFN_ETL_SANDBOX_SPARK_MASTER", "local[2]")
    memory = os.environ.get("SFN_ETL_SANDBOX_SPARK_MEMORY", "1g")
    os.environ["PYSPARK_SUBMIT_ARGS"] = f"--master {master} --driver-memory {memory} pyspark-shell"
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master)
    for key, value in spark_conf(workdir).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    params = spark.sparkContext._gateway.gateway_parameters  # type: ignore[union-attr]
    print(READY + json.dumps({"port": params.port, "secret": params.auth_token, "spark": spark.version}),
          flush=True)
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        if command == "cancel" and arg:
            spark.sparkContext.cancelJobGroup(arg)
        elif command == "stop":
            break
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
