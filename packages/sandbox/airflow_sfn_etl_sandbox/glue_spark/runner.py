"""glueetl runs: one warm Spark JVM (a host process) and one driver process per run.

The host (:mod:`.host`) is started on the first glueetl run and kept for the next ones, so only
the first run pays the JVM's start-up. Each run is a Python process (:mod:`.driver`) that runs
the job script against the host's SparkContext, in a Spark session of its own and a job group
named by the run id. One driver process is kept spare, with PySpark and the ``awsglue`` layer
already imported, so a run does not wait for a Python start-up either; a new spare is started
when a run ends. A stop or a timeout cancels that job group in the JVM and ends the process.
The driver's standard output and error go, line by line, to the run's log streams.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from .. import runtime, state
from ..aws import AwsError
from .host import READY

LIB_DIR = Path(__file__).resolve().parent / "lib"
#: How long the first run waits for the Spark JVM to come up.
HOST_START_SECONDS = 300.0
LogWriter = Callable[[str, list[str]], None]

_lock = threading.Lock()
_host: _Host | None = None


def spark_available() -> str | None:
    """None when glueetl runs can run here; else why not."""
    if importlib.util.find_spec("pyspark") is None:
        return ("pyspark is not installed (install the sandbox with its spark extra: "
                "pip install 'airflow-sfn-etl-sandbox[spark]')")
    java_home = os.environ.get("JAVA_HOME")
    if not shutil.which("java") and not (java_home and Path(java_home, "bin", "java").exists()):
        return "no Java runtime was found (Spark needs Java 17: set JAVA_HOME or put java on the PATH)"
    return None


def _python_path(*first: Path) -> str:
    entries = [str(p) for p in first]
    package_root = Path(__file__).resolve().parents[2]
    if package_root.name not in ("site-packages", "dist-packages"):
        entries.append(str(package_root))
    if os.environ.get("PYTHONPATH"):
        entries.append(os.environ["PYTHONPATH"])
    return os.pathsep.join(entries)


def _aws_env(region: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AIRFLOW_CONN_AWS", "PYSPARK_"))}
    env.update({
        "AWS_ENDPOINT_URL": runtime.endpoint_url(),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "PYTHONUNBUFFERED": "1",
        "PYSPARK_PYTHON": sys.executable,
        "PYTHONPATH": _python_path(LIB_DIR),
    })
    return env


class _Host:
    """The Spark JVM's process; ``wait_ready`` gives its gateway once it is up."""

    def __init__(self) -> None:
        self.dir = runtime.data_dir() / "glue-spark"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.dir / "host.log"
        env = _aws_env(os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "airflow_sfn_etl_sandbox.glue_spark.host", str(self.dir)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env, cwd=self.dir,
                start_new_session=True)
        self.ready = threading.Event()
        self.gateway: dict[str, object] | None = None
        self._stdin_lock = threading.Lock()
        self._spare_lock = threading.Lock()
        self._spare: subprocess.Popen[bytes] | None = None
        threading.Thread(target=self._read, name="glue-spark-host", daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with open(self.log_path, "ab") as log:
            for raw in self.proc.stdout:  # drained to the end, so the JVM never blocks on a full pipe
                line = raw.decode("utf-8", "replace")
                if line.startswith(READY) and self.gateway is None:
                    self.gateway = json.loads(line[len(READY):])
                    self.ready.set()
                    self.prepare_spare()
                else:
                    log.write(raw)
                    log.flush()
        self.ready.set()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def failure(self) -> str:
        try:
            tail = [ln for ln in self.log_path.read_text("utf-8", "replace").splitlines() if ln.strip()][-5:]
        except OSError:
            tail = []
        return "The Spark runtime of the sandbox did not start" + (": " + " | ".join(tail) if tail else "")

    def send(self, line: str) -> None:
        with self._stdin_lock:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write((line + "\n").encode())
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                pass

    def _spawn_driver(self) -> subprocess.Popen[bytes]:
        assert self.gateway is not None
        env = _aws_env(os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
        env.update({"PYSPARK_GATEWAY_PORT": str(self.gateway["port"]),
                    "PYSPARK_GATEWAY_SECRET": str(self.gateway["secret"])})
        return subprocess.Popen([sys.executable, "-m", "airflow_sfn_etl_sandbox.glue_spark.driver", "--serve"],
                                cwd=self.dir, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)

    def prepare_spare(self) -> None:
        """Start the spare driver process, unless there is one."""
        with self._spare_lock:
            if self.gateway is not None and self.alive() and (self._spare is None or self._spare.poll() is not None):
                self._spare = self._spawn_driver()

    def driver(self, run: dict[str, object]) -> subprocess.Popen[bytes]:
        """A driver process running ``run`` (its ``argv``, ``env`` and ``cwd``): the spare, or a new one."""
        with self._spare_lock:
            proc, self._spare = self._spare, None
        if proc is None or proc.poll() is not None:
            proc = self._spawn_driver()
        assert proc.stdin is not None
        try:
            proc.stdin.write((json.dumps(run) + "\n").encode())
            proc.stdin.close()
        except OSError:
            pass  # the process ended: its exit status and error output tell why
        return proc

    def close(self) -> None:
        with self._spare_lock:
            spare, self._spare = self._spare, None
        if spare is not None and spare.poll() is None:
            _kill(spare)
        self.send("stop")
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            _kill(self.proc)


def _get_host() -> _Host:
    global _host
    with _lock:
        if _host is None or not _host.alive():
            if _host is not None:
                _host.close()  # the JVM ended: its spare driver goes with it
            _host = _Host()
        return _host


def shutdown() -> None:
    """Stop the Spark JVM (it is started again by the next glueetl run)."""
    global _host
    with _lock:
        host, _host = _host, None
    if host is not None:
        host.close()


atexit.register(shutdown)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """End a process and its children: SIGTERM, then SIGKILL after 3 seconds."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=3)
    except ProcessLookupError:
        pass


def _pump(stream: object, which: str, log: LogWriter, tail: deque[str] | None) -> None:
    for raw in stream:  # type: ignore[attr-defined]
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if tail is not None:
            tail.append(line)
        if line:
            log(which, [line])


def run_glueetl(job_name: str, run_id: str, argv: list[str], *, region: str, script_location: str,
                deadline: float, timeout_minutes: int, stop: threading.Event,
                log: LogWriter) -> tuple[str, str | None]:
    """Run one glueetl job run to its end; returns its final state and error message.

    ``argv`` is the script's arguments as Glue passes them (``--JOB_NAME`` and the rest); ``deadline``
    a ``time.monotonic()`` value; ``stop`` is set by BatchStopJobRun; ``log(stream, lines)`` appends to
    the run's ``output`` or ``error`` log stream.
    """
    missing = spark_available()
    if missing:
        return "FAILED", f"Spark is not available in the sandbox: job {job_name} is a glueetl job and {missing}"
    try:
        bucket, key = state.split_s3_uri(script_location)
        source = state.s3_get(bucket, key)
    except AwsError as err:
        return "FAILED", f"Cannot read the job script {script_location}: {err.code}: {err.message}"
    except Exception as exc:
        return "FAILED", f"Cannot read the job script {script_location!r}: {type(exc).__name__}: {exc}"
    timed_out = ("TIMEOUT", f"Job run timed out after {timeout_minutes} minutes")
    host = _get_host()
    while not host.ready.wait(0.1):
        if stop.is_set():
            return "STOPPED", None
        if time.monotonic() >= deadline:
            return timed_out
    if host.gateway is None:
        return "FAILED", host.failure()
    workdir = runtime.data_dir() / "glue-spark" / "runs" / run_id
    workdir.mkdir(parents=True, exist_ok=True)
    script = workdir / (Path(key).name or "script.py")
    script.write_bytes(source)
    error_file = workdir / "error.txt"
    env = {**_aws_env(region), "GLUE_SANDBOX_RUN_ID": run_id, "GLUE_SANDBOX_WORKDIR": str(workdir),
           "GLUE_SANDBOX_ERROR_FILE": str(error_file), "GLUE_JOB_NAME": job_name, "GLUE_JOB_RUN_ID": run_id}
    proc = host.driver({"argv": [str(script), *argv], "env": env, "cwd": str(workdir)})
    tail: deque[str] = deque(maxlen=50)
    pumps = [threading.Thread(target=_pump, args=(proc.stdout, "output", log, None), daemon=True),
             threading.Thread(target=_pump, args=(proc.stderr, "error", log, tail), daemon=True)]
    for pump in pumps:
        pump.start()
    outcome: tuple[str, str | None] | None = None
    try:
        while proc.poll() is None:
            if stop.is_set():
                outcome = ("STOPPED", None)
            elif time.monotonic() >= deadline:
                outcome = timed_out
            if outcome is not None:
                host.send(f"cancel {run_id}")
                _kill(proc)
                break
            stop.wait(0.1)
        for pump in pumps:
            pump.join(timeout=10)
        if outcome is not None:
            return outcome
        if proc.returncode == 0:
            return "SUCCEEDED", None
        if error_file.exists():
            return "FAILED", error_file.read_text("utf-8").strip()
        last = next((ln.strip() for ln in reversed(tail) if ln.strip()), "")
        return "FAILED", last or f"the script exited with status {proc.returncode}"
    finally:
        if proc.poll() is None:
            _kill(proc)
        shutil.rmtree(workdir / "s3", ignore_errors=True)
        host.prepare_spare()
