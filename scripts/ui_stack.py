"""Start a local Airflow 3 (SQLite, LocalExecutor) and the AWS sandbox, for the browser test or by hand.

Each component runs as its own subprocess in its own process group (api-server, scheduler,
dag-processor, triggerer, sandbox), logging to ``<workdir>/logs/<name>.log``; ``stop()`` ends
every group (SIGTERM, then SIGKILL). The dags folder is the repository's ``dags/``; the
Airflow login is ``admin`` with a password written to a passwords file the caller knows.

By hand::

    .venv/bin/python scripts/ui_stack.py            # prints the UI address and login, Ctrl-C stops
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DAGS_FOLDER = ROOT / "dags"
BIN = Path(sys.executable).parent
USERNAME = "admin"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clean_environ() -> dict[str, str]:
    """This process's environment without Airflow / AWS settings that would leak into the stack."""
    return {key: value for key, value in os.environ.items()
            if not key.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AWS_", "PYTEST_"))
            and key not in ("AIRFLOW_HOME", "AIRFLOW_CONFIG")}


class UiStack:
    """Airflow (api-server, scheduler, dag-processor, triggerer) + sandbox on loopback.

    :param workdir: AIRFLOW_HOME and logs go here.
    :param api_port: Airflow's port (0: a free one).
    :param sandbox_port: the sandbox's port (0: a free one).
    """

    def __init__(self, *, workdir: Path, api_port: int = 0, sandbox_port: int = 0) -> None:
        self.workdir = Path(workdir)
        self.home = self.workdir / "airflow-home"
        self.logs = self.workdir / "logs"
        self.api_port = api_port or free_port()
        self.sandbox_port = sandbox_port or free_port()
        self.password = secrets.token_urlsafe(12)
        # Shared by every component, also one restarted later (a new secret would void its tokens).
        self.jwt_secret, self.secret_key = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.ports = {name: free_port() for name in ("worker_logs", "trigger_logs", "scheduler_health")}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._token: str | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    def env(self) -> dict[str, str]:
        """Environment of every Airflow component."""
        from airflow_sfn_etl_sandbox.server import Sandbox

        env = _clean_environ()
        env.update(Sandbox(port=self.sandbox_port).env())  # pure: builds the variables only
        env.update({
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            # Four processes share one SQLite file: a writer waits up to 60 s for the lock (sqlite3's default,
            # 5 s, can pass on a loaded machine and end the dag-processor with "database is locked").
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home}/airflow.db?timeout=60",
            "AIRFLOW__CORE__AUTH_MANAGER":
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USERNAME}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "passwords.json"),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__BASE_URL": self.base_url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": self.jwt_secret,
            "AIRFLOW__API__SECRET_KEY": self.secret_key,
            "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW__CORE__PARALLELISM": "8",
            # Fixed ports by default (8793, 8794, 8974): two stacks on one machine would share them.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(self.ports["worker_logs"]),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(self.ports["trigger_logs"]),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(self.ports["scheduler_health"]),
            "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        })
        return env

    # -- lifecycle -------------------------------------------------------------------------------

    def _spawn(self, name: str, args: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
        """Start a component in its own process group; its log is appended to (a restart keeps the old one)."""
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 (kept open for the child)
        self.procs[name] = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True,
                                            cwd=cwd or self.workdir)

    def start(self, *, provision: bool = True) -> UiStack:
        """Start everything, provision the flows' resources, and wait until the UI answers."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        (self.home / "passwords.json").write_text(json.dumps({USERNAME: self.password}))
        env = self.env()
        try:
            self._spawn("sandbox", [str(BIN / "airflow-sfn-etl"), "sandbox", "--port", str(self.sandbox_port),
                                    "--data-dir", str(self.workdir / "sandbox-state")], env)
            migrate = subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, capture_output=True,
                                     timeout=300, cwd=self.workdir)
            (self.logs / "db-migrate.log").write_bytes(migrate.stdout + migrate.stderr)
            if migrate.returncode != 0:
                raise RuntimeError(f"airflow db migrate failed:\n{self.tail('db-migrate')}")
            for component in ("dag-processor", "scheduler", "triggerer"):
                self._spawn(component, [str(BIN / "airflow"), component], env)
            self._spawn("api-server", [str(BIN / "airflow"), "api-server", "--port", str(self.api_port),
                                       "--host", "127.0.0.1"], env)
            self._wait_http(f"{self.endpoint_url}/moto-api/", "sandbox", timeout=60)
            if provision:
                self.provision()
            self._wait_http(f"{self.base_url}/api/v2/version", "api-server", timeout=180)
        except BaseException:
            self.stop()
            raise
        return self

    def provision(self) -> dict[str, str]:
        """Create the sales/marketing flow's resources in the sandbox."""
        import boto3

        from airflow_sfn_etl_flows.provision import provision_sales_marketing
        from airflow_sfn_etl_flows.settings import shared_data_dir

        session = boto3.Session(region_name="us-east-1", aws_access_key_id="testing",
                                aws_secret_access_key="testing")
        return provision_sales_marketing(session, shared_data_dir() / "workshop",
                                         endpoint_url=self.endpoint_url)

    def stop(self) -> None:
        """End every process group this stack started: SIGTERM, then SIGKILL after 20 s."""
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 20
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            # Children (task runners, Glue job scripts) share the group: kill what is left of it.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait(timeout=10)

    def __enter__(self) -> UiStack:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- helpers ---------------------------------------------------------------------------------

    def healthy(self) -> bool:
        """Whether every component is still running."""
        return all(proc.poll() is None for proc in self.procs.values())

    def tail(self, name: str, lines: int = 60) -> str:
        """The last lines of one component's log."""
        path = self.logs / f"{name}.log"
        if not path.exists():
            return f"(no {path})"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def diagnostics(self) -> str:
        """Exit codes and log tails of every component, for a failing test's message."""
        parts = []
        for name, proc in self.procs.items():
            parts.append(f"==== {name} (exit code {proc.poll()}) ====\n{self.tail(name, 40)}")
        return "\n".join(parts)

    def _wait_until(self, name: str, answers: Callable[[], bool], what: str, timeout: float) -> None:
        """Poll ``answers()`` until it is true; fail at once if ``name``'s process exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.tail(name)}")
            if answers():
                return
            time.sleep(0.5)
        raise TimeoutError(f"{name} did not {what} within {timeout:.0f}s:\n{self.tail(name)}")

    def _wait_http(self, url: str, name: str, timeout: float) -> None:
        def answers() -> bool:
            try:
                with urllib.request.urlopen(url, timeout=5):
                    return True
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                return False

        self._wait_until(name, answers, f"answer {url}", timeout)

    def token(self) -> str:
        """A REST API bearer token for the admin user (simple auth manager)."""
        if self._token is None:
            body = json.dumps({"username": USERNAME, "password": self.password}).encode()
            request = urllib.request.Request(f"{self.base_url}/auth/token", data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=30) as response:
                self._token = json.loads(response.read())["access_token"]
        return self._token

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """Call the REST API (``/api/v2`` + path) and return the decoded JSON."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.base_url}/api/v2{path}", data=data, method=method, headers={
            "Authorization": f"Bearer {self.token()}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
        return json.loads(raw) if raw else None


def serve(stack: UiStack, **start_kwargs: Any) -> int:
    """Start ``stack``, print where it is, and keep it up until Ctrl-C, SIGTERM or a component exits."""
    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    stack.start(**start_kwargs)
    try:
        print(f"Airflow UI: {stack.base_url}  (login {USERNAME} / {stack.password})")
        print(f"AIRFLOW_HOME: {stack.home}")
        print(f"AWS sandbox: {stack.endpoint_url}; logs in {stack.logs}")
        try:
            while stack.healthy():
                time.sleep(2)
            print(stack.diagnostics())
        except KeyboardInterrupt:
            pass
    finally:
        stack.stop()
    return 0


def main() -> int:
    """Run the stack in the foreground until Ctrl-C."""
    workdir = Path(tempfile.mkdtemp(prefix="sfn-etl-ui-"))
    stack = UiStack(workdir=workdir, api_port=int(os.environ.get("UI_PORT", "0")))
    return serve(stack, provision=os.environ.get("UI_PROVISION", "1") != "0")


if __name__ == "__main__":
    sys.exit(main())
