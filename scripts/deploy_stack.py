"""Start the deployment docker-compose.yaml describes, as processes on this machine (no Docker).

PostgreSQL (metadata database and Celery result backend) and Redis (Celery broker) from the
system's packages (``scripts/install-deployment-deps.sh``), the AWS sandbox, and Airflow's
api-server, scheduler, dag-processor, triggerer and a Celery worker, each in its own process
group, logging to ``<workdir>/logs/<name>.log``. The Airflow settings are read from
``docker/airflow.env``, the file the compose file's Airflow services read; only what differs by
deployment (addresses, secrets, auth manager: :data:`PER_DEPLOYMENT`) is set here.

Components can be killed and restarted one at a time (:meth:`DeploymentStack.kill`,
:meth:`DeploymentStack.restart`), for the fault tests. By hand::

    .venv/bin/python scripts/deploy_stack.py     # prints the UI address and login; Ctrl-C stops
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ui_stack import BIN, ROOT, USERNAME, UiStack, free_port, serve  # noqa: E402

ENV_FILE = ROOT / "docker" / "airflow.env"

#: Settings each deployment sets itself: in the compose file's ``environment``, and here.
PER_DEPLOYMENT = frozenset({
    "AIRFLOW__CORE__AUTH_MANAGER",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__CELERY__RESULT_BACKEND",
    "AIRFLOW__CELERY__BROKER_URL",
    "AIRFLOW__CORE__DAGS_FOLDER",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
    "AIRFLOW_CONFIG",
    # Ports each deployment picks (a container has its own; processes on one machine must not share).
    "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT",
    "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT",
})

#: The Airflow components, in start order (the api-server last: the tests wait for it).
AIRFLOW_COMPONENTS = ("dag-processor", "scheduler", "triggerer", "worker", "api-server")


def read_env_file(path: Path = ENV_FILE) -> dict[str, str]:
    """``KEY=VALUE`` lines of an env file as Compose reads them (``#`` comments, blank lines skipped)."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{path}:{number}: expected KEY=VALUE, got {raw!r}")
        values[key.strip()] = value
    return values


def postgres_bin() -> Path:
    """The folder with PostgreSQL's ``initdb`` and ``postgres`` (Debian keeps them out of PATH)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError("PostgreSQL is not installed: run `bash scripts/install-deployment-deps.sh` (as root)")


def redis_server() -> str:
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("Redis is not installed: run `bash scripts/install-deployment-deps.sh` (as root)")
    return found


class DeploymentStack(UiStack):
    """CeleryExecutor on PostgreSQL and Redis, plus the sandbox, on loopback.

    :param workdir: AIRFLOW_HOME and logs go here.
    :param worker_concurrency: task slots of the Celery worker (default: the env file's).
    """

    def __init__(self, *, workdir: Path, worker_concurrency: int | None = None) -> None:
        super().__init__(workdir=workdir)
        self.pg_port = free_port()
        self.redis_port = free_port()
        self.worker_concurrency = worker_concurrency
        # PostgreSQL refuses to run as root: as root, its data folder belongs to the postgres user
        # and lives outside pytest's root-only temporary folders.
        self._pg_user = "postgres" if os.geteuid() == 0 else None
        self._pg_data: Path | None = None
        self.started_seconds: dict[str, float] = {}
        self.refs: dict[str, str] = {}  #: what provisioning created (topic ARN, notices queue URL, ...)
        self.restarts: list[tuple[str, int | None]] = []  #: (component, exit code) restarted by supervise()
        self._held: set[str] = set()
        self._stopping = threading.Event()

    @property
    def pg_data(self) -> Path:
        """PostgreSQL's data folder (made on first use, in a folder its server user can enter)."""
        if self._pg_data is None:
            self._pg_data = Path(tempfile.mkdtemp(prefix="sfn-etl-pg-")) / "data"
        return self._pg_data

    @property
    def database_url(self) -> str:
        return f"postgresql+psycopg2://airflow@127.0.0.1:{self.pg_port}/airflow"

    def shared_settings(self) -> dict[str, str]:
        """``docker/airflow.env``: what every component of every deployment runs with."""
        return read_env_file()

    def env(self) -> dict[str, str]:
        env = super().env()
        for key in [k for k in env if k.startswith("AIRFLOW__") and k not in PER_DEPLOYMENT]:
            if key not in ("AIRFLOW__API__HOST", "AIRFLOW__API__PORT", "AIRFLOW__API__BASE_URL",
                           "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS",
                           "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"):
                del env[key]  # the local stack's own choices give way to the shared file
        env.update(self.shared_settings())
        env.update({
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.database_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://airflow@127.0.0.1:{self.pg_port}/airflow",
            "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/0",
        })
        if self.worker_concurrency is not None:
            env["AIRFLOW__CELERY__WORKER_CONCURRENCY"] = str(self.worker_concurrency)
        return env

    # -- lifecycle -------------------------------------------------------------------------------

    def _as_pg_user(self, args: list[str]) -> list[str]:
        return ["runuser", "-u", self._pg_user, "--", *args] if self._pg_user else args

    def _start_postgres(self) -> None:
        pg = postgres_bin()
        if not (self.pg_data / "PG_VERSION").exists():
            self.pg_data.mkdir(parents=True, exist_ok=True)
            if self._pg_user:
                user = pwd.getpwnam(self._pg_user)
                for path in (self.pg_data.parent, self.pg_data):
                    os.chown(path, user.pw_uid, user.pw_gid)
            init = subprocess.run(self._as_pg_user([str(pg / "initdb"), "-D", str(self.pg_data), "-U", "airflow",
                                                    "--auth=trust", "--encoding=UTF8", "--no-sync"]),
                                  capture_output=True, timeout=120)
            (self.logs / "initdb.log").write_bytes(init.stdout + init.stderr)
            if init.returncode != 0:
                raise RuntimeError(f"initdb failed:\n{self.tail('initdb')}")
        self._spawn("postgres", self._as_pg_user([
            str(pg / "postgres"), "-D", str(self.pg_data), "-p", str(self.pg_port),
            "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
            "-c", "max_connections=200"]), self._plain_env(), cwd=self.pg_data.parent)
        self._wait_tcp(self.pg_port, "postgres", timeout=60)
        self._create_database()

    def _create_database(self) -> None:
        import psycopg2

        deadline = time.monotonic() + 60
        while True:
            try:
                conn = psycopg2.connect(host="127.0.0.1", port=self.pg_port, user="airflow", dbname="postgres")
                break
            except psycopg2.OperationalError:  # still starting ("the database system is starting up")
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        try:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = 'airflow'")
                if cursor.fetchone() is None:
                    cursor.execute("CREATE DATABASE airflow")
        finally:
            conn.close()

    def _start_redis(self) -> None:
        self._spawn("redis", [redis_server(), "--port", str(self.redis_port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no"], self._plain_env())
        self._wait_tcp(self.redis_port, "redis", timeout=30)

    def _plain_env(self) -> dict[str, str]:
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}

    def _airflow_args(self, component: str) -> list[str]:
        airflow = str(BIN / "airflow")
        if component == "worker":
            return [airflow, "celery", "worker"]
        if component == "api-server":
            return [airflow, "api-server", "--port", str(self.api_port), "--host", "127.0.0.1"]
        return [airflow, component]

    def start(self, *, provision: bool = True) -> DeploymentStack:
        """Start PostgreSQL, Redis, the sandbox and Airflow; provision the flows; wait for the API."""
        began = time.monotonic()
        self.home.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        import json

        (self.home / "passwords.json").write_text(json.dumps({USERNAME: self.password}))
        try:
            self._start_postgres()
            self._start_redis()
            env = self.env()
            self._spawn("sandbox", [str(BIN / "airflow-sfn-etl"), "sandbox", "--port", str(self.sandbox_port),
                                    "--data-dir", str(self.workdir / "sandbox-state")], env)
            migrate = subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, capture_output=True,
                                     timeout=600, cwd=self.workdir)
            (self.logs / "db-migrate.log").write_bytes(migrate.stdout + migrate.stderr)
            if migrate.returncode != 0:
                raise RuntimeError(f"airflow db migrate failed:\n{self.tail('db-migrate')}")
            for component in AIRFLOW_COMPONENTS:
                self._spawn(component, self._airflow_args(component), env)
            self._wait_http(f"{self.endpoint_url}/moto-api/", "sandbox", timeout=60)
            if provision:
                self.refs = {**self.provision(), **self.provision_crawler_flow()}
            self._wait_http(f"{self.base_url}/api/v2/version", "api-server", timeout=240)
        except BaseException:
            self.stop()
            raise
        self.started_seconds["stack"] = time.monotonic() - began
        self.supervise()
        return self

    def provision_crawler_flow(self) -> dict[str, str]:
        """Create the crawler flow's resources (bucket, CSV, crawler, the seed's Glue Spark job)."""
        import boto3

        from airflow_sfn_etl_flows.provision import provision_crawler_job
        from airflow_sfn_etl_flows.settings import shared_data_dir

        session = boto3.Session(region_name="us-east-1", aws_access_key_id="testing",
                                aws_secret_access_key="testing")
        return provision_crawler_job(session, shared_data_dir() / "seed", endpoint_url=self.endpoint_url)

    def kill(self, name: str) -> None:
        """SIGKILL a component and every process under it (a container that dies), and reap it.

        The component stays down (not restarted by :meth:`supervise`) until :meth:`restart`.
        """
        import psutil

        self._held.add(name)
        proc = self.procs[name]
        try:
            family = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            family = []
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for member in family:  # children that left the group (task supervisors) die with it too
            try:
                member.kill()
            except psutil.NoSuchProcess:
                pass
        proc.wait(timeout=30)

    def terminate(self, name: str, timeout: float = 60) -> None:
        """SIGTERM a component (a container stopped); SIGKILL what is left after ``timeout``."""
        self._held.add(name)
        proc = self.procs[name]
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=timeout)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            self.kill(name)

    def restart(self, name: str) -> None:
        """Start a stopped component again (its log is appended to)."""
        if self.procs[name].poll() is None:
            raise RuntimeError(f"{name} is still running: kill or terminate it first")
        if name == "postgres":
            self._start_postgres()
        elif name == "redis":
            self._start_redis()
        else:
            self._spawn(name, self._airflow_args(name), self.env())
        self._held.discard(name)

    def supervise(self, interval: float = 2.0) -> None:
        """Restart an Airflow component that exits, as compose's ``restart: always`` does.

        Runs in a daemon thread until :meth:`stop`; each restart is recorded in :attr:`restarts`.
        """
        import threading

        def loop() -> None:
            while not self._stopping.wait(interval):
                for name in AIRFLOW_COMPONENTS:
                    proc = self.procs.get(name)
                    if proc is None or proc.poll() is None or name in self._held or self._stopping.is_set():
                        continue
                    self.restarts.append((name, proc.returncode))
                    self._spawn(name, self._airflow_args(name), self.env())

        threading.Thread(target=loop, name="deploy-stack-restart-always", daemon=True).start()

    def healthy(self) -> bool:
        """Whether the servers run (an Airflow component that exits is restarted by :meth:`supervise`)."""
        return all(proc.poll() is None for name, proc in self.procs.items() if name not in AIRFLOW_COMPONENTS)

    def _wait_tcp(self, port: int, name: str, timeout: float) -> None:
        import socket

        def answers() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2):
                    return True
            except OSError:
                return False

        self._wait_until(name, answers, f"listen on port {port}", timeout)

    def stop(self) -> None:
        """End every component (Airflow first, the database last) and remove PostgreSQL's folder."""
        self._stopping.set()
        order = [n for n in self.procs if n not in ("postgres", "redis")] + [
            n for n in ("redis", "postgres") if n in self.procs]
        self.procs = {name: self.procs[name] for name in order}
        super().stop()
        if self._pg_data is not None:
            shutil.rmtree(self._pg_data.parent, ignore_errors=True)


def main() -> int:
    """Run the deployment in the foreground until Ctrl-C (a component that exits is restarted)."""
    return serve(DeploymentStack(workdir=Path(tempfile.mkdtemp(prefix="sfn-etl-deploy-"))))


if __name__ == "__main__":
    sys.exit(main())
