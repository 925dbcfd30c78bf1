"""``airflow-sfn-etl sandbox`` (or ``airflow-sfn-etl-sandbox``): run the local AWS sandbox until Ctrl-C.

With ``--data-dir`` (the :class:`.server.Sandbox`'s ``data_dir``), moto's state (S3 objects, Glue
catalog, workgroups, topics, ...) and the sandbox's run histories (Athena query executions, crawls,
Glue and DataBrew job runs; see :mod:`.persist`) are saved there every ``--save-interval`` seconds
and on shutdown, and restored at start.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
import time
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_sfn_etl_sandbox.server import Sandbox

DEFAULT_PORT = 4566


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "sandbox",
        help="run the local AWS sandbox (moto + real Athena/Glue/DataBrew effects) in the foreground",
        description="Run the local AWS sandbox on 127.0.0.1 until Ctrl-C.",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"TCP port (default {DEFAULT_PORT}; 0 picks a free port)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--data-dir", default=None, help="keep state here across restarts (and job logs / run artefacts)"
    )
    parser.add_argument(
        "--save-interval",
        type=float,
        default=30.0,
        help="seconds between state snapshots with --data-dir (default 30)",
    )
    parser.set_defaults(func=run)


def _print_banner(sb: Sandbox, restored: int, started: float) -> None:
    env = sb.env()
    lines = [
        f"AWS sandbox listening on {sb.endpoint_url} (started in {time.perf_counter() - started:.2f}s"
        + (f", restored {restored} backends" if restored else "")
        + ")",
        "Point AWS SDKs and Airflow at it with:",
        f"  export AWS_ENDPOINT_URL={env['AWS_ENDPOINT_URL']}",
        f"  export AWS_ACCESS_KEY_ID={env['AWS_ACCESS_KEY_ID']}",
        f"  export AWS_SECRET_ACCESS_KEY={env['AWS_SECRET_ACCESS_KEY']}",
        f"  export AWS_DEFAULT_REGION={env['AWS_DEFAULT_REGION']}",
        f"  export AIRFLOW_CONN_AWS_DEFAULT='{env['AIRFLOW_CONN_AWS_DEFAULT']}'",
        "Press Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    from airflow_sfn_etl_sandbox import Sandbox

    sb = Sandbox(port=args.port, data_dir=args.data_dir, host=args.host, save_interval=args.save_interval)
    try:
        sb.start()
    except OSError as exc:
        print(f"airflow-sfn-etl sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    # Ctrl-C stops the sandbox also when it was started in the background by a shell, which starts
    # it with SIGINT ignored (Python then keeps it ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # Everything after the start is inside the try: a Ctrl-C or SIGTERM that lands before the wait
    # (right after the banner, say) still stops the autosave and the server, and the process exits.
    try:
        restored = len(sb.restored)
        # Load the SQL engine now, off the start-up path, so the first Athena query does not wait for it.
        threading.Thread(
            target=importlib.import_module,
            args=("airflow_sfn_etl_sandbox.sql",),
            name="sandbox-preload",
            daemon=True,
        ).start()
        _print_banner(sb, restored, started)
        sb.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sb.stop()
        report = sb.saved
        if report is not None:
            print(
                f"saved state to {args.data_dir} ({len(report['saved'])} backends"
                + (f"; skipped {report['skipped']}" if report["skipped"] else "")
                + ")",
                flush=True,
            )
        print("AWS sandbox stopped.", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``airflow-sfn-etl-sandbox [--port ...]``: the same command without the provider installed."""
    parser = argparse.ArgumentParser(prog="airflow-sfn-etl-sandbox")
    sub = parser.add_subparsers(dest="command")
    register(sub)
    args = parser.parse_args(["sandbox", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
