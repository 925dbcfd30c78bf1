"""The sandbox server: moto's in-process server behind :class:`~.app.SandboxApp`, on 127.0.0.1.

:meth:`Sandbox.start` sets moto up (Step Functions executions run; :mod:`.moto_patches` applied),
loads the service modules (their ``@route`` handlers), reads the log switches from the
environment (``SFN_ETL_SANDBOX_REQUEST_LOG``, :mod:`.request_log`; ``SFN_ETL_SANDBOX_ACCESS_LOG``,
moto's access log line per HTTP request) and serves. ``POST /_sandbox/reset`` (:mod:`.admin`)
does what :meth:`Sandbox.reset` does.
"""

from __future__ import annotations

import importlib
import os
import socket
import threading
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

from . import faults, request_log, runtime
from .admin import admin_route, json_answer
from .app import SandboxApp
from .aws import Response

#: Service modules whose handlers make up the sandbox (imported for their @route side effects).
SERVICE_MODULES = ("athena", "crawler", "glue_jobs", "databrew", "lambda_functions", "sns", "stepfunctions")

DEFAULT_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class QuietRequestHandler(MotoRequestHandler):
    """moto's request handler without a log line per request (set ``SFN_ETL_SANDBOX_ACCESS_LOG=1``)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if os.environ.get("SFN_ETL_SANDBOX_ACCESS_LOG"):
            super().log_request(code, size)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _load_service_modules() -> None:
    """Import the service modules (lazily: a process that only uses the client does not load them)."""
    for name in SERVICE_MODULES:
        importlib.import_module(f"{__package__}.{name}")


def _reset_sandbox_state() -> None:
    """Forget each service module's runs and the fault rules."""
    for name in SERVICE_MODULES:
        reset = getattr(importlib.import_module(f"{__package__}.{name}"), "reset", None)
        if reset is not None:
            reset()
    faults.clear()


def reset_state() -> None:
    """Forget everything in this process: moto's state, each service module's runs, fault rules."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
    _reset_sandbox_state()


@admin_route("reset")
def _reset_admin(method: str, query: dict[str, Any], body: bytes) -> Response:
    """``POST /_sandbox/reset``: the same as :meth:`Sandbox.reset`, for clients in other processes."""
    if method != "POST":
        return json_answer(405, {"error": "use POST"})
    reset_state()
    return json_answer(200, {})


class Sandbox:
    """A local AWS on ``http://127.0.0.1:<port>``; use as a context manager or start()/stop().

    With a ``data_dir``, the state is kept there across restarts (:mod:`.persist`): moto's state
    and the run histories (query executions, crawls, job runs) saved there by an earlier sandbox are
    restored at :meth:`start` (:attr:`restored` lists them), saved every ``save_interval`` seconds
    and once more at :meth:`stop` (:attr:`saved` reports the last save).

    :param port: TCP port; 0 picks a free one.
    :param data_dir: where state and run artefacts (job logs, DuckDB spill) live; a temp dir (and no
        state kept) if None.
    :param save_interval: seconds between state snapshots when there is a ``data_dir``.
    """

    def __init__(self, *, port: int = 0, data_dir: str | os.PathLike[str] | None = None,
                 host: str = "127.0.0.1", save_interval: float = 30.0) -> None:
        self.host = host
        self.port = port or free_port()
        self.data_dir = Path(data_dir) if data_dir else None
        self.save_interval = save_interval
        self.restored: list[str] = []
        self.saved: dict[str, list[str]] | None = None
        self._autosave: Any = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def env(self) -> dict[str, str]:
        """Environment variables that point AWS SDKs (and Airflow's aws_default) at the sandbox."""
        return {
            **DEFAULT_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AIRFLOW_CONN_AWS_DEFAULT": (
                '{"conn_type": "aws", "login": "testing", "password": "testing", '
                f'"extra": {{"region_name": "us-east-1", "endpoint_url": "{self.endpoint_url}"}}}}'
            ),
        }

    def start(self) -> Sandbox:
        from moto.core.config import default_user_config
        from moto.moto_api import _internal  # noqa: F401  (registers moto-api backend)

        for key, value in DEFAULT_CREDENTIALS.items():
            os.environ.setdefault(key, value)
        # moto's Step Functions interpreter calls services on localhost:$MOTO_PORT.
        os.environ["MOTO_PORT"] = str(self.port)
        default_user_config["stepfunctions"] = {"execute_state_machine": True}
        # Loaded here, with the service modules: moto's Step Functions interpreter takes a while to import.
        from . import moto_patches

        moto_patches.apply_all()
        _load_service_modules()
        request_log.configure_from_env()
        runtime.configure(endpoint_url=self.endpoint_url, data_dir=self.data_dir)
        if self.data_dir is not None:
            from . import persist

            self.restored = persist.restore(self.data_dir)
            self._autosave = persist.Autosave(self.data_dir, self.save_interval).start()
        app = SandboxApp(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(self.host, self.port, app, threaded=True,
                                   request_handler=QuietRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="aws-sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._autosave is not None:
            self.saved = self._autosave.stop()
            self._autosave = None
        runtime.shutdown()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None

    def reset(self) -> None:
        """Forget everything: moto's state, every service module's runs, and fault rules."""
        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST"))
        _reset_sandbox_state()

    def wait(self) -> None:
        """Block until interrupted (Ctrl-C)."""
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client for ``service`` pointed at this sandbox.

        Host prefix injection is off: botocore would send Step Functions' TestState to
        ``sync-<host>``, which does not resolve for a local endpoint.
        """
        import boto3
        from botocore.config import Config

        config = Config(inject_host_prefix=False)
        if kwargs.get("config") is not None:
            config = config.merge(kwargs["config"])
        kwargs["config"] = config
        return boto3.client(service, endpoint_url=self.endpoint_url, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing", **kwargs)
