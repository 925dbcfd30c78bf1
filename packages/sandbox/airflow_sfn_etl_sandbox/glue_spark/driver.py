"""The driver process of one glueetl run: attaches to the warm Spark JVM and runs the job script.

``python -m airflow_sfn_etl_sandbox.glue_spark.driver SCRIPT ARG...`` with ``PYSPARK_GATEWAY_PORT``
and ``PYSPARK_GATEWAY_SECRET`` naming the host's JVM (see :mod:`.host`) and ``GLUE_SANDBOX_RUN_ID``.

The script runs as ``__main__`` with ``sys.argv = [SCRIPT, ARG...]``, as on Glue. Its first
``SparkContext()`` / ``SparkContext.getOrCreate()`` / ``SparkSession.builder.getOrCreate()`` wraps
the JVM's running SparkContext instead of starting one, and gets a Spark session of its own
(``newSession()``: its own SQL conf, temporary views and functions); every Spark job it starts is
in the job group named by the run id, which the sandbox cancels on BatchStopJobRun and timeout.
``stop()`` on the context or session only detaches this process (the JVM serves later runs).

``python -m airflow_sfn_etl_sandbox.glue_spark.driver --serve`` is a spare driver: it imports
PySpark and the ``awsglue`` layer first, then reads one run from standard input, a JSON line
``{"argv": [SCRIPT, ARG...], "env": {...}, "cwd": DIR}``, and runs it as above.

On failure the error line Glue reports (``ExceptionType: message``) is written to the file
named by ``GLUE_SANDBOX_ERROR_FILE`` and the process exits with status 1.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import traceback
from typing import Any


def attach_to_host(run_id: str) -> None:
    """Make PySpark's context and session constructors attach to the host JVM's SparkContext."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    def initialize_context(self: Any, jconf: Any) -> Any:
        return self._jvm.org.apache.spark.api.java.JavaSparkContext(
            self._jvm.org.apache.spark.SparkContext.getOrCreate())

    original_do_init = SparkContext._do_init

    def do_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_do_init(self, *args, **kwargs)
        self.setJobGroup(run_id, f"Glue job run {run_id}", True)

    def detach_context(self: Any) -> None:
        if getattr(self, "_accumulatorServer", None):
            self._accumulatorServer.shutdown()
            self._accumulatorServer = None
        with SparkContext._lock:
            SparkContext._active_spark_context = None

    session_holder: dict[str, Any] = {}
    original_session_init = SparkSession.__init__

    def session_init(self: Any, sparkContext: Any, jsparkSession: Any = None,  # noqa: N803 (PySpark's names)
                     options: dict[str, Any] | None = None) -> None:
        jvm_session = sparkContext._jvm.org.apache.spark.sql.SparkSession
        if "root" not in session_holder:
            session_holder["root"] = jvm_session.builder().getOrCreate()
            session_holder["own"] = session_holder["root"].newSession()
        original_session_init(self, sparkContext, jsparkSession or session_holder["own"], options or {})
        # The JVM's default session stays the host's, so that no run inherits another's.
        jvm_session.setDefaultSession(session_holder["root"])

    def detach_session(self: Any) -> None:
        from pyspark.sql.context import SQLContext

        self._sc.stop()
        SparkSession._instantiatedSession = None
        SparkSession._activeSession = None
        SQLContext._instantiatedContext = None

    SparkContext._initialize_context = initialize_context  # type: ignore[method-assign]
    SparkContext._do_init = do_init  # type: ignore[method-assign]
    SparkContext.stop = detach_context  # type: ignore[method-assign]
    SparkSession.__init__ = session_init  # type: ignore[method-assign]
    SparkSession.stop = detach_session  # type: ignore[method-assign]


def error_line(exc: BaseException) -> str:
    """``Type: message`` (the first line of the message), as Glue reports a failed run; for an error
    raised in the JVM, the call and the Java exception (``An error occurred while calling o81.count.
    org.apache.spark.SparkException: ...``)."""
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    if not lines:
        return type(exc).__name__
    first = lines[0]
    if first.startswith("An error occurred while calling") and len(lines) > 1:
        first = f"{first} {lines[1].lstrip(': ')}"
    return f"{type(exc).__name__}: {first}"


def main(argv: list[str]) -> int:
    script, args = argv[0], argv[1:]
    run_id = os.environ.get("GLUE_SANDBOX_RUN_ID", "glue-sandbox-run")
    attach_to_host(run_id)
    from awsglue import _s3

    _s3.install()
    sys.argv = [script, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        code = exc.code
        if code in (None, 0):
            return 0
        message = code if isinstance(code, str) else f"the script exited with status {code}"
        _report(str(message))
        return code if isinstance(code, int) else 1
    except BaseException as exc:  # the job's failure, reported as Glue does
        traceback.print_exc()
        _report(error_line(exc))
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return 0


def serve() -> int:
    """Import what every run needs, then run the one run that standard input names."""
    import boto3
    import pyspark.sql  # noqa: F401 - imported ahead of the run
    from awsglue import context, dynamicframe, job, transforms, utils  # noqa: F401

    # The API models the awsglue layer's clients load; endpoint, region and credentials are read
    # from the run's environment when a client is made.
    boto3.setup_default_session()
    for service in ("glue", "s3"):
        boto3.DEFAULT_SESSION._session.get_service_model(service)

    line = sys.stdin.readline()
    if not line.strip():
        return 0  # the sandbox ended without a run for this spare
    run = json.loads(line)
    os.environ.update(run["env"])
    os.chdir(run["cwd"])
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # the script reads an empty standard input, as on Glue
    os.close(devnull)
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - standard input for the process's life
    return main(run["argv"])


def _report(message: str) -> None:
    path = os.environ.get("GLUE_SANDBOX_ERROR_FILE")
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(message)


def exit_now(code: int) -> None:
    """End the process once its output is flushed, without the interpreter's slow teardown of PySpark
    and py4j (the JVM is the host's and stays up; nothing of the run is left to finish)."""
    import logging

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(serve() if sys.argv[1:] == ["--serve"] else main(sys.argv[1:]))
